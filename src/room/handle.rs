//! The side of a room that connection tasks hold.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::stamps::Stamp;

use super::fanout::Cursor;
use super::{Attach, ConnId, RoomKey};

/// Requests a room actor serves, in arrival order.
#[derive(Debug)]
pub(crate) enum Command {
    /// Registers a socket: replays history into its queue, then answers its
    /// id and its place in the room's broadcast ring.
    Join {
        attach: Attach,
        respond_to: oneshot::Sender<(ConnId, Cursor)>,
    },
    /// Unregisters a socket.
    Leave { conn: ConnId },
    /// A validated, sanitised chat message from a socket.
    Chat { conn: ConnId, text: String },
    /// A reaction with a stamp the tenant has (already checked and rate-limited).
    React { conn: ConnId, stamp: Arc<Stamp> },
    /// The room's audience over all nodes, to announce if it changed.
    Presence { viewers: u64, chatters: u64 },
}

/// A cheap-clone handle to a room actor.
#[derive(Clone, Debug)]
pub struct RoomHandle {
    pub(crate) key: RoomKey,
    pub(crate) actor_id: u64,
    pub(crate) tx: mpsc::Sender<Command>,
    /// The tenant schema, for names of shared state (presence keys).
    pub(crate) schema: crate::tenant::SchemaName,
    /// Counts the actor keeps current, read without asking it.
    pub(crate) stats: Arc<RoomStats>,
}

/// What a room's actor publishes about itself for readers on other tasks.
#[derive(Debug, Default)]
pub struct RoomStats {
    /// Distinct users with a socket in this room on this node.
    pub viewers: std::sync::atomic::AtomicUsize,
    /// Distinct users who chatted here in the last 5 minutes (this node).
    pub chatters: std::sync::atomic::AtomicUsize,
}

/// The room actor has stopped.
#[derive(Debug, thiserror::Error)]
#[error("room is closed")]
pub struct RoomClosed;

/// One socket's place in a room.
#[derive(Debug)]
pub struct Membership {
    pub(crate) handle: RoomHandle,
    pub(crate) conn: ConnId,
}

impl Membership {
    /// Hands a chat message to the room. Waits only if the room's queue is full,
    /// which slows this one socket down rather than growing memory.
    pub async fn chat(&self, text: String) -> Result<(), RoomClosed> {
        self.handle
            .tx
            .send(Command::Chat {
                conn: self.conn,
                text,
            })
            .await
            .map_err(|_| RoomClosed)
    }

    /// Hands a reaction to the room.
    pub async fn react(&self, stamp: Arc<Stamp>) -> Result<(), RoomClosed> {
        self.handle
            .tx
            .send(Command::React {
                conn: self.conn,
                stamp,
            })
            .await
            .map_err(|_| RoomClosed)
    }

    /// Leaves the room (announcing `leave` if it was the user's last socket).
    pub async fn leave(self) {
        let _ = self
            .handle
            .tx
            .send(Command::Leave { conn: self.conn })
            .await;
    }
}
