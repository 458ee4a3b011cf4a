//! What happens in a room, as rooms exchange it through the channel layer:
//! every node's actor of the room receives it (the publisher's included) and
//! turns it into client frames (`wire::render`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{ChatMessage, Reaction};

/// A line's new text, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub id: i64,
    /// HTML-escaped, like every line's text.
    pub message: String,
    pub edited_at: String,
    /// The users the new text mentions.
    #[serde(default)]
    pub mentions: Vec<String>,
}

impl Edit {
    /// `line` with this edit applied.
    pub fn applied_to(&self, line: &mut ChatMessage) {
        line.message.clone_from(&self.message);
        line.edited_at = Some(self.edited_at.clone());
        line.mentions.clone_from(&self.mentions);
    }

    /// A line's frame, already rendered (JSON), with this edit applied;
    /// its other keys (offset, history, reply) stay.
    pub fn applied_to_frame(&self, frame: &str) -> Option<String> {
        let mut line: serde_json::Value = serde_json::from_str(frame).ok()?;
        let object = line.as_object_mut()?;
        object.insert("message".into(), self.message.as_str().into());
        object.insert("edited_at".into(), self.edited_at.as_str().into());
        // Empty mentions are left out of lines, as serialising one does.
        if self.mentions.is_empty() {
            object.remove("mentions");
        } else {
            object.insert("mentions".into(), self.mentions.clone().into());
        }
        Some(line.to_string())
    }
}

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
    /// Its author edited line `id` (stored before this is published).
    Edit(Edit),
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
    /// Auto-moderation held `message` (stored hidden) for `reasons`: only
    /// its author and the room's moderators see it (`chat.held`); never
    /// logged, so never replayed to anyone else.
    Held {
        message: ChatMessage,
        reasons: Vec<String>,
        author_id: i32,
    },
    /// Held line `id` was denied (by a moderator, or `expired` unreviewed):
    /// its author and the room's moderators are told (`chat.denied`).
    Denied {
        id: i64,
        author_id: Option<i32>,
        expired: bool,
    },
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
            // Private to the author and moderators.
            RoomEvent::Held { .. } | RoomEvent::Denied { .. } => false,
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
        let line = ChatMessage {
            id: Some(3),
            username: "a".into(),
            message: "hi".into(),
            message_type: MessageType::Message,
            timestamp: "2026-11-23T12:00:00Z".into(),
            client_id: Some("c1".into()),
            badge: None,
            notice: None,
            mentions: Vec::new(),
            reply_to: None,
            edited_at: None,
        };
        let events = [
            RoomEvent::Chat(line.clone()),
            RoomEvent::Held {
                message: line,
                reasons: vec!["caps".into()],
                author_id: 7,
            },
            RoomEvent::Denied {
                id: 3,
                author_id: Some(7),
                expired: true,
            },
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
            RoomEvent::Edit(Edit {
                id: 3,
                message: "hi &lt;3".into(),
                edited_at: "2026-11-23T12:01:00Z".into(),
                mentions: vec!["bob".into()],
            }),
            RoomEvent::Settings {
                slow_mode_seconds: 30,
            },
        ];
        for event in events {
            assert_eq!(RoomEvent::decode(&event.encode()).unwrap(), event);
        }
    }
}
