//! `chat_ban`: bans and timeouts, per stream or tenant-wide. A ban is never
//! deleted: lifting it stamps `lifted_at`, so the history stays.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// An active ban or timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ban {
    pub id: i32,
    pub username: String,
    /// `None` for a tenant-wide ban.
    pub stream_id: Option<i32>,
    pub reason: String,
    pub created_by: Option<String>,
    pub created_at: String,
    /// `None` for a permanent ban.
    pub expires_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BanRow {
    id: i32,
    username: String,
    stream_id: Option<i32>,
    reason: String,
    created_by: Option<String>,
    created_at: PrimitiveDateTime,
    expires_at: Option<PrimitiveDateTime>,
}

impl From<BanRow> for Ban {
    fn from(r: BanRow) -> Self {
        Ban {
            id: r.id,
            username: r.username,
            stream_id: r.stream_id,
            reason: r.reason,
            created_by: r.created_by,
            created_at: format_timestamp(r.created_at),
            expires_at: r.expires_at.map(format_timestamp),
        }
    }
}

const BAN_COLUMNS: &str =
    "b.id, u.username, b.stream_id, b.reason, c.username AS created_by, b.created_at, b.expires_at";
/// The filter on `chat_ban b` that keeps the bans in force right now.
pub(super) const ACTIVE: &str =
    "b.lifted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > CURRENT_TIMESTAMP)";

/// `SELECT` of [`BanRow`]s with the user joins they need; callers add `WHERE`.
fn select_bans(schema: &SchemaName) -> String {
    format!(
        "SELECT {BAN_COLUMNS} FROM {schema}.chat_ban b
         JOIN {schema}.accounts_user u ON u.id = b.user_id
         LEFT JOIN {schema}.accounts_user c ON c.id = b.created_by"
    )
}

/// Records a ban inside the action's transaction.
pub async fn insert(
    conn: &mut PgConnection,
    schema: &SchemaName,
    user_id: i32,
    stream_id: Option<i32>,
    reason: &str,
    by: i32,
    duration_secs: Option<i64>,
) -> Result<Ban, StoreError> {
    let id: i32 = sqlx::query_scalar(&format!(
        "INSERT INTO {schema}.chat_ban (user_id, stream_id, reason, created_by, expires_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $5::int8 IS NULL THEN NULL
                                      ELSE CURRENT_TIMESTAMP + make_interval(secs => $5::int8) END)
         RETURNING id"
    ))
    .bind(user_id)
    .bind(stream_id)
    .bind(reason)
    .bind(by)
    .bind(duration_secs)
    .fetch_one(&mut *conn)
    .await?;
    Ok(
        sqlx::query_as::<_, BanRow>(&format!("{} WHERE b.id = $1", select_bans(schema)))
            .bind(id)
            .fetch_one(&mut *conn)
            .await?
            .into(),
    )
}

/// Active bans of a stream (including tenant-wide ones).
pub async fn active_bans(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Vec<Ban>, StoreError> {
    Ok(sqlx::query_as::<_, BanRow>(&format!(
        "{}
         WHERE (b.stream_id = $1 OR b.stream_id IS NULL) AND {ACTIVE}
         ORDER BY b.created_at DESC",
        select_bans(schema)
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Ban::from)
    .collect())
}

/// (user id, expiry) of every active ban affecting `stream_id`, for a room actor.
pub async fn banned_users(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Vec<(i32, Option<PrimitiveDateTime>)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT b.user_id, b.expires_at FROM {schema}.chat_ban b
         WHERE (b.stream_id = $1 OR b.stream_id IS NULL) AND {ACTIVE}"
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await?)
}

/// Lifts the active bans of `user_id` with exactly this scope; how many.
pub async fn lift(
    conn: &mut PgConnection,
    schema: &SchemaName,
    user_id: i32,
    stream_id: Option<i32>,
    by: i32,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(&format!(
        "UPDATE {schema}.chat_ban b SET lifted_at = CURRENT_TIMESTAMP, lifted_by = $3
         WHERE b.user_id = $1 AND b.stream_id IS NOT DISTINCT FROM $2 AND {ACTIVE}"
    ))
    .bind(user_id)
    .bind(stream_id)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
