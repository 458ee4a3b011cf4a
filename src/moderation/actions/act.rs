//! The skeleton every moderation action shares once it is authorised:
//! its writes, audit row and notice commit together, and the rooms hear of
//! it only after the commit, so a rollback never reaches a screen.

use serde_json::{json, Value};
use sqlx::PgConnection;

use super::Moderation;
use crate::auth::SessionUser;
use crate::channel_layer::{room_group, tenant_group};
use crate::chat::{BanScope, ChatMessage, Notice, NoticeKey, RoomEvent};
use crate::config::Wording;
use crate::error::AppError;
use crate::moderation::sanitize::sanitize;
use crate::room::event::publish;
use crate::store::audit_log::{self, Action, AuditEntry};
use crate::store::streams::Room;
use crate::store::{notices, StoreError};
use crate::tenant::Tenant;

/// An action's audit row; the actor is filled in by [`Moderation::act`].
pub(super) struct Audit {
    action: Action,
    stream_id: Option<i32>,
    target_user_id: Option<i32>,
    target_message_id: Option<i32>,
    details: Value,
}

impl Audit {
    /// `stream_id` is `None` for tenant-wide actions.
    pub fn new(action: Action, stream_id: impl Into<Option<i32>>) -> Self {
        Self {
            action,
            stream_id: stream_id.into(),
            target_user_id: None,
            target_message_id: None,
            details: json!({}),
        }
    }

    pub fn user(mut self, id: impl Into<Option<i32>>) -> Self {
        self.target_user_id = id.into();
        self
    }

    pub fn message(mut self, id: impl Into<Option<i32>>) -> Self {
        self.target_message_id = id.into();
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    fn by(self, actor: &SessionUser) -> AuditEntry {
        AuditEntry {
            stream_id: self.stream_id,
            actor_id: actor.user_id,
            action: self.action,
            target_user_id: self.target_user_id,
            target_message_id: self.target_message_id,
            details: self.details,
        }
    }
}

/// What the stream's room is told once the action commits: its events, then
/// a chat notice stored with the action.
pub(super) struct Announce {
    room: Room,
    notice: Option<Notice>,
    events: Vec<RoomEvent>,
    /// Bans reach every room of the tenant; the notice stays in this one.
    tenant_wide: bool,
}

impl Announce {
    /// `notice` is worded with the operator's wording when it is stored.
    pub fn new(room: &Room, notice: Notice, events: Vec<RoomEvent>) -> Self {
        Self {
            room: *room,
            notice: Some(notice),
            events,
            tenant_wide: false,
        }
    }

    /// Events without a notice (an approved line speaks for itself).
    pub fn quiet(room: &Room, events: Vec<RoomEvent>) -> Self {
        Self {
            room: *room,
            notice: None,
            events,
            tenant_wide: false,
        }
    }

    /// Sends the events where a ban of `scope` applies.
    pub fn scoped(mut self, scope: BanScope) -> Self {
        self.tenant_wide = scope == BanScope::Tenant;
        self
    }
}

/// `notice` in the operator's wording (`--text-*`), for seed-001 clients and
/// as the stored text; pages word it themselves from the key.
pub(super) fn worded(wording: &Wording, notice: &Notice) -> String {
    let user = notice.arg_str("user").unwrap_or_default();
    let template = match notice.key {
        NoticeKey::Ban => &wording.ban,
        NoticeKey::Timeout => &wording.timeout,
        NoticeKey::Unban => &wording.unban,
        NoticeKey::Delete => &wording.delete,
        NoticeKey::ClearUser => &wording.clear_user,
        NoticeKey::Clear => &wording.clear,
        NoticeKey::Pin => &wording.pin,
        NoticeKey::Unpin => &wording.unpin,
        NoticeKey::SlowOn => &wording.slow_on,
        NoticeKey::SlowOff => &wording.slow_off,
    };
    let duration = notice
        .arg_i64("duration_secs")
        .map(|secs| crate::i18n::duration(crate::i18n::Locale::En, secs))
        .unwrap_or_default();
    let seconds = notice
        .arg_i64("seconds")
        .map(|s| s.to_string())
        .unwrap_or_default();
    template
        .replace("{user}", user)
        .replace("{duration}", &duration)
        .replace("{seconds}", &seconds)
}

/// What an action's writes hand on to the rest of the skeleton.
pub(super) struct Done<T> {
    /// What the caller gets back.
    pub output: T,
    pub audit: Audit,
    /// `None` for actions rooms don't see (moderator lists, blocked terms).
    pub announce: Option<Announce>,
}

impl Moderation {
    /// Runs `write` in a transaction, adds its audit row and notice, commits,
    /// then publishes. An error anywhere before the commit rolls it all back
    /// and publishes nothing.
    pub(super) async fn act<T>(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        write: impl AsyncFnOnce(&mut PgConnection) -> Result<Done<T>, AppError>,
    ) -> Result<T, AppError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let done = write(&mut *tx).await?;
        audit_log::insert(&mut tx, &tenant.schema, done.audit.by(actor)).await?;
        let notice = match done
            .announce
            .as_ref()
            .and_then(|a| Some((a.room.id, a.notice.as_ref()?)))
        {
            Some((room_id, notice)) => Some(self.notice(&mut tx, tenant, room_id, notice).await?),
            None => None,
        };
        tx.commit().await.map_err(StoreError::from)?;
        if let Some(announce) = done.announce {
            self.publish(tenant, announce, notice);
        }
        Ok(done.output)
    }

    async fn notice(
        &self,
        tx: &mut PgConnection,
        tenant: &Tenant,
        room_id: i32,
        notice: &Notice,
    ) -> Result<ChatMessage, AppError> {
        // Operators write the wording; it is treated as user text all the same.
        let text = sanitize(&worded(&self.wording, notice))
            .unwrap_or_else(|_| "A moderator took an action".into());
        Ok(notices::insert(tx, &tenant.schema, room_id, &text, notice).await?)
    }

    fn publish(&self, tenant: &Tenant, announce: Announce, notice: Option<ChatMessage>) {
        let room = room_group(tenant.schema.as_str(), announce.room.stream_id);
        let events_to = if announce.tenant_wide {
            tenant_group(tenant.schema.as_str())
        } else {
            room.clone()
        };
        for event in &announce.events {
            publish(&*self.layer, &events_to, event);
        }
        if let Some(notice) = notice {
            publish(&*self.layer, &room, &RoomEvent::Chat(notice));
        }
    }
}
