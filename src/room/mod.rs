//! Stream rooms: one actor task per active room per process.
//!
//! - [`registry`]: finds or starts the actor of a room; joins retry if the
//!   actor was just stopping.
//! - [`handle`]: the cheap-clone handle connection tasks talk through.
//! - `actor`: the room's `select!` loop; owns subscribers and the parts
//!   below, and fans each event out to local sockets.
//! - `state`: what a room knows besides its sockets (the three below),
//!   loaded at start, kept current by events; what a joiner is sent first.
//! - `history`: the last stored lines, replayed to joiners.
//! - `policy`: bans, the pinned line, slow mode.
//! - `resume`: what a reconnecting socket missed, without deleted lines
//!   ([`redaction`] marks them).
//! - `members`: the sockets in the room on this node; `audience`: sockets
//!   per user (join/leave once per user) and recent chatters, mirrored into
//!   the roster that `presence` merges across nodes.
//! - `directory`: the running rooms by key.
//! - [`writer`]: a room's chat batches, published after commit.
//! - [`committer`]: node-wide group commit of every room's chat batches.
//! - [`reactions`]: collects a tick's reactions and decides how to broadcast them.
//! - [`reaction_writer`]: batches reaction rows into one INSERT per flush.
//! - [`event`]: publishing [`RoomEvent`](crate::chat::RoomEvent)s to the channel layer.
//! - [`fanout`]: the per-room ring that sockets' writers read broadcasts from.
//! - [`outbox`]: a socket's mailbox (own frames, close requests, one waker).
//! - [`lifecycle`]: closes the rooms of streams that ended, on every node.
//!
//! Data flow: socket → handle → actor → writer → Postgres → channel layer →
//! actor (on every node) → the room's fan-out ring → socket writers.

mod actor;
mod audience;
pub mod committer;
mod directory;
pub mod event;
pub mod fanout;
pub mod handle;
mod history;
pub mod lifecycle;
mod members;
pub mod outbox;
mod policy;
pub mod reaction_writer;
pub mod reactions;
pub mod redaction;
pub mod registry;
mod resume;
mod services;
mod state;
pub mod thread_notices;
pub mod writer;

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;

pub use audience::{RosterCopy, SharedRoster};
pub use handle::{ChatLine, Membership, RoomHandle, RoomStats};
pub use registry::{RoomRegistry, RoomUnavailable};

/// Close code for a socket that fell too far behind the room's broadcasts:
/// it missed events and should reconnect and resume from its last offset.
pub const CLOSE_LAGGING: u16 = 4408;
/// Close code on server shutdown.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code for a frame over the size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code for a banned or timed-out user: do not reconnect until the ban ends.
pub const CLOSE_BANNED: u16 = 4403;
/// Close code after `stream.ended`: the chat is over, do not reconnect.
pub const CLOSE_NORMAL: u16 = 1000;

/// Identifies one socket inside one room actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

/// Identifies a room across the process: tenant id and stream id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomKey {
    pub tenant_id: i32,
    pub stream_id: i32,
}

/// The user behind a socket.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: i32,
    pub username: String,
    /// Shown next to the name on the lines this socket sends.
    pub badge: Option<crate::chat::Badge>,
}

/// An instruction to close a socket, optionally after one last frame.
#[derive(Debug, Clone)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
    pub frame: Option<Utf8Bytes>,
}

impl Close {
    /// The close for every socket when the server shuts down.
    pub fn going_away() -> Self {
        Close {
            code: CLOSE_GOING_AWAY,
            reason: "server shutting down",
            frame: None,
        }
    }

    /// The close for every socket of a stream that ended: `stream.ended`,
    /// then [`CLOSE_NORMAL`].
    pub fn stream_ended() -> Self {
        Close {
            code: CLOSE_NORMAL,
            reason: "stream ended",
            frame: Some(Utf8Bytes::from(
                crate::wire::ServerFrame::StreamEnded.to_json(),
            )),
        }
    }

    /// The close for a socket that missed events (see [`CLOSE_LAGGING`]).
    pub fn lagging() -> Self {
        Close {
            code: CLOSE_LAGGING,
            reason: "too slow: reconnect",
            frame: None,
        }
    }
}

/// What a socket gives the room: where to queue frames, and how to close it.
#[derive(Debug, Clone)]
pub struct Attach {
    pub member: Member,
    /// May moderate this stream (exempt from slow mode).
    pub is_moderator: bool,
    /// Only reads (a banned user may): not announced, not kicked by bans.
    pub read_only: bool,
    /// Frames for this socket alone, and close requests.
    pub outbox: Arc<outbox::Outbox>,
    /// Where its writer is in the room's broadcast ring.
    pub position: Arc<fanout::Position>,
    /// A reconnect that asks for what it missed.
    pub resume: Option<Arc<Resume>>,
}

/// What a reconnecting socket asked for, and what the log had.
#[derive(Debug)]
pub struct Resume {
    pub epoch: String,
    pub since: u64,
    pub replay: crate::channel_layer::Replay,
}
