//! What a client may send, and the parser every text frame goes through.

use serde::Deserialize;

use super::ErrorCode;
use crate::charset::find_control;
use crate::chat::BanScope;

/// A moderator's command over the socket. The `serde` attributes describe
/// the wire shape for the JSON Schema ([`super::schema`]); [`parse_client`]
/// reads it.
#[derive(Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum ModCommand {
    /// Pins line `id` (replacing the pinned line).
    #[serde(rename = "chat.pin")]
    Pin { id: i64 },
    #[serde(rename = "chat.unpin")]
    Unpin,
    /// Deletes line `id`.
    #[serde(rename = "chat.delete")]
    Delete { id: i64 },
    /// Deletes every line of `username`, or of everyone without one.
    #[serde(rename = "chat.clear")]
    Clear {
        #[serde(default)]
        username: Option<String>,
    },
    /// Bans `username` for `duration_secs` (a timeout) or for good.
    #[serde(rename = "ban")]
    Ban {
        username: String,
        #[serde(default)]
        duration_secs: Option<i64>,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        scope: BanScope,
    },
    #[serde(rename = "unban")]
    Unban {
        username: String,
        #[serde(default)]
        scope: BanScope,
    },
    /// Seconds between two lines of a viewer; `0` turns slow mode off.
    #[serde(rename = "slow_mode")]
    SlowMode { seconds: i64 },
    /// Shows a line auto-moderation held (`chat.approve`).
    #[serde(rename = "chat.approve")]
    Approve { id: i64 },
    /// Keeps a held line hidden (`chat.deny`).
    #[serde(rename = "chat.deny")]
    Deny { id: i64 },
}

/// What a client may send (the `serde` and `schemars` attributes describe
/// the wire shape for the JSON Schema; [`parse_client`] reads it).
#[derive(Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "ChatClientFrame")]
pub enum ClientFrame {
    /// The seed's `{"message": "..."}` (optionally with `"type":"chat.message"`),
    /// optionally with the sender's `"client_id"` for the line, which makes a
    /// resend of it a no-op ([`valid_client_id`]).
    #[schemars(transform = shape::chat_type)]
    Chat {
        message: String,
        #[serde(default)]
        #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        client_id: Option<String>,
        /// The id of the line this one answers (`"reply_to"`).
        #[serde(default)]
        reply_to: Option<i64>,
    },
    /// The seed's `{"type":"reaction","stamp_id":1,…}`; only `stamp_id` is read.
    #[schemars(transform = shape::reaction_type)]
    Reaction { stamp_id: i64 },
    /// A moderation command (checked against the sender's rank by the server).
    Moderate(ModCommand),
    /// `{"type":"chat.edit","id":N,"message":"…"}`: the author's new text
    /// for one of their lines.
    #[schemars(transform = shape::edit_type)]
    Edit { id: i64, message: String },
}

/// The `type` of the frames whose Rust variant has no tag of its own.
mod shape {
    use schemars::Schema;
    use serde_json::json;

    fn typed(schema: &mut Schema, types: serde_json::Value, required: bool) {
        if let Some(properties) = schema
            .ensure_object()
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            properties.insert("type".into(), json!({ "enum": types }));
        }
        if required {
            if let Some(list) = schema
                .ensure_object()
                .entry("required")
                .or_insert_with(|| json!([]))
                .as_array_mut()
            {
                list.push(json!("type"));
            }
        }
    }

    /// A chat line may leave `type` out (the seed's frame).
    pub fn chat_type(schema: &mut Schema) {
        typed(schema, json!(["chat.message", "message"]), false);
    }

    pub fn reaction_type(schema: &mut Schema) {
        typed(schema, json!(["reaction"]), true);
    }

    pub fn edit_type(schema: &mut Schema) {
        typed(schema, json!(["chat.edit"]), true);
    }
}

/// Why a text frame was not understood.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("frame is not a JSON object with a string \"message\"")]
    BadJson,
    #[error("reaction needs an integer \"stamp_id\"")]
    BadReaction,
    #[error("{0}")]
    BadCommand(&'static str),
    #[error("unknown type {0:?}")]
    UnknownType(String),
    #[error("\"{0}\" contains a control character")]
    Control(&'static str),
    #[error("client_id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")]
    BadClientId,
}

impl ParseError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ParseError::BadJson | ParseError::BadReaction | ParseError::BadCommand(_) => {
                ErrorCode::BadJson
            }
            ParseError::UnknownType(_) => ErrorCode::UnknownType,
            ParseError::Control(_) | ParseError::BadClientId => ErrorCode::BadRequest,
        }
    }
}

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
    stamp_id: Option<serde_json::Value>,
    id: Option<serde_json::Value>,
    username: Option<String>,
    duration_secs: Option<serde_json::Value>,
    reason: Option<String>,
    scope: Option<BanScope>,
    seconds: Option<serde_json::Value>,
    client_id: Option<serde_json::Value>,
    reply_to: Option<serde_json::Value>,
}

/// Longest `client_id`.
pub const MAX_CLIENT_ID: usize = 64;

/// Whether `id` may be a chat line's `client_id`: 1 to [`MAX_CLIENT_ID`]
/// characters of `[A-Za-z0-9_-]` (a UUID or a counter fits; nothing that
/// needs escaping in JSON, SQL or logs).
pub fn valid_client_id(id: &str) -> bool {
    (1..=MAX_CLIENT_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses one client text frame.
pub fn parse_client(text: &str) -> Result<ClientFrame, ParseError> {
    // serde would also accept a JSON array for a struct; only objects are frames.
    if !text.trim_start().starts_with('{') {
        return Err(ParseError::BadJson);
    }
    let raw: RawFrame = serde_json::from_str(text).map_err(|_| ParseError::BadJson)?;
    // Names and reasons reach SQL and logs; none may hold a control character.
    // (The chat text is checked with the rest of its validation.)
    for (key, value) in [("username", &raw.username), ("reason", &raw.reason)] {
        if value
            .as_deref()
            .is_some_and(|v| find_control(v, &[]).is_some())
        {
            return Err(ParseError::Control(key));
        }
    }
    let int = |v: &Option<serde_json::Value>, what: &'static str| {
        v.as_ref()
            .and_then(|v| v.as_i64())
            .ok_or(ParseError::BadCommand(what))
    };
    let command = |c: ModCommand| Ok(ClientFrame::Moderate(c));
    match raw.kind.as_deref() {
        Some("chat.pin") => command(ModCommand::Pin {
            id: int(&raw.id, "chat.pin needs an integer \"id\"")?,
        }),
        Some("chat.unpin") => command(ModCommand::Unpin),
        Some("chat.delete") => command(ModCommand::Delete {
            id: int(&raw.id, "chat.delete needs an integer \"id\"")?,
        }),
        Some("chat.approve") => command(ModCommand::Approve {
            id: int(&raw.id, "chat.approve needs an integer \"id\"")?,
        }),
        Some("chat.deny") => command(ModCommand::Deny {
            id: int(&raw.id, "chat.deny needs an integer \"id\"")?,
        }),
        Some("chat.clear") => command(ModCommand::Clear {
            username: raw.username,
        }),
        Some("ban") => command(ModCommand::Ban {
            username: raw
                .username
                .ok_or(ParseError::BadCommand("ban needs \"username\""))?,
            duration_secs: match raw.duration_secs {
                None | Some(serde_json::Value::Null) => None,
                some => Some(int(&some, "duration_secs must be an integer")?),
            },
            reason: raw.reason,
            scope: raw.scope.unwrap_or_default(),
        }),
        Some("unban") => command(ModCommand::Unban {
            username: raw
                .username
                .ok_or(ParseError::BadCommand("unban needs \"username\""))?,
            scope: raw.scope.unwrap_or_default(),
        }),
        Some("slow_mode") => command(ModCommand::SlowMode {
            seconds: int(&raw.seconds, "slow_mode needs an integer \"seconds\"")?,
        }),
        None | Some("message") | Some("chat.message") => {
            let message = raw.message.ok_or(ParseError::BadJson)?;
            let client_id = match raw.client_id {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(id)) if valid_client_id(&id) => Some(id),
                Some(_) => return Err(ParseError::BadClientId),
            };
            let reply_to = match raw.reply_to {
                None | Some(serde_json::Value::Null) => None,
                some => Some(int(&some, "reply_to must be an integer message id")?),
            };
            Ok(ClientFrame::Chat {
                message,
                client_id,
                reply_to,
            })
        }
        Some("chat.edit") => Ok(ClientFrame::Edit {
            id: int(&raw.id, "chat.edit needs an integer \"id\"")?,
            message: raw.message.ok_or(ParseError::BadCommand(
                "chat.edit needs a string \"message\"",
            ))?,
        }),
        Some("reaction") => raw
            .stamp_id
            .and_then(|v| v.as_i64())
            .map(|stamp_id| ClientFrame::Reaction { stamp_id })
            .ok_or(ParseError::BadReaction),
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
                message: "こんにちは！".into(),
                client_id: None,
                reply_to: None,
            })
        );
    }

    #[test]
    fn an_edit_names_its_line_and_text() {
        assert_eq!(
            parse_client(r#"{"type":"chat.edit","id":7,"message":"fixed"}"#),
            Ok(ClientFrame::Edit {
                id: 7,
                message: "fixed".into()
            })
        );
        assert_eq!(
            parse_client(r#"{"type":"chat.edit","message":"x"}"#),
            Err(ParseError::BadCommand("chat.edit needs an integer \"id\""))
        );
        assert_eq!(
            parse_client(r#"{"type":"chat.edit","id":7}"#),
            Err(ParseError::BadCommand(
                "chat.edit needs a string \"message\""
            ))
        );
    }

    #[test]
    fn a_reply_names_the_line_it_answers() {
        assert_eq!(
            parse_client(r#"{"message":"same","reply_to":42}"#),
            Ok(ClientFrame::Chat {
                message: "same".into(),
                client_id: None,
                reply_to: Some(42),
            })
        );
        assert_eq!(
            parse_client(r#"{"message":"x","reply_to":"42"}"#),
            Err(ParseError::BadCommand(
                "reply_to must be an integer message id"
            ))
        );
    }

    #[test]
    fn client_ids_are_checked() {
        assert_eq!(
            parse_client(r#"{"message":"hi","client_id":"0193a-b_C9"}"#),
            Ok(ClientFrame::Chat {
                message: "hi".into(),
                client_id: Some("0193a-b_C9".into()),
                reply_to: None,
            })
        );
        assert_eq!(
            parse_client(r#"{"message":"hi","client_id":null}"#),
            Ok(ClientFrame::Chat {
                message: "hi".into(),
                client_id: None,
                reply_to: None,
            })
        );
        let long = "a".repeat(MAX_CLIENT_ID + 1);
        for bad in [
            r#""""#.to_owned(),
            r#""a b""#.to_owned(),
            r#""é""#.to_owned(),
            r#""x'--""#.to_owned(),
            "7".to_owned(),
            format!("\"{long}\""),
        ] {
            let frame = format!(r#"{{"message":"hi","client_id":{bad}}}"#);
            assert_eq!(parse_client(&frame), Err(ParseError::BadClientId), "{bad}");
        }
        assert!(valid_client_id(&"a".repeat(MAX_CLIENT_ID)));
        assert_eq!(ParseError::BadClientId.code().as_str(), "bad_request");
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
    fn control_characters_in_names_are_refused() {
        assert_eq!(
            parse_client(r#"{"type":"ban","username":"bo\u0000b"}"#),
            Err(ParseError::Control("username"))
        );
        assert_eq!(
            parse_client(r#"{"type":"ban","username":"bob","reason":"x\u001b[2J"}"#),
            Err(ParseError::Control("reason"))
        );
        assert_eq!(
            ParseError::Control("username").code().as_str(),
            "bad_request"
        );
    }

    #[test]
    fn seed_reaction_parses_and_ignores_client_names() {
        let frame = r#"{"type":"reaction","stamp_id":1,"stamp_name":":evil:","stamp_image_url":"https://evil.test/x.svg"}"#;
        assert_eq!(
            parse_client(frame),
            Ok(ClientFrame::Reaction { stamp_id: 1 })
        );
        assert_eq!(
            parse_client(r#"{"type":"reaction"}"#),
            Err(ParseError::BadReaction)
        );
        assert_eq!(
            parse_client(r#"{"type":"reaction","stamp_id":"1"}"#),
            Err(ParseError::BadReaction)
        );
    }

    #[test]
    fn moderation_commands_parse() {
        assert_eq!(
            parse_client(r#"{"type":"chat.pin","id":5}"#),
            Ok(ClientFrame::Moderate(ModCommand::Pin { id: 5 }))
        );
        assert_eq!(
            parse_client(r#"{"type":"ban","username":"bob","duration_secs":600,"reason":"spam"}"#),
            Ok(ClientFrame::Moderate(ModCommand::Ban {
                username: "bob".into(),
                duration_secs: Some(600),
                reason: Some("spam".into()),
                scope: BanScope::Stream
            }))
        );
        assert_eq!(
            parse_client(r#"{"type":"unban","username":"bob","scope":"tenant"}"#),
            Ok(ClientFrame::Moderate(ModCommand::Unban {
                username: "bob".into(),
                scope: BanScope::Tenant
            }))
        );
        assert!(matches!(
            parse_client(r#"{"type":"chat.delete"}"#),
            Err(ParseError::BadCommand(_))
        ));
        assert!(matches!(
            parse_client(r#"{"type":"ban","username":"b","scope":"galaxy"}"#),
            Err(ParseError::BadJson)
        ));
    }
}
