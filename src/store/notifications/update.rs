//! Marking notifications read, and deleting old read ones.

use sqlx::PgPool;

use crate::store::StoreError;
use crate::tenant::SchemaName;

/// What marking read changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedRead {
    /// The ids that were unread and are read now, ascending.
    pub ids: Vec<i64>,
    /// The user's unread count afterwards.
    pub unread: i64,
}

/// Marks the user's notifications `ids` read (all unread ones when `None`).
/// Ids of other users' notifications are ignored.
pub async fn mark_read(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    ids: Option<&[i64]>,
) -> Result<MarkedRead, StoreError> {
    // The outer SELECT sees the table as before the UPDATE (one snapshot),
    // so the rows it just marked are subtracted from that count.
    let (ids, unread): (Vec<i64>, i64) = sqlx::query_as(&format!(
        "WITH upd AS (
            UPDATE {schema}.notifications_notification SET read_at = CURRENT_TIMESTAMP
            WHERE user_id = $1 AND read_at IS NULL AND ($2::bigint[] IS NULL OR id = ANY($2))
            RETURNING id)
         SELECT ARRAY(SELECT id FROM upd ORDER BY id),
                (SELECT count(*) FROM {schema}.notifications_notification
                 WHERE user_id = $1 AND read_at IS NULL) - (SELECT count(*) FROM upd)"
    ))
    .bind(user_id)
    .bind(ids)
    .fetch_one(pool)
    .await?;
    Ok(MarkedRead { ids, unread })
}

/// Deletes read notifications created more than `days` days ago, at most
/// `batch` rows per statement so no statement holds locks for long; returns
/// how many went.
pub async fn delete_read_older_than(
    pool: &PgPool,
    schema: &SchemaName,
    days: u32,
    batch: i64,
) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(&format!(
            "DELETE FROM {schema}.notifications_notification WHERE id IN (
                SELECT id FROM {schema}.notifications_notification
                WHERE read_at IS NOT NULL
                  AND created_at < CURRENT_TIMESTAMP - make_interval(days => $1)
                LIMIT $2)"
        ))
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .bind(batch)
        .execute(pool)
        .await?
        .rows_affected();
        total += deleted;
        if deleted < batch.max(1) as u64 {
            return Ok(total);
        }
    }
}
