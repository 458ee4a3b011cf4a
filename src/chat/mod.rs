//! The chat domain: lines of chat, reactions, ban scopes, room events and
//! user roles, as the room, the store and the wire format all know them. Serde derives are here
//! because these values travel between nodes and reach clients as they are;
//! the JSON framing around them lives in the `wire` module.

use serde::{Deserialize, Serialize};

mod event;
pub mod mentions;
mod reply;
mod role;
mod slow_mode;

pub use event::{Edit, RoomEvent};
pub use mentions::Mention;
pub use reply::{quote, ReplyTo};
pub use role::{Badge, Role, UnknownRole};
pub use slow_mode::SlowVerdict;

/// The seed's message kinds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::AsRefStr,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum MessageType {
    Message,
    System,
    Join,
    Leave,
    Moderation,
}

impl MessageType {
    /// The kind as stored and sent.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One line of chat: the seed's shape plus `id` (absent for join/leave,
/// which are not stored) and a real RFC 3339 timestamp.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
pub struct ChatMessage {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<i64>,
    pub username: String,
    /// HTML-safe text: what was typed, with `&`, `<`, `>`, `"` and `'` escaped.
    pub message: String,
    pub message_type: MessageType,
    pub timestamp: String,
    /// The sender's own id for the line (see `wire::client`), on live events
    /// only, so the sender can match the echo to what it sent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_id: Option<String>,
    /// The author's badge (streamer, moderator, admin); absent for others.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub badge: Option<Badge>,
    /// On moderation lines: what happened, for clients that word it in the
    /// viewer's language (`message` holds the operator's wording).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notice: Option<Notice>,
    /// The users the line mentions (`@name`), as their accounts spell them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// The line this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
    /// When its author last edited it (`message` is then the edited text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
}

/// What a moderation line reports: a key and its arguments (`user`,
/// `duration_secs`, `seconds`).
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
pub struct Notice {
    pub key: NoticeKey,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub args: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The kinds of moderation lines.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKey {
    Ban,
    Timeout,
    Unban,
    Delete,
    ClearUser,
    Clear,
    Pin,
    Unpin,
    SlowOn,
    SlowOff,
}

impl Notice {
    /// A notice without arguments.
    pub fn of(key: NoticeKey) -> Self {
        Notice {
            key,
            args: Default::default(),
        }
    }

    /// Adds an argument.
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.args.insert(name.to_owned(), value.into());
        self
    }

    /// A string argument, if given.
    pub fn arg_str(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(|v| v.as_str())
    }

    /// A number argument, if given.
    pub fn arg_i64(&self, name: &str) -> Option<i64> {
        self.args.get(name).and_then(|v| v.as_i64())
    }
}

impl ChatMessage {
    /// The unstored notice that `username` joined the chat.
    pub fn joined(username: &str) -> Self {
        let text = format!("{username} joined the chat");
        ChatMessage::unstored(username, text, MessageType::Join)
    }

    /// The unstored notice that `username` left the chat.
    pub fn left(username: &str) -> Self {
        let text = format!("{username} left the chat");
        ChatMessage::unstored(username, text, MessageType::Leave)
    }

    /// A line that is not stored (join and leave notices), stamped now.
    pub fn unstored(username: &str, message: String, message_type: MessageType) -> Self {
        use time::format_description::well_known::Rfc3339;
        ChatMessage {
            id: None,
            username: username.to_owned(),
            message,
            message_type,
            timestamp: time::OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            client_id: None,
            badge: None,
            notice: None,
            mentions: Vec::new(),
            reply_to: None,
            edited_at: None,
        }
    }
}

/// A reaction as broadcast to viewers. Name and image come from the tenant's
/// stamp table, never from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reaction {
    pub stamp_id: i32,
    pub stamp_name: String,
    pub stamp_image_url: String,
    pub username: String,
}

/// Whether a ban covers one stream or the whole tenant.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BanScope {
    #[default]
    Stream,
    Tenant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_read_back_as_stored() {
        for kind in [
            MessageType::Message,
            MessageType::System,
            MessageType::Join,
            MessageType::Leave,
            MessageType::Moderation,
        ] {
            assert_eq!(kind.as_str().parse::<MessageType>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert!("shout".parse::<MessageType>().is_err());
    }
}
