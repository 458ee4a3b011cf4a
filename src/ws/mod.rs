//! The chat WebSocket: handshake checks ([`handler`], over the [`handshake`]
//! checks every socket shares) with their batched room lookup ([`admission`]), the per-socket reader/writer ([`connection`]) and
//! what each client frame does (`frames`), and
//! the per-user socket cap ([`socket_quota`]), and closing sockets whose
//! session was revoked ([`revocations`]). The frames themselves are
//! [`crate::wire`].
//! Business rules live in the room and in `moderation`, not here.

pub mod admission;
pub mod admit;
pub mod connection;
pub mod context;
pub(crate) mod frames;
pub mod handler;
pub mod handshake;
pub mod revocations;
pub mod socket_quota;

/// Largest frame or message accepted from a client; bigger ones close with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
