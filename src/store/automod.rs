//! Auto-moderation's rows: the tenant's rules (`chat_automod`) and the lines
//! held for review (`chat_chatmessage` with `status = 'held'`, stored hidden
//! like deleted lines until approved).

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::messages::{select_lines, MessageRow};
use super::StoreError;
use crate::chat::ChatMessage;
use crate::chat::Mention;
use crate::tenant::SchemaName;

/// The stored rules, if an admin ever saved some.
pub async fn settings(pool: &PgPool, schema: &SchemaName) -> Result<Option<Value>, StoreError> {
    Ok(
        sqlx::query_scalar(&format!("SELECT settings FROM {schema}.chat_automod"))
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn save_settings(
    conn: &mut PgConnection,
    schema: &SchemaName,
    settings: &Value,
    actor_id: i32,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_automod (id, settings, updated_by, updated_at)
         VALUES (true, $1, $2, now())
         ON CONFLICT (id) DO UPDATE
             SET settings = EXCLUDED.settings, updated_by = EXCLUDED.updated_by, updated_at = now()"
    ))
    .bind(settings)
    .bind(actor_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The text of the user's newest chat line in any room (held ones too: a
/// spammer repeating a held line is still repeating).
pub async fn previous_line(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT content FROM {schema}.chat_chatmessage
         WHERE user_id = $1 ORDER BY id DESC LIMIT 1"
    ))
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// Whole days since the account was created.
pub async fn account_age_days(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT floor(extract(epoch FROM (CURRENT_TIMESTAMP - created_at)) / 86400)::int8
         FROM {schema}.accounts_user WHERE id = $1"
    ))
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// A line waiting for review, and why it waits.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HeldLine {
    pub message: ChatMessage,
    pub reasons: Vec<String>,
    #[serde(skip)]
    pub user_id: Option<i32>,
}

#[derive(sqlx::FromRow)]
struct HeldRow {
    #[sqlx(flatten)]
    line: MessageRow,
    held_reasons: Option<Vec<String>>,
    user_id: Option<i32>,
}

impl From<HeldRow> for HeldLine {
    fn from(r: HeldRow) -> Self {
        HeldLine {
            message: ChatMessage::from(r.line),
            reasons: r.held_reasons.unwrap_or_default(),
            user_id: r.user_id,
        }
    }
}

fn select_held(schema: &SchemaName) -> String {
    select_lines(schema, ", m.held_reasons, m.user_id")
}

/// The room's held lines, oldest first (at most `limit`); only `user_id`'s
/// when given (an author sees their own).
pub async fn queue(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
    user_id: Option<i32>,
    limit: i64,
) -> Result<Vec<HeldLine>, StoreError> {
    let rows: Vec<HeldRow> = sqlx::query_as(&format!(
        "{} WHERE m.room_id = $1 AND m.status = 'held' AND ($2::int4 IS NULL OR m.user_id = $2)
         ORDER BY m.id LIMIT $3",
        select_held(schema)
    ))
    .bind(room_id)
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(HeldLine::from).collect())
}

/// Shows held line `id` of the room (with its original time); `None` if it
/// is not held there (already decided, or never held).
pub async fn approve(
    tx: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    id: i32,
) -> Result<Option<HeldLine>, StoreError> {
    let decided: Option<i32> = sqlx::query_scalar(&format!(
        "UPDATE {schema}.chat_chatmessage SET status = 'visible', is_deleted = false
         WHERE id = $1 AND room_id = $2 AND status = 'held' RETURNING id"
    ))
    .bind(id)
    .bind(room_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = decided else {
        return Ok(None);
    };
    let row: HeldRow = sqlx::query_as(&format!("{} WHERE m.id = $1", select_held(schema)))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    Ok(Some(row.into()))
}

/// Denies held line `id` of the room (it stays hidden); its author, or
/// `None` if it is not held there.
pub async fn deny(
    tx: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    id: i32,
) -> Result<Option<Option<i32>>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "UPDATE {schema}.chat_chatmessage SET status = 'denied'
         WHERE id = $1 AND room_id = $2 AND status = 'held' RETURNING user_id"
    ))
    .bind(id)
    .bind(room_id)
    .fetch_optional(&mut *tx)
    .await?)
}

/// A held line denied because nobody decided in time.
#[derive(Debug, Clone, Copy)]
pub struct Expired {
    pub id: i32,
    pub stream_id: i32,
    pub user_id: Option<i32>,
}

/// Denies the lines held longer than `older_than_secs`, and logs each
/// (no actor: the server decided). One statement, so two nodes sweeping at
/// once each deny a line at most once between them.
pub async fn expire(
    pool: &PgPool,
    schema: &SchemaName,
    older_than_secs: i64,
) -> Result<Vec<Expired>, StoreError> {
    let rows: Vec<(i32, i32, Option<i32>)> = sqlx::query_as(&format!(
        "WITH denied AS (
             UPDATE {schema}.chat_chatmessage m SET status = 'denied'
             FROM {schema}.chat_chatroom r
             WHERE m.status = 'held' AND r.id = m.room_id AND r.stream_id IS NOT NULL
               AND m.created_at < CURRENT_TIMESTAMP - make_interval(secs => $1)
             RETURNING m.id, r.stream_id, m.user_id
         ), logged AS (
             INSERT INTO {schema}.chat_moderationaction
                 (stream_id, actor_id, action, target_user_id, target_message_id, details)
             SELECT stream_id, NULL, 'deny', user_id, id, '{{\"expired\": true}}'::jsonb FROM denied
         )
         SELECT id, stream_id, user_id FROM denied ORDER BY id"
    ))
    .bind(older_than_secs as f64)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, stream_id, user_id)| Expired {
            id,
            stream_id,
            user_id,
        })
        .collect())
}

/// Whom an approved line notifies: its author, the users it mentions, and
/// the author of the line it answers.
#[derive(Debug, Clone, Default)]
pub struct Threads {
    pub author_id: Option<i32>,
    pub mentions: Vec<Mention>,
    pub reply_author_id: Option<i32>,
}

#[derive(sqlx::FromRow)]
struct ThreadsRow {
    author_id: Option<i32>,
    reply_author_id: Option<i32>,
    ids: Vec<i32>,
    names: Vec<String>,
}

pub async fn threads(
    conn: &mut PgConnection,
    schema: &SchemaName,
    id: i32,
) -> Result<Threads, StoreError> {
    let row: Option<ThreadsRow> = sqlx::query_as(&format!(
        "SELECT m.user_id AS author_id, p.user_id AS reply_author_id,
                COALESCE(array_agg(u.id ORDER BY u.id) FILTER (WHERE u.id IS NOT NULL), '{{}}') AS ids,
                COALESCE(array_agg(u.username ORDER BY u.id) FILTER (WHERE u.id IS NOT NULL), '{{}}') AS names
         FROM {schema}.chat_chatmessage m
         LEFT JOIN {schema}.chat_chatmessage p ON p.id = m.reply_to_id
         LEFT JOIN {schema}.accounts_user u
                ON lower(u.username) = ANY(SELECT lower(x) FROM unnest(m.mentions) AS x)
         WHERE m.id = $1
         GROUP BY m.user_id, p.user_id"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .map(|r| Threads {
            author_id: r.author_id,
            reply_author_id: r.reply_author_id,
            mentions: r
                .ids
                .into_iter()
                .zip(r.names)
                .map(|(user_id, username)| Mention { user_id, username })
                .collect(),
        })
        .unwrap_or_default())
}
