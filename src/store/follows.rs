//! `notifications_follow`: which streams a user follows. A stream going live
//! notifies its followers (`store::notifications::insert_for_followers`).

use serde::Serialize;
use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// A followed stream, for `GET /api/follows`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Followed {
    pub stream_id: i32,
    pub title: String,
    pub status: String,
    pub followed_at: String,
}

#[derive(sqlx::FromRow)]
struct FollowedRow {
    stream_id: i32,
    title: String,
    status: String,
    followed_at: PrimitiveDateTime,
}

/// Follows `stream_id`; `NotFound` for an unknown stream. Following twice
/// is not an error.
pub async fn follow(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    stream_id: i32,
) -> Result<(), StoreError> {
    let inserted: Option<i32> = sqlx::query_scalar(&format!(
        "WITH s AS (SELECT id FROM {schema}.streaming_stream WHERE id = $2),
              ins AS (INSERT INTO {schema}.notifications_follow (user_id, stream_id)
                      SELECT $1, id FROM s ON CONFLICT DO NOTHING)
         SELECT id FROM s"
    ))
    .bind(user_id)
    .bind(stream_id)
    .fetch_optional(pool)
    .await?;
    inserted
        .map(drop)
        .ok_or_else(|| StoreError::NotFound(format!("no stream {stream_id}")))
}

/// Stops following; true if the user followed it.
pub async fn unfollow(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    stream_id: i32,
) -> Result<bool, StoreError> {
    let done = sqlx::query(&format!(
        "DELETE FROM {schema}.notifications_follow WHERE user_id = $1 AND stream_id = $2"
    ))
    .bind(user_id)
    .bind(stream_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The streams the user follows, most recently followed first.
pub async fn list(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
) -> Result<Vec<Followed>, StoreError> {
    let rows: Vec<FollowedRow> = sqlx::query_as(&format!(
        "SELECT s.id AS stream_id, s.title, s.status, f.created_at AS followed_at
         FROM {schema}.notifications_follow f
         JOIN {schema}.streaming_stream s ON s.id = f.stream_id
         WHERE f.user_id = $1 ORDER BY f.created_at DESC, s.id DESC"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Followed {
            stream_id: r.stream_id,
            title: r.title,
            status: r.status,
            followed_at: format_timestamp(r.followed_at),
        })
        .collect())
}
