//! Chat replay: what a stream's chat showed during a window of stream time
//! (milliseconds since its `started_at`): its visible lines, pins and
//! unpins, and reactions counted per second. Every part is a range scan of
//! an index on (stream or room, time): lines by `idx_chatmessage_room_created`,
//! pins by `idx_moderationaction_stream`, reactions by the primary key of
//! `streaming_reactionsecond`.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::messages::{select_lines, MessageRow};
use super::StoreError;
use crate::chat::ChatMessage;
use crate::tenant::SchemaName;

/// One page of a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub stream_id: i32,
    pub room_id: i32,
    /// Inclusive, ms of stream time.
    pub from_ms: i64,
    /// Exclusive.
    pub to_ms: i64,
    /// Lines at exactly `from_ms` with an id up to this were on the page
    /// before (the keyset cursor).
    pub after_id: Option<i64>,
    /// Lines per page at most.
    pub limit: i64,
}

/// Something the chat showed, at `t_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "type")]
pub enum Item {
    #[serde(rename = "chat.message")]
    Chat {
        t_ms: i64,
        #[serde(flatten)]
        line: ChatMessage,
    },
    /// Line `id` was pinned (`message`: it, as it reads now).
    #[serde(rename = "chat.pin")]
    Pin {
        t_ms: i64,
        id: i64,
        message: ChatMessage,
    },
    #[serde(rename = "chat.unpin")]
    Unpin { t_ms: i64, id: i64 },
    /// The reactions of the second starting at `t_ms`, by stamp id.
    #[serde(rename = "reactions")]
    Reactions {
        t_ms: i64,
        // JSON object keys are strings (`{"3": 12}`).
        #[schema(value_type = BTreeMap<String, i64>)]
        counts: BTreeMap<i32, i64>,
    },
}

impl Item {
    pub fn t_ms(&self) -> i64 {
        match self {
            Item::Chat { t_ms, .. }
            | Item::Pin { t_ms, .. }
            | Item::Unpin { t_ms, .. }
            | Item::Reactions { t_ms, .. } => *t_ms,
        }
    }
}

/// A page: its items in time order, and where the next one starts when
/// the page was cut at `limit` lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The line pinned as the window starts, so a player that seeks into
    /// the middle of a stream shows the pin of that moment.
    pub pinned: Option<ChatMessage>,
    pub items: Vec<Item>,
    /// `(from_ms, after_id)` of the next page.
    pub next: Option<(i64, i64)>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    #[sqlx(flatten)]
    line: MessageRow,
    t_ms: i64,
}

/// Milliseconds of stream time of column `at`, the stream's start being
/// bound as parameter `$started`. The bounds of every query are bound as
/// timestamps computed here, never derived from a joined row, so that the
/// planner can use them as index conditions.
fn t_ms(at: &str, started: u8) -> String {
    format!("floor(extract(epoch FROM ({at} - ${started}::timestamp)) * 1000)::int8")
}

/// Stream time as timestamps, from the stream's start.
#[derive(Clone, Copy)]
struct Bounds {
    started: PrimitiveDateTime,
}

impl Bounds {
    fn at(&self, ms: i64) -> PrimitiveDateTime {
        self.started
            .saturating_add(time::Duration::milliseconds(ms))
    }
}

/// The page of `window`; `None` if the stream never started.
pub async fn page(
    pool: &PgPool,
    schema: &SchemaName,
    window: &Window,
) -> Result<Option<Page>, StoreError> {
    let started: Option<(Option<PrimitiveDateTime>,)> = sqlx::query_as(&format!(
        "SELECT started_at FROM {schema}.streaming_stream WHERE id = $1"
    ))
    .bind(window.stream_id)
    .fetch_optional(pool)
    .await?;
    let Some((Some(started),)) = started else {
        return Ok(None);
    };
    let bounds = Bounds { started };
    let rows: Vec<LineRow> = sqlx::query_as(&format!(
        "{select_lines}
         WHERE m.room_id = $1 AND NOT COALESCE(m.is_deleted, false)
           AND m.created_at >= $2 AND m.created_at < $3
           AND ($4::int8 IS NULL OR m.created_at >= $2 + interval '1 millisecond' OR m.id > $4)
         ORDER BY m.created_at, m.id LIMIT $5",
        select_lines = select_lines(schema, &format!(", {} AS t_ms", t_ms("m.created_at", 6))),
    ))
    .bind(window.room_id)
    .bind(bounds.at(window.from_ms))
    .bind(bounds.at(window.to_ms))
    .bind(window.after_id)
    .bind(window.limit)
    .bind(started)
    .fetch_all(pool)
    .await?;
    let cut = rows.len() as i64 == window.limit;
    let lines: Vec<Item> = rows
        .into_iter()
        .map(|r| Item::Chat {
            t_ms: r.t_ms,
            line: ChatMessage::from(r.line),
        })
        .collect();
    // A cut page's pins and reactions end where its last line is; the next
    // page starts there.
    let next = match lines.last() {
        Some(Item::Chat { t_ms, line }) if cut => Some((*t_ms, line.id.unwrap_or_default())),
        _ => None,
    };
    let others_until = next.map_or(window.to_ms, |(t, _)| t);
    let mut items = lines;
    items.extend(pins(pool, schema, window, bounds, others_until).await?);
    items.extend(reactions(pool, schema, window, bounds, others_until).await?);
    // Stable: lines keep their id order within a millisecond.
    items.sort_by_key(Item::t_ms);
    let pinned = pinned_at(pool, schema, window, bounds).await?;
    Ok(Some(Page {
        pinned,
        items,
        next,
    }))
}

/// The line pinned just before `window.from_ms`: the target of the latest
/// pin or unpin before it, if that was a pin of a line still visible.
async fn pinned_at(
    pool: &PgPool,
    schema: &SchemaName,
    window: &Window,
    bounds: Bounds,
) -> Result<Option<ChatMessage>, StoreError> {
    let line: Option<MessageRow> = sqlx::query_as(&format!(
        "WITH latest AS (
           SELECT a.action, a.target_message_id FROM {schema}.chat_moderationaction a
           WHERE a.stream_id = $1 AND a.action IN ('pin', 'unpin')
             AND a.target_message_id IS NOT NULL AND a.created_at < $2
           ORDER BY a.created_at DESC, a.id DESC LIMIT 1)
         {select_lines}
         JOIN latest ON latest.action = 'pin' AND latest.target_message_id = m.id
         WHERE NOT COALESCE(m.is_deleted, false)",
        select_lines = select_lines(schema, ""),
    ))
    .bind(window.stream_id)
    .bind(bounds.at(window.from_ms))
    .fetch_optional(pool)
    .await?;
    Ok(line.map(ChatMessage::from))
}

/// Pins and unpins in [`window.from_ms`, `until_ms`).
async fn pins(
    pool: &PgPool,
    schema: &SchemaName,
    window: &Window,
    bounds: Bounds,
    until_ms: i64,
) -> Result<Vec<Item>, StoreError> {
    if until_ms <= window.from_ms {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, i64, i32)> = sqlx::query_as(&format!(
        "SELECT a.action, {t} AS t_ms, a.target_message_id
         FROM {schema}.chat_moderationaction a
         WHERE a.stream_id = $1 AND a.action IN ('pin', 'unpin')
           AND a.target_message_id IS NOT NULL
           AND a.created_at >= $2 AND a.created_at < $3
         ORDER BY a.created_at, a.id",
        t = t_ms("a.created_at", 4),
    ))
    .bind(window.stream_id)
    .bind(bounds.at(window.from_ms))
    .bind(bounds.at(until_ms))
    .bind(bounds.started)
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = rows.iter().map(|(_, _, id)| *id).collect();
    // A line deleted since is left out of the replay, pinned or not.
    let pinned: Vec<MessageRow> = sqlx::query_as(&format!(
        "{} WHERE m.id = ANY($1) AND NOT COALESCE(m.is_deleted, false)",
        select_lines(schema, "")
    ))
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let pinned: BTreeMap<i64, ChatMessage> = pinned
        .into_iter()
        .map(ChatMessage::from)
        .filter_map(|m| Some((m.id?, m)))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|(action, t_ms, id)| {
            let id = i64::from(id);
            match action.as_str() {
                "pin" => pinned.get(&id).map(|message| Item::Pin {
                    t_ms,
                    id,
                    message: message.clone(),
                }),
                _ => Some(Item::Unpin { t_ms, id }),
            }
        })
        .collect())
}

/// Reactions per second in [`window.from_ms`, `until_ms`). Seconds are
/// wall-clock seconds, so the first one began before the stream did: it
/// is placed at 0.
async fn reactions(
    pool: &PgPool,
    schema: &SchemaName,
    window: &Window,
    bounds: Bounds,
    until_ms: i64,
) -> Result<Vec<Item>, StoreError> {
    if until_ms <= window.from_ms {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, i32, i64)> = sqlx::query_as(&format!(
        "SELECT greatest({t}, 0) AS t_ms, r.stamp_id, r.count
         FROM {schema}.streaming_reactionsecond r
         WHERE r.stream_id = $1 AND r.second > $2 - interval '1 second' AND r.second < $3
         ORDER BY r.second, r.stamp_id",
        t = t_ms("r.second", 4),
    ))
    .bind(window.stream_id)
    .bind(bounds.at(window.from_ms))
    .bind(bounds.at(until_ms))
    .bind(bounds.started)
    .fetch_all(pool)
    .await?;
    let mut items: Vec<Item> = Vec::new();
    let inside = |t: i64| (window.from_ms..until_ms).contains(&t);
    for (t_ms, stamp_id, count) in rows.into_iter().filter(|(t, _, _)| inside(*t)) {
        match items.last_mut() {
            Some(Item::Reactions { t_ms: t, counts }) if *t == t_ms => {
                counts.insert(stamp_id, count);
            }
            _ => items.push(Item::Reactions {
                t_ms,
                counts: BTreeMap::from([(stamp_id, count)]),
            }),
        }
    }
    Ok(items)
}
