//! Starting and ending streams. A stream is `scheduled`, `live` or `ended`;
//! `ended` is final. Ending one notifies every node in the same transaction
//! (Postgres `NOTIFY`, like session revocations, so the CLI, which runs no
//! node, reaches every node too); each closes the room's sockets
//! (`room::lifecycle`). Starting one stores a `stream.live` notification for
//! each follower and notifies every node the same way
//! ([`STARTED_CHANNEL`]); each delivers them to the devices it holds
//! (`notifications::live`).

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::streams::{self, Stream};
use super::{notifications, StoreError};
use crate::notifications::Title;
use crate::tenant::SchemaName;

/// The Postgres channel stream ends travel on.
pub const CHANNEL: &str = "stampede_stream_ended";

/// What the notification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEnded {
    pub tenant_id: i32,
    pub stream_id: i32,
}

/// The Postgres channel stream starts travel on.
pub const STARTED_CHANNEL: &str = "stampede_stream_started";

/// What a stream start announces: the `stream.live` notifications stored
/// for its followers have ids in `first_id..=last_id` (and link to the
/// stream's page, [`watch_link`]). Sent only when there are followers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStarted {
    pub tenant_id: i32,
    pub stream_id: i32,
    pub first_id: i64,
    pub last_id: i64,
}

/// The page of stream `id`, where its notifications link.
pub fn watch_link(id: i32) -> String {
    format!("/streams/{id}")
}

/// Makes a scheduled stream live, stores one `stream.live` notification per
/// follower of stream `id` of tenant `tenant_id`, and tells every node.
/// Starting a live stream or an ended one is a conflict (an ended stream
/// stays ended), so followers are notified once per stream.
pub async fn start(
    pool: &PgPool,
    schema: &SchemaName,
    tenant_id: i32,
    id: i32,
) -> Result<Stream, StoreError> {
    let mut tx = pool.begin().await?;
    match status(&mut tx, schema, id).await?.as_str() {
        "scheduled" => {}
        "live" => return Err(StoreError::Conflict(format!("stream {id} is already live"))),
        _ => return Err(StoreError::Conflict(format!("stream {id} has ended"))),
    }
    let title: String = sqlx::query_scalar(&format!(
        "UPDATE {schema}.streaming_stream SET status = 'live', started_at = CURRENT_TIMESTAMP
         WHERE id = $1 RETURNING title"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let stored = notifications::insert_for_followers(
        &mut tx,
        schema,
        id,
        Title::Live { stream: &title },
        &watch_link(id),
    )
    .await?;
    if let Some((first_id, last_id)) = stored {
        let note = StreamStarted {
            tenant_id,
            stream_id: id,
            first_id,
            last_id,
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(STARTED_CHANNEL)
            .bind(serde_json::to_string(&note).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    fetch(pool, schema, id).await
}

/// Ends a live or scheduled stream (a scheduled one is thereby cancelled)
/// and closes its chat on every node of tenant `tenant_id`.
pub async fn end(
    pool: &PgPool,
    schema: &SchemaName,
    tenant_id: i32,
    id: i32,
) -> Result<Stream, StoreError> {
    let mut tx = pool.begin().await?;
    if status(&mut tx, schema, id).await? == "ended" {
        return Err(StoreError::Conflict(format!(
            "stream {id} has already ended"
        )));
    }
    sqlx::query(&format!(
        "UPDATE {schema}.streaming_stream SET status = 'ended', ended_at = CURRENT_TIMESTAMP
         WHERE id = $1"
    ))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let note = StreamEnded {
        tenant_id,
        stream_id: id,
    };
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(serde_json::to_string(&note).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    fetch(pool, schema, id).await
}

/// The stream's status, locked until the transaction ends.
async fn status(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    schema: &SchemaName,
    id: i32,
) -> Result<String, StoreError> {
    sqlx::query_scalar(&format!(
        "SELECT status FROM {schema}.streaming_stream WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("no stream {id}")))
}

async fn fetch(pool: &PgPool, schema: &SchemaName, id: i32) -> Result<Stream, StoreError> {
    streams::get(pool, schema, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no stream {id}")))
}

/// Of `ids`, the streams that have ended (for a node that may have missed
/// notifications while its listening connection was down).
pub async fn ended_among(
    pool: &PgPool,
    schema: &SchemaName,
    ids: &[i32],
) -> Result<Vec<i32>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM {schema}.streaming_stream WHERE id = ANY($1) AND status = 'ended'"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?)
}
