//! Publish/subscribe between rooms, and later between nodes.
//!
//! The layer moves opaque bytes between named groups and knows nothing about
//! chat. Rooms publish their events here and receive them back, so a room
//! behaves the same whether its peers are in this process or on other nodes.
//!
//! Group names are `stampede:{schema}:room:{stream_id}` and, for events that
//! concern every room of a tenant, `stampede:{schema}:tenant`.

pub mod memory;

use bytes::Bytes;
use tokio::sync::broadcast;

pub use memory::MemoryLayer;

/// Events a subscriber can hold before it is told it lagged.
pub const GROUP_CAPACITY: usize = 8192;

/// The seam between rooms and the transport that connects them.
pub trait ChannelLayer: Send + Sync + 'static {
    /// Sends `payload` to every current subscriber of `group`. Never waits:
    /// a room actor calls this on its hot path.
    fn publish(&self, group: &str, payload: Bytes);

    /// Starts receiving what is published to `group` from now on.
    fn subscribe(&self, group: &str) -> Subscription;
}

/// The name of a room's group.
pub fn room_group(schema: &str, stream_id: i32) -> String {
    format!("stampede:{schema}:room:{stream_id}")
}

/// The group every room of a tenant also listens on (tenant-wide bans).
pub fn tenant_group(schema: &str) -> String {
    format!("stampede:{schema}:tenant")
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
    // Field order matters: the receiver must drop before the guard so that the
    // guard sees the true receiver count when it tidies up.
    rx: broadcast::Receiver<Bytes>,
    _guard: Option<Box<dyn Send + Sync>>,
}

impl Subscription {
    pub(crate) fn new(rx: broadcast::Receiver<Bytes>, guard: Option<Box<dyn Send + Sync>>) -> Self {
        Self { rx, _guard: guard }
    }

    /// The next event of the group.
    pub async fn recv(&mut self) -> Result<Bytes, RecvError> {
        self.rx.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(n) => RecvError::Lagged(n),
            broadcast::error::RecvError::Closed => RecvError::Closed,
        })
    }
}
