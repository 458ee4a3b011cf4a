//! `chat_chatmessage`: batch inserts for the room writer, history reads.

use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;
use crate::ws::protocol::{ChatMessage, MessageType};

/// A message accepted by a room, not yet stored.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub user_id: Option<i32>,
    pub username: String,
    pub content: String,
    pub message_type: MessageType,
}

/// Inserts `batch` into `room_id` with one statement and returns the stored
/// messages in the same order, with their ids and timestamps.
pub async fn insert_batch(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
    batch: &[NewMessage],
) -> Result<Vec<ChatMessage>, StoreError> {
    let user_ids: Vec<Option<i32>> = batch.iter().map(|m| m.user_id).collect();
    let contents: Vec<&str> = batch.iter().map(|m| m.content.as_str()).collect();
    let types: Vec<&str> = batch.iter().map(|m| m.message_type.as_str()).collect();
    // One statement, so one round trip and its own transaction: the rows,
    // the per-minute chat count and the chatter set commit together.
    // Ordinality keeps the id order equal to the input order.
    let mut rows: Vec<(i32, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "WITH ins AS (
             INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content, message_type)
             SELECT $1, u, c, t FROM UNNEST($2::int4[], $3::text[], $4::varchar[])
                  WITH ORDINALITY AS x(u, c, t, n) ORDER BY n
             RETURNING id, created_at, user_id
         ), room AS (
             SELECT stream_id FROM {schema}.chat_chatroom WHERE id = $1 AND stream_id IS NOT NULL
         ), minute AS (
             INSERT INTO {schema}.chat_messageminute AS m (stream_id, minute, count)
             SELECT room.stream_id, date_trunc('minute', min(ins.created_at)), count(*)
             FROM room, ins WHERE ins.user_id IS NOT NULL GROUP BY room.stream_id
             ON CONFLICT (stream_id, minute) DO UPDATE SET count = m.count + EXCLUDED.count
         ), chatters AS (
             INSERT INTO {schema}.chat_chatter (stream_id, user_id)
             SELECT DISTINCT room.stream_id, ins.user_id FROM room, ins WHERE ins.user_id IS NOT NULL
             ON CONFLICT DO NOTHING
         )
         SELECT id, created_at FROM ins"
    ))
    .bind(room_id)
    .bind(&user_ids)
    .bind(&contents)
    .bind(&types)
    .fetch_all(pool)
    .await?;
    rows.sort_unstable_by_key(|(id, _)| *id);
    Ok(batch
        .iter()
        .zip(rows)
        .map(|(m, (id, created_at))| ChatMessage {
            id: Some(i64::from(id)),
            username: m.username.clone(),
            message: m.content.clone(),
            message_type: m.message_type,
            timestamp: format_timestamp(created_at),
        })
        .collect())
}

/// A stored message joined with its author, as the queries select it.
#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: i32,
    username: Option<String>,
    content: String,
    message_type: Option<String>,
    created_at: Option<PrimitiveDateTime>,
}

impl From<MessageRow> for ChatMessage {
    fn from(r: MessageRow) -> Self {
        ChatMessage {
            id: Some(i64::from(r.id)),
            username: r.username.unwrap_or_default(),
            message: r.content,
            message_type: r
                .message_type
                .as_deref()
                .and_then(|t| t.parse().ok())
                .unwrap_or(MessageType::Message),
            timestamp: r.created_at.map(format_timestamp).unwrap_or_default(),
        }
    }
}

/// Up to `limit` visible messages of a room with ids below `before_id`
/// (all when `None`), newest first.
pub async fn page(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
    before_id: Option<i32>,
    limit: i64,
) -> Result<Vec<ChatMessage>, StoreError> {
    Ok(sqlx::query_as::<_, MessageRow>(&format!(
        "SELECT m.id, u.username, m.content, m.message_type, m.created_at
         FROM {schema}.chat_chatmessage m
         LEFT JOIN {schema}.accounts_user u ON u.id = m.user_id
         WHERE m.room_id = $1 AND NOT COALESCE(m.is_deleted, false)
           AND ($2::int4 IS NULL OR m.id < $2)
         ORDER BY m.id DESC LIMIT $3"
    ))
    .bind(room_id)
    .bind(before_id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(ChatMessage::from)
    .collect())
}

/// The last `limit` visible messages of a room, oldest first (join history).
pub async fn recent(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
    limit: i64,
) -> Result<Vec<ChatMessage>, StoreError> {
    let mut newest_first = page(pool, schema, room_id, None, limit).await?;
    newest_first.reverse();
    Ok(newest_first)
}
