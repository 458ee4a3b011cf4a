//! Publish/subscribe between rooms, in one process ([`memory`]) or across
//! nodes through Redis ([`redis`], which wraps the in-process layer).
//!
//! The layer moves opaque bytes between named groups and knows nothing about
//! chat. Rooms publish their events here and receive them back, so a room
//! behaves the same whether its peers are in this process or on other nodes.
//!
//! Some events are *logged*: the layer gives them a per-group increasing
//! `offset` within an `epoch` and keeps the last [`LOG_CAPACITY`] of them, so
//! a client that reconnects can be sent exactly what it missed
//! ([`ChannelLayer::replay`]). The epoch changes when that log is lost.
//!
//! Group names are `stampede:{acme:42}:room` for stream 42's room and, for
//! events that concern every room of a tenant, `stampede:{acme}:tenant`. The
//! braces are literal: a Redis Cluster hash tag, per room so that rooms
//! spread over the shards while each room's channel and log share one.

pub mod memory;
pub mod redis;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde::Serialize;
use tokio::sync::broadcast;

pub use self::redis::RedisLayer;
pub use memory::MemoryLayer;

/// Events a subscriber can hold before it is told it lagged. The only
/// subscriber of a room's group is the room's actor, which never waits on
/// I/O, so a short queue suffices; each group allocates all of it up front
/// (8,192 cost ~0.8 MB per active room).
pub const GROUP_CAPACITY: usize = 1024;
/// Logged events kept per group for replay.
pub const LOG_CAPACITY: usize = 1000;

/// Where a logged event stands in its group's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seq {
    pub offset: u64,
    pub epoch: Arc<str>,
}

/// One event as subscribers receive it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Set for logged events (absent while the broker is unreachable).
    pub seq: Option<Seq>,
    pub payload: Bytes,
}

/// What a replay request found.
#[derive(Debug)]
pub enum Replay {
    /// Every logged event after the requested offset, in order (maybe none).
    Events(Vec<Delivery>),
    /// The log no longer covers the request (too old, or another epoch).
    Gap,
}

/// A fresh epoch name.
pub fn new_epoch() -> Arc<str> {
    Arc::from(uuid::Uuid::new_v4().simple().to_string()[..12].to_owned())
}

/// The seam between rooms and the transport that connects them.
pub trait ChannelLayer: Send + Sync + 'static {
    /// Sends `payload` to every current subscriber of `group`. Never waits:
    /// a room actor calls this on its hot path.
    fn publish(&self, group: &str, payload: Bytes);

    /// Like [`ChannelLayer::publish`], but the event gets the group's next
    /// offset and is kept for replay. Never waits either.
    fn publish_logged(&self, group: &str, payload: Bytes);

    /// The logged events of `group` after `since`, if epoch `epoch` still
    /// covers them.
    fn replay<'a>(&'a self, group: &'a str, epoch: &'a str, since: u64) -> BoxFuture<'a, Replay>;

    /// The epoch of `group`'s log now, if it has one: what a client that
    /// kept only an offset (an SSE `Last-Event-ID`) resumes in.
    fn epoch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Option<String>>;

    /// Starts receiving what is published to `group` from now on.
    fn subscribe(&self, group: &str) -> Subscription;

    /// How the layer is doing, for `/health`.
    fn status(&self) -> LayerStatus {
        LayerStatus::Local
    }
}

/// The state of the channel layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LayerStatus {
    /// In-process only (single node).
    Local,
    /// Connected to the broker: events cross nodes.
    Connected,
    /// The broker is unreachable: local delivery goes on, nodes are cut off.
    Degraded,
}

/// The name of a room's group. The braces are a Redis Cluster hash tag per
/// room: a room's channel, offset, epoch and log share a shard, and a big
/// tenant's rooms spread over all shards.
pub fn room_group(schema: &str, stream_id: i32) -> String {
    format!("stampede:{{{schema}:{stream_id}}}:room")
}

/// The group every room of a tenant also listens on (tenant-wide bans).
pub fn tenant_group(schema: &str) -> String {
    format!("stampede:{{{schema}}}:tenant")
}

/// What a subscriber can be told instead of an event.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The subscriber fell behind and `0` events were discarded for it.
    #[error("lagged by {0} events")]
    Lagged(u64),
    /// The layer is gone.
    #[error("channel layer closed")]
    Closed,
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    // Field order matters: the receiver must drop before the guards so that
    // they see the true receiver count when they tidy up.
    rx: broadcast::Receiver<Delivery>,
    /// Becomes true once the broker confirmed the subscription (absent: local).
    ready: Option<tokio::sync::watch::Receiver<bool>>,
    guards: Vec<Box<dyn Send + Sync>>,
}

impl Subscription {
    pub(crate) fn new(
        rx: broadcast::Receiver<Delivery>,
        guard: Option<Box<dyn Send + Sync>>,
    ) -> Self {
        Self {
            rx,
            ready: None,
            guards: guard.into_iter().collect(),
        }
    }

    /// Sets what [`Subscription::ready`] waits for.
    pub(crate) fn with_ready(mut self, ready: tokio::sync::watch::Receiver<bool>) -> Self {
        self.ready = Some(ready);
        self
    }

    /// Waits until events published anywhere reach this subscription, or
    /// until `limit` passes (the broker may be down; local delivery works
    /// regardless). Returns whether the subscription is confirmed.
    pub async fn ready(&mut self, limit: std::time::Duration) -> bool {
        let Some(rx) = self.ready.as_mut() else {
            return true;
        };
        matches!(
            tokio::time::timeout(limit, rx.wait_for(|ok| *ok)).await,
            Ok(Ok(_))
        )
    }

    /// A watch of the broker's confirmation, for waiting on it beside
    /// receiving (`None`: local, always confirmed).
    pub fn confirmation(&self) -> Option<tokio::sync::watch::Receiver<bool>> {
        self.ready.clone()
    }

    /// Adds something to drop (after the receiver) when this subscription ends.
    pub(crate) fn guard(mut self, guard: Box<dyn Send + Sync>) -> Self {
        self.guards.push(guard);
        self
    }

    /// The next event of the group.
    pub async fn recv(&mut self) -> Result<Delivery, RecvError> {
        self.rx.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(n) => RecvError::Lagged(n),
            broadcast::error::RecvError::Closed => RecvError::Closed,
        })
    }
}
