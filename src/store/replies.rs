//! The line a reply answers, looked up when the reply is sent.

use sqlx::PgPool;

use super::StoreError;
use crate::chat::ReplyTo;
use crate::tenant::SchemaName;

/// Chat message `id` of room `room_id` as a reply quotes it (with its
/// author's id), or `None` when there is no such visible message: another
/// room's, a deleted one, a system or moderation line, or none at all.
pub async fn target(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
    id: i64,
) -> Result<Option<ReplyTo>, StoreError> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(None);
    };
    let row: Option<(i32, Option<i32>, Option<String>, String)> = sqlx::query_as(&format!(
        "SELECT m.id, m.user_id, u.username, m.content
         FROM {schema}.chat_chatmessage m
         LEFT JOIN {schema}.accounts_user u ON u.id = m.user_id
         WHERE m.id = $1 AND m.room_id = $2 AND NOT COALESCE(m.is_deleted, false)
           AND COALESCE(m.message_type, 'message') = 'message'"
    ))
    .bind(id)
    .bind(room_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, user_id, username, content)| ReplyTo {
        user_id,
        ..ReplyTo::of(i64::from(id), username.unwrap_or_default(), &content, false)
    }))
}
