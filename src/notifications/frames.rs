//! The notification socket's frames, both directions (the chat socket's
//! are `crate::wire`; error frames share its `error_json`).
//!
//! Server → client: `notification.sync` (first, on every connect),
//! `notification.new` (at most one per device per coalescing interval),
//! `notification.read` (to every device of the user), `error`.
//! Client → server: `notification.read` with an `id`.

use std::borrow::Cow;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::i18n::Locale;
use crate::store::notifications::Notification;
use crate::wire::ErrorCode;

#[derive(Serialize, schemars::JsonSchema)]
#[serde(tag = "type")]
#[schemars(rename = "NotificationServerFrame")]
pub(crate) enum Frame<'a> {
    #[serde(rename = "notification.sync")]
    Sync {
        unread: i64,
        latest: &'a [Cow<'a, Notification>],
    },
    #[serde(rename = "notification.new")]
    New {
        notification: &'a Notification,
        unread: i64,
        /// How many other new notifications this frame stands for (0: none).
        coalesced: u32,
    },
    #[serde(rename = "notification.read")]
    Read { ids: &'a [i64], unread: i64 },
}

impl Frame<'_> {
    fn render(&self) -> Utf8Bytes {
        Utf8Bytes::from(serde_json::to_string(self).unwrap_or_default())
    }
}

/// `{"type":"notification.sync","unread":N,"latest":[…]}`, titles in
/// `locale`.
pub fn sync(unread: i64, latest: &[Notification], locale: Locale) -> Utf8Bytes {
    let latest: Vec<_> = latest.iter().map(|n| n.worded(locale)).collect();
    Frame::Sync {
        unread,
        latest: &latest,
    }
    .render()
}

/// `{"type":"notification.new","notification":{…},"unread":N,"coalesced":K}`,
/// the title in `locale`.
pub fn new(notification: &Notification, unread: i64, coalesced: u32, locale: Locale) -> Utf8Bytes {
    Frame::New {
        notification: &notification.worded(locale),
        unread,
        coalesced,
    }
    .render()
}

/// `{"type":"notification.read","ids":[…],"unread":N}`.
pub fn read(ids: &[i64], unread: i64) -> Utf8Bytes {
    Frame::Read { ids, unread }.render()
}

/// `{"type":"error","code":…,"message":…}`.
pub fn error(code: ErrorCode, message: &str, retry_after_ms: Option<u64>) -> Utf8Bytes {
    Utf8Bytes::from(crate::wire::error_json(code, message, retry_after_ms))
}

/// What a client may send (the attributes describe the wire shape for the
/// JSON Schema; [`parse`] reads it).
#[derive(Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(tag = "type")]
#[schemars(rename = "NotificationClientFrame")]
pub enum ClientFrame {
    /// `{"type":"notification.read","id":N}`: marks notification `id` read
    /// on every device.
    #[serde(rename = "notification.read")]
    Read { id: i64 },
}

/// Why a client frame was refused; the socket carries on.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frames are JSON objects with a \"type\"")]
    BadJson,
    #[error("notification.read needs an integer \"id\"")]
    BadRead,
    #[error("unknown frame type")]
    UnknownType,
}

impl FrameError {
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::BadJson | FrameError::BadRead => ErrorCode::BadJson,
            FrameError::UnknownType => ErrorCode::UnknownType,
        }
    }
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    let value: Value = serde_json::from_str(text).map_err(|_| FrameError::BadJson)?;
    let object = value.as_object().ok_or(FrameError::BadJson)?;
    match object.get("type").and_then(Value::as_str) {
        Some("notification.read") => object
            .get("id")
            .and_then(Value::as_i64)
            .map(|id| ClientFrame::Read { id })
            .ok_or(FrameError::BadRead),
        Some(_) => Err(FrameError::UnknownType),
        None => Err(FrameError::BadJson),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames() {
        assert_eq!(
            parse(r#"{"type":"notification.read","id":7}"#),
            Ok(ClientFrame::Read { id: 7 })
        );
        assert_eq!(parse("nope"), Err(FrameError::BadJson));
        assert_eq!(parse("[1]"), Err(FrameError::BadJson));
        assert_eq!(parse(r#"{"id":7}"#), Err(FrameError::BadJson));
        assert_eq!(
            parse(r#"{"type":"notification.read","id":"7"}"#),
            Err(FrameError::BadRead)
        );
        assert_eq!(parse(r#"{"type":"chat"}"#), Err(FrameError::UnknownType));
    }

    #[test]
    fn server_frames() {
        let n = Notification {
            id: 5,
            kind_type: "info".into(),
            kind: "system".into(),
            title: "alice mentioned you".into(),
            title_key: Some("mention".into()),
            title_args: [("who".to_owned(), "alice".to_owned())].into(),
            body: String::new(),
            link: None,
            read_at: None,
            created_at: "2026-12-03T00:00:00Z".into(),
        };
        let v: Value = serde_json::from_str(new(&n, 3, 2, Locale::En).as_str()).unwrap();
        assert_eq!(v["type"], "notification.new");
        assert_eq!(v["notification"]["type"], "info");
        assert_eq!(v["notification"]["kind"], "system");
        assert_eq!(v["notification"]["title"], "alice mentioned you");
        assert_eq!(v["notification"]["title_key"], "mention");
        assert_eq!(v["notification"]["title_args"]["who"], "alice");
        let v: Value = serde_json::from_str(new(&n, 3, 2, Locale::Ja).as_str()).unwrap();
        assert_eq!(
            v["notification"]["title"],
            "alice さんがあなたをメンションしました"
        );
        assert_eq!(
            (v["unread"].as_i64(), v["coalesced"].as_u64()),
            (Some(3), Some(2))
        );
        let v: Value = serde_json::from_str(read(&[1, 2], 0).as_str()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"notification.read","ids":[1,2],"unread":0})
        );
        let v: Value = serde_json::from_str(sync(1, &[n], Locale::Ja).as_str()).unwrap();
        assert_eq!(v["latest"][0]["id"], 5);
        assert_eq!(
            v["latest"][0]["title"],
            "alice さんがあなたをメンションしました"
        );
    }
}
