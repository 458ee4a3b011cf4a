//! `chat_chatmessage`: multi-room batch inserts for the chat committer, history reads.

use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::chat::{ChatMessage, MessageType};
use crate::tenant::SchemaName;

/// A message accepted by a room, not yet stored.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub user_id: Option<i32>,
    pub username: String,
    pub content: String,
    pub message_type: MessageType,
}

/// Inserts the batches of several rooms of one tenant with one statement (so
/// one round trip and one transaction) and returns each room's stored
/// messages in input order, with their ids and timestamps. `chatters` are the
/// `(room_id, user_id)` pairs to add to the chatter set; the caller may leave
/// out pairs it knows are stored.
pub async fn insert_rooms(
    pool: &PgPool,
    schema: &SchemaName,
    batches: &[(i32, &[NewMessage])],
    chatters: &[(i32, i32)],
) -> Result<Vec<Vec<ChatMessage>>, StoreError> {
    let (chatter_rooms, chatter_users): (Vec<i32>, Vec<i32>) = chatters.iter().copied().unzip();
    let total: usize = batches.iter().map(|(_, b)| b.len()).sum();
    let mut room_ids: Vec<i32> = Vec::with_capacity(total);
    let mut user_ids: Vec<Option<i32>> = Vec::with_capacity(total);
    let mut contents: Vec<&str> = Vec::with_capacity(total);
    let mut types: Vec<&str> = Vec::with_capacity(total);
    for (room_id, batch) in batches {
        for m in *batch {
            room_ids.push(*room_id);
            user_ids.push(m.user_id);
            contents.push(&m.content);
            types.push(m.message_type.as_str());
        }
    }
    // The rows, the per-minute chat count and the chatter set commit
    // together. Ordinality keeps the id order equal to the input order. The
    // upserts run in key order so that concurrent commits touching the same
    // streams lock them in the same order and cannot deadlock.
    let mut rows: Vec<(i32, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "WITH ins AS (
             INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content, message_type)
             SELECT r, u, c, t FROM UNNEST($1::int4[], $2::int4[], $3::text[], $4::varchar[])
                  WITH ORDINALITY AS x(r, u, c, t, n) ORDER BY n
             RETURNING id, created_at, user_id, room_id
         ), stream_rows AS (
             SELECT r.stream_id, ins.user_id, ins.created_at
             FROM ins JOIN {schema}.chat_chatroom r ON r.id = ins.room_id
             WHERE r.stream_id IS NOT NULL AND ins.user_id IS NOT NULL
         ), minute AS (
             INSERT INTO {schema}.chat_messageminute AS m (stream_id, minute, count)
             SELECT stream_id, date_trunc('minute', min(created_at)), count(*)
             FROM stream_rows GROUP BY stream_id ORDER BY stream_id
             ON CONFLICT (stream_id, minute) DO UPDATE SET count = m.count + EXCLUDED.count
         ), chatters AS (
             INSERT INTO {schema}.chat_chatter (stream_id, user_id)
             SELECT DISTINCT r.stream_id, x.u FROM UNNEST($5::int4[], $6::int4[]) AS x(room, u)
             JOIN {schema}.chat_chatroom r ON r.id = x.room WHERE r.stream_id IS NOT NULL
             ORDER BY 1, 2
             ON CONFLICT DO NOTHING
         )
         SELECT id, created_at FROM ins"
    ))
    .bind(&room_ids)
    .bind(&user_ids)
    .bind(&contents)
    .bind(&types)
    .bind(&chatter_rooms)
    .bind(&chatter_users)
    .fetch_all(pool)
    .await?;
    if rows.len() != total {
        return Err(StoreError::Invalid(format!(
            "stored {} chat rows of {total}",
            rows.len()
        )));
    }
    rows.sort_unstable_by_key(|(id, _)| *id);
    let mut rows = rows.into_iter();
    Ok(batches
        .iter()
        .map(|(_, batch)| {
            batch
                .iter()
                .zip(rows.by_ref())
                .map(|(m, (id, created_at))| ChatMessage {
                    id: Some(i64::from(id)),
                    username: m.username.clone(),
                    message: m.content.clone(),
                    message_type: m.message_type,
                    timestamp: format_timestamp(created_at),
                })
                .collect()
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
