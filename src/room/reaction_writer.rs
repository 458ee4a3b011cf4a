//! Writes accepted reactions in batches: one multi-row INSERT per flush, at
//! most `reaction_flush_ms` after the first row of the batch arrived, and a
//! final flush when the room stops (including on graceful shutdown).
//!
//! Reactions are broadcast without waiting for this, so a row may trail its
//! broadcast by up to one flush interval (plus the insert itself).

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::store::reactions::{self, NewReaction};
use crate::tenant::SchemaName;

/// Most rows in one INSERT.
pub const MAX_BATCH: usize = 5000;
/// Accepted reactions a room may have waiting for the database.
pub const QUEUE: usize = 65_536;
/// Attempts for one batch before its rows are given up (and logged).
const ATTEMPTS: u32 = 5;

/// Runs until every sender is dropped; flushes what it holds before ending.
pub async fn run(
    pool: PgPool,
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
        flush(&pool, &schema, &batch).await;
        batch.clear();
        if !open {
            break;
        }
    }
}

async fn flush(pool: &PgPool, schema: &SchemaName, batch: &[NewReaction]) {
    let started = std::time::Instant::now();
    flush_with_retries(pool, schema, batch).await;
    metrics::histogram!("stampede_reaction_flush_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("stampede_reaction_batch_rows").record(batch.len() as f64);
}

async fn flush_with_retries(pool: &PgPool, schema: &SchemaName, batch: &[NewReaction]) {
    let mut backoff = Duration::from_millis(100);
    for attempt in 1..=ATTEMPTS {
        match reactions::insert_batch(pool, schema, batch).await {
            Ok(()) => return,
            Err(err) if attempt < ATTEMPTS => {
                tracing::warn!(error = %err, attempt, rows = batch.len(), "reaction flush failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(err) => {
                tracing::error!(error = %err, rows = batch.len(), "reaction rows lost after retries");
            }
        }
    }
}
