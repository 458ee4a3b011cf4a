//! The chat WebSocket: handshake checks ([`handler`]) with their batched room
//! lookup ([`admission`]), the wire format ([`protocol`]) and the per-socket
//! reader/writer ([`connection`]).
//! Business rules live in the room and in `moderation`, not here.

pub mod admission;
pub mod connection;
pub mod handler;
pub mod protocol;

/// Largest frame or message accepted from a client; bigger ones close with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
