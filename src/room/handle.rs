//! The side of a room that connection tasks hold. Callers say
//! `room.join(..)`, never which command the actor gets.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::chat::{ChatMessage, Mention, ReplyTo, SlowVerdict};
use crate::store::stamps::Stamp;

use super::fanout::Cursor;
use super::outbox::Outbox;
use super::{Attach, ConnId, RoomKey};

/// Requests a room actor serves, in arrival order.
#[derive(Debug)]
pub(super) enum Command {
    /// Registers a socket: replays history into its queue, then answers its
    /// id and its place in the room's broadcast ring.
    Join {
        attach: Attach,
        respond_to: oneshot::Sender<(ConnId, Cursor)>,
    },
    /// Unregisters a socket.
    Leave { conn: ConnId },
    /// A validated, sanitised chat line from a socket.
    Chat { conn: ConnId, line: ChatLine },
    /// A resend the database recognised (`client_id` already claimed):
    /// `original` goes to `to` alone, as it was broadcast if the room still
    /// has that frame, and followed by its removal if it was `deleted`.
    Echo {
        original: ChatMessage,
        deleted: bool,
        to: Arc<Outbox>,
    },
    /// A reaction with a stamp the tenant has (already checked and rate-limited).
    React { conn: ConnId, stamp: Arc<Stamp> },
    /// The stream ended: close every socket, admit none.
    End,
    /// The room's audience over all nodes, to announce if it changed.
    Presence { viewers: u64, chatters: u64 },
}

/// A chat line a socket hands to its room: validated and sanitised, its
/// mentions and the line it answers resolved.
#[derive(Debug, Default)]
pub struct ChatLine {
    /// HTML-escaped text.
    pub text: String,
    /// The sender's id for the line, if it gave one.
    pub client_id: Option<String>,
    pub mentions: Vec<Mention>,
    pub reply_to: Option<ReplyTo>,
    /// Auto-moderation's reasons to hold the line for review.
    pub held: Option<Vec<String>>,
    /// Slow mode as checked across nodes before the line got here.
    pub slow_mode: SlowVerdict,
}

/// A cheap-clone handle to a room actor.
#[derive(Clone, Debug)]
pub struct RoomHandle {
    pub(crate) key: RoomKey,
    pub(crate) actor_id: u64,
    tx: mpsc::Sender<Command>,
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
    /// Who those are, for counting distinct users across nodes.
    pub roster: super::audience::SharedRoster,
    /// The room's slow mode in ms (0: off), for the check across nodes
    /// that sockets make before handing a line over.
    pub slow_mode_ms: std::sync::atomic::AtomicU64,
}

impl RoomStats {
    pub(super) fn set(&self, viewers: usize, chatters: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.viewers.store(viewers, Relaxed);
        self.chatters.store(chatters, Relaxed);
    }
}

/// The room actor has stopped.
#[derive(Debug, thiserror::Error)]
#[error("room is closed")]
pub struct RoomClosed;

impl RoomHandle {
    pub(super) fn new(
        key: RoomKey,
        actor_id: u64,
        tx: mpsc::Sender<Command>,
        schema: crate::tenant::SchemaName,
    ) -> Self {
        RoomHandle {
            key,
            actor_id,
            tx,
            schema,
            stats: Arc::default(),
        }
    }

    /// Registers a socket; its history (or resume) is queued in its mailbox
    /// before this answers.
    pub(super) async fn join(&self, attach: Attach) -> Result<(ConnId, Cursor), RoomClosed> {
        let (respond_to, answer) = oneshot::channel();
        self.tx
            .send(Command::Join { attach, respond_to })
            .await
            .map_err(|_| RoomClosed)?;
        answer.await.map_err(|_| RoomClosed)
    }

    /// Tells the room its audience over all nodes. Skipped when the room is
    /// busy: the next round (2 s later) carries the same news.
    pub fn presence(&self, viewers: u64, chatters: u64) {
        let _ = self.tx.try_send(Command::Presence { viewers, chatters });
    }

    /// Tells the room its stream ended (see [`Command::End`]).
    pub async fn end(&self) -> Result<(), RoomClosed> {
        self.send(Command::End).await
    }

    async fn send(&self, command: Command) -> Result<(), RoomClosed> {
        self.tx.send(command).await.map_err(|_| RoomClosed)
    }
}

/// One socket's place in a room.
#[derive(Debug)]
pub struct Membership {
    pub(crate) handle: RoomHandle,
    pub(crate) conn: ConnId,
}

impl Membership {
    /// The room's slow mode as its actor last saw it (zero: off).
    pub fn slow_mode(&self) -> std::time::Duration {
        let ms = self
            .handle
            .stats
            .slow_mode_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        std::time::Duration::from_millis(ms)
    }

    /// Hands a chat message to the room. Waits only if the room's queue is full,
    /// which slows this one socket down rather than growing memory.
    pub async fn chat(&self, line: ChatLine) -> Result<(), RoomClosed> {
        let conn = self.conn;
        self.handle.send(Command::Chat { conn, line }).await
    }

    /// Hands a reaction to the room.
    pub async fn react(&self, stamp: Arc<Stamp>) -> Result<(), RoomClosed> {
        let conn = self.conn;
        self.handle.send(Command::React { conn, stamp }).await
    }

    /// Leaves the room (announcing `leave` if it was the user's last socket).
    pub async fn leave(self) {
        let _ = self.handle.send(Command::Leave { conn: self.conn }).await;
    }
}
