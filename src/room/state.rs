//! What a room knows besides its sockets: the history ring, its rules (bans,
//! pin, slow mode) and its recent log for resumes. Loaded from the database
//! when the room starts, then kept current by the room's events.

use axum::extract::ws::Utf8Bytes;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::history::History;
use super::policy::{Ban, Policy};
use super::resume::Recent;
use super::{Attach, Close, CLOSE_BANNED};
use crate::chat::{ChatMessage, RoomEvent, SlowVerdict};
use crate::store::{bans, format_timestamp, messages, pins, room_settings, streams};
use crate::tenant::SchemaName;
use crate::wire::{banned_json, error_json, render, ErrorCode, ServerFrame};

/// Which room's rows to load.
pub(crate) struct Source<'a> {
    pub pool: &'a PgPool,
    pub schema: &'a SchemaName,
    pub room_id: i32,
    pub stream_id: i32,
}

pub(crate) struct RoomState {
    pub history: History,
    pub policy: Policy,
    pub recent: Recent,
    /// The stream ended: sockets are closed with `stream.ended`, none admitted.
    pub ended: bool,
}

impl RoomState {
    pub fn new(history_size: usize) -> Self {
        RoomState {
            history: History::new(history_size),
            policy: Policy::default(),
            recent: Recent::default(),
            ended: false,
        }
    }

    /// Loads history, pin, bans and slow mode. A part that fails to load is
    /// logged and left empty: the room still serves.
    pub async fn load(&mut self, from: &Source<'_>) {
        self.load_history(from).await;
        let (pool, schema) = (from.pool, from.schema);
        match pins::pinned(pool, schema, from.room_id).await {
            Ok(pin) => self.policy.pin(pin),
            Err(err) => tracing::error!(error = %err, "loading pin failed"),
        }
        match bans::banned_users(pool, schema, from.stream_id).await {
            Ok(list) => {
                for (user_id, until) in list {
                    let ban = match until {
                        Some(t) => Ban::Until {
                            text: format_timestamp(t),
                            at: t.assume_utc(),
                        },
                        None => Ban::Permanent,
                    };
                    self.policy.ban(user_id, ban);
                }
            }
            Err(err) => tracing::error!(error = %err, "loading bans failed"),
        }
        // A handshake admitted just before the stream ended may start the
        // room after its end was announced.
        match streams::get(pool, schema, from.stream_id).await {
            Ok(stream) => self.ended = stream.is_none_or(|s| s.status == "ended"),
            Err(err) => tracing::error!(error = %err, "loading the stream's status failed"),
        }
        match room_settings::slow_mode(pool, schema, from.room_id).await {
            Ok(secs) => self.policy.set_slow_mode(secs.into()),
            Err(err) => tracing::error!(error = %err, "loading slow mode failed"),
        }
    }

    /// (Re)loads the history ring.
    pub async fn load_history(&mut self, from: &Source<'_>) {
        let limit = self.history.capacity() as i64;
        match messages::recent(from.pool, from.schema, from.room_id, limit).await {
            Ok(list) => {
                for message in &list {
                    self.history.remember(message);
                }
            }
            // Joiners just get no replay until new messages arrive.
            Err(err) => {
                tracing::error!(room_id = from.room_id, error = %err, "loading history failed")
            }
        }
    }

    /// Queues what a joiner must see before live events: the replay of a
    /// resume (and whether it was served), or history, pin and settings.
    /// Returns the close for a socket that may not stay.
    pub fn welcome(&self, attach: &Attach, now: OffsetDateTime) -> Option<Close> {
        if self.ended {
            return Some(Close::stream_ended());
        }
        let ban = self.policy.ban_of(attach.member.user_id, now);
        if let (Some(ban), false) = (ban, attach.read_only) {
            return Some(banned_close(ban.until(), None)); // banned since the handshake
        }
        let out = &attach.outbox;
        if let Some(resume) = &attach.resume {
            let recovered = self.recent.recover(resume);
            if let Some(frames) = &recovered {
                if !frames.iter().all(|frame| out.send(frame.clone())) {
                    // More missed than a socket may have queued: a partial
                    // replay followed by live events would be a silent gap.
                    return Some(Close::lagging());
                }
            }
            let ok = recovered.is_some();
            out.send(frame(&ServerFrame::Recovered { recovered: ok }));
            if ok {
                return None;
            }
        }
        // The queue is larger than the history (checked in config), so this fits.
        for line in self.history.frames() {
            out.send(line.clone());
        }
        if let Some(message) = self.policy.pinned() {
            let id = message.id.unwrap_or_default();
            out.send(frame(&ServerFrame::Pin { id, message }));
        }
        let slow_mode = self.policy.slow_mode();
        if !slow_mode.is_zero() {
            let slow_mode_seconds = slow_mode.as_secs() as i32;
            out.send(frame(&ServerFrame::Settings { slow_mode_seconds }));
        }
        None
    }

    /// Why `user_id` may not chat at `now`, as the frame that says so
    /// (banned, or slow mode with the wait); `None` records the post.
    /// `verdict` is slow mode as checked across nodes, which, when it was
    /// checked, replaces the room's own timing.
    pub fn refuse_chat(
        &mut self,
        user_id: i32,
        is_moderator: bool,
        verdict: SlowVerdict,
        now: Instant,
    ) -> Option<Utf8Bytes> {
        if let Some(refusal) = self.refuse_banned(user_id) {
            return Some(refusal);
        }
        let wait = match verdict {
            SlowVerdict::Unchecked => self
                .policy
                .slow_mode_admits(user_id, is_moderator, now)
                .err()?,
            SlowVerdict::Cleared => {
                // Kept for when Redis is gone and this room decides alone.
                self.policy.slow_mode_noted(user_id, now);
                return None;
            }
            SlowVerdict::Wait(wait) => wait,
        };
        let ms = wait.as_millis().max(1) as u64;
        let frame = error_json(ErrorCode::SlowMode, "slow mode is on", Some(ms));
        Some(Utf8Bytes::from(frame))
    }

    /// The `banned` frame if `user_id` is banned now (no chat, no reactions).
    pub fn refuse_banned(&self, user_id: i32) -> Option<Utf8Bytes> {
        let ban = self.policy.ban_of(user_id, OffsetDateTime::now_utc())?;
        Some(Utf8Bytes::from(banned_json(ban.until(), None)))
    }

    /// What the sender of a resend gets: the line it sent with `client_id`
    /// as the room broadcast it (same id, offset and timestamp), followed by
    /// its latest edit if it was edited since and its removal if it was
    /// removed since. `None` when the room no longer
    /// has it (the database then decides).
    pub fn resent(&self, username: &str, client_id: &str) -> Option<Vec<Utf8Bytes>> {
        let sent = self.recent.sent(username, client_id)?;
        let mut frames = vec![sent.frame];
        frames.extend(sent.edited);
        if sent.removed {
            frames.push(frame(&ServerFrame::Delete { id: sent.id }));
        }
        Some(frames)
    }

    /// Like [`RoomState::resent`] for a resend the database recognised:
    /// `original` is the stored line, sent without an offset when the room
    /// no longer has its broadcast frame.
    pub fn resent_stored(&self, original: &ChatMessage, deleted: bool) -> Vec<Utf8Bytes> {
        let client_id = original.client_id.as_deref().unwrap_or_default();
        self.resent(&original.username, client_id)
            .unwrap_or_else(|| resent_frames(original, deleted))
    }

    /// Applies an event; returns the client frames it makes. (A ban's
    /// sockets are closed by the actor, which holds them.)
    pub fn apply(&mut self, event: &RoomEvent) -> Vec<String> {
        match event {
            RoomEvent::Pin { message } => self.policy.pin(Some(message.clone())),
            RoomEvent::Unpin { id } => self.policy.unpin(*id),
            RoomEvent::Delete { ids } => {
                self.history.delete(ids);
                if let Some(id) = self.policy.deleted(ids) {
                    let mut frames = vec![ServerFrame::Unpin { id }.to_json()];
                    frames.extend(render(event));
                    return frames;
                }
            }
            RoomEvent::Edit(edit) => {
                self.history.edit(edit);
                self.policy.edited(edit);
            }
            RoomEvent::Clear { username } => {
                self.history.clear(username.as_deref());
                self.policy.cleared(username.as_deref());
            }
            RoomEvent::Ban { user_id, until, .. } => {
                self.policy.ban(*user_id, Ban::ending(until.as_deref()))
            }
            RoomEvent::Unban { user_id } => self.policy.unban(*user_id),
            RoomEvent::Settings { slow_mode_seconds } => {
                self.policy.set_slow_mode((*slow_mode_seconds).into())
            }
            RoomEvent::Chat(_)
            | RoomEvent::Reaction(_)
            | RoomEvent::ReactionBurst { .. }
            | RoomEvent::Held { .. }
            | RoomEvent::Denied { .. } => {}
        }
        render(event)
    }
}

pub(crate) fn frame(frame: &ServerFrame<'_>) -> Utf8Bytes {
    Utf8Bytes::from(frame.to_json())
}

/// A resent line as stored, without an offset: the line, then its removal
/// if it was `deleted`.
pub(crate) fn resent_frames(original: &ChatMessage, deleted: bool) -> Vec<Utf8Bytes> {
    let mut frames = vec![frame(&ServerFrame::Chat {
        message: original,
        history: false,
    })];
    if let (true, Some(id)) = (deleted, original.id) {
        frames.push(frame(&ServerFrame::Delete { id }));
    }
    frames
}

/// The close of a banned user's sockets: the `banned` frame, then 4403.
pub(crate) fn banned_close(until: Option<&str>, reason: Option<&str>) -> Close {
    Close {
        code: CLOSE_BANNED,
        reason: "banned",
        frame: Some(Utf8Bytes::from(banned_json(until, reason))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::channel_layer::Replay;
    use crate::chat::{ChatMessage, MessageType};
    use crate::room::outbox::{Outbox, Work};
    use crate::room::{Member, Resume};

    fn line(id: i64) -> ChatMessage {
        ChatMessage {
            id: Some(id),
            username: "alice".into(),
            message: format!("line {id}"),
            message_type: MessageType::Message,
            timestamp: "2026-12-02T12:00:00Z".into(),
            client_id: None,
            badge: None,
            notice: None,
            mentions: Vec::new(),
            reply_to: None,
            edited_at: None,
        }
    }

    fn attach(user_id: i32, resume: Option<Resume>) -> Attach {
        Attach {
            member: Member {
                user_id,
                username: "bob".into(),
                badge: None,
            },
            is_moderator: false,
            read_only: false,
            outbox: Arc::new(Outbox::new(64)),
            position: Arc::default(),
            resume: resume.map(Arc::new),
        }
    }

    /// Everything queued for the socket, as `type`s.
    async fn queued(attach: &Attach) -> Vec<String> {
        let mut out = Vec::new();
        let work = attach.outbox.work(|| false, &mut out, 100).await;
        assert!(matches!(work, Work::Direct));
        out.iter()
            .map(|f| {
                let v: Value = serde_json::from_str(f).unwrap();
                v["type"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    fn state() -> RoomState {
        let mut state = RoomState::new(10);
        for id in 1..=2 {
            state.history.remember(&line(id));
        }
        state.apply(&RoomEvent::Pin { message: line(2) });
        state.apply(&RoomEvent::Settings {
            slow_mode_seconds: 5,
        });
        state
    }

    #[tokio::test]
    async fn a_joiner_gets_history_then_pin_then_settings() {
        let state = state();
        let joiner = attach(7, None);
        assert!(state.welcome(&joiner, OffsetDateTime::now_utc()).is_none());
        assert_eq!(
            queued(&joiner).await,
            ["chat.message", "chat.message", "chat.pin", "chat.settings"]
        );
    }

    #[tokio::test]
    async fn a_resume_that_cannot_be_served_falls_back_to_history() {
        let state = state();
        let joiner = attach(
            7,
            Some(Resume {
                epoch: "e1".into(),
                since: 3,
                replay: Replay::Gap,
            }),
        );
        assert!(state.welcome(&joiner, OffsetDateTime::now_utc()).is_none());
        assert_eq!(
            queued(&joiner).await,
            [
                "recovered",
                "chat.message",
                "chat.message",
                "chat.pin",
                "chat.settings"
            ]
        );
    }

    #[test]
    fn a_banned_joiner_is_closed_and_a_deleted_pin_is_unpinned() {
        let mut state = state();
        state.apply(&RoomEvent::Ban {
            user_id: 7,
            until: None,
            reason: None,
        });
        let close = state.welcome(&attach(7, None), OffsetDateTime::now_utc());
        assert_eq!(close.map(|c| c.code), Some(CLOSE_BANNED));
        // A read-only socket of a banned user stays.
        let reader = Attach {
            read_only: true,
            ..attach(7, None)
        };
        assert!(state.welcome(&reader, OffsetDateTime::now_utc()).is_none());
        let frames = state.apply(&RoomEvent::Delete { ids: vec![2] });
        let types: Vec<Value> = frames
            .iter()
            .map(|f| serde_json::from_str(f).unwrap())
            .collect();
        assert_eq!(types[0]["type"], "chat.unpin");
        assert_eq!(types[1]["type"], "chat.delete");
        assert!(state.policy.pinned().is_none());
    }
}
