//! `notifications_notification`: each user's personal notifications, with
//! their unread state. Inserts come in batches ([`insert`]: one statement
//! for many recipients, a whole tenant, or a stream's followers); reads are
//! keyset pages over `(user_id, id DESC)` and the syncs of connecting
//! devices ([`read`]); [`update`] marks read and deletes old read ones.
//!
//! Titles and bodies are stored as plain text, exactly as given: clients
//! render them as text, never as HTML.

mod insert;
mod read;
mod update;

pub use insert::{insert_for_all, insert_for_followers, insert_rows};
pub use read::{live_among, owns, page, syncs, unread_count, unread_counts, Synced};
pub use update::{delete_read_older_than, mark_read, MarkedRead};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use time::PrimitiveDateTime;

use super::format_timestamp;

/// How a notification is shown (seed 002's four types).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum NotificationType {
    Info,
    Warning,
    Error,
    Success,
}

impl NotificationType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What produced a notification.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
pub enum Kind {
    /// `@username` in a chat line.
    #[serde(rename = "mention")]
    #[strum(serialize = "mention")]
    Mention,
    /// A reply to one of the user's lines.
    #[serde(rename = "reply")]
    #[strum(serialize = "reply")]
    Reply,
    /// The user was timed out, banned or unbanned.
    #[serde(rename = "moderation")]
    #[strum(serialize = "moderation")]
    Moderation,
    /// A followed stream went live.
    #[serde(rename = "stream.live")]
    #[strum(serialize = "stream.live")]
    StreamLive,
    /// An admin's message.
    #[serde(rename = "system")]
    #[strum(serialize = "system")]
    System,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One notification as clients see it.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
pub struct Notification {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind_type: String,
    pub kind: String,
    /// In the reader's language when `title_key` is set (see
    /// `crate::notifications::title`), else as stored.
    pub title: String,
    /// What the server wrote (`mention`, `reply`, `timeout`, `ban`,
    /// `unban`, `live`), for clients that word titles themselves; absent
    /// on titles typed by an admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_key: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub title_args: BTreeMap<String, String>,
    pub body: String,
    pub link: Option<String>,
    /// `None` while unread.
    pub read_at: Option<String>,
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct Row {
    id: i64,
    user_id: i32,
    #[sqlx(rename = "type")]
    kind_type: String,
    kind: String,
    title: String,
    title_key: Option<String>,
    title_args: Json<BTreeMap<String, String>>,
    body: String,
    link: Option<String>,
    read_at: Option<PrimitiveDateTime>,
    created_at: PrimitiveDateTime,
}

impl Row {
    pub(super) fn split(self) -> (i32, Notification) {
        let n = Notification {
            id: self.id,
            kind_type: self.kind_type,
            kind: self.kind,
            title: self.title,
            title_key: self.title_key,
            title_args: self.title_args.0,
            body: self.body,
            link: self.link,
            read_at: self.read_at.map(format_timestamp),
            created_at: format_timestamp(self.created_at),
        };
        (self.user_id, n)
    }
}

pub(super) const COLUMNS: &str =
    "id, user_id, type, kind, title, title_key, title_args, body, link, read_at, created_at";

/// A notification to store for one recipient.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub user_id: i32,
    pub kind_type: NotificationType,
    pub kind: Kind,
    pub title: String,
    pub title_key: Option<&'static str>,
    pub title_args: BTreeMap<String, String>,
    pub body: String,
    pub link: Option<String>,
    /// The user who caused it; a recipient who blocked them gets nothing.
    pub sender_id: Option<i32>,
}
