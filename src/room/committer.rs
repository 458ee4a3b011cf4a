//! Node-wide group commit for chat. Every room's writer hands its batch here
//! and waits; the batches of all rooms that queue while earlier statements
//! run go into the next statement for their tenant. A thousand quiet rooms
//! then cost a few transactions per flush instead of one each, which is what
//! keeps Postgres ahead when chat is spread over many rooms.
//!
//! A room's writer has at most one batch here at a time, so each room's
//! messages are still stored and published in the order they were accepted.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::coalesce::{runs_by_key, Coalescer};
use crate::store::messages::{self, NewMessage, RoomBatch, Stored};
use crate::store::StoreError;
use crate::tenant::SchemaName;

/// Statements in flight at once. More would only queue for row locks on the
/// per-minute counters and for pool connections the handshakes also need.
const WORKERS: usize = 4;
/// Room batches merged into one statement, at most.
const MAX_JOBS: usize = 128;
/// Room batches waiting for a worker before room writers wait.
const QUEUE: usize = 4096;
/// Tries per statement when Postgres aborted it without committing.
const ATTEMPTS: usize = 3;

/// Why a batch was not stored. Nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The statement failed; the text says why.
    #[error("chat insert failed: {0}")]
    Failed(String),
    /// The database could not be reached.
    #[error("database unreachable: {0}")]
    Unavailable(String),
    #[error("chat committer stopped")]
    Stopped,
}

/// One room's batch and where its outcome goes.
struct Job {
    schema: SchemaName,
    /// Makes a retry of this batch idempotent (see `store::batch_id`).
    batch_id: uuid::Uuid,
    room_id: i32,
    rows: Vec<NewMessage>,
    reply: oneshot::Sender<Result<Vec<Stored>, CommitError>>,
}

/// Handle to the node's chat committer; cheap to clone. The workers stop
/// when the last handle is dropped.
#[derive(Clone)]
pub struct Committer {
    jobs: Coalescer<Job>,
}

impl Committer {
    /// Spawns the workers on the current runtime.
    pub fn start(pool: PgPool) -> Self {
        let known = Arc::new(KnownChatters::default());
        let jobs = Coalescer::start(WORKERS, QUEUE, MAX_JOBS, move |jobs| {
            let pool = pool.clone();
            let known = known.clone();
            async move { commit_all(&pool, &known, jobs).await }
        });
        Self { jobs }
    }

    /// Stores `rows` in `room_id` and returns what became of them (with ids
    /// and timestamps), in the same order, once committed.
    pub async fn commit(
        &self,
        schema: SchemaName,
        room_id: i32,
        rows: Vec<NewMessage>,
    ) -> Result<Vec<Stored>, CommitError> {
        self.jobs
            .call(|reply| Job {
                schema,
                batch_id: crate::store::batch_id::new(),
                room_id,
                rows,
                reply,
            })
            .await
            .map_err(|_| CommitError::Stopped)?
    }
}

/// Commits `jobs` with one statement per tenant and answers every job.
async fn commit_all(pool: &PgPool, known: &KnownChatters, jobs: Vec<Job>) {
    for (schema, tenant) in runs_by_key(jobs, |j| &j.schema) {
        commit_tenant(pool, known, &schema, tenant).await;
    }
}

async fn commit_tenant(pool: &PgPool, known: &KnownChatters, schema: &SchemaName, jobs: Vec<Job>) {
    let batches: Vec<RoomBatch> = jobs
        .iter()
        .map(|j| (j.batch_id, j.room_id, j.rows.as_slice()))
        .collect();
    let rows: usize = jobs.iter().map(|j| j.rows.len()).sum();
    let chatters = known.unknown(
        schema,
        jobs.iter().flat_map(|j| {
            j.rows
                .iter()
                .filter_map(move |m| m.user_id.map(|u| (j.room_id, u)))
        }),
    );
    let started = Instant::now();
    let mut attempt = 1;
    let result = loop {
        match messages::insert_rooms(pool, schema, &batches, &chatters).await {
            Err(err) if attempt < ATTEMPTS && worth_retrying(&err) => {
                tracing::warn!(error = %err, attempt, "chat insert failed; retrying");
                metrics::counter!("stampede_chat_commit_retries_total").increment(1);
                attempt += 1;
            }
            other => break other,
        }
    };
    metrics::histogram!("stampede_chat_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("stampede_chat_batch_rows").record(rows as f64);
    match result {
        Ok(stored) => {
            known.remember(schema, &chatters);
            let resent = stored
                .iter()
                .flatten()
                .filter(|line| matches!(line, Stored::Resent { .. }))
                .count();
            metrics::counter!("stampede_messages_stored_total").increment((rows - resent) as u64);
            metrics::counter!("stampede_chat_resends_total").increment(resent as u64);
            for (job, stored) in jobs.into_iter().zip(stored) {
                let _ = job.reply.send(Ok(stored));
            }
        }
        Err(err) => {
            tracing::error!(error = %err, rows, rooms = jobs.len(), "chat insert failed");
            let text = err.to_string();
            let unreachable = err.is_unreachable();
            for job in jobs {
                let error = if unreachable {
                    CommitError::Unavailable(text.clone())
                } else {
                    CommitError::Failed(text.clone())
                };
                let _ = job.reply.send(Err(error));
            }
        }
    }
}

/// True when the statement may succeed if run again: a deadlock or
/// serialization abort, or a connection that failed or went away (perhaps
/// after the commit: the batch ids make the retry store nothing twice, and
/// it returns what the first attempt stored).
fn worth_retrying(err: &StoreError) -> bool {
    match err {
        // No connection was had, so nothing was sent: nothing is ambiguous,
        // and waiting out the pool again would only delay the refusal.
        StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) => false,
        StoreError::Database(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) =>
        {
            true
        }
        other => other.is_unreachable(),
    }
}

/// `(room_id, user_id)` pairs this node has stored in the chatter set, per
/// tenant. Most messages come from people who already chatted, and leaving
/// them out spares Postgres an index probe and two foreign-key checks per
/// row. Bounded: it starts over when full (the insert ignores duplicates).
#[derive(Default)]
struct KnownChatters(Mutex<HashMap<SchemaName, HashSet<(i32, i32)>>>);

/// Pairs remembered at most, over all tenants.
const KNOWN_CHATTERS: usize = 1_000_000;

impl KnownChatters {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SchemaName, HashSet<(i32, i32)>>> {
        // Held for set operations only, never across an await.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The distinct pairs of `pairs` not known to be stored.
    fn unknown(
        &self,
        schema: &SchemaName,
        pairs: impl Iterator<Item = (i32, i32)>,
    ) -> Vec<(i32, i32)> {
        let known = self.lock();
        let seen = known.get(schema);
        let mut fresh: Vec<(i32, i32)> = pairs
            .filter(|p| !seen.is_some_and(|s| s.contains(p)))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        fresh
    }

    fn remember(&self, schema: &SchemaName, pairs: &[(i32, i32)]) {
        if pairs.is_empty() {
            return;
        }
        let mut known = self.lock();
        if known.values().map(HashSet::len).sum::<usize>() + pairs.len() > KNOWN_CHATTERS {
            known.clear();
        }
        known
            .entry(schema.clone())
            .or_default()
            .extend(pairs.iter().copied());
    }
}
