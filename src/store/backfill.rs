//! Rebuilding a tenant's rollups from raw rows while the writers keep
//! writing. The rebuild goes one stream and a few minutes at a time, each
//! slice in its own short transaction that locks the rollup table only for
//! that slice: a writer waits at most one slice (milliseconds), never the
//! whole rebuild. The unique sets (reactors, chatters) need no lock: missing
//! members are added and members without a raw row removed, row by row.

use sqlx::PgPool;
use time::{Duration, PrimitiveDateTime};

use super::StoreError;
use crate::tenant::SchemaName;

/// Stream time rebuilt per transaction.
const SLICE: Duration = Duration::minutes(5);

/// A rollup rebuilt slice by slice.
struct Rollup {
    table: &'static str,
    /// Its time column.
    column: &'static str,
    /// Per stream: the first and last minute with raw rows.
    spans: &'static str,
    /// Rebuilds one slice: $1 stream, [$2, $3) minutes.
    rebuild: &'static str,
    /// Removes rows whose minute has no raw rows at all.
    stale: &'static str,
}

const REACTIONS: Rollup = Rollup {
    table: "streaming_reactionminute",
    column: "minute",
    spans: "SELECT stream_id, date_trunc('minute', min(created_at)), max(created_at)
            FROM {s}.streaming_streamreaction GROUP BY 1 ORDER BY 1",
    rebuild: "INSERT INTO {s}.streaming_reactionminute (stream_id, stamp_id, minute, count)
              SELECT stream_id, stamp_id, date_trunc('minute', created_at), count(*)
              FROM {s}.streaming_streamreaction
              WHERE stream_id = $1 AND created_at >= $2 AND created_at < $3
              GROUP BY 1, 2, 3",
    stale: "DELETE FROM {s}.streaming_reactionminute m WHERE NOT EXISTS (
                SELECT 1 FROM {s}.streaming_streamreaction r
                WHERE r.stream_id = m.stream_id AND r.stamp_id = m.stamp_id
                  AND r.created_at >= m.minute AND r.created_at < m.minute + interval '1 minute')",
};

/// Per second, for chat replay.
const REACTION_SECONDS: Rollup = Rollup {
    table: "streaming_reactionsecond",
    column: "second",
    // Slices by minute like the minute rollup: the same raw rows.
    spans: REACTIONS.spans,
    rebuild: "INSERT INTO {s}.streaming_reactionsecond (stream_id, stamp_id, second, count)
              SELECT stream_id, stamp_id, date_trunc('second', created_at), count(*)
              FROM {s}.streaming_streamreaction
              WHERE stream_id = $1 AND created_at >= $2 AND created_at < $3
              GROUP BY 1, 2, 3",
    stale: "DELETE FROM {s}.streaming_reactionsecond m WHERE NOT EXISTS (
                SELECT 1 FROM {s}.streaming_streamreaction r
                WHERE r.stream_id = m.stream_id AND r.stamp_id = m.stamp_id
                  AND r.created_at >= m.second AND r.created_at < m.second + interval '1 second')",
};

const CHAT: Rollup = Rollup {
    table: "chat_messageminute",
    column: "minute",
    spans: "SELECT r.stream_id, date_trunc('minute', min(m.created_at)), max(m.created_at)
            FROM {s}.chat_chatmessage m JOIN {s}.chat_chatroom r ON r.id = m.room_id
            WHERE m.user_id IS NOT NULL AND r.stream_id IS NOT NULL GROUP BY 1 ORDER BY 1",
    rebuild: "INSERT INTO {s}.chat_messageminute (stream_id, minute, count)
              SELECT r.stream_id, date_trunc('minute', m.created_at), count(*)
              FROM {s}.chat_chatmessage m JOIN {s}.chat_chatroom r ON r.id = m.room_id
              WHERE r.stream_id = $1 AND m.user_id IS NOT NULL
                AND m.created_at >= $2 AND m.created_at < $3
              GROUP BY 1, 2",
    stale: "DELETE FROM {s}.chat_messageminute c WHERE NOT EXISTS (
                SELECT 1 FROM {s}.chat_chatmessage m JOIN {s}.chat_chatroom r ON r.id = m.room_id
                WHERE r.stream_id = c.stream_id AND m.user_id IS NOT NULL
                  AND m.created_at >= c.minute AND m.created_at < c.minute + interval '1 minute')",
};

/// The unique sets: add missing members, then drop those without raw rows.
const SETS: [&str; 4] = [
    "INSERT INTO {s}.streaming_reactor (stream_id, user_id)
     SELECT DISTINCT stream_id, user_id FROM {s}.streaming_streamreaction
     ON CONFLICT DO NOTHING",
    "DELETE FROM {s}.streaming_reactor x WHERE NOT EXISTS (
         SELECT 1 FROM {s}.streaming_streamreaction r
         WHERE r.stream_id = x.stream_id AND r.user_id = x.user_id)",
    "INSERT INTO {s}.chat_chatter (stream_id, user_id)
     SELECT DISTINCT r.stream_id, m.user_id
     FROM {s}.chat_chatmessage m JOIN {s}.chat_chatroom r ON r.id = m.room_id
     WHERE m.user_id IS NOT NULL AND r.stream_id IS NOT NULL
     ON CONFLICT DO NOTHING",
    "DELETE FROM {s}.chat_chatter x WHERE NOT EXISTS (
         SELECT 1 FROM {s}.chat_chatmessage m JOIN {s}.chat_chatroom r ON r.id = m.room_id
         WHERE r.stream_id = x.stream_id AND m.user_id = x.user_id)",
];

/// Rebuilds every rollup of the tenant from raw rows (reactions and chat)
/// while writers keep writing. Returns (reaction minutes, chat minutes)
/// written.
pub async fn backfill(pool: &PgPool, schema: &SchemaName) -> Result<(u64, u64), StoreError> {
    let reactions = rebuild(pool, schema, &REACTIONS).await?;
    rebuild(pool, schema, &REACTION_SECONDS).await?;
    let chat = rebuild(pool, schema, &CHAT).await?;
    for set in SETS {
        sqlx::query(&sql(set, schema)).execute(pool).await?;
    }
    Ok((reactions, chat))
}

fn sql(template: &str, schema: &SchemaName) -> String {
    template.replace("{s}", &schema.to_string())
}

async fn rebuild(pool: &PgPool, schema: &SchemaName, rollup: &Rollup) -> Result<u64, StoreError> {
    let spans: Vec<(i32, PrimitiveDateTime, PrimitiveDateTime)> =
        sqlx::query_as(&sql(rollup.spans, schema))
            .fetch_all(pool)
            .await?;
    let rebuild = sql(rollup.rebuild, schema);
    let lock = format!("LOCK TABLE {schema}.{} IN EXCLUSIVE MODE", rollup.table);
    let clear = format!(
        "DELETE FROM {schema}.{} WHERE stream_id = $1 AND {col} >= $2 AND {col} < $3",
        rollup.table,
        col = rollup.column
    );
    let mut written = 0;
    for (stream_id, first, last) in spans {
        let mut from = first;
        while from <= last {
            let to = from + SLICE;
            // Writers that commit meanwhile wait on the lock (this slice's
            // few milliseconds) and then add their counts on top of the
            // rebuilt ones, so nothing is counted twice or lost.
            let mut tx = pool.begin().await?;
            sqlx::query(&lock).execute(&mut *tx).await?;
            let slice = |statement| sqlx::query(statement).bind(stream_id).bind(from).bind(to);
            slice(&clear).execute(&mut *tx).await?;
            written += slice(&rebuild).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            from = to;
        }
    }
    sqlx::query(&sql(rollup.stale, schema))
        .execute(pool)
        .await?;
    Ok(written)
}
