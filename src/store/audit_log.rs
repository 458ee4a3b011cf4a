//! `chat_moderationaction`: one row per moderation action, written in the
//! action's own transaction, read back by the moderation-log API.

use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// What a moderator did. The spelling (`clear_user`, `slow_mode`, …) is what
/// the `action` column stores and the log API returns, so renaming a variant
/// must keep its spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Pin,
    Unpin,
    Delete,
    Clear,
    ClearUser,
    Ban,
    Timeout,
    Unban,
    SlowMode,
    AddModerator,
    RemoveModerator,
    BlockTerm,
    UnblockTerm,
    /// A line auto-moderation held was shown.
    Approve,
    /// A held line was kept hidden (also written by the expiry sweep,
    /// without an actor).
    Deny,
    /// The tenant's auto-moderation rules changed.
    Automod,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One audit entry.
pub struct AuditEntry {
    /// `None` for tenant-wide actions (tenant bans, blocked terms).
    pub stream_id: Option<i32>,
    pub actor_id: i32,
    pub action: Action,
    pub target_user_id: Option<i32>,
    pub target_message_id: Option<i32>,
    pub details: Value,
}

pub async fn insert(
    conn: &mut PgConnection,
    schema: &SchemaName,
    entry: AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_moderationaction
             (stream_id, actor_id, action, target_user_id, target_message_id, details)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(entry.stream_id)
    .bind(entry.actor_id)
    .bind(entry.action.as_str())
    .bind(entry.target_user_id)
    .bind(entry.target_message_id)
    .bind(entry.details)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A moderation-log line as the API returns it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LogEntry {
    pub id: i32,
    /// Kept as stored, so rows older than an [`Action`] rename still list.
    pub action: String,
    pub actor: Option<String>,
    pub target_user: Option<String>,
    pub target_message_id: Option<i32>,
    pub details: Value,
    #[serde(skip)]
    pub created: PrimitiveDateTime,
    #[sqlx(skip)]
    pub created_at: String,
}

/// The newest `limit` audit entries of a stream (including tenant-wide bans).
pub async fn recent(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
    limit: i64,
) -> Result<Vec<LogEntry>, StoreError> {
    let mut rows = sqlx::query_as::<_, LogEntry>(&format!(
        "SELECT a.id, a.action, actor.username AS actor, target.username AS target_user,
                a.target_message_id, a.details, a.created_at AS created
         FROM {schema}.chat_moderationaction a
         LEFT JOIN {schema}.accounts_user actor ON actor.id = a.actor_id
         LEFT JOIN {schema}.accounts_user target ON target.id = a.target_user_id
         WHERE a.stream_id = $1 OR (a.stream_id IS NULL AND a.action IN ('ban', 'timeout', 'unban'))
         ORDER BY a.id DESC LIMIT $2"
    ))
    .bind(stream_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    for r in &mut rows {
        r.created_at = format_timestamp(r.created);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::Action;

    /// Stored rows and API clients depend on these exact spellings.
    #[test]
    fn actions_keep_their_stored_spelling() {
        let spelled: Vec<&str> = Action::iter().map(Action::as_str).collect();
        assert_eq!(
            spelled,
            [
                "pin",
                "unpin",
                "delete",
                "clear",
                "clear_user",
                "ban",
                "timeout",
                "unban",
                "slow_mode",
                "add_moderator",
                "remove_moderator",
                "block_term",
                "unblock_term",
                "approve",
                "deny",
                "automod",
            ]
        );
    }
}
