//! Personal notifications (issue 17, over seed 002's service): stored per
//! tenant in `notifications_notification`, pushed to every open device of
//! the user on every node, with unread state kept on the server.
//!
//! - [`Notifier`] (`notifier`): what producers call. `notify` queues for
//!   the batching [`writer`] and never waits; `mark_read` stores and tells
//!   every device. [`NewNotification`] (`new`) checks what is stored.
//! - [`event`]: what crosses nodes, on one channel-layer group per tenant
//!   (why one per tenant: see there).
//! - [`hub`]: this node's devices by (tenant, user) and its subscriptions;
//!   [`device`]: one socket's mailbox, coalescing ([`coalesce`]) and the gate
//!   that keeps everything behind the sync.
//! - [`live`]: `stream.live` notifications, stored by the stream's start and
//!   announced through Postgres. [`retention`]: the sweep of old read ones.
//! - [`socket`]: `GET /ws/notifications/` (same handshake checks as chat);
//!   [`frames`]: its frames, both directions.
//! - [`title`]: the titles the server writes, worded per reader.
//!
//! Producers today: `system` (admins, `POST /api/notifications`),
//! `moderation` (timeouts, bans, unbans), `stream.live` (stream starts).
//! `mention` and `reply` are for chat code: see [`Notifier::notify`].

pub mod coalesce;
pub mod device;
pub mod event;
pub mod frames;
pub mod hub;
pub mod live;
mod new;
mod notifier;
pub mod retention;
pub mod socket;
pub mod title;
mod writer;

use std::sync::Arc;

pub use crate::store::notifications::{Kind, Notification, NotificationType};
pub use new::{Invalid, NewNotification, MAX_BODY_CHARS, MAX_LINK_BYTES, MAX_TITLE_CHARS};
pub use notifier::{Notifier, NotifyError};
pub use title::Title;

use crate::channel_layer::ChannelLayer;
use crate::config::ServeConfig;
use crate::moderation::UserRateLimiter;
use crate::quota::Quota;
use crate::shutdown::Shutdown;
use hub::Hub;

/// Notifications a sync frame carries (the newest).
pub const SYNC_LATEST: i64 = 20;
/// Frames queued for one device at most; a device further behind is closed
/// (4408) and catches up through a sync when it reconnects.
pub const DEVICE_QUEUE: usize = 64;
/// `notification.read` frames a user may send per second (sustained) and at
/// once: each is an UPDATE.
const READS_PER_SEC: u32 = 20;
const READ_BURST: u32 = 50;

/// The node's notification services; part of [`crate::AppState`].
pub struct Notifications {
    pub notifier: Notifier,
    pub hub: Hub,
    /// Open notification sockets per (tenant, user) on this node, capped by
    /// `--max-sockets-per-user` apart from chat sockets.
    pub sockets: Quota<(i32, i32)>,
    /// Read marks sent over sockets, per user.
    pub read_limiter: Arc<UserRateLimiter>,
    /// The batched reads of connecting devices' syncs.
    pub syncs: socket::sync::Syncs,
}

impl Notifications {
    /// Starts the writer, the hub and the retention sweep.
    pub fn start(
        pool: sqlx::PgPool,
        layer: Arc<dyn ChannelLayer>,
        config: &ServeConfig,
        shutdown: &Shutdown,
    ) -> Self {
        retention::spawn(
            pool.clone(),
            config.notification_retention_days,
            shutdown.clone(),
        );
        Self {
            notifier: Notifier::start(
                pool.clone(),
                layer.clone(),
                config.notification_queue,
                shutdown,
            ),
            hub: Hub::new(layer, shutdown),
            syncs: socket::sync::Syncs::start(pool.clone()),
            sockets: Quota::default(),
            read_limiter: Arc::new(UserRateLimiter::per_second(READS_PER_SEC, READ_BURST)),
        }
    }
}
