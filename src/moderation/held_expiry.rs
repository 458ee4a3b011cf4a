//! Held lines nobody decided on within `--held-expiry-secs` (600) are
//! denied by the server: every node sweeps every tenant, a quarter of the
//! expiry apart (at most every 30 s). The denial is one UPDATE per tenant
//! that only the first sweeper wins, so nodes need not agree on who sweeps;
//! each denial is logged without an actor and told to the author and the
//! room's moderators like a moderator's.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::channel_layer::{room_group, ChannelLayer};
use crate::chat::RoomEvent;
use crate::room::event::publish;
use crate::shutdown::Shutdown;
use crate::store::{automod, tenants, StoreError};

/// Denies, in every tenant, the lines held longer than `expiry`; returns
/// how many. What the periodic task runs, and what tests may call.
pub async fn sweep(
    pool: &PgPool,
    layer: &dyn ChannelLayer,
    expiry: Duration,
) -> Result<usize, StoreError> {
    let secs = i64::try_from(expiry.as_secs()).unwrap_or(i64::MAX);
    let mut total = 0;
    for tenant in tenants::list(pool).await? {
        let expired = automod::expire(pool, &tenant.schema, secs).await?;
        total += expired.len();
        for line in expired {
            let event = RoomEvent::Denied {
                id: i64::from(line.id),
                author_id: line.user_id,
                expired: true,
            };
            publish(
                layer,
                &room_group(tenant.schema.as_str(), line.stream_id),
                &event,
            );
        }
    }
    metrics::counter!("stampede_held_expired_total").increment(total as u64);
    Ok(total)
}

/// How often a node sweeps for `expiry`.
pub fn sweep_every(expiry: Duration) -> Duration {
    (expiry / 4).clamp(Duration::from_millis(250), Duration::from_secs(30))
}

/// Sweeps until shutdown.
pub fn spawn(pool: PgPool, layer: Arc<dyn ChannelLayer>, expiry: Duration, shutdown: Shutdown) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sweep_every(expiry));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => match sweep(&pool, &*layer, expiry).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(denied = n, "held lines expired unreviewed"),
                    Err(err) => tracing::warn!(error = %err, "held-line expiry sweep failed"),
                },
                _ = shutdown.begun() => return,
            }
        }
    });
}
