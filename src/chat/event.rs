//! What happens in a room, as rooms exchange it through the channel layer:
//! every node's actor of the room receives it (the publisher's included) and
//! turns it into client frames (`wire::render`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{ChatMessage, Reaction};

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
    /// The room's pinned message changed to `message`.
    Pin { message: ChatMessage },
    /// The pinned message `id` was unpinned.
    Unpin { id: i64 },
    /// Messages were soft-deleted.
    Delete { ids: Vec<i64> },
    /// All messages of `username`, or of everyone, were soft-deleted.
    Clear { username: Option<String> },
    /// `user_id` is banned until `until` (RFC 3339; `None` = permanently),
    /// for `reason` (HTML-escaped) if one was given. Published to a room's
    /// group, or to the tenant group for tenant-wide bans.
    Ban {
        user_id: i32,
        until: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// `user_id`'s ban in this scope was lifted.
    Unban { user_id: i32 },
    /// Room settings changed.
    Settings { slow_mode_seconds: i32 },
}

impl RoomEvent {
    /// Reactions are best-effort on the wire and never replayed.
    pub fn is_ephemeral(&self) -> bool {
        matches!(
            self,
            RoomEvent::Reaction(_) | RoomEvent::ReactionBurst { .. }
        )
    }

    /// Whether the event gets an offset and is kept for reconnecting
    /// clients: stored chat lines and moderation changes. Bans are not:
    /// replaying one could kick a user who has since been unbanned.
    pub fn is_logged(&self) -> bool {
        match self {
            // Join/leave notices are not stored, so they are not replayed either.
            RoomEvent::Chat(message) => message.id.is_some(),
            RoomEvent::Ban { .. } | RoomEvent::Unban { .. } => false,
            other => !other.is_ephemeral(),
        }
    }

    /// The event as it travels between nodes.
    pub fn encode(&self) -> Bytes {
        // Cannot fail for these plain data types.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads an event published by any node.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::MessageType;

    #[test]
    fn every_variant_survives_the_channel_layer() {
        let events = [
            RoomEvent::Chat(ChatMessage {
                id: Some(3),
                username: "a".into(),
                message: "hi".into(),
                message_type: MessageType::Message,
                timestamp: "2026-11-23T12:00:00Z".into(),
                client_id: None,
                badge: None,
                notice: None,
                mentions: Vec::new(),
                reply_to: None,
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
            RoomEvent::Ban {
                user_id: 4,
                until: Some("2026-11-23T12:10:00Z".into()),
                reason: Some("spam".into()),
            },
            RoomEvent::Clear { username: None },
            RoomEvent::Delete { ids: vec![1, 2] },
            RoomEvent::Settings {
                slow_mode_seconds: 30,
            },
        ];
        for event in events {
            assert_eq!(RoomEvent::decode(&event.encode()).unwrap(), event);
        }
    }
}
