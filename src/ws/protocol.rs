//! The wire format of `/ws/chat/stream_{id}/`, a superset of seed 001.
//!
//! A seed client sends `{"message": "..."}` and reads `username`, `message`,
//! `message_type` and `timestamp`; every chat event here carries those keys
//! with the same meaning, plus `type`, `id` and (on replay) `history`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The seed's message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Message,
    System,
    Join,
    Leave,
    Moderation,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Message => "message",
            MessageType::System => "system",
            MessageType::Join => "join",
            MessageType::Leave => "leave",
            MessageType::Moderation => "moderation",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageType {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "message" => Ok(Self::Message),
            "system" => Ok(Self::System),
            "join" => Ok(Self::Join),
            "leave" => Ok(Self::Leave),
            "moderation" => Ok(Self::Moderation),
            _ => Err(()),
        }
    }
}

/// One line of chat: the seed's shape plus `id` (absent for join/leave,
/// which are not stored) and a real RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<i64>,
    pub username: String,
    /// HTML-safe text: ammonia removed all markup and escaped `<`, `>` and `&`.
    pub message: String,
    pub message_type: MessageType,
    pub timestamp: String,
}

/// Machine-readable error codes sent as `{"type":"error","code":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadJson,
    UnknownType,
    Empty,
    TooLong,
    RateLimited,
    Overloaded,
    Internal,
}

/// Everything the server sends. Serialised once per event and shared by all
/// sockets that receive it.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum ServerFrame<'a> {
    #[serde(rename = "chat.message")]
    Chat {
        #[serde(flatten)]
        message: &'a ChatMessage,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        history: bool,
    },
    #[serde(rename = "error")]
    Error {
        code: ErrorCode,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
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

/// What a client may send.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientFrame {
    /// The seed's `{"message": "..."}` (optionally with `"type":"chat.message"`).
    Chat { message: String },
}

/// Why a text frame was not understood.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("frame is not a JSON object with a string \"message\"")]
    BadJson,
    #[error("unknown type {0:?}")]
    UnknownType(String),
}

impl ParseError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ParseError::BadJson => ErrorCode::BadJson,
            ParseError::UnknownType(_) => ErrorCode::UnknownType,
        }
    }
}

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

/// Parses one client text frame.
pub fn parse_client(text: &str) -> Result<ClientFrame, ParseError> {
    // serde would also accept a JSON array for a struct; only objects are frames.
    if !text.trim_start().starts_with('{') {
        return Err(ParseError::BadJson);
    }
    let raw: RawFrame = serde_json::from_str(text).map_err(|_| ParseError::BadJson)?;
    match raw.kind.as_deref() {
        None | Some("message") | Some("chat.message") => raw
            .message
            .map(|message| ClientFrame::Chat { message })
            .ok_or(ParseError::BadJson),
        Some(other) => Err(ParseError::UnknownType(truncate(other, 64))),
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_frame_parses() {
        assert_eq!(
            parse_client(r#"{"message":"こんにちは！"}"#),
            Ok(ClientFrame::Chat {
                message: "こんにちは！".into()
            })
        );
    }

    #[test]
    fn bad_frames_are_classified() {
        assert_eq!(parse_client("{nope"), Err(ParseError::BadJson));
        assert_eq!(parse_client("[1]"), Err(ParseError::BadJson));
        assert_eq!(
            parse_client(r#"["chat.message","hi"]"#),
            Err(ParseError::BadJson)
        );
        assert_eq!(parse_client(r#"{"message":5}"#), Err(ParseError::BadJson));
        assert_eq!(parse_client(r#"{}"#), Err(ParseError::BadJson));
        assert_eq!(
            parse_client(r#"{"type":"dance","message":"x"}"#),
            Err(ParseError::UnknownType("dance".into()))
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
