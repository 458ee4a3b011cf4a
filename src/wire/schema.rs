//! The JSON Schema (draft 2020-12) of every WebSocket frame, both sockets,
//! both directions, generated from the frame types themselves
//! ([`ServerFrame`], [`ClientFrame`], the notification socket's frames) so
//! it cannot drift from what the server sends and reads. Served at
//! `GET /api/schema/events.json`; `clients/js` generates its types from it.
//!
//! Server frames are described as serialised (`Option`s the server always
//! writes are required, possibly `null`) and closed: a key the schema does
//! not name fails validation, which is what lets the integration tests
//! catch a frame that grew a key without the schema. Client frames are
//! described as read: optional keys may be left out and extra keys are
//! ignored, as the parsers do.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use super::{ClientFrame, ServerFrame};
use crate::notifications::frames::{ClientFrame as NotificationClientFrame, Frame};

/// Keys the chat socket adds around a frame (`wire::with_seq`,
/// `wire::with_client_id`).
#[derive(JsonSchema)]
#[allow(dead_code)] // describes keys written as text, never built
struct Envelope {
    /// The event's place in the room's log, on logged events (lines,
    /// deletions, pins, edits, clears, settings): reconnect with
    /// `?since_offset=<offset>&epoch=<epoch>` to resume right after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    /// The log's epoch, with `offset`: a resume names both.
    #[serde(skip_serializing_if = "Option::is_none")]
    epoch: Option<String>,
    /// On an `error` refusing a chat line: the `client_id` it was sent with.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
}

/// The whole document, built once.
pub fn events() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

/// The document as served.
pub fn events_json() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| serde_json::to_string_pretty(events()).unwrap_or_default())
}

/// The document narrowed to one of its `$defs` (e.g. [`CHAT_SERVER`]), for
/// validating frames of one kind.
pub fn schema_of(name: &str) -> Value {
    let mut document = events().clone();
    if let Some(root) = document.as_object_mut() {
        root.remove("anyOf");
        root.insert("$ref".into(), json!(format!("#/$defs/{name}")));
    }
    document
}

/// The names of the four frame kinds under `$defs`, for validators.
pub const CHAT_SERVER: &str = "ChatSocketServerFrame";
pub const CHAT_CLIENT: &str = "ChatClientFrame";
pub const NOTIFICATION_SERVER: &str = "NotificationSocketServerFrame";
pub const NOTIFICATION_CLIENT: &str = "NotificationClientFrame";

fn build() -> Value {
    let mut sent = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    sent.subschema_for::<ServerFrame<'static>>();
    sent.subschema_for::<Frame<'static>>();
    sent.subschema_for::<Envelope>();
    let mut read = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    read.subschema_for::<ClientFrame>();
    read.subschema_for::<NotificationClientFrame>();

    let mut defs = sent.take_definitions(true);
    for (name, schema) in read.take_definitions(true) {
        // A type on both sides (none today) would need one name per side.
        debug_assert!(!defs.contains_key(&name), "{name} on both sides");
        defs.insert(name, schema);
    }
    let r = |name: &str| json!({ "$ref": format!("#/$defs/{name}") });
    defs.insert(
        CHAT_SERVER.into(),
        json!({
            "description": "Every frame the chat socket `/ws/chat/stream_{id}/` sends.",
            "allOf": [r("ChatServerFrame"), r("Envelope")],
            "unevaluatedProperties": false,
        }),
    );
    defs.insert(
        NOTIFICATION_SERVER.into(),
        json!({
            "description": "Every frame the notification socket `/ws/notifications/` sends: \
                            its own, and `error` frames shaped as on the chat socket.",
            "anyOf": [
                r("NotificationServerFrame"),
                {
                    "allOf": [r("ChatServerFrame"), { "properties": { "type": { "const": "error" } } }],
                    "unevaluatedProperties": false,
                },
            ],
        }),
    );
    let mut document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Stampede WebSocket frames",
        "description": "Generated from the server's frame types. `$defs` names the four kinds: \
                        ChatSocketServerFrame and ChatClientFrame (`/ws/chat/stream_{id}/`), \
                        NotificationSocketServerFrame and NotificationClientFrame \
                        (`/ws/notifications/`). docs/protocol.md explains each frame.",
        "anyOf": [r(CHAT_SERVER), r(CHAT_CLIENT), r(NOTIFICATION_SERVER), r(NOTIFICATION_CLIENT)],
        "$defs": Value::Object(defs),
    });
    any_of_variants(&mut document);
    close_server_variants(&mut document);
    document
}

/// Two `error` variants overlap (a ban's error is an error), so a frame may
/// match both: the variants are alternatives (`anyOf`), not exclusive ones.
fn any_of_variants(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(variants) = map.remove("oneOf") {
                map.insert("anyOf".into(), variants);
            }
            map.values_mut().for_each(any_of_variants);
        }
        Value::Array(items) => items.iter_mut().for_each(any_of_variants),
        _ => {}
    }
}

/// Server frames are closed at the top ([`CHAT_SERVER`]); the nested
/// objects they carry (a line, a notification) are closed here, so a key
/// added to one of them without the schema fails too.
fn close_server_variants(document: &mut Value) {
    let Some(defs) = document.get_mut("$defs").and_then(Value::as_object_mut) else {
        return;
    };
    // Not `Reaction`: its frame is the struct itself, tagged, closed above.
    for name in ["ChatMessage", "ReplyTo", "Notice", "Notification"] {
        if let Some(Value::Object(schema)) = defs.get_mut(name) {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    if let Some(Value::Object(frames)) = defs.get_mut("NotificationServerFrame") {
        close_each(frames);
    }
}

fn close_each(schema: &mut Map<String, Value>) {
    if let Some(Value::Array(variants)) = schema.get_mut("anyOf") {
        for variant in variants.iter_mut().filter_map(Value::as_object_mut) {
            variant.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::chat::{ChatMessage, MessageType, Reaction, ReplyTo};
    use crate::error::ErrorCode;
    use crate::wire::{banned_json, error_json, parse_client, with_client_id, with_seq};

    fn validator(name: &str) -> jsonschema::Validator {
        jsonschema::validator_for(&schema_of(name)).expect("the schema compiles")
    }

    #[test]
    fn the_document_is_a_valid_2020_12_schema() {
        jsonschema::meta::validate(events()).expect("valid against its meta-schema");
        for name in [
            CHAT_SERVER,
            CHAT_CLIENT,
            NOTIFICATION_SERVER,
            NOTIFICATION_CLIENT,
        ] {
            assert!(events()["$defs"].get(name).is_some(), "{name}");
        }
    }

    /// The schema of client frames says what the parser accepts: a frame
    /// validates exactly when `parse_client` reads it.
    #[test]
    fn client_frames_validate_exactly_when_the_parser_reads_them() {
        let chat = validator(CHAT_CLIENT);
        for frame in [
            r#"{"message":"こんにちは！"}"#,
            r#"{"type":"chat.message","message":"x","client_id":"ab-1_Z","reply_to":4}"#,
            r#"{"type":"message","message":"x","client_id":null,"reply_to":null}"#,
            r#"{"message":"x","client_id":"bad id!"}"#,
            r#"{"message":"x","reply_to":"4"}"#,
            r#"{"message":5}"#,
            r#"{"type":"reaction","stamp_id":1,"stamp_name":":smile:","stamp_image_url":"/x.svg"}"#,
            r#"{"type":"reaction","stamp_id":"1"}"#,
            r#"{"type":"reaction"}"#,
            r#"{"type":"chat.edit","id":7,"message":"fixed"}"#,
            r#"{"type":"chat.edit","message":"fixed"}"#,
            r#"{"type":"chat.edit","id":7}"#,
            r#"{"type":"chat.pin","id":1}"#,
            r#"{"type":"chat.pin"}"#,
            r#"{"type":"chat.unpin"}"#,
            r#"{"type":"chat.delete","id":3}"#,
            r#"{"type":"chat.clear"}"#,
            r#"{"type":"chat.clear","username":"bob"}"#,
            r#"{"type":"chat.approve","id":1}"#,
            r#"{"type":"chat.deny","id":1}"#,
            r#"{"type":"chat.deny","id":1.5}"#,
            r#"{"type":"ban","username":"a","duration_secs":60,"reason":"r","scope":"tenant"}"#,
            r#"{"type":"ban","username":"a","duration_secs":null}"#,
            r#"{"type":"ban","username":"a","scope":"galaxy"}"#,
            r#"{"type":"ban"}"#,
            r#"{"type":"unban","username":"a"}"#,
            r#"{"type":"slow_mode","seconds":5}"#,
            r#"{"type":"slow_mode"}"#,
            r#"{"type":"nope","message":"x"}"#,
            r#"[{"message":"x"}]"#,
        ] {
            let value: Value = serde_json::from_str(frame).unwrap();
            assert_eq!(
                chat.is_valid(&value),
                parse_client(frame).is_ok(),
                "{frame}: schema and parser disagree"
            );
        }
        let notifications = validator(NOTIFICATION_CLIENT);
        for frame in [
            r#"{"type":"notification.read","id":7}"#,
            r#"{"type":"notification.read","id":"7"}"#,
            r#"{"type":"notification.read"}"#,
            r#"{"type":"chat"}"#,
            r#"{"id":7}"#,
        ] {
            let value: Value = serde_json::from_str(frame).unwrap();
            assert_eq!(
                notifications.is_valid(&value),
                crate::notifications::frames::parse(frame).is_ok(),
                "{frame}: schema and parser disagree"
            );
        }
    }

    /// Server frames validate as sent, with the keys the socket adds, and a
    /// key the schema does not name fails.
    #[test]
    fn server_frames_validate_and_unknown_keys_fail() {
        let chat = validator(CHAT_SERVER);
        let mut line = ChatMessage::unstored("alice", "welcome".into(), MessageType::Message);
        line.id = Some(7);
        line.reply_to = Some(ReplyTo::of(3, "bob".into(), "hi", false));
        line.mentions = vec!["bob".into()];
        let reaction = Reaction {
            stamp_id: 1,
            stamp_name: ":smile:".into(),
            stamp_image_url: "/media/stamps/01_smile.svg".into(),
            username: "alice".into(),
        };
        let counts = BTreeMap::from([(1, 3), (2, 5)]);
        let frames = [
            ServerFrame::Chat {
                message: &line,
                history: true,
            }
            .to_json(),
            with_seq(
                &ServerFrame::Chat {
                    message: &line,
                    history: false,
                }
                .to_json(),
                12,
                "00ab",
            ),
            ServerFrame::Reaction(&reaction).to_json(),
            ServerFrame::ReactionBurst {
                counts: &counts,
                window_ms: 150,
            }
            .to_json(),
            ServerFrame::Pin {
                id: 7,
                message: &line,
            }
            .to_json(),
            ServerFrame::Edited {
                id: 7,
                message: "new",
                edited_at: "2026-12-03T10:00:00Z",
                mentions: &[],
            }
            .to_json(),
            ServerFrame::Clear { username: None }.to_json(),
            ServerFrame::Presence {
                viewers: 2,
                chatters: 1,
            }
            .to_json(),
            ServerFrame::Held {
                message: &line,
                reasons: &["caps".into()],
            }
            .to_json(),
            ServerFrame::Denied {
                id: 7,
                reason: "expired",
            }
            .to_json(),
            ServerFrame::StreamEnded.to_json(),
            ServerFrame::BanLifted.to_json(),
            ServerFrame::Recovered { recovered: false }.to_json(),
            banned_json(None, Some("spam")),
            with_client_id(
                &error_json(ErrorCode::SlowMode, "slow mode is on", Some(1500)),
                Some("c1"),
            ),
        ];
        for frame in &frames {
            let value: Value = serde_json::from_str(frame).unwrap();
            if let Err(error) = chat.validate(&value) {
                panic!("{frame}: {error}");
            }
        }
        let mut grown: Value = serde_json::from_str(&frames[0]).unwrap();
        grown["colour"] = json!("red");
        assert!(!chat.is_valid(&grown), "an unknown key on a frame fails");
        let mut grown: Value = serde_json::from_str(&frames[4]).unwrap();
        grown["message"]["colour"] = json!("red");
        assert!(!chat.is_valid(&grown), "an unknown key inside a line fails");
        let mut wrong: Value = serde_json::from_str(&frames[2]).unwrap();
        wrong["stamp_id"] = json!("1");
        assert!(!chat.is_valid(&wrong), "a wrong type fails");
    }
}
