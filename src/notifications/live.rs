//! Delivering `stream.live` notifications. Starting a stream stores them in
//! its own transaction and announces the range of ids through Postgres
//! (`store::stream_lifecycle::STARTED_CHANNEL`), because the start may come
//! from the CLI, which has no channel layer. Every node hears the
//! announcement and delivers the rows of the users it holds devices of, to
//! those devices only, so each device gets each notification once.

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::BoxFuture;
use sqlx::PgPool;

use super::event::Event;
use super::hub::Hub;
use super::writer::with_unread;
use crate::pg_notify::Listener;
use crate::room::Close;
use crate::store::notifications;
use crate::store::stream_lifecycle::{watch_link, StreamStarted, STARTED_CHANNEL};

/// Hands stream starts to this node's devices.
pub struct StreamStarts {
    hub: Hub,
    pool: PgPool,
    /// Whether the listening connection was up before (a reconnect may have
    /// missed starts).
    connected_before: AtomicBool,
}

impl StreamStarts {
    pub fn new(hub: Hub, pool: PgPool) -> Self {
        Self {
            hub,
            pool,
            connected_before: AtomicBool::new(false),
        }
    }

    async fn deliver(&self, started: StreamStarted) {
        let Some((schema, users)) = self.hub.local_users(started.tenant_id) else {
            return;
        };
        let link = watch_link(started.stream_id);
        let range = (started.first_id, started.last_id);
        let items = match notifications::live_among(&self.pool, &schema, &users, range, &link).await
        {
            Ok(rows) if rows.is_empty() => return,
            Ok(rows) => with_unread(&self.pool, &schema, rows).await,
            Err(err) => Err(err),
        };
        match items {
            Ok(items) => self
                .hub
                .dispatch_local(started.tenant_id, &Event::New { items }),
            // Stored all the same: the devices get them at their next sync.
            Err(err) => tracing::warn!(error = %err, "stream-start notifications not pushed"),
        }
    }
}

impl Listener for StreamStarts {
    fn channel(&self) -> &'static str {
        STARTED_CHANNEL
    }

    fn notified<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match serde_json::from_str::<StreamStarted>(payload) {
                Ok(started) => self.deliver(started).await,
                Err(err) => tracing::warn!(error = %err, "malformed stream-start notification"),
            }
        })
    }

    /// After a reconnect, starts may have been missed: every device here
    /// reconnects (4408) and catches up through its sync. Such reconnects
    /// are rare (the database was unreachable), and the sync is the one
    /// path that is always complete.
    fn caught_up<'a>(&'a self, _pool: &'a PgPool) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if self.connected_before.swap(true, Ordering::AcqRel) {
                self.hub.close_all(Close::lagging());
            }
        })
    }
}
