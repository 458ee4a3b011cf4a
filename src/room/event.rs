//! What rooms publish to their channel-layer group. Every node's actor of the
//! room receives it (including the publisher's) and turns it into client frames.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ws::protocol::ChatMessage;

/// One room event, serialised once by its publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RoomEvent {
    /// A chat line: stored messages (with id) and join/leave notices (without).
    Chat(ChatMessage),
}

impl RoomEvent {
    pub fn encode(&self) -> Bytes {
        // Cannot fail for these plain data types.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
