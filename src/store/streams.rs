//! `streaming_stream` and its `chat_chatroom`.

use serde::Serialize;
use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// A stream as listed on the index page and in the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stream {
    pub id: i32,
    pub title: String,
    pub owner: Option<String>,
    pub status: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// How long an ended stream ran (`ended_at` − `started_at`), the length
    /// of its replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct StreamRow {
    id: i32,
    title: String,
    owner: Option<String>,
    status: String,
    started_at: Option<PrimitiveDateTime>,
    ended_at: Option<PrimitiveDateTime>,
}

impl From<StreamRow> for Stream {
    fn from(r: StreamRow) -> Self {
        let duration_ms = match (r.started_at, r.ended_at) {
            (Some(start), Some(end)) if end >= start => {
                i64::try_from((end - start).whole_milliseconds()).ok()
            }
            _ => None,
        };
        Stream {
            duration_ms,
            id: r.id,
            title: r.title,
            owner: r.owner,
            status: r.status,
            started_at: r.started_at.map(format_timestamp),
            ended_at: r.ended_at.map(format_timestamp),
        }
    }
}

/// The chat room of a stream, as the WebSocket handshake needs it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Room {
    pub id: i32,
    pub stream_id: i32,
}

/// Creates a live stream and its active chat room `stream_{id}`.
pub async fn create(
    pool: &PgPool,
    schema: &SchemaName,
    title: &str,
    owner_id: Option<i32>,
) -> Result<Stream, StoreError> {
    insert(pool, schema, title, owner_id, true).await
}

/// Creates a scheduled stream (its chat is open before it goes live, like a
/// premiere's waiting room); `stream_lifecycle::start` makes it live.
pub async fn schedule(
    pool: &PgPool,
    schema: &SchemaName,
    title: &str,
    owner_id: Option<i32>,
) -> Result<Stream, StoreError> {
    insert(pool, schema, title, owner_id, false).await
}

async fn insert(
    pool: &PgPool,
    schema: &SchemaName,
    title: &str,
    owner_id: Option<i32>,
    live: bool,
) -> Result<Stream, StoreError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(StoreError::Invalid("title must be 1-255 characters".into()));
    }
    let mut tx = pool.begin().await?;
    let id: i32 = sqlx::query_scalar(&format!(
        "INSERT INTO {schema}.streaming_stream (title, owner_id, status, started_at)
         VALUES ($1, $2, CASE WHEN $3 THEN 'live' ELSE 'scheduled' END,
                 CASE WHEN $3 THEN CURRENT_TIMESTAMP END)
         RETURNING id"
    ))
    .bind(title)
    .bind(owner_id)
    .bind(live)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_chatroom (name, stream_id, is_active) VALUES ($1, $2, true)"
    ))
    .bind(format!("stream_{id}"))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    get(pool, schema, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("stream {id} vanished")))
}

const SELECT_STREAM: &str =
    "SELECT s.id, s.title, u.username AS owner, s.status, s.started_at, s.ended_at";

/// One stream by id.
pub async fn get(
    pool: &PgPool,
    schema: &SchemaName,
    id: i32,
) -> Result<Option<Stream>, StoreError> {
    Ok(sqlx::query_as::<_, StreamRow>(&format!(
        "{SELECT_STREAM} FROM {schema}.streaming_stream s
         LEFT JOIN {schema}.accounts_user u ON u.id = s.owner_id WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(Stream::from))
}

/// The home page's streams: live ones (newest first), then scheduled ones
/// (oldest first: next up), then the 20 that ended last.
pub async fn list_home(pool: &PgPool, schema: &SchemaName) -> Result<Vec<Stream>, StoreError> {
    let mut all = list_live(pool, schema).await?;
    all.extend(list_where(pool, schema, "'scheduled'", "s.created_at, s.id", 50).await?);
    all.extend(
        list_where(
            pool,
            schema,
            "'ended'",
            "s.ended_at DESC NULLS LAST, s.id DESC",
            20,
        )
        .await?,
    );
    Ok(all)
}

/// Streams in `status` (a literal of this module), in `order`.
async fn list_where(
    pool: &PgPool,
    schema: &SchemaName,
    status: &'static str,
    order: &'static str,
    limit: i64,
) -> Result<Vec<Stream>, StoreError> {
    Ok(sqlx::query_as::<_, StreamRow>(&format!(
        "{SELECT_STREAM} FROM {schema}.streaming_stream s
         LEFT JOIN {schema}.accounts_user u ON u.id = s.owner_id
         WHERE s.status = {status} ORDER BY {order} LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Stream::from)
    .collect())
}

/// Live streams, newest first.
pub async fn list_live(pool: &PgPool, schema: &SchemaName) -> Result<Vec<Stream>, StoreError> {
    let order = "s.started_at DESC NULLS LAST, s.id DESC";
    list_where(pool, schema, "'live'", order, 200).await
}

/// The chat room of a stream whatever its state (history stays readable after the end).
pub async fn room(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Option<Room>, StoreError> {
    Ok(sqlx::query_as::<_, Room>(&format!(
        "SELECT id, stream_id FROM {schema}.chat_chatroom WHERE stream_id = $1 ORDER BY id LIMIT 1"
    ))
    .bind(stream_id)
    .fetch_optional(pool)
    .await?)
}
