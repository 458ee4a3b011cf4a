//! `chat_chatmessage`: multi-room batch inserts for the chat committer, history reads.

use std::collections::HashMap;

use sqlx::PgPool;
use time::PrimitiveDateTime;
use uuid::Uuid;

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

/// One room's batch: the id that makes a retry idempotent, the room, the rows.
pub type RoomBatch<'a> = (Uuid, i32, &'a [NewMessage]);

/// Inserts the batches of several rooms of one tenant with one statement (so
/// one round trip and one transaction) and returns each room's stored
/// messages in input order, with their ids and timestamps. `chatters` are the
/// `(room_id, user_id)` pairs to add to the chatter set; the caller may leave
/// out pairs it knows are stored.
///
/// A batch whose id is already stored (a retry after an ambiguous commit) is
/// not stored again; what the first attempt stored is returned instead.
pub async fn insert_rooms(
    pool: &PgPool,
    schema: &SchemaName,
    batches: &[RoomBatch<'_>],
    chatters: &[(i32, i32)],
) -> Result<Vec<Vec<ChatMessage>>, StoreError> {
    let (chatter_rooms, chatter_users): (Vec<i32>, Vec<i32>) = chatters.iter().copied().unzip();
    let total: usize = batches.iter().map(|(_, _, b)| b.len()).sum();
    let mut batch_ids: Vec<Uuid> = Vec::with_capacity(total);
    let mut room_ids: Vec<i32> = Vec::with_capacity(total);
    let mut user_ids: Vec<Option<i32>> = Vec::with_capacity(total);
    let mut contents: Vec<&str> = Vec::with_capacity(total);
    let mut types: Vec<&str> = Vec::with_capacity(total);
    for (batch_id, room_id, batch) in batches {
        for m in *batch {
            batch_ids.push(*batch_id);
            room_ids.push(*room_id);
            user_ids.push(m.user_id);
            contents.push(&m.content);
            types.push(m.message_type.as_str());
        }
    }
    // The batch ids, the rows, the per-minute chat count and the chatter set
    // commit together. Ids are drawn in input order, and a batch's rows are
    // stored only if its id was not (the claim waits for a concurrent
    // attempt holding it). The upserts run in key order so that concurrent
    // commits touching the same streams lock them in the same order and
    // cannot deadlock.
    let rows: Vec<(Uuid, i32, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "WITH input AS (
             SELECT x.*, nextval('{schema}.chat_chatmessage_id_seq')::int4 AS id
             FROM UNNEST($1::int4[], $2::int4[], $3::text[], $4::varchar[], $7::uuid[])
                  WITH ORDINALITY AS x(r, u, c, t, b, n)
             ORDER BY n
         ), fresh AS (
             INSERT INTO {schema}.chat_batch (id, message_ids)
             SELECT b, array_agg(id ORDER BY n) FROM input GROUP BY b ORDER BY b
             ON CONFLICT DO NOTHING RETURNING id
         ), pruned AS (
             DELETE FROM {schema}.chat_batch WHERE id < $8
         ), ins AS (
             INSERT INTO {schema}.chat_chatmessage (id, room_id, user_id, content, message_type)
             SELECT id, r, u, c, t FROM input WHERE b IN (SELECT id FROM fresh) ORDER BY n
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
         SELECT input.b, ins.id, ins.created_at FROM ins JOIN input USING (id) ORDER BY ins.id"
    ))
    .bind(&room_ids)
    .bind(&user_ids)
    .bind(&contents)
    .bind(&types)
    .bind(&chatter_rooms)
    .bind(&chatter_users)
    .bind(&batch_ids)
    .bind(super::batch_id::oldest_kept())
    .fetch_all(pool)
    .await?;
    let mut fresh: HashMap<Uuid, Vec<(i32, PrimitiveDateTime)>> = HashMap::new();
    for (batch_id, id, created_at) in rows {
        fresh.entry(batch_id).or_default().push((id, created_at));
    }
    let mut out = Vec::with_capacity(batches.len());
    for (batch_id, _, batch) in batches {
        let stored = match fresh.remove(batch_id) {
            Some(rows) => rows,
            None => stored_before(pool, schema, *batch_id).await?,
        };
        if stored.len() != batch.len() {
            return Err(StoreError::Invalid(format!(
                "stored {} chat rows of {}",
                stored.len(),
                batch.len()
            )));
        }
        out.push(
            batch
                .iter()
                .zip(stored)
                .map(|(m, (id, created_at))| ChatMessage {
                    id: Some(i64::from(id)),
                    username: m.username.clone(),
                    message: m.content.clone(),
                    message_type: m.message_type,
                    timestamp: format_timestamp(created_at),
                })
                .collect(),
        );
    }
    Ok(out)
}
/// The ids and times of the messages a batch stored on an earlier attempt.
async fn stored_before(
    pool: &PgPool,
    schema: &SchemaName,
    batch_id: Uuid,
) -> Result<Vec<(i32, PrimitiveDateTime)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT m.id, m.created_at FROM {schema}.chat_batch b
         JOIN {schema}.chat_chatmessage m ON m.id = ANY(b.message_ids)
         WHERE b.id = $1 ORDER BY m.id"
    ))
    .bind(batch_id)
    .fetch_all(pool)
    .await?)
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
