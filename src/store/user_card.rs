//! What a moderator's user card shows about one user: their account and
//! their latest lines in one room.

use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::chat::{ChatMessage, MessageType};
use crate::tenant::SchemaName;

/// The account behind a name.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i32,
    pub username: String,
    pub role: String,
    pub is_active: bool,
    /// When the account was created (RFC 3339).
    pub joined_at: String,
}

/// The account named `username` (case-insensitively), if any.
pub async fn account(
    pool: &PgPool,
    schema: &SchemaName,
    username: &str,
) -> Result<Option<Account>, StoreError> {
    let row: Option<(i32, String, String, bool, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "SELECT id, username, role, is_active, created_at FROM {schema}.accounts_user
         WHERE lower(username) = lower($1)"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(id, username, role, is_active, created_at)| Account {
            id,
            username,
            role,
            is_active,
            joined_at: format_timestamp(created_at),
        }),
    )
}

/// A line of the user's, and whether a moderator removed it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CardLine {
    #[serde(flatten)]
    pub message: ChatMessage,
    pub deleted: bool,
}

/// The user's last `limit` lines in `room_id`, newest first, removed ones
/// included (moderators judge by what was said).
pub async fn recent_lines(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
    account: &Account,
    limit: i64,
) -> Result<Vec<CardLine>, StoreError> {
    type Row = (i32, String, Option<PrimitiveDateTime>, bool);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT id, content, created_at, COALESCE(is_deleted, false)
         FROM {schema}.chat_chatmessage
         WHERE room_id = $1 AND user_id = $2 AND message_type = 'message'
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(room_id)
    .bind(account.id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, content, created_at, deleted)| CardLine {
            message: ChatMessage {
                id: Some(i64::from(id)),
                username: account.username.clone(),
                message: content,
                message_type: MessageType::Message,
                timestamp: created_at.map(format_timestamp).unwrap_or_default(),
                client_id: None,
                badge: None,
                notice: None,
                mentions: Vec::new(),
                reply_to: None,
                edited_at: None,
            },
            deleted,
        })
        .collect())
}
