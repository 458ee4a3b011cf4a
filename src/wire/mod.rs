//! The wire format of `/ws/chat/stream_{id}/`, a superset of seed 001.
//!
//! A seed client sends `{"message": "..."}` and reads `username`, `message`,
//! `message_type` and `timestamp`; every chat event here carries those keys
//! with the same meaning, plus `type`, `id` and (on replay) `history`.
//!
//! - this file: [`ServerFrame`], every frame the server sends;
//! - [`client`]: what clients send, and its parser;
//! - [`render`]: room events as client frames.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::chat::{ChatMessage, Reaction};
pub use crate::error::ErrorCode;

mod client;
mod render;
pub mod schema;

pub use client::{
    parse_client, valid_client_id, ClientFrame, ModCommand, ParseError, MAX_CLIENT_ID,
};
pub use render::{render, with_client_id, with_seq};

/// Everything the server sends. Serialised once per event and shared by all
/// sockets that receive it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "type")]
#[schemars(rename = "ChatServerFrame")]
pub enum ServerFrame<'a> {
    #[serde(rename = "chat.message")]
    Chat {
        #[serde(flatten)]
        message: &'a ChatMessage,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        history: bool,
    },
    /// One stamp, the seed's shape plus who sent it.
    #[serde(rename = "reaction")]
    Reaction(&'a Reaction),
    /// A busy tick's reactions as counts per stamp id.
    #[serde(rename = "reaction.burst")]
    ReactionBurst {
        counts: &'a BTreeMap<i32, u32>,
        window_ms: u64,
    },
    /// The pinned message (sent on change, and after history on join).
    #[serde(rename = "chat.pin")]
    Pin { id: i64, message: &'a ChatMessage },
    #[serde(rename = "chat.unpin")]
    Unpin { id: i64 },
    #[serde(rename = "chat.delete")]
    Delete { id: i64 },
    /// Its author edited line `id`: `message` (HTML-escaped) replaces its
    /// text, `mentions` its mentions.
    #[serde(rename = "chat.edited")]
    Edited {
        id: i64,
        message: &'a str,
        edited_at: &'a str,
        mentions: &'a [String],
    },
    /// A user's messages (with `username`) or all messages were removed.
    #[serde(rename = "chat.clear")]
    Clear {
        #[serde(skip_serializing_if = "Option::is_none")]
        username: Option<&'a str>,
    },
    #[serde(rename = "chat.settings")]
    Settings { slow_mode_seconds: i32 },
    /// The room's audience over all nodes (sent when it changes).
    #[serde(rename = "presence")]
    Presence { viewers: u64, chatters: u64 },
    /// The stream ended: the server closes the socket (1000) right after.
    #[serde(rename = "stream.ended")]
    StreamEnded,
    /// Whether a resume (`?since_offset=&epoch=`) was served in full; with
    /// `false` the client gets the history instead, as on a fresh join.
    #[serde(rename = "recovered")]
    Recovered { recovered: bool },
    #[serde(rename = "error")]
    Error {
        code: ErrorCode,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// The error a banned user's sockets get before close 4403: code
    /// `banned`, `until` (RFC 3339, `null` for a permanent ban) and the
    /// moderator's `reason` when one was given.
    #[serde(rename = "error")]
    Banned {
        code: ErrorCode,
        message: &'a str,
        until: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    },
    /// On a read-only socket of a banned user: the ban was lifted, so the
    /// user may chat again (on a new socket).
    #[serde(rename = "ban.lifted")]
    BanLifted,
    /// To its author and the room's moderators only: auto-moderation held
    /// `message` for review, for `reasons`.
    #[serde(rename = "chat.held")]
    Held {
        message: &'a ChatMessage,
        reasons: &'a [String],
    },
    /// To the held line's author and the room's moderators: it was denied
    /// (`reason`: `denied` by a moderator, or `expired` unreviewed).
    #[serde(rename = "chat.denied")]
    Denied { id: i64, reason: &'static str },
}

impl ServerFrame<'_> {
    /// The JSON text of the frame.
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys,
        // no custom Serialize impls that error.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// An error frame's JSON text.
pub fn error_json(code: ErrorCode, message: &str, retry_after_ms: Option<u64>) -> String {
    ServerFrame::Error {
        code,
        message,
        retry_after_ms,
    }
    .to_json()
}

/// The frame a banned user's sockets get before close 4403; `until` is
/// `None` for a permanent ban.
pub fn banned_json(until: Option<&str>, reason: Option<&str>) -> String {
    ServerFrame::Banned {
        code: ErrorCode::Banned,
        message: "you are banned from this chat",
        until,
        reason,
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::MessageType;

    #[test]
    fn reaction_frames_have_the_seed_shape() {
        let r = Reaction {
            stamp_id: 1,
            stamp_name: ":smile:".into(),
            stamp_image_url: "/media/stamps/01_smile.svg".into(),
            username: "alice".into(),
        };
        let v: serde_json::Value =
            serde_json::from_str(&ServerFrame::Reaction(&r).to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"reaction","stamp_id":1,"stamp_name":":smile:",
                "stamp_image_url":"/media/stamps/01_smile.svg","username":"alice"})
        );
        let counts = BTreeMap::from([(1, 120), (4, 37)]);
        let v: serde_json::Value = serde_json::from_str(
            &ServerFrame::ReactionBurst {
                counts: &counts,
                window_ms: 150,
            }
            .to_json(),
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"reaction.burst","counts":{"1":120,"4":37},"window_ms":150})
        );
    }

    #[test]
    fn every_frame_the_room_sends_has_its_documented_shape() {
        let parse = |json: String| serde_json::from_str::<serde_json::Value>(&json).unwrap();
        assert_eq!(
            parse(banned_json(Some("2026-12-02T21:40:00Z"), None)),
            serde_json::json!({"type":"error","code":"banned",
                "message":"you are banned from this chat","until":"2026-12-02T21:40:00Z"})
        );
        let permanent = parse(banned_json(None, Some("spam &lt;3")));
        assert_eq!(permanent["until"], serde_json::Value::Null);
        assert_eq!(permanent["reason"], "spam &lt;3");
        assert_eq!(
            parse(ServerFrame::BanLifted.to_json()),
            serde_json::json!({"type":"ban.lifted"})
        );
        assert_eq!(
            parse(ServerFrame::StreamEnded.to_json()),
            serde_json::json!({"type":"stream.ended"})
        );
        assert_eq!(
            parse(
                ServerFrame::Presence {
                    viewers: 3,
                    chatters: 1
                }
                .to_json()
            ),
            serde_json::json!({"type":"presence","viewers":3,"chatters":1})
        );
        assert_eq!(
            parse(ServerFrame::Recovered { recovered: false }.to_json()),
            serde_json::json!({"type":"recovered","recovered":false})
        );
        assert_eq!(
            parse(error_json(
                ErrorCode::SlowMode,
                "slow mode is on",
                Some(1500)
            )),
            serde_json::json!({"type":"error","code":"slow_mode",
                "message":"slow mode is on","retry_after_ms":1500})
        );
    }

    #[test]
    fn chat_event_keeps_seed_keys() {
        let m = ChatMessage {
            id: Some(7),
            username: "alice".into(),
            message: "hi".into(),
            message_type: MessageType::Message,
            timestamp: "2026-11-23T12:00:00Z".into(),
            client_id: None,
            badge: None,
            notice: None,
            mentions: Vec::new(),
            reply_to: None,
            edited_at: None,
        };
        let v: serde_json::Value = serde_json::from_str(
            &ServerFrame::Chat {
                message: &m,
                history: false,
            }
            .to_json(),
        )
        .unwrap();
        assert_eq!(v["type"], "chat.message");
        assert_eq!(v["id"], 7);
        assert_eq!(v["username"], "alice");
        assert_eq!(v["message"], "hi");
        assert_eq!(v["message_type"], "message");
        assert_eq!(v["timestamp"], "2026-11-23T12:00:00Z");
        assert!(v.get("history").is_none());
    }
}
