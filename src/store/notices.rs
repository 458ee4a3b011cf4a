//! Moderation notices: authorless `moderation` rows of `chat_chatmessage`,
//! written in the action's transaction so a notice never outlives a rollback.

use sqlx::PgConnection;
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::chat::{ChatMessage, MessageType, Notice};
use crate::tenant::SchemaName;

/// Stores a moderation notice (no author) worded `text` and returns it as a
/// chat event.
pub async fn insert(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    text: &str,
    notice: &Notice,
) -> Result<ChatMessage, StoreError> {
    let (id, created_at): (i32, PrimitiveDateTime) = sqlx::query_as(&format!(
        "INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content, message_type, notice)
         VALUES ($1, NULL, $2, 'moderation', $3) RETURNING id, created_at"
    ))
    .bind(room_id)
    .bind(text)
    .bind(sqlx::types::Json(notice))
    .fetch_one(&mut *conn)
    .await?;
    Ok(ChatMessage {
        id: Some(i64::from(id)),
        username: String::new(),
        message: text.to_owned(),
        message_type: MessageType::Moderation,
        timestamp: format_timestamp(created_at),
        client_id: None,
        badge: None,
        notice: Some(notice.clone()),
        mentions: Vec::new(),
        reply_to: None,
        edited_at: None,
    })
}
