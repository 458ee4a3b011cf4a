//! The `notification.sync` every connection starts with, read for all the
//! connections arriving together with one statement per tenant (like the
//! chat handshake's room lookup, `ws::admission`): after a deploy, every
//! device of every user reconnects within seconds.

use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::coalesce::{runs_by_key, Coalescer};
use crate::error::AppError;
use crate::notifications::SYNC_LATEST;
use crate::store::notifications::{self, Synced};
use crate::tenant::SchemaName;

/// Statements in flight at once.
const WORKERS: usize = 2;
/// Syncs read by one statement, at most.
const MAX_BATCH: usize = 128;
const QUEUE: usize = 8192;

struct Ask {
    schema: SchemaName,
    user_id: i32,
    reply: oneshot::Sender<Result<Synced, ()>>,
}

/// Handle to the node's sync reads; cheap to clone.
#[derive(Clone)]
pub struct Syncs {
    asks: Coalescer<Ask>,
}

impl Syncs {
    /// Spawns the readers on the current runtime.
    pub fn start(pool: PgPool) -> Self {
        let asks = Coalescer::start(WORKERS, QUEUE, MAX_BATCH, move |asks: Vec<Ask>| {
            let pool = pool.clone();
            async move {
                for (schema, tenant) in runs_by_key(asks, |a| &a.schema) {
                    answer(&pool, &schema, tenant).await;
                }
            }
        });
        Self { asks }
    }

    /// The user's unread count and newest [`SYNC_LATEST`] notifications.
    pub async fn read(&self, schema: &SchemaName, user_id: i32) -> Result<Synced, AppError> {
        let unavailable = || AppError::Unavailable("notifications are unavailable".into());
        self.asks
            .call(|reply| Ask {
                schema: schema.clone(),
                user_id,
                reply,
            })
            .await
            .map_err(|_| unavailable())?
            .map_err(|()| unavailable())
    }
}

async fn answer(pool: &PgPool, schema: &SchemaName, asks: Vec<Ask>) {
    let users: Vec<i32> = asks.iter().map(|a| a.user_id).collect();
    metrics::histogram!("stampede_notification_sync_batch_rows").record(users.len() as f64);
    match notifications::syncs(pool, schema, &users, SYNC_LATEST).await {
        Ok(syncs) => {
            for ask in asks {
                // Two devices of one user connecting together share a row.
                let sync = syncs.get(&ask.user_id).cloned().unwrap_or_default();
                let _ = ask.reply.send(Ok(sync));
            }
        }
        Err(err) => {
            tracing::error!(error = %err, syncs = asks.len(), "notification sync failed");
            for ask in asks {
                let _ = ask.reply.send(Err(()));
            }
        }
    }
}
