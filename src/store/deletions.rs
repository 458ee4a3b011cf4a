//! Moderators' removal of chat messages. Removal is a soft delete
//! (`is_deleted`), so the audit log's message ids keep pointing at a row.

use sqlx::{PgConnection, PgPool};

use super::StoreError;
use crate::tenant::SchemaName;

/// The room and author of a visible message.
pub async fn message_room(
    pool: &PgPool,
    schema: &SchemaName,
    message_id: i32,
) -> Result<Option<(i32, i32, Option<i32>)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT m.room_id, r.stream_id, m.user_id FROM {schema}.chat_chatmessage m
         JOIN {schema}.chat_chatroom r ON r.id = m.room_id
         WHERE m.id = $1 AND NOT COALESCE(m.is_deleted, false)"
    ))
    .bind(message_id)
    .fetch_optional(pool)
    .await?)
}

/// Soft-deletes messages of a room: one id, one user's, or all. Returns the
/// ids deleted and whether a pinned one was among them.
pub async fn soft_delete(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    message_id: Option<i32>,
    user_id: Option<i32>,
) -> Result<(Vec<i32>, bool), StoreError> {
    let rows: Vec<(i32, Option<bool>)> = sqlx::query_as(&format!(
        "UPDATE {schema}.chat_chatmessage SET is_deleted = true
         WHERE room_id = $1 AND NOT COALESCE(is_deleted, false)
           AND ($2::int4 IS NULL OR id = $2) AND ($3::int4 IS NULL OR user_id = $3)
           AND message_type = 'message'
         RETURNING id, is_pinned"
    ))
    .bind(room_id)
    .bind(message_id)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let had_pin = rows.iter().any(|(_, p)| p.unwrap_or(false));
    if had_pin {
        sqlx::query(&format!(
            "UPDATE {schema}.chat_chatmessage SET is_pinned = false WHERE room_id = $1 AND is_deleted AND is_pinned"
        ))
        .bind(room_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok((rows.into_iter().map(|(id, _)| id).collect(), had_pin))
}
