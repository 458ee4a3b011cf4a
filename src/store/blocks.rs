//! `accounts_block`: users who blocked other users. A block hides the blocked
//! user's lines from the blocker (chat's part) and stops the blocked user's
//! mentions and replies from notifying the blocker
//! (`store::notifications::insert_rows` filters on it).

use serde::Serialize;
use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{format_timestamp, users, StoreError};
use crate::tenant::SchemaName;

/// A blocked user, for `GET /api/blocks`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Blocked {
    pub username: String,
    pub blocked_at: String,
}

/// `blocker_id` blocks `username`. `NotFound` for an unknown user, `Invalid`
/// for oneself; blocking twice is not an error.
pub async fn block(
    pool: &PgPool,
    schema: &SchemaName,
    blocker_id: i32,
    username: &str,
) -> Result<(), StoreError> {
    let blocked_id = users::id_by_name(pool, schema, username).await?;
    if blocked_id == blocker_id {
        return Err(StoreError::Invalid("you cannot block yourself".into()));
    }
    sqlx::query(&format!(
        "INSERT INTO {schema}.accounts_block (blocker_id, blocked_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING"
    ))
    .bind(blocker_id)
    .bind(blocked_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Lifts a block; true if there was one. `NotFound` for an unknown user.
pub async fn unblock(
    pool: &PgPool,
    schema: &SchemaName,
    blocker_id: i32,
    username: &str,
) -> Result<bool, StoreError> {
    let blocked_id = users::id_by_name(pool, schema, username).await?;
    let done = sqlx::query(&format!(
        "DELETE FROM {schema}.accounts_block WHERE blocker_id = $1 AND blocked_id = $2"
    ))
    .bind(blocker_id)
    .bind(blocked_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The users `blocker_id` blocked, most recent first.
pub async fn list(
    pool: &PgPool,
    schema: &SchemaName,
    blocker_id: i32,
) -> Result<Vec<Blocked>, StoreError> {
    let rows: Vec<(String, PrimitiveDateTime)> = sqlx::query_as(&format!(
        "SELECT u.username, b.created_at FROM {schema}.accounts_block b
         JOIN {schema}.accounts_user u ON u.id = b.blocked_id
         WHERE b.blocker_id = $1 ORDER BY b.created_at DESC, u.username"
    ))
    .bind(blocker_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(username, at)| Blocked {
            username,
            blocked_at: format_timestamp(at),
        })
        .collect())
}

/// The ids of the users `blocker_id` blocked (a viewer's filter for chat).
pub async fn blocked_ids(
    pool: &PgPool,
    schema: &SchemaName,
    blocker_id: i32,
) -> Result<Vec<i32>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT blocked_id FROM {schema}.accounts_block WHERE blocker_id = $1 ORDER BY blocked_id"
    ))
    .bind(blocker_id)
    .fetch_all(pool)
    .await?)
}

/// Of `candidates`, those who blocked `sender_id`.
pub async fn blockers_among(
    pool: &PgPool,
    schema: &SchemaName,
    sender_id: i32,
    candidates: &[i32],
) -> Result<Vec<i32>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT blocker_id FROM {schema}.accounts_block
         WHERE blocked_id = $1 AND blocker_id = ANY($2) ORDER BY blocker_id"
    ))
    .bind(sender_id)
    .bind(candidates)
    .fetch_all(pool)
    .await?)
}
