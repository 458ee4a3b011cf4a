//! What rooms publish to their channel-layer group. Every node's actor of the
//! room receives it (including the publisher's) and turns it into client frames.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ws::protocol::{ChatMessage, Reaction};

/// One room event, serialised once by its publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RoomEvent {
    /// A chat line: stored messages (with id) and join/leave notices (without).
    Chat(ChatMessage),
    /// One reaction from a quiet tick.
    Reaction(Reaction),
    /// A busy tick's reactions on one node, counted per stamp id. Pairs, not
    /// a map: serde cannot read integer map keys back inside a tagged enum.
    ReactionBurst {
        counts: Vec<(i32, u32)>,
        window_ms: u64,
    },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::protocol::MessageType;

    #[test]
    fn every_variant_survives_the_channel_layer() {
        let events = [
            RoomEvent::Chat(ChatMessage {
                id: Some(3),
                username: "a".into(),
                message: "hi".into(),
                message_type: MessageType::Message,
                timestamp: "2026-11-23T12:00:00Z".into(),
            }),
            RoomEvent::Reaction(Reaction {
                stamp_id: 1,
                stamp_name: ":smile:".into(),
                stamp_image_url: "/media/stamps/01_smile.svg".into(),
                username: "a".into(),
            }),
            RoomEvent::ReactionBurst {
                counts: vec![(1, 120), (4, 37)],
                window_ms: 150,
            },
        ];
        for event in events {
            assert_eq!(RoomEvent::decode(&event.encode()).unwrap(), event);
        }
    }
}
