//! A room's rules: who is banned until when, the pinned line, and slow mode.
//! Pure state; the actor asks it and applies the answers.

use std::collections::HashMap;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::chat::{ChatMessage, Edit};

/// How long a ban lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ban {
    Permanent,
    /// A timeout: as sent to clients (RFC 3339), and as checked.
    Until {
        text: String,
        at: OffsetDateTime,
    },
}

impl Ban {
    /// A ban ending at `until` (RFC 3339), permanent when `None`. An end
    /// that does not parse is treated as permanent: a ban must not vanish.
    pub fn ending(until: Option<&str>) -> Ban {
        match until.and_then(|u| OffsetDateTime::parse(u, &Rfc3339).ok().map(|at| (u, at))) {
            Some((text, at)) => Ban::Until {
                text: text.to_owned(),
                at,
            },
            None => Ban::Permanent,
        }
    }

    /// The end as sent to clients; `None` for a permanent ban.
    pub fn until(&self) -> Option<&str> {
        match self {
            Ban::Permanent => None,
            Ban::Until { text, .. } => Some(text),
        }
    }

    fn is_active(&self, now: OffsetDateTime) -> bool {
        match self {
            Ban::Permanent => true,
            Ban::Until { at, .. } => *at > now,
        }
    }
}

/// Bans, pin and slow mode of one room.
#[derive(Default)]
pub(crate) struct Policy {
    bans: HashMap<i32, Ban>,
    pinned: Option<ChatMessage>,
    slow_mode: Duration,
    /// When each user last had a message accepted, for slow mode.
    last_message: HashMap<i32, Instant>,
}

impl Policy {
    /// The ban keeping `user_id` out at `now`; a timeout that has run out
    /// no longer counts.
    pub fn ban_of(&self, user_id: i32, now: OffsetDateTime) -> Option<&Ban> {
        self.bans.get(&user_id).filter(|ban| ban.is_active(now))
    }

    pub fn ban(&mut self, user_id: i32, ban: Ban) {
        self.bans.insert(user_id, ban);
    }

    pub fn unban(&mut self, user_id: i32) {
        self.bans.remove(&user_id);
    }

    pub fn pinned(&self) -> Option<&ChatMessage> {
        self.pinned.as_ref()
    }

    pub fn pin(&mut self, message: Option<ChatMessage>) {
        self.pinned = message;
    }

    fn pinned_id(&self) -> Option<i64> {
        self.pinned.as_ref().and_then(|p| p.id)
    }

    /// Unpins `id` if it is the pinned line.
    pub fn unpin(&mut self, id: i64) {
        if self.pinned_id() == Some(id) {
            self.pinned = None;
        }
    }

    /// Lines were deleted: returns the pinned id if it was one of them (and
    /// is no longer pinned).
    pub fn deleted(&mut self, ids: &[i64]) -> Option<i64> {
        let id = self.pinned_id().filter(|id| ids.contains(id))?;
        self.pinned = None;
        Some(id)
    }

    /// Line `edit.id` was edited: the pinned copy shows the new text.
    pub fn edited(&mut self, edit: &Edit) {
        if let Some(pin) = self.pinned.as_mut().filter(|p| p.id == Some(edit.id)) {
            edit.applied_to(pin);
        }
    }

    /// The lines of `username` (or all) were cleared: a pin among them goes too.
    pub fn cleared(&mut self, username: Option<&str>) {
        let hit = self
            .pinned
            .as_ref()
            .is_some_and(|pin| username.is_none_or(|name| name == pin.username));
        if hit {
            self.pinned = None;
        }
    }

    pub fn slow_mode(&self) -> Duration {
        self.slow_mode
    }

    pub fn set_slow_mode(&mut self, seconds: i64) {
        self.slow_mode = Duration::from_secs(seconds.max(0) as u64);
    }

    /// Whether `user_id` may post at `now` under slow mode; records the post
    /// when so, or answers how long to wait. Moderators are exempt.
    pub fn slow_mode_admits(
        &mut self,
        user_id: i32,
        is_moderator: bool,
        now: Instant,
    ) -> Result<(), Duration> {
        if is_moderator || self.slow_mode.is_zero() {
            return Ok(());
        }
        if let Some(last) = self.last_message.get(&user_id) {
            let ready = *last + self.slow_mode;
            if ready > now {
                return Err(ready - now);
            }
        }
        self.last_message.insert(user_id, now);
        Ok(())
    }

    /// Records a post admitted by the check across nodes.
    pub fn slow_mode_noted(&mut self, user_id: i32, now: Instant) {
        if !self.slow_mode.is_zero() {
            self.last_message.insert(user_id, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::chat::MessageType;

    fn line(id: i64, username: &str) -> ChatMessage {
        ChatMessage {
            id: Some(id),
            username: username.into(),
            message: "hi".into(),
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

    #[test]
    fn timeouts_end_and_permanent_bans_do_not() {
        let mut p = Policy::default();
        let noon = datetime!(2026-12-02 12:00 UTC);
        p.ban(1, Ban::ending(Some("2026-12-02T12:10:00Z")));
        p.ban(2, Ban::ending(None));
        assert_eq!(
            p.ban_of(1, noon).and_then(Ban::until),
            Some("2026-12-02T12:10:00Z")
        );
        assert!(p.ban_of(1, datetime!(2026-12-02 12:10 UTC)).is_none());
        assert_eq!(
            p.ban_of(2, datetime!(2099-01-01 0:00 UTC)),
            Some(&Ban::Permanent)
        );
        assert!(p.ban_of(3, noon).is_none());
        p.unban(2);
        assert!(p.ban_of(2, noon).is_none());
        // An unreadable end must not lift the ban.
        assert_eq!(Ban::ending(Some("soon")), Ban::Permanent);
    }

    #[test]
    fn the_pin_goes_with_its_line() {
        let mut p = Policy::default();
        p.pin(Some(line(5, "alice")));
        p.unpin(4);
        assert_eq!(p.pinned().and_then(|m| m.id), Some(5));
        assert_eq!(p.deleted(&[1, 2]), None);
        assert_eq!(p.deleted(&[5]), Some(5));
        assert!(p.pinned().is_none());
        p.pin(Some(line(6, "alice")));
        p.cleared(Some("bob"));
        assert!(p.pinned().is_some());
        p.cleared(Some("alice"));
        assert!(p.pinned().is_none());
        p.pin(Some(line(7, "carol")));
        p.cleared(None);
        assert!(p.pinned().is_none());
    }

    #[test]
    fn slow_mode_spaces_each_users_posts() {
        let mut p = Policy::default();
        let t0 = Instant::now();
        assert_eq!(p.slow_mode_admits(1, false, t0), Ok(()));
        assert_eq!(p.slow_mode_admits(1, false, t0), Ok(()), "off by default");
        p.set_slow_mode(10);
        assert_eq!(p.slow_mode_admits(1, false, t0), Ok(()));
        let later = t0 + Duration::from_secs(4);
        assert_eq!(
            p.slow_mode_admits(1, false, later),
            Err(Duration::from_secs(6))
        );
        assert_eq!(p.slow_mode_admits(2, false, later), Ok(()), "per user");
        assert_eq!(p.slow_mode_admits(1, true, later), Ok(()), "moderators");
        assert_eq!(
            p.slow_mode_admits(1, false, t0 + Duration::from_secs(10)),
            Ok(())
        );
        p.set_slow_mode(-5);
        assert!(p.slow_mode().is_zero());
    }
}
