//! Editing a chat message: its text replaced in `chat_chatmessage`, the
//! text it replaced kept in `chat_messageversion` (for moderators), in one
//! transaction with the row locked, so two edits of one line are ordered.

use serde::Serialize;
use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::bans::ACTIVE;
use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// An edit to store.
#[derive(Debug)]
pub struct NewText<'a> {
    pub message_id: i64,
    /// Only the author may edit.
    pub user_id: i32,
    /// HTML-escaped, as lines are stored.
    pub content: &'a str,
    /// Canonical usernames the new text mentions.
    pub mentions: &'a [String],
    /// How long after sending a line may be edited.
    pub window_secs: i64,
}

/// What became of an edit.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored; the room must hear of it.
    Edited { stream_id: i32, edited_at: String },
    /// The text was already this: nothing stored, nothing to tell.
    Unchanged { edited_at: Option<String> },
    /// No visible chat line with this id (or a notice, or a deleted one).
    NotFound,
    /// Someone else's line.
    NotAuthor,
    /// Sent longer ago than the window.
    WindowPassed,
    /// The author is banned or timed out where the line is.
    Banned,
}

#[derive(sqlx::FromRow)]
struct Locked {
    user_id: Option<i32>,
    stream_id: i32,
    content: String,
    shown_at: PrimitiveDateTime,
    edited_at: Option<PrimitiveDateTime>,
    too_old: bool,
    banned: bool,
}

/// Replaces the text of `edit.message_id`, keeping the old one.
pub async fn edit(
    pool: &PgPool,
    schema: &SchemaName,
    edit: &NewText<'_>,
) -> Result<Outcome, StoreError> {
    let Ok(id) = i32::try_from(edit.message_id) else {
        return Ok(Outcome::NotFound);
    };
    let mut tx = pool.begin().await?;
    let locked: Option<Locked> = sqlx::query_as(&format!(
        "SELECT m.user_id, r.stream_id, m.content,
                COALESCE(m.edited_at, m.created_at, LOCALTIMESTAMP) AS shown_at, m.edited_at,
                COALESCE(m.created_at < CURRENT_TIMESTAMP - make_interval(secs => $2),
                         false) AS too_old,
                EXISTS (SELECT 1 FROM {schema}.chat_ban b
                        WHERE b.user_id = m.user_id
                          AND (b.stream_id = r.stream_id OR b.stream_id IS NULL) AND {ACTIVE})
                    AS banned
         FROM {schema}.chat_chatmessage m
         JOIN {schema}.chat_chatroom r ON r.id = m.room_id
         WHERE m.id = $1 AND NOT COALESCE(m.is_deleted, false)
           AND COALESCE(m.message_type, 'message') = 'message'
         FOR UPDATE OF m"
    ))
    .bind(id)
    .bind(edit.window_secs as f64)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(line) = locked else {
        return Ok(Outcome::NotFound);
    };
    if line.user_id != Some(edit.user_id) {
        return Ok(Outcome::NotAuthor);
    }
    if line.banned {
        return Ok(Outcome::Banned);
    }
    if line.too_old {
        return Ok(Outcome::WindowPassed);
    }
    if line.content == edit.content {
        return Ok(Outcome::Unchanged {
            edited_at: line.edited_at.map(format_timestamp),
        });
    }
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_messageversion (message_id, content, shown_at)
         VALUES ($1, $2, $3)"
    ))
    .bind(id)
    .bind(&line.content)
    .bind(line.shown_at)
    .execute(&mut *tx)
    .await?;
    let edited_at: PrimitiveDateTime = sqlx::query_scalar(&format!(
        "UPDATE {schema}.chat_chatmessage
         SET content = $2, mentions = $3, edited_at = CURRENT_TIMESTAMP
         WHERE id = $1 RETURNING edited_at"
    ))
    .bind(id)
    .bind(edit.content)
    .bind((!edit.mentions.is_empty()).then_some(edit.mentions))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Outcome::Edited {
        stream_id: line.stream_id,
        edited_at: format_timestamp(edited_at),
    })
}

/// A text a message showed before an edit replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Version {
    /// HTML-escaped, as it was shown.
    pub message: String,
    /// When it was first shown (sent, or the edit before).
    pub shown_at: String,
    pub replaced_at: String,
}

/// A message's edit history, for moderators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Versions {
    pub id: i64,
    #[serde(skip)]
    pub stream_id: i32,
    pub username: String,
    /// The current text.
    pub message: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// Oldest first.
    pub versions: Vec<Version>,
}

/// Message `message_id` (deleted ones included) and the texts it had.
pub async fn versions(
    pool: &PgPool,
    schema: &SchemaName,
    message_id: i64,
) -> Result<Option<Versions>, StoreError> {
    let Ok(id) = i32::try_from(message_id) else {
        return Ok(None);
    };
    type Head = (
        i32,
        Option<String>,
        String,
        Option<PrimitiveDateTime>,
        Option<bool>,
    );
    let head: Option<Head> = sqlx::query_as(&format!(
        "SELECT r.stream_id, u.username, m.content, m.edited_at, m.is_deleted
         FROM {schema}.chat_chatmessage m
         JOIN {schema}.chat_chatroom r ON r.id = m.room_id
         LEFT JOIN {schema}.accounts_user u ON u.id = m.user_id
         WHERE m.id = $1 AND COALESCE(m.message_type, 'message') = 'message'"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some((stream_id, username, message, edited_at, deleted)) = head else {
        return Ok(None);
    };
    let rows: Vec<(String, PrimitiveDateTime, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "SELECT content, shown_at, replaced_at FROM {schema}.chat_messageversion
         WHERE message_id = $1 ORDER BY id"
    ))
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some(Versions {
        id: message_id,
        stream_id,
        username: username.unwrap_or_default(),
        message,
        edited_at: edited_at.map(format_timestamp),
        deleted: deleted.unwrap_or(false),
        versions: rows
            .into_iter()
            .map(|(message, shown_at, replaced_at)| Version {
                message,
                shown_at: format_timestamp(shown_at),
                replaced_at: format_timestamp(replaced_at),
            })
            .collect(),
    }))
}
