//! `streaming_streamreaction`: batch inserts for the reaction writer.

use sqlx::PgPool;
use time::PrimitiveDateTime;
use uuid::Uuid;

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

/// Inserts the rows of every batch whose id is not stored yet, with one
/// statement and, in the same transaction, records the ids and adds the rows
/// to the per-minute rollup and the set of reactors. A batch retried after
/// an ambiguous commit (same id) therefore stores nothing twice, and the
/// rollups cannot drift from the raw rows. Ids older than
/// an hour are pruned on the way.
pub async fn insert_batches(
    pool: &PgPool,
    schema: &SchemaName,
    batches: &[(Uuid, &[NewReaction])],
) -> Result<(), StoreError> {
    let rows = batches.iter().map(|(_, rows)| rows.len()).sum();
    let mut ids: Vec<Uuid> = Vec::with_capacity(rows);
    let mut streams: Vec<i32> = Vec::with_capacity(rows);
    let mut users: Vec<i32> = Vec::with_capacity(rows);
    let mut stamps: Vec<i32> = Vec::with_capacity(rows);
    let mut times: Vec<PrimitiveDateTime> = Vec::with_capacity(rows);
    for (id, batch) in batches {
        for r in batch.iter() {
            ids.push(*id);
            streams.push(r.stream_id);
            users.push(r.user_id);
            stamps.push(r.stamp_id);
            times.push(r.created_at);
        }
    }
    let batch_ids: Vec<Uuid> = batches.iter().map(|(id, _)| *id).collect();
    // One statement, so one round trip and its own transaction. The upserts
    // run in key order so that concurrent flushes touching the same streams
    // lock rows in the same order and cannot deadlock.
    sqlx::query(&format!(
        "WITH fresh AS (
             INSERT INTO {schema}.streaming_reactionbatch (id)
             SELECT * FROM UNNEST($6::uuid[]) ORDER BY 1
             ON CONFLICT DO NOTHING RETURNING id
         ), pruned AS (
             DELETE FROM {schema}.streaming_reactionbatch WHERE id < $7
         ), input AS (
             SELECT x.* FROM UNNEST($1::uuid[], $2::int4[], $3::int4[], $4::int4[], $5::timestamp[])
                 AS x(b, s, u, st, t)
             WHERE x.b IN (SELECT id FROM fresh)
         ), ins AS (
             INSERT INTO {schema}.streaming_streamreaction (stream_id, user_id, stamp_id, created_at)
             SELECT s, u, st, t FROM input
         ), minute AS (
             INSERT INTO {schema}.streaming_reactionminute AS r (stream_id, stamp_id, minute, count)
             SELECT s, st, date_trunc('minute', t), count(*) FROM input
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
             ON CONFLICT (stream_id, minute, stamp_id) DO UPDATE SET count = r.count + EXCLUDED.count
         ), second AS (
             INSERT INTO {schema}.streaming_reactionsecond AS r (stream_id, stamp_id, second, count)
             SELECT s, st, date_trunc('second', t), count(*) FROM input
             GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
             ON CONFLICT (stream_id, second, stamp_id) DO UPDATE SET count = r.count + EXCLUDED.count
         )
         INSERT INTO {schema}.streaming_reactor (stream_id, user_id)
         SELECT DISTINCT s, u FROM input ORDER BY 1, 2
         ON CONFLICT DO NOTHING"
    ))
    .bind(&ids)
    .bind(&streams)
    .bind(&users)
    .bind(&stamps)
    .bind(&times)
    .bind(&batch_ids)
    .bind(super::batch_id::oldest_kept())
    .execute(pool)
    .await?;
    Ok(())
}

/// Inserts one batch under a fresh id (for seeding and benchmarks).
pub async fn insert_batch(
    pool: &PgPool,
    schema: &SchemaName,
    batch: &[NewReaction],
) -> Result<(), StoreError> {
    insert_batches(pool, schema, &[(super::batch_id::new(), batch)]).await
}
