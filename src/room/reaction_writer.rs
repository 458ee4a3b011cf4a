//! Writes accepted reactions in batches: a room's writer flushes at most
//! `reaction_flush_ms` after the first row of its batch arrived, and once
//! more when the room stops (including on graceful shutdown). The flushes of
//! all rooms go through the node's [`ReactionCommitter`], which merges the
//! flushes of a tenant's rooms queued meanwhile into one statement, so a
//! thousand rooms with reactions cost a few statements per interval, not a
//! thousand.
//!
//! Reactions are broadcast without waiting for this, so a row may trail its
//! broadcast by up to one flush interval (plus the insert itself).

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};
use uuid::Uuid;

use crate::coalesce::{runs_by_key, Coalescer};
use crate::store::reactions::{self, NewReaction};
use crate::tenant::SchemaName;

/// Most rows in one INSERT.
pub const MAX_BATCH: usize = 5000;
/// Accepted reactions a room may have waiting for the database.
pub const QUEUE: usize = 65_536;
/// Attempts for one batch before its rows are given up (and logged).
const ATTEMPTS: u32 = 5;

/// Statements in flight at once.
const WORKERS: usize = 2;
/// Room flushes merged into one statement, at most.
const MAX_FLUSHES: usize = 16;
/// Room flushes waiting for a worker before room writers wait.
const FLUSH_QUEUE: usize = 4096;

/// One room's flush and where its outcome goes.
struct Flush {
    schema: SchemaName,
    /// The same for every attempt of this flush, so a retry after an
    /// ambiguous commit stores nothing twice.
    batch_id: Uuid,
    rows: Vec<NewReaction>,
    reply: oneshot::Sender<Result<(), String>>,
}

/// Handle to the node's reaction inserts; cheap to clone.
#[derive(Clone)]
pub struct ReactionCommitter {
    flushes: Coalescer<Flush>,
}

impl ReactionCommitter {
    /// Spawns the workers on the current runtime.
    pub fn start(pool: PgPool) -> Self {
        let flushes = Coalescer::start(WORKERS, FLUSH_QUEUE, MAX_FLUSHES, move |flushes| {
            let pool = pool.clone();
            async move {
                for (schema, tenant) in runs_by_key(flushes, |f: &Flush| &f.schema) {
                    insert_tenant(&pool, &schema, tenant).await;
                }
            }
        });
        Self { flushes }
    }

    /// Stores `rows` (rollups included) once committed.
    async fn insert(
        &self,
        schema: &SchemaName,
        batch_id: Uuid,
        rows: Vec<NewReaction>,
    ) -> Result<(), String> {
        self.flushes
            .call(|reply| Flush {
                schema: schema.clone(),
                batch_id,
                rows,
                reply,
            })
            .await
            .map_err(|e| e.to_string())?
    }
}

async fn insert_tenant(pool: &PgPool, schema: &SchemaName, flushes: Vec<Flush>) {
    let batches: Vec<(Uuid, &[NewReaction])> = flushes
        .iter()
        .map(|f| (f.batch_id, f.rows.as_slice()))
        .collect();
    let rows: usize = flushes.iter().map(|f| f.rows.len()).sum();
    let started = std::time::Instant::now();
    let result = reactions::insert_batches(pool, schema, &batches)
        .await
        .map_err(|e| e.to_string());
    metrics::histogram!("stampede_reaction_flush_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("stampede_reaction_batch_rows").record(rows as f64);
    for flush in flushes {
        let _ = flush.reply.send(result.clone());
    }
}

/// Runs until every sender is dropped; flushes what it holds before ending.
pub async fn run(
    committer: ReactionCommitter,
    schema: SchemaName,
    flush_every: Duration,
    mut rx: mpsc::Receiver<NewReaction>,
) {
    let mut batch: Vec<NewReaction> = Vec::with_capacity(1024);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let deadline = Instant::now() + flush_every;
        let mut open = true;
        while open && batch.len() < MAX_BATCH {
            let room = MAX_BATCH - batch.len();
            tokio::select! {
                n = rx.recv_many(&mut batch, room) => open = n > 0,
                _ = sleep_until(deadline) => break,
            }
        }
        flush(&committer, &schema, &batch).await;
        batch.clear();
        if !open {
            break;
        }
    }
}

async fn flush(committer: &ReactionCommitter, schema: &SchemaName, batch: &[NewReaction]) {
    let mut backoff = Duration::from_millis(100);
    let batch_id = crate::store::batch_id::new();
    for attempt in 1..=ATTEMPTS {
        match committer.insert(schema, batch_id, batch.to_vec()).await {
            Ok(()) => return,
            Err(err) if attempt < ATTEMPTS => {
                tracing::warn!(error = %err, attempt, rows = batch.len(), "reaction flush failed; retrying");
                metrics::counter!("stampede_reaction_flush_retries_total").increment(1);
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(err) => {
                tracing::error!(error = %err, rows = batch.len(), "reaction rows lost after retries");
            }
        }
    }
}
