//! Retention: read notifications older than `--notification-retention-days`
//! (90) are deleted by every node once an hour. Deleting is idempotent, so
//! nodes need not agree on who sweeps; unread ones are kept however old.

use std::time::Duration;

use sqlx::PgPool;

use crate::shutdown::Shutdown;
use crate::store::{notifications, tenants, StoreError};

/// How often a node sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// The first sweep waits this long after start-up, out of the way of the
/// reconnect storm a restart brings.
const FIRST_SWEEP_AFTER: Duration = Duration::from_secs(60);
/// Rows per DELETE statement.
const BATCH: i64 = 5000;

/// Deletes, in every tenant, the read notifications created more than
/// `days` days ago; returns how many. What the periodic task runs, and what
/// tests call.
pub async fn sweep(pool: &PgPool, days: u32) -> Result<u64, StoreError> {
    let mut total = 0;
    for tenant in tenants::list(pool).await? {
        total += notifications::delete_read_older_than(pool, &tenant.schema, days, BATCH).await?;
    }
    metrics::counter!("stampede_notifications_swept_total").increment(total);
    Ok(total)
}

/// Sweeps every [`SWEEP_EVERY`] until shutdown.
pub fn spawn(pool: PgPool, days: u32, shutdown: Shutdown) {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + FIRST_SWEEP_AFTER;
        let mut tick = tokio::time::interval_at(start, SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => match sweep(&pool, days).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, days, "old read notifications deleted"),
                    Err(err) => tracing::warn!(error = %err, "notification retention sweep failed"),
                },
                _ = shutdown.begun() => return,
            }
        }
    });
}
