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
    let mut tx = pool.begin().await?;
    sqlx::query(&format!(
        "INSERT INTO {schema}.streaming_streamreaction (stream_id, user_id, stamp_id, created_at)
         SELECT * FROM UNNEST($1::int4[], $2::int4[], $3::int4[], $4::timestamp[])"
    ))
    .bind(&streams)
    .bind(&users)
    .bind(&stamps)
    .bind(&times)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {schema}.streaming_reactionminute AS r (stream_id, stamp_id, minute, count)
         SELECT s, st, date_trunc('minute', t), count(*)
         FROM UNNEST($1::int4[], $2::int4[], $3::timestamp[]) AS x(s, st, t)
         GROUP BY 1, 2, 3
         ON CONFLICT (stream_id, minute, stamp_id) DO UPDATE SET count = r.count + EXCLUDED.count"
    ))
    .bind(&streams)
    .bind(&stamps)
    .bind(&times)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {schema}.streaming_reactor (stream_id, user_id)
         SELECT DISTINCT s, u FROM UNNEST($1::int4[], $2::int4[]) AS x(s, u)
         ON CONFLICT DO NOTHING"
    ))
    .bind(&streams)
    .bind(&users)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
