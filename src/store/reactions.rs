//! `streaming_streamreaction`: batch inserts for the reaction writer.

use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::StoreError;
use crate::tenant::SchemaName;

/// One accepted reaction, stamped with the time it was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewReaction {
    pub stream_id: i32,
    pub user_id: i32,
    pub stamp_id: i32,
    pub created_at: PrimitiveDateTime,
}

/// Inserts every row of `batch` with one statement and, in the same
/// transaction, adds them to the per-minute rollup and the set of reactors.
pub async fn insert_batch(
    pool: &PgPool,
    schema: &SchemaName,
    batch: &[NewReaction],
) -> Result<(), StoreError> {
    let streams: Vec<i32> = batch.iter().map(|r| r.stream_id).collect();
    let users: Vec<i32> = batch.iter().map(|r| r.user_id).collect();
    let stamps: Vec<i32> = batch.iter().map(|r| r.stamp_id).collect();
    let times: Vec<PrimitiveDateTime> = batch.iter().map(|r| r.created_at).collect();
    // One statement, so one round trip and its own transaction. The upserts
    // run in key order so that concurrent flushes touching the same streams
    // lock rows in the same order and cannot deadlock.
    sqlx::query(&format!(
        "WITH input AS (
             SELECT * FROM UNNEST($1::int4[], $2::int4[], $3::int4[], $4::timestamp[]) AS x(s, u, st, t)
         ), ins AS (
             INSERT INTO {schema}.streaming_streamreaction (stream_id, user_id, stamp_id, created_at)
             SELECT s, u, st, t FROM input
         ), minute AS (
             INSERT INTO {schema}.streaming_reactionminute AS r (stream_id, stamp_id, minute, count)
             SELECT s, st, date_trunc('minute', t), count(*) FROM input
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
             ON CONFLICT (stream_id, minute, stamp_id) DO UPDATE SET count = r.count + EXCLUDED.count
         )
         INSERT INTO {schema}.streaming_reactor (stream_id, user_id)
         SELECT DISTINCT s, u FROM input ORDER BY 1, 2
         ON CONFLICT DO NOTHING"
    ))
    .bind(&streams)
    .bind(&users)
    .bind(&stamps)
    .bind(&times)
    .execute(pool)
    .await?;
    Ok(())
}
