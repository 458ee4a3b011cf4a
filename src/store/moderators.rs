//! `chat_moderator`: the moderators a stream's owner or an admin appointed.

use sqlx::{PgConnection, PgPool};

use super::{is_unique_violation, StoreError};
use crate::tenant::SchemaName;

/// Appoints `user_id` moderator of `stream_id`; `Conflict` if already.
pub async fn add(
    conn: &mut PgConnection,
    schema: &SchemaName,
    stream_id: i32,
    user_id: i32,
    by: i32,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_moderator (stream_id, user_id, created_by) VALUES ($1, $2, $3)"
    ))
    .bind(stream_id)
    .bind(user_id)
    .bind(by)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("already a moderator of this stream".into())
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Removes a stream moderator; `NotFound` if they were not one.
pub async fn remove(
    conn: &mut PgConnection,
    schema: &SchemaName,
    stream_id: i32,
    user_id: i32,
) -> Result<(), StoreError> {
    let done = sqlx::query(&format!(
        "DELETE FROM {schema}.chat_moderator WHERE stream_id = $1 AND user_id = $2"
    ))
    .bind(stream_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(
            "not a moderator of this stream".into(),
        ));
    }
    Ok(())
}

/// Usernames of a stream's appointed moderators.
pub async fn of_stream(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT u.username FROM {schema}.chat_moderator m JOIN {schema}.accounts_user u ON u.id = m.user_id
         WHERE m.stream_id = $1 ORDER BY u.username"
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await?)
}
