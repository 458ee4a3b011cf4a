//! Read-only analytics queries. They read the rollups the writers maintain
//! (per-minute counts, exact unique sets, viewer samples), never raw rows, so
//! their cost follows the stream's length in minutes, not its reaction count.

use serde::Serialize;
use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// A stamp's count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StampCount {
    pub stamp_id: i32,
    pub name: String,
    pub image_url: String,
    pub count: i64,
}

/// One bucket of the reaction series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    pub start: String,
    #[serde(skip)]
    pub start_unix: i64,
    pub total: i64,
    pub counts: Vec<StampCount>,
}

/// Reactions per `bucket` (a validated Postgres interval such as `5 minutes`)
/// between `from` (inclusive) and `to` (exclusive), per stamp.
pub async fn reaction_series(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
    bucket: &str,
) -> Result<Vec<Bucket>, StoreError> {
    let rows: Vec<(PrimitiveDateTime, i32, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT date_bin('{bucket}', r.minute, TIMESTAMP '2000-01-01') AS b, r.stamp_id, s.name, s.image,
                sum(r.count)::int8
         FROM {schema}.streaming_reactionminute r JOIN {schema}.chat_chatstamp s ON s.id = r.stamp_id
         WHERE r.stream_id = $1 AND r.minute >= $2 AND r.minute < $3
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2"
    ))
    .bind(stream_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<Bucket> = Vec::new();
    for (start, stamp_id, name, image_url, count) in rows {
        let stamp = StampCount {
            stamp_id,
            name,
            image_url,
            count,
        };
        match out.last_mut() {
            Some(b) if b.start_unix == start.assume_utc().unix_timestamp() => {
                b.total += count;
                b.counts.push(stamp);
            }
            _ => out.push(Bucket {
                start: format_timestamp(start),
                start_unix: start.assume_utc().unix_timestamp(),
                total: count,
                counts: vec![stamp],
            }),
        }
    }
    Ok(out)
}

/// The figures of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub stream_id: i32,
    pub title: String,
    pub status: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_secs: i64,
    pub total_reactions: i64,
    /// Ranked, most used first.
    pub top_stamps: Vec<StampCount>,
    /// Exact: a set of (stream, user) kept by the reaction writer.
    pub unique_reactors: i64,
    pub total_chat_messages: i64,
    /// Exact: a set of (stream, user) kept by the chat writer.
    pub unique_chatters: i64,
    pub peak_messages_per_minute: i64,
    pub peak_reactions_per_minute: i64,
    pub peak_concurrent_viewers: i64,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    title: String,
    status: String,
    started_at: Option<PrimitiveDateTime>,
    ended_at: Option<PrimitiveDateTime>,
    duration_secs: i64,
    total_reactions: i64,
    unique_reactors: i64,
    total_chat_messages: i64,
    unique_chatters: i64,
    peak_messages_per_minute: i64,
    peak_reactions_per_minute: i64,
    peak_concurrent_viewers: i64,
}

/// The summary of a stream, or `None` if it does not exist.
pub async fn summary(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Option<Summary>, StoreError> {
    let row = sqlx::query_as::<_, SummaryRow>(&format!(
        "SELECT s.title, s.status, s.started_at, s.ended_at,
           COALESCE(EXTRACT(EPOCH FROM (COALESCE(s.ended_at, CURRENT_TIMESTAMP) - s.started_at)), 0)::int8 AS duration_secs,
           (SELECT COALESCE(sum(count), 0) FROM {schema}.streaming_reactionminute WHERE stream_id = s.id)::int8 AS total_reactions,
           (SELECT count(*) FROM {schema}.streaming_reactor WHERE stream_id = s.id) AS unique_reactors,
           (SELECT COALESCE(sum(count), 0) FROM {schema}.chat_messageminute WHERE stream_id = s.id)::int8 AS total_chat_messages,
           (SELECT count(*) FROM {schema}.chat_chatter WHERE stream_id = s.id) AS unique_chatters,
           (SELECT COALESCE(max(count), 0) FROM {schema}.chat_messageminute WHERE stream_id = s.id)::int8 AS peak_messages_per_minute,
           (SELECT COALESCE(max(n), 0) FROM (SELECT sum(count) AS n FROM {schema}.streaming_reactionminute
                                             WHERE stream_id = s.id GROUP BY minute) m)::int8 AS peak_reactions_per_minute,
           (SELECT COALESCE(max(viewers), 0) FROM {schema}.streaming_viewersample WHERE stream_id = s.id)::int8 AS peak_concurrent_viewers
         FROM {schema}.streaming_stream s WHERE s.id = $1"
    ))
    .bind(stream_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let top_stamps = stamp_totals(pool, schema, Some(stream_id), None).await?;
    Ok(Some(Summary {
        stream_id,
        title: row.title,
        status: row.status,
        started_at: row.started_at.map(format_timestamp),
        ended_at: row.ended_at.map(format_timestamp),
        duration_secs: row.duration_secs,
        total_reactions: row.total_reactions,
        top_stamps,
        unique_reactors: row.unique_reactors,
        total_chat_messages: row.total_chat_messages,
        unique_chatters: row.unique_chatters,
        peak_messages_per_minute: row.peak_messages_per_minute,
        peak_reactions_per_minute: row.peak_reactions_per_minute,
        peak_concurrent_viewers: row.peak_concurrent_viewers,
    }))
}

/// Ranked reaction totals per stamp, for one stream or all, optionally in a time range.
pub async fn stamp_totals(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: Option<i32>,
    range: Option<(PrimitiveDateTime, PrimitiveDateTime)>,
) -> Result<Vec<StampCount>, StoreError> {
    let (from, to) = range.unzip();
    Ok(sqlx::query_as::<_, StampCount>(&format!(
        "SELECT r.stamp_id, s.name, s.image AS image_url, sum(r.count)::int8 AS count
         FROM {schema}.streaming_reactionminute r JOIN {schema}.chat_chatstamp s ON s.id = r.stamp_id
         WHERE ($1::int4 IS NULL OR r.stream_id = $1)
           AND ($2::timestamp IS NULL OR r.minute >= $2) AND ($3::timestamp IS NULL OR r.minute < $3)
         GROUP BY 1, 2, 3 ORDER BY count DESC, r.stamp_id"
    ))
    .bind(stream_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}

/// One stream's line in the tenant-wide totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StreamTotal {
    pub stream_id: i32,
    pub title: String,
    pub total: i64,
    pub stamps: Vec<StampCount>,
}

/// Per-stream ranked totals in a time range, busiest stream first.
pub async fn stream_totals(
    pool: &PgPool,
    schema: &SchemaName,
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
) -> Result<Vec<StreamTotal>, StoreError> {
    let rows: Vec<(i32, String, i32, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT r.stream_id, st.title, r.stamp_id, s.name, s.image, sum(r.count)::int8
         FROM {schema}.streaming_reactionminute r
         JOIN {schema}.chat_chatstamp s ON s.id = r.stamp_id
         JOIN {schema}.streaming_stream st ON st.id = r.stream_id
         WHERE r.minute >= $1 AND r.minute < $2
         GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 6 DESC, 3"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<StreamTotal> = Vec::new();
    for (stream_id, title, stamp_id, name, image_url, count) in rows {
        let stamp = StampCount {
            stamp_id,
            name,
            image_url,
            count,
        };
        match out.last_mut() {
            Some(t) if t.stream_id == stream_id => {
                t.total += count;
                t.stamps.push(stamp);
            }
            _ => out.push(StreamTotal {
                stream_id,
                title,
                total: count,
                stamps: vec![stamp],
            }),
        }
    }
    out.sort_by(|a, b| b.total.cmp(&a.total).then(a.stream_id.cmp(&b.stream_id)));
    Ok(out)
}

/// Chat messages per `bucket` (a validated Postgres interval) between `from`
/// (inclusive) and `to` (exclusive), `(bucket start, count)`; buckets
/// without messages are left out.
pub async fn chat_series(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
    bucket: &str,
) -> Result<Vec<(PrimitiveDateTime, i64)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT date_bin('{bucket}', minute, TIMESTAMP '2000-01-01') AS b, sum(count)::int8
         FROM {schema}.chat_messageminute
         WHERE stream_id = $1 AND minute >= $2 AND minute < $3
         GROUP BY 1 ORDER BY 1"
    ))
    .bind(stream_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}

/// The most concurrent viewers sampled in each `bucket` between `from`
/// (inclusive) and `to` (exclusive), `(bucket start, viewers)`. Buckets
/// without samples (the stream was not live) are left out, not zero.
pub async fn viewer_series(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
    bucket: &str,
) -> Result<Vec<(PrimitiveDateTime, i32)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT date_bin('{bucket}', sampled_at, TIMESTAMP '2000-01-01') AS b, max(viewers)
         FROM {schema}.streaming_viewersample
         WHERE stream_id = $1 AND sampled_at >= $2 AND sampled_at < $3
         GROUP BY 1 ORDER BY 1"
    ))
    .bind(stream_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}

/// Records a viewer sample for the 15 s slot `at` falls in; the first node to
/// write a slot wins.
pub async fn record_viewers(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
    viewers: i64,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.streaming_viewersample (stream_id, sampled_at, viewers)
         SELECT $1, date_bin('15 seconds', CURRENT_TIMESTAMP::timestamp, TIMESTAMP '2000-01-01'), $2
         FROM {schema}.streaming_stream WHERE id = $1 AND status = 'live'
         ON CONFLICT (stream_id, sampled_at) DO NOTHING"
    ))
    .bind(stream_id)
    .bind(viewers as i32)
    .execute(pool)
    .await?;
    Ok(())
}

pub use super::backfill::backfill;

/// Where a stream's timeline lies: its run, and the first and last moment
/// any figure (reactions, chat, viewers) was recorded for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Timeline {
    pub started_at: Option<PrimitiveDateTime>,
    pub ended_at: Option<PrimitiveDateTime>,
    pub first_data: Option<PrimitiveDateTime>,
    pub last_data: Option<PrimitiveDateTime>,
}

/// The timeline of a stream, or `None` if it does not exist.
pub async fn timeline(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Option<Timeline>, StoreError> {
    Ok(sqlx::query_as::<_, Timeline>(&format!(
        "SELECT s.started_at, s.ended_at,
           LEAST((SELECT min(minute) FROM {schema}.streaming_reactionminute WHERE stream_id = s.id),
                 (SELECT min(minute) FROM {schema}.chat_messageminute WHERE stream_id = s.id),
                 (SELECT min(sampled_at) FROM {schema}.streaming_viewersample WHERE stream_id = s.id)) AS first_data,
           GREATEST((SELECT max(minute) FROM {schema}.streaming_reactionminute WHERE stream_id = s.id),
                    (SELECT max(minute) FROM {schema}.chat_messageminute WHERE stream_id = s.id),
                    (SELECT max(sampled_at) FROM {schema}.streaming_viewersample WHERE stream_id = s.id)) AS last_data
         FROM {schema}.streaming_stream s WHERE s.id = $1"
    ))
    .bind(stream_id)
    .fetch_optional(pool)
    .await?)
}

/// One stream's line on the dashboard's list: what happened on it in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamActivity {
    pub stream_id: i32,
    pub title: String,
    pub status: String,
    pub reactions: i64,
    pub chat_messages: i64,
    /// Ranked, most used first.
    pub stamps: Vec<StampCount>,
}

/// Every stream with reactions or chat messages in `[from, to)`, most
/// reactions first, then most chat. A chat-only stream has no stamps.
pub async fn stream_activity(
    pool: &PgPool,
    schema: &SchemaName,
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
) -> Result<Vec<StreamActivity>, StoreError> {
    let rows: Vec<(i32, String, String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT st.id, st.title, st.status, COALESCE(r.n, 0)::int8, COALESCE(c.n, 0)::int8
         FROM {schema}.streaming_stream st
         LEFT JOIN (SELECT stream_id, sum(count) AS n FROM {schema}.streaming_reactionminute
                    WHERE minute >= $1 AND minute < $2 GROUP BY 1) r ON r.stream_id = st.id
         LEFT JOIN (SELECT stream_id, sum(count) AS n FROM {schema}.chat_messageminute
                    WHERE minute >= $1 AND minute < $2 GROUP BY 1) c ON c.stream_id = st.id
         WHERE r.n IS NOT NULL OR c.n IS NOT NULL
         ORDER BY 4 DESC, 5 DESC, st.id"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut stamps: std::collections::HashMap<i32, Vec<StampCount>> =
        stream_totals(pool, schema, from, to)
            .await?
            .into_iter()
            .map(|t| (t.stream_id, t.stamps))
            .collect();
    Ok(rows
        .into_iter()
        .map(|(stream_id, title, status, reactions, chat_messages)| {
            let stamps = stamps.remove(&stream_id).unwrap_or_default();
            StreamActivity {
                stream_id,
                title,
                status,
                reactions,
                chat_messages,
                stamps,
            }
        })
        .collect())
}
