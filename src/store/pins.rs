//! The pin flag of `chat_chatmessage`: at most one visible message of a room
//! is pinned, and pinning happens inside the moderation action's transaction.

use sqlx::{PgConnection, PgPool};

use super::messages::MessageRow;
use super::StoreError;
use crate::chat::ChatMessage;
use crate::tenant::SchemaName;

/// A visible message of a room, for pinning.
pub async fn visible_message(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    message_id: i32,
) -> Result<Option<ChatMessage>, StoreError> {
    Ok(sqlx::query_as::<_, MessageRow>(&format!(
        "SELECT m.id, u.username, m.content, m.message_type, m.created_at
         FROM {schema}.chat_chatmessage m LEFT JOIN {schema}.accounts_user u ON u.id = m.user_id
         WHERE m.id = $1 AND m.room_id = $2 AND NOT COALESCE(m.is_deleted, false)"
    ))
    .bind(message_id)
    .bind(room_id)
    .fetch_optional(&mut *conn)
    .await?
    .map(ChatMessage::from))
}

/// The pinned, visible message of a room, if any.
pub async fn pinned(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
) -> Result<Option<ChatMessage>, StoreError> {
    let mut conn = pool.acquire().await?;
    let id: Option<i32> = sqlx::query_scalar(&format!(
        "SELECT id FROM {schema}.chat_chatmessage
         WHERE room_id = $1 AND is_pinned AND NOT COALESCE(is_deleted, false) ORDER BY id DESC LIMIT 1"
    ))
    .bind(room_id)
    .fetch_optional(&mut *conn)
    .await?;
    match id {
        Some(id) => visible_message(&mut conn, schema, room_id, id).await,
        None => Ok(None),
    }
}

/// Unpins whatever is pinned in a room; returns the ids that were.
pub async fn unpin_all(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
) -> Result<Vec<i32>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "UPDATE {schema}.chat_chatmessage SET is_pinned = false WHERE room_id = $1 AND is_pinned RETURNING id"
    ))
    .bind(room_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn pin(
    conn: &mut PgConnection,
    schema: &SchemaName,
    message_id: i32,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE {schema}.chat_chatmessage SET is_pinned = true WHERE id = $1"
    ))
    .bind(message_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
