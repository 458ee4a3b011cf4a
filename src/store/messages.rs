//! `chat_chatmessage`: multi-room batch inserts for the chat committer, history reads.

use std::collections::HashMap;

use sqlx::PgPool;
use time::PrimitiveDateTime;
use uuid::Uuid;

use super::{format_timestamp, StoreError};
use crate::chat::{Badge, ChatMessage, Mention, MessageType, Notice, ReplyTo};
use crate::tenant::SchemaName;

/// A message accepted by a room, not yet stored.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub user_id: Option<i32>,
    pub username: String,
    pub content: String,
    pub message_type: MessageType,
    /// The sender's id for the line (`wire::valid_client_id`): unique per
    /// user per room for [`CLIENT_ID_KEPT`].
    pub client_id: Option<String>,
    /// The author's badge, carried to the broadcast line.
    pub badge: Option<Badge>,
    /// The users the line mentions (resolved before it reached the room).
    pub mentions: Vec<Mention>,
    /// The line it answers (checked to be of the same room, not deleted).
    pub reply_to: Option<ReplyTo>,
    /// Auto-moderation's reasons to hold the line for review: then it is
    /// stored hidden with status `held` (see `store::automod`).
    pub held: Option<Vec<String>>,
}

impl NewMessage {
    /// A line of `username` as stored and sent (`id`, `timestamp` still to come).
    fn line(&self, id: i64, timestamp: String) -> ChatMessage {
        ChatMessage {
            id: Some(id),
            username: self.username.clone(),
            message: self.content.clone(),
            message_type: self.message_type,
            timestamp,
            client_id: self.client_id.clone(),
            badge: self.badge,
            notice: None,
            mentions: self.mentions.iter().map(|m| m.username.clone()).collect(),
            reply_to: self.reply_to.clone(),
            edited_at: None,
        }
    }
}

/// How long a `client_id` stays claimed by the line that first used it.
pub const CLIENT_ID_KEPT: &str = "24 hours";

/// What became of one line of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// Stored by this batch (now, or by an earlier attempt of it).
    New(ChatMessage),
    /// Not stored: its sender had already sent a line with the same
    /// `client_id`, which is `original` (removed since if `deleted`).
    Resent {
        original: ChatMessage,
        deleted: bool,
    },
}

/// One room's batch: the id that makes a retry idempotent, the room, the rows.
pub type RoomBatch<'a> = (Uuid, i32, &'a [NewMessage]);

/// Inserts the batches of several rooms of one tenant with one statement (so
/// one round trip and one transaction) and returns what became of each
/// room's lines, in input order, with ids and timestamps. `chatters` are the
/// `(room_id, user_id)` pairs to add to the chatter set; the caller may leave
/// out pairs it knows are stored.
///
/// A batch whose id is already stored (a retry after an ambiguous commit) is
/// not stored again; what the first attempt stored is returned instead. A
/// line whose `client_id` its sender already used in the room is not stored
/// either; the line that used it is returned as [`Stored::Resent`].
pub async fn insert_rooms(
    pool: &PgPool,
    schema: &SchemaName,
    batches: &[RoomBatch<'_>],
    chatters: &[(i32, i32)],
) -> Result<Vec<Vec<Stored>>, StoreError> {
    let (chatter_rooms, chatter_users): (Vec<i32>, Vec<i32>) = chatters.iter().copied().unzip();
    let total: usize = batches.iter().map(|(_, _, b)| b.len()).sum();
    let mut batch_ids: Vec<Uuid> = Vec::with_capacity(total);
    let mut room_ids: Vec<i32> = Vec::with_capacity(total);
    let mut user_ids: Vec<Option<i32>> = Vec::with_capacity(total);
    let mut contents: Vec<&str> = Vec::with_capacity(total);
    let mut types: Vec<&str> = Vec::with_capacity(total);
    let mut client_ids: Vec<Option<&str>> = Vec::with_capacity(total);
    let mut reply_ids: Vec<Option<i64>> = Vec::with_capacity(total);
    // Per line, its mentions joined by spaces (usernames have none):
    // UNNEST cannot take an array of arrays of different lengths.
    let mut mentions: Vec<String> = Vec::with_capacity(total);
    // Per line, its hold reasons joined by spaces (they have none), or NULL.
    let mut held: Vec<Option<String>> = Vec::with_capacity(total);
    for (batch_id, room_id, batch) in batches {
        for m in *batch {
            batch_ids.push(*batch_id);
            room_ids.push(*room_id);
            user_ids.push(m.user_id);
            contents.push(&m.content);
            types.push(m.message_type.as_str());
            client_ids.push(m.client_id.as_deref());
            reply_ids.push(m.reply_to.as_ref().map(|r| r.id));
            held.push(m.held.as_ref().map(|reasons| reasons.join(" ")));
            mentions.push(
                m.mentions
                    .iter()
                    .map(|m| m.username.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    // The batch ids, the client ids, the rows, the per-minute chat count and
    // the chatter set commit together. Ids are drawn in input order. A
    // batch's rows are stored only if its id was not, and a line with a
    // client id only if it claims that id (the first line with it, unless
    // the claim expired); each claim waits for a concurrent attempt holding
    // it. The upserts run in key order so that concurrent commits touching
    // the same rows lock them in the same order and cannot deadlock.
    let rows: Vec<(i64, i32, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "WITH input AS (
             SELECT x.*, nextval('{schema}.chat_chatmessage_id_seq')::int4 AS id
             FROM UNNEST($1::int4[], $2::int4[], $3::text[], $4::varchar[], $7::uuid[], $9::varchar[],
                         $10::int8[], $11::text[], $12::text[])
                  WITH ORDINALITY AS x(r, u, c, t, b, cid, reply, mn, hr, n)
             ORDER BY n
         ), fresh AS (
             INSERT INTO {schema}.chat_batch (id, message_ids)
             SELECT b, array_agg(id ORDER BY n) FROM input GROUP BY b ORDER BY b
             ON CONFLICT DO NOTHING RETURNING id
         ), pruned AS (
             DELETE FROM {schema}.chat_batch WHERE id < $8
         ), claimed AS (
             INSERT INTO {schema}.chat_clientmessage AS k (room_id, user_id, client_id, message_id)
             SELECT DISTINCT ON (r, u, cid) r, u, cid, id FROM input
             WHERE cid IS NOT NULL AND u IS NOT NULL AND b IN (SELECT id FROM fresh)
             ORDER BY r, u, cid, n
             ON CONFLICT (room_id, user_id, client_id) DO UPDATE
                 SET message_id = EXCLUDED.message_id, created_at = now()
                 WHERE k.created_at < now() - interval '{CLIENT_ID_KEPT}'
             RETURNING message_id
         ), expired AS (
             DELETE FROM {schema}.chat_clientmessage
             WHERE created_at < now() - interval '{CLIENT_ID_KEPT}'
               AND (room_id, user_id, client_id) NOT IN
                   (SELECT r, u, cid FROM input WHERE cid IS NOT NULL AND u IS NOT NULL)
         ), ins AS (
             INSERT INTO {schema}.chat_chatmessage
                 (id, room_id, user_id, content, message_type, reply_to_id, mentions,
                  is_deleted, status, held_reasons)
             SELECT id, r, u, c, t, reply::int4, string_to_array(NULLIF(mn, ''), ' '),
                    hr IS NOT NULL, CASE WHEN hr IS NULL THEN 'visible' ELSE 'held' END,
                    string_to_array(hr, ' ')
             FROM input
             WHERE b IN (SELECT id FROM fresh)
               AND (cid IS NULL OR u IS NULL OR id IN (SELECT message_id FROM claimed))
             ORDER BY n
             RETURNING id, created_at, user_id, room_id, status
         ), stream_rows AS (
             -- Held lines count once approved (they may never be).
             SELECT r.stream_id, ins.user_id, ins.created_at
             FROM ins JOIN {schema}.chat_chatroom r ON r.id = ins.room_id
             WHERE r.stream_id IS NOT NULL AND ins.user_id IS NOT NULL AND ins.status = 'visible'
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
         SELECT input.n, ins.id, ins.created_at FROM ins JOIN input USING (id) ORDER BY ins.id"
    ))
    .bind(&room_ids)
    .bind(&user_ids)
    .bind(&contents)
    .bind(&types)
    .bind(&chatter_rooms)
    .bind(&chatter_users)
    .bind(&batch_ids)
    .bind(super::batch_id::oldest_kept())
    .bind(&client_ids)
    .bind(&reply_ids)
    .bind(&mentions)
    .bind(&held)
    .fetch_all(pool)
    .await?;
    // What each input line became, by its place in the input (0-based).
    let mut stored: Vec<Option<(i32, PrimitiveDateTime)>> = vec![None; total];
    for (n, id, created_at) in rows {
        if let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| stored.get_mut(i)) {
            *slot = Some((id, created_at));
        }
    }
    let mut start = 0;
    for (batch_id, _, batch) in batches {
        let lines = start..start + batch.len();
        start = lines.end;
        if stored[lines.clone()].iter().all(Option::is_some) {
            continue;
        }
        // Lines not stored now: stored by an earlier attempt of the batch,
        // or resends (found below).
        for (pos, row) in stored_before(pool, schema, *batch_id).await? {
            if let Some(slot) = stored.get_mut(lines.start + pos) {
                *slot = Some(row);
            }
        }
    }
    let originals = originals(pool, schema, batches, &stored).await?;
    let mut out = Vec::with_capacity(batches.len());
    let mut lines = batches
        .iter()
        .flat_map(|(_, room_id, batch)| batch.iter().map(move |m| (*room_id, m)))
        .zip(stored)
        .enumerate();
    for (_, _, batch) in batches {
        let mut room = Vec::with_capacity(batch.len());
        for (i, ((_, m), row)) in lines.by_ref().take(batch.len()) {
            let line = match (row, originals.get(&i)) {
                (Some((id, created_at)), _) => {
                    Stored::New(m.line(i64::from(id), format_timestamp(created_at)))
                }
                // The original's own text and time (a resend may differ).
                (None, Some((original, deleted))) => Stored::Resent {
                    original: ChatMessage {
                        message: original.message.clone(),
                        message_type: original.message_type,
                        ..m.line(original.id.unwrap_or_default(), original.timestamp.clone())
                    },
                    deleted: *deleted,
                },
                (None, None) => {
                    return Err(StoreError::Invalid(format!(
                        "chat line {i} of the batch was neither stored nor a resend"
                    )))
                }
            };
            room.push(line);
        }
        out.push(room);
    }
    Ok(out)
}

/// Where the lines of a batch went on an earlier attempt: their places in
/// the batch (0-based) with ids and times; lines that were resends have none.
async fn stored_before(
    pool: &PgPool,
    schema: &SchemaName,
    batch_id: Uuid,
) -> Result<Vec<(usize, (i32, PrimitiveDateTime))>, StoreError> {
    let rows: Vec<(i64, i32, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "SELECT x.pos, m.id, m.created_at FROM {schema}.chat_batch b
         CROSS JOIN LATERAL unnest(b.message_ids) WITH ORDINALITY AS x(mid, pos)
         JOIN {schema}.chat_chatmessage m ON m.id = x.mid
         WHERE b.id = $1 ORDER BY x.pos"
    ))
    .bind(batch_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(pos, id, at)| Some((usize::try_from(pos - 1).ok()?, (id, at))))
        .collect())
}

/// The lines that claimed the client ids of the input lines not stored,
/// by input place, with whether they were deleted since.
async fn originals(
    pool: &PgPool,
    schema: &SchemaName,
    batches: &[RoomBatch<'_>],
    stored: &[Option<(i32, PrimitiveDateTime)>],
) -> Result<HashMap<usize, (ChatMessage, bool)>, StoreError> {
    let mut places: Vec<i64> = Vec::new();
    let mut rooms: Vec<i32> = Vec::new();
    let mut users: Vec<i32> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    let lines = batches
        .iter()
        .flat_map(|(_, room_id, batch)| batch.iter().map(move |m| (*room_id, m)));
    for (i, ((room_id, m), row)) in lines.zip(stored).enumerate() {
        if let (None, Some(user_id), Some(client_id)) = (row, m.user_id, m.client_id.as_deref()) {
            places.push(i as i64);
            rooms.push(room_id);
            users.push(user_id);
            ids.push(client_id);
        }
    }
    if places.is_empty() {
        return Ok(HashMap::new());
    }
    type Row = (
        i64,
        i32,
        String,
        Option<String>,
        Option<PrimitiveDateTime>,
        bool,
    );
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT x.place, m.id, m.content, m.message_type, m.created_at,
                COALESCE(m.is_deleted, false)
         FROM UNNEST($1::int8[], $2::int4[], $3::int4[], $4::varchar[]) AS x(place, r, u, cid)
         JOIN {schema}.chat_clientmessage k
           ON k.room_id = x.r AND k.user_id = x.u AND k.client_id = x.cid
         JOIN {schema}.chat_chatmessage m ON m.id = k.message_id"
    ))
    .bind(&places)
    .bind(&rooms)
    .bind(&users)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(place, id, content, kind, created_at, deleted)| {
            let original = ChatMessage {
                id: Some(i64::from(id)),
                username: String::new(),
                message: content,
                message_type: kind
                    .and_then(|k| k.parse().ok())
                    .unwrap_or(MessageType::Message),
                timestamp: created_at.map(format_timestamp).unwrap_or_default(),
                client_id: None,
                badge: None,
                notice: None,
                mentions: Vec::new(),
                reply_to: None,
                edited_at: None,
            };
            Some((usize::try_from(place).ok()?, (original, deleted)))
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
    /// Only the history query selects it.
    #[sqlx(default)]
    badge: Option<String>,
    #[sqlx(default)]
    notice: Option<sqlx::types::Json<Notice>>,
    #[sqlx(default)]
    mentions: Option<Vec<String>>,
    /// The answered line, when the history query joins it.
    #[sqlx(default)]
    reply_id: Option<i32>,
    #[sqlx(default)]
    reply_username: Option<String>,
    #[sqlx(default)]
    reply_content: Option<String>,
    #[sqlx(default)]
    reply_deleted: Option<bool>,
    #[sqlx(default)]
    edited_at: Option<PrimitiveDateTime>,
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
            client_id: None,
            badge: r.badge.and_then(|b| b.parse().ok()),
            notice: r.notice.map(|n| n.0),
            mentions: r.mentions.unwrap_or_default(),
            reply_to: r.reply_id.map(|id| {
                ReplyTo::of(
                    i64::from(id),
                    r.reply_username.unwrap_or_default(),
                    r.reply_content.as_deref().unwrap_or_default(),
                    r.reply_deleted.unwrap_or(false),
                )
            }),
            edited_at: r.edited_at.map(format_timestamp),
        }
    }
}

/// The columns of a line as clients see it (author, badge on its stream,
/// the answered line), for `{select} WHERE … ORDER BY …` on alias `m`
/// (`s` is its stream); `extra` adds columns (`", expr AS name"`).
pub(crate) fn select_lines(schema: &SchemaName, extra: &str) -> String {
    format!(
        "SELECT m.id, u.username, m.content, m.message_type, m.created_at, m.notice, m.mentions,
                m.edited_at, p.id AS reply_id, pu.username AS reply_username, p.content AS reply_content,
                COALESCE(p.is_deleted, false) AS reply_deleted,
                CASE WHEN m.user_id IS NULL OR m.message_type <> 'message' THEN NULL
                     WHEN u.role = 'admin' THEN 'admin'
                     WHEN s.owner_id = m.user_id THEN 'streamer'
                     WHEN u.role = 'moderator' OR EXISTS (
                         SELECT 1 FROM {schema}.chat_moderator cm
                         WHERE cm.stream_id = s.id AND cm.user_id = m.user_id) THEN 'moderator'
                END AS badge{extra}
         FROM {schema}.chat_chatmessage m
         LEFT JOIN {schema}.accounts_user u ON u.id = m.user_id
         LEFT JOIN {schema}.chat_chatroom r ON r.id = m.room_id
         LEFT JOIN {schema}.streaming_stream s ON s.id = r.stream_id
         LEFT JOIN {schema}.chat_chatmessage p ON p.id = m.reply_to_id
         LEFT JOIN {schema}.accounts_user pu ON pu.id = p.user_id"
    )
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
        "{}
         WHERE m.room_id = $1 AND NOT COALESCE(m.is_deleted, false)
           AND ($2::int4 IS NULL OR m.id < $2)
         ORDER BY m.id DESC LIMIT $3",
        select_lines(schema, "")
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
