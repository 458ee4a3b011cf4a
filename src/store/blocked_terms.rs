//! `chat_blockedterm`: a tenant's blocked terms, as typed and in the
//! comparable form they were stored with.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::{is_unique_violation, StoreError};
use crate::tenant::SchemaName;

/// A blocked term as listed to moderators.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BlockedTerm {
    pub id: i32,
    pub term: String,
}

/// Every term with its stored comparable form, oldest first.
pub async fn all(
    pool: &PgPool,
    schema: &SchemaName,
) -> Result<Vec<(BlockedTerm, String)>, StoreError> {
    let rows: Vec<(i32, String, String)> = sqlx::query_as(&format!(
        "SELECT id, term, normalized FROM {schema}.chat_blockedterm ORDER BY id"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, term, normalized)| (BlockedTerm { id, term }, normalized))
        .collect())
}

/// Adds a term; `Conflict` if the tenant already blocks it.
pub async fn add(
    conn: &mut PgConnection,
    schema: &SchemaName,
    term: &str,
    normalized: &str,
    by: i32,
) -> Result<BlockedTerm, StoreError> {
    sqlx::query_as::<_, BlockedTerm>(&format!(
        "INSERT INTO {schema}.chat_blockedterm (term, normalized, created_by) VALUES ($1, $2, $3)
         RETURNING id, term"
    ))
    .bind(term)
    .bind(normalized)
    .bind(by)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("this term is already blocked".into())
        } else {
            e.into()
        }
    })
}

/// Removes a term and returns it; `NotFound` if there is no such id.
pub async fn remove(
    conn: &mut PgConnection,
    schema: &SchemaName,
    id: i32,
) -> Result<String, StoreError> {
    sqlx::query_scalar(&format!(
        "DELETE FROM {schema}.chat_blockedterm WHERE id = $1 RETURNING term"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("no blocked term {id}")))
}
