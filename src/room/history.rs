//! The room's history ring: the last stored lines, replayed to every joiner
//! as `"history": true` frames, rendered once when they arrive.

use std::collections::VecDeque;

use axum::extract::ws::Utf8Bytes;

use crate::chat::{quote, ChatMessage, Edit, MessageType};
use crate::wire::ServerFrame;

/// A replayable line: its id and its `"history": true` frame.
struct Entry {
    id: i64,
    username: String,
    /// Moderation and system notices survive "clear chat".
    is_notice: bool,
    /// The id and author of the line this one answers, while it is quoted.
    quotes: Option<(i64, String)>,
    frame: Utf8Bytes,
}

/// The last `capacity` stored lines, in id order.
pub(crate) struct History {
    entries: VecDeque<Entry>,
    capacity: usize,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        History {
            entries: VecDeque::new(),
            capacity,
        }
    }

    /// Adds a stored line; false if the ring already has it (or it has no
    /// id: join and leave notices are not stored). Ids can arrive out of
    /// order (the chat writer and a moderation notice commit independently),
    /// so this inserts, not appends.
    pub fn remember(&mut self, message: &ChatMessage) -> bool {
        let Some(id) = message.id else {
            return false;
        };
        let pos = match self.entries.binary_search_by_key(&id, |e| e.id) {
            Ok(_) => return false,
            Err(pos) => pos,
        };
        if self.entries.len() >= self.capacity && pos == 0 {
            return true; // older than everything kept: deliver, don't keep
        }
        let frame = ServerFrame::Chat {
            message,
            history: true,
        };
        self.entries.insert(
            pos,
            Entry {
                id,
                username: message.username.clone(),
                is_notice: message.message_type != MessageType::Message,
                quotes: message
                    .reply_to
                    .as_ref()
                    .filter(|r| !r.deleted)
                    .map(|r| (r.id, r.username.clone())),
                frame: Utf8Bytes::from(frame.to_json()),
            },
        );
        while self.entries.len() > self.capacity {
            self.entries.pop_front();
        }
        true
    }

    /// Lines kept at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Forgets deleted lines, and their quotes in replies.
    pub fn delete(&mut self, ids: &[i64]) {
        self.entries.retain(|e| !ids.contains(&e.id));
        self.unquote(|id, _| ids.contains(&id));
    }

    /// Shows line `edit.id` with its new text, and replies quoting it with
    /// the new quote, as history read from the database would.
    pub fn edit(&mut self, edit: &Edit) {
        for entry in &mut self.entries {
            let quoting = entry.quotes.as_ref().is_some_and(|(id, _)| *id == edit.id);
            if entry.id != edit.id && !quoting {
                continue;
            }
            let edited = if entry.id == edit.id {
                edit.applied_to_frame(&entry.frame)
            } else {
                serde_json::from_str::<serde_json::Value>(&entry.frame)
                    .ok()
                    .map(|mut frame| {
                        frame["reply_to"]["message"] = quote(&edit.message).into();
                        frame.to_string()
                    })
            };
            if let Some(frame) = edited {
                entry.frame = Utf8Bytes::from(frame);
            }
        }
    }

    /// Forgets the lines of `username`, or of everyone (and their quotes in
    /// replies); notices stay.
    pub fn clear(&mut self, username: Option<&str>) {
        match username {
            Some(name) => {
                self.entries.retain(|e| e.username != name || e.is_notice);
                self.unquote(|_, author| author == name);
            }
            None => self.entries.retain(|e| e.is_notice),
        }
    }

    /// Replies quoting a line that is `gone(id, author)` stop quoting it,
    /// as history read from the database would show them.
    fn unquote(&mut self, gone: impl Fn(i64, &str) -> bool) {
        for entry in &mut self.entries {
            let Some((id, author)) = &entry.quotes else {
                continue;
            };
            if !gone(*id, author) {
                continue;
            }
            if let Ok(mut frame) = serde_json::from_str::<serde_json::Value>(&entry.frame) {
                frame["reply_to"]["message"] = "".into();
                frame["reply_to"]["deleted"] = true.into();
                entry.frame = Utf8Bytes::from(frame.to_string());
            }
            entry.quotes = None;
        }
    }

    /// Forgets everything (the room missed events and reloads).
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// The frames a joiner is sent, oldest first.
    pub fn frames(&self) -> impl Iterator<Item = &Utf8Bytes> {
        self.entries.iter().map(|e| &e.frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ReplyTo;

    fn line(id: i64, username: &str, message_type: MessageType) -> ChatMessage {
        ChatMessage {
            id: Some(id),
            username: username.into(),
            message: format!("line {id}"),
            message_type,
            timestamp: "2026-12-02T12:00:00Z".into(),
            client_id: None,
            badge: None,
            notice: None,
            mentions: Vec::new(),
            reply_to: None,
            edited_at: None,
        }
    }

    fn ids(history: &History) -> Vec<i64> {
        history
            .frames()
            .map(|f| {
                serde_json::from_str::<serde_json::Value>(f).unwrap()["id"]
                    .as_i64()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn keeps_id_order_and_drops_duplicates() {
        let mut h = History::new(10);
        assert!(h.remember(&line(3, "a", MessageType::Message)));
        assert!(h.remember(&line(1, "a", MessageType::Message)));
        assert!(h.remember(&line(2, "b", MessageType::Moderation)));
        assert!(!h.remember(&line(2, "b", MessageType::Moderation)));
        assert_eq!(ids(&h), vec![1, 2, 3]);
        let first: serde_json::Value = serde_json::from_str(h.frames().next().unwrap()).unwrap();
        assert_eq!(first["history"], true);
        assert_eq!(first["type"], "chat.message");
    }

    #[test]
    fn an_edit_rewrites_the_line_and_the_quotes_of_it() {
        let mut h = History::new(10);
        h.remember(&line(1, "a", MessageType::Message));
        let mut reply = line(2, "b", MessageType::Message);
        reply.reply_to = Some(ReplyTo::of(1, "a".into(), "line 1", false));
        h.remember(&reply);
        h.edit(&Edit {
            id: 1,
            message: "fixed &lt;3".into(),
            edited_at: "2026-12-03T12:00:00Z".into(),
            mentions: vec!["b".into()],
        });
        let frames: Vec<serde_json::Value> = h
            .frames()
            .map(|f| serde_json::from_str(f).unwrap())
            .collect();
        assert_eq!(frames[0]["message"], "fixed &lt;3");
        assert_eq!(frames[0]["edited_at"], "2026-12-03T12:00:00Z");
        assert_eq!(frames[0]["mentions"], serde_json::json!(["b"]));
        assert_eq!(frames[0]["history"], true);
        assert_eq!(frames[1]["reply_to"]["message"], "fixed &lt;3");
        assert_eq!(
            frames[1]["message"], "line 2",
            "the reply itself is unchanged"
        );
    }

    #[test]
    fn unstored_lines_are_not_kept() {
        let mut h = History::new(10);
        let mut join = line(1, "a", MessageType::Join);
        join.id = None;
        assert!(!h.remember(&join));
        assert_eq!(h.frames().count(), 0);
    }

    #[test]
    fn a_full_ring_keeps_the_newest() {
        let mut h = History::new(2);
        for id in [1, 2, 3] {
            assert!(h.remember(&line(id, "a", MessageType::Message)));
        }
        assert_eq!(ids(&h), vec![2, 3]);
        // Older than all kept: still new to the room (delivered), not kept.
        assert!(h.remember(&line(1, "a", MessageType::Message)));
        assert_eq!(ids(&h), vec![2, 3]);
    }

    #[test]
    fn a_deleted_line_is_no_longer_quoted_by_replies() {
        let mut h = History::new(10);
        h.remember(&line(1, "a", MessageType::Message));
        let mut reply = line(2, "b", MessageType::Message);
        reply.reply_to = Some(crate::chat::ReplyTo::of(1, "a".into(), "line 1", false));
        h.remember(&reply);
        h.delete(&[1]);
        let frame: serde_json::Value = serde_json::from_str(h.frames().next().unwrap()).unwrap();
        assert_eq!(
            frame["reply_to"],
            serde_json::json!({"id": 1, "username": "a", "message": "", "deleted": true})
        );
        let mut other = line(3, "b", MessageType::Message);
        other.reply_to = Some(crate::chat::ReplyTo::of(2, "b".into(), "line 2", false));
        h.remember(&line(4, "c", MessageType::Message));
        h.remember(&other);
        h.clear(Some("c"));
        let kept: serde_json::Value = serde_json::from_str(h.frames().last().unwrap()).unwrap();
        assert_eq!(kept["reply_to"]["message"], "line 2");
    }

    #[test]
    fn deletes_and_clears_keep_notices() {
        let mut h = History::new(10);
        h.remember(&line(1, "a", MessageType::Message));
        h.remember(&line(2, "b", MessageType::Message));
        h.remember(&line(3, "a", MessageType::Moderation));
        h.remember(&line(4, "a", MessageType::Message));
        h.delete(&[4]);
        assert_eq!(ids(&h), vec![1, 2, 3]);
        h.clear(Some("a"));
        assert_eq!(ids(&h), vec![2, 3]);
        h.clear(None);
        assert_eq!(ids(&h), vec![3]);
        h.reset();
        assert_eq!(ids(&h), Vec::<i64>::new());
    }
}
