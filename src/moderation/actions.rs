//! Moderators' actions, shared by the WebSocket and the REST API.
//!
//! Each action checks the actor's rank on the stream (server-side, every
//! time), writes its changes, its audit entry and its chat notice in one
//! transaction, and only after the commit publishes the events that make
//! every node's room apply it. Rooms never wait on any of this.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use super::blocked_terms::{validate_term, BlockedTerms};
use super::permissions::{can_moderate_tenant, Rank};
use super::sanitize::sanitize;
use crate::auth::SessionUser;
use crate::channel_layer::{room_group, tenant_group, ChannelLayer};
use crate::chat::RoomEvent;
use crate::chat::{BanScope, ChatMessage};
use crate::config::Wording;
use crate::error::AppError;
use crate::room::event::publish;
use crate::store::moderation::{self as store, AuditEntry, Ban, BlockedTerm, LogEntry};
use crate::store::streams::{self, Room};
use crate::store::users;
use crate::tenant::Tenant;

/// Longest timeout: 14 days.
pub const MAX_TIMEOUT_SECS: i64 = 14 * 24 * 3600;
/// Longest ban reason.
pub const MAX_REASON_CHARS: usize = 500;

/// A ban or timeout request.
#[derive(Debug, Clone)]
pub struct BanRequest {
    pub username: String,
    /// `None` bans permanently; otherwise a timeout of 1 s … 14 days.
    pub duration_secs: Option<i64>,
    pub reason: Option<String>,
    pub scope: BanScope,
}

/// Carries out moderation actions. Cheap to clone.
#[derive(Clone)]
pub struct Moderation {
    pool: PgPool,
    layer: Arc<dyn ChannelLayer>,
    wording: Arc<Wording>,
    pub blocked: BlockedTerms,
}

/// The stream an action is about and the actor's rank on it.
struct Scope {
    room: Room,
    rank: Rank,
}

impl Moderation {
    pub fn new(pool: PgPool, layer: Arc<dyn ChannelLayer>, wording: Wording) -> Self {
        Self {
            blocked: BlockedTerms::new(pool.clone()),
            pool,
            layer,
            wording: Arc::new(wording),
        }
    }

    /// The actor's rank on `stream_id`: 404 if the stream is unknown.
    pub async fn rank(
        &self,
        tenant: &Tenant,
        stream_id: i32,
        user_id: i32,
    ) -> Result<Rank, AppError> {
        store::standing(&self.pool, &tenant.schema, stream_id, user_id)
            .await?
            .map(|s| Rank::of(&s))
            .ok_or_else(|| AppError::NotFound(format!("no stream {stream_id}")))
    }

    async fn authorize(
        &self,
        tenant: &Tenant,
        stream_id: i32,
        actor: &SessionUser,
    ) -> Result<Scope, AppError> {
        let rank = self.rank(tenant, stream_id, actor.user_id).await?;
        if !rank.can_moderate() {
            return Err(AppError::Forbidden(
                "you cannot moderate this stream".into(),
            ));
        }
        let room = streams::room(&self.pool, &tenant.schema, stream_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no chat room for stream {stream_id}")))?;
        Ok(Scope { room, rank })
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
        Ok(self
            .pool
            .begin()
            .await
            .map_err(crate::store::StoreError::from)?)
    }

    /// Bans and unbans go to the stream's room, or to every room of the tenant.
    fn publish_scoped(&self, tenant: &Tenant, stream_id: i32, scope: BanScope, event: RoomEvent) {
        match scope {
            BanScope::Stream => self.publish(tenant, stream_id, &[event]),
            BanScope::Tenant => {
                publish(&*self.layer, &tenant_group(tenant.schema.as_str()), &event)
            }
        }
    }

    fn publish(&self, tenant: &Tenant, stream_id: i32, events: &[RoomEvent]) {
        let group = room_group(tenant.schema.as_str(), stream_id);
        for event in events {
            publish(&*self.layer, &group, event);
        }
    }

    async fn notice(
        &self,
        tx: &mut sqlx::PgConnection,
        tenant: &Tenant,
        room_id: i32,
        text: String,
    ) -> Result<ChatMessage, AppError> {
        // Operators write the wording; it is treated as user text all the same.
        let text = sanitize(&text).unwrap_or_else(|_| "A moderator took an action".into());
        Ok(store::insert_notice(tx, &tenant.schema, room_id, &text).await?)
    }

    /// Pins a visible message of the stream's room (replacing any pin).
    pub async fn pin(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        message_id: i64,
    ) -> Result<ChatMessage, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let id =
            i32::try_from(message_id).map_err(|_| AppError::NotFound("no such message".into()))?;
        let mut tx = self.begin().await?;
        let message = store::visible_message(&mut tx, &tenant.schema, scope.room.id, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no message {id} in this chat")))?;
        let previous = store::unpin_all(&mut tx, &tenant.schema, scope.room.id).await?;
        store::pin(&mut tx, &tenant.schema, id).await?;
        self.audit(
            &mut tx,
            tenant,
            Some(stream_id),
            actor,
            "pin",
            None,
            Some(id),
            json!({}),
        )
        .await?;
        let notice = self
            .notice(&mut tx, tenant, scope.room.id, self.wording.pin.clone())
            .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        let mut events: Vec<RoomEvent> = previous
            .into_iter()
            .filter(|p| *p != id)
            .map(|p| RoomEvent::Unpin { id: i64::from(p) })
            .collect();
        events.push(RoomEvent::Pin {
            message: message.clone(),
        });
        events.push(RoomEvent::Chat(notice));
        self.publish(tenant, stream_id, &events);
        Ok(message)
    }

    /// Unpins the stream's pinned message; `NotFound` if none is pinned.
    pub async fn unpin(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<(), AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let mut tx = self.begin().await?;
        let previous = store::unpin_all(&mut tx, &tenant.schema, scope.room.id).await?;
        if previous.is_empty() {
            return Err(AppError::NotFound("nothing is pinned".into()));
        }
        self.audit(
            &mut tx,
            tenant,
            Some(stream_id),
            actor,
            "unpin",
            None,
            previous.first().copied(),
            json!({}),
        )
        .await?;
        let notice = self
            .notice(&mut tx, tenant, scope.room.id, self.wording.unpin.clone())
            .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        let mut events: Vec<RoomEvent> = previous
            .into_iter()
            .map(|id| RoomEvent::Unpin { id: i64::from(id) })
            .collect();
        events.push(RoomEvent::Chat(notice));
        self.publish(tenant, stream_id, &events);
        Ok(())
    }

    /// Deletes one message, wherever it is (REST `DELETE /api/messages/{id}`).
    pub async fn delete_message(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        message_id: i64,
    ) -> Result<(), AppError> {
        let not_found = || AppError::NotFound(format!("no message {message_id}"));
        let id = i32::try_from(message_id).map_err(|_| not_found())?;
        let (_, stream_id, _) = store::message_room(&self.pool, &tenant.schema, id)
            .await?
            .ok_or_else(not_found)?;
        self.delete_in_stream(tenant, actor, stream_id, message_id)
            .await
    }

    /// Deletes one message of the stream's room.
    pub async fn delete_in_stream(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        message_id: i64,
    ) -> Result<(), AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let not_found = || AppError::NotFound(format!("no message {message_id} in this chat"));
        let id = i32::try_from(message_id).map_err(|_| not_found())?;
        let mut tx = self.begin().await?;
        let (ids, _) =
            store::soft_delete(&mut tx, &tenant.schema, scope.room.id, Some(id), None).await?;
        if ids.is_empty() {
            return Err(not_found());
        }
        self.audit(
            &mut tx,
            tenant,
            Some(stream_id),
            actor,
            "delete",
            None,
            Some(id),
            json!({}),
        )
        .await?;
        let notice = self
            .notice(&mut tx, tenant, scope.room.id, self.wording.delete.clone())
            .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        self.publish(
            tenant,
            stream_id,
            &[
                RoomEvent::Delete {
                    ids: ids.into_iter().map(i64::from).collect(),
                },
                RoomEvent::Chat(notice),
            ],
        );
        Ok(())
    }

    /// Removes all messages of `username` in the room, or all messages.
    /// Returns how many were removed.
    pub async fn clear(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        username: Option<&str>,
    ) -> Result<usize, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let target = match username {
            Some(name) => Some(users::id_by_name(&self.pool, &tenant.schema, name).await?),
            None => None,
        };
        let mut tx = self.begin().await?;
        let (ids, _) =
            store::soft_delete(&mut tx, &tenant.schema, scope.room.id, None, target).await?;
        let (action, text) = match username {
            Some(name) => (
                "clear_user",
                self.wording.clear_user.replace("{user}", name),
            ),
            None => ("clear", self.wording.clear.clone()),
        };
        self.audit(
            &mut tx,
            tenant,
            Some(stream_id),
            actor,
            action,
            target,
            None,
            json!({"removed": ids.len()}),
        )
        .await?;
        let notice = self.notice(&mut tx, tenant, scope.room.id, text).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        let clear = RoomEvent::Clear {
            username: username.map(str::to_owned),
        };
        self.publish(tenant, stream_id, &[clear, RoomEvent::Chat(notice)]);
        Ok(ids.len())
    }

    /// Bans or times out a user on the stream or tenant-wide.
    pub async fn ban(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        request: BanRequest,
    ) -> Result<Ban, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        if let Some(secs) = request.duration_secs {
            if !(1..=MAX_TIMEOUT_SECS).contains(&secs) {
                return Err(AppError::Unprocessable(format!(
                    "duration_secs must be 1-{MAX_TIMEOUT_SECS} (14 days); omit it for a permanent ban"
                )));
            }
        }
        let reason = request.reason.as_deref().map(str::trim).unwrap_or_default();
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(AppError::Unprocessable(format!(
                "reason must be at most {MAX_REASON_CHARS} characters"
            )));
        }
        let reason = if reason.is_empty() {
            String::new()
        } else {
            sanitize(reason).unwrap_or_default()
        };
        if request.scope == BanScope::Tenant && !can_moderate_tenant(actor.role) {
            return Err(AppError::Forbidden(
                "only admins can ban tenant-wide".into(),
            ));
        }
        let target_id = users::id_by_name(&self.pool, &tenant.schema, &request.username).await?;
        if target_id == actor.user_id {
            return Err(AppError::Unprocessable("you cannot ban yourself".into()));
        }
        let target_rank = self.rank(tenant, stream_id, target_id).await?;
        if !scope.rank.can_ban(target_rank) {
            return Err(AppError::Forbidden(
                "you cannot ban or time out the stream's owner, an admin or a fellow moderator"
                    .into(),
            ));
        }
        let stream_scope = (request.scope == BanScope::Stream).then_some(stream_id);
        let mut tx = self.begin().await?;
        let ban = store::insert_ban(
            &mut tx,
            &tenant.schema,
            target_id,
            stream_scope,
            &reason,
            actor.user_id,
            request.duration_secs,
        )
        .await?;
        let (action, text) = match request.duration_secs {
            Some(secs) => (
                "timeout",
                self.wording
                    .timeout
                    .replace("{user}", &ban.username)
                    .replace("{duration}", &human_duration(secs)),
            ),
            None => ("ban", self.wording.ban.replace("{user}", &ban.username)),
        };
        let details = json!({
            "reason": reason,
            "duration_secs": request.duration_secs,
            "scope": request.scope,
            "expires_at": ban.expires_at,
        });
        self.audit(
            &mut tx,
            tenant,
            stream_scope,
            actor,
            action,
            Some(target_id),
            None,
            details,
        )
        .await?;
        let notice = self.notice(&mut tx, tenant, scope.room.id, text).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        let event = RoomEvent::Ban {
            user_id: target_id,
            until: ban.expires_at.clone(),
        };
        self.publish_scoped(tenant, stream_id, request.scope, event);
        self.publish(tenant, stream_id, &[RoomEvent::Chat(notice)]);
        Ok(ban)
    }

    /// Lifts `username`'s active bans of the given scope.
    pub async fn unban(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        username: &str,
        ban_scope: BanScope,
    ) -> Result<(), AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        if ban_scope == BanScope::Tenant && !can_moderate_tenant(actor.role) {
            return Err(AppError::Forbidden(
                "only admins can lift tenant-wide bans".into(),
            ));
        }
        let target_id = users::id_by_name(&self.pool, &tenant.schema, username).await?;
        let stream_scope = (ban_scope == BanScope::Stream).then_some(stream_id);
        let mut tx = self.begin().await?;
        let lifted = store::lift_bans(
            &mut tx,
            &tenant.schema,
            target_id,
            stream_scope,
            actor.user_id,
        )
        .await?;
        if lifted == 0 {
            return Err(AppError::NotFound(format!(
                "{username} has no active ban here"
            )));
        }
        let details = json!({ "scope": ban_scope });
        self.audit(
            &mut tx,
            tenant,
            stream_scope,
            actor,
            "unban",
            Some(target_id),
            None,
            details,
        )
        .await?;
        let text = self.wording.unban.replace("{user}", username);
        let notice = self.notice(&mut tx, tenant, scope.room.id, text).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        let event = RoomEvent::Unban { user_id: target_id };
        self.publish_scoped(tenant, stream_id, ban_scope, event);
        self.publish(tenant, stream_id, &[RoomEvent::Chat(notice)]);
        Ok(())
    }

    /// Active bans affecting the stream (moderators only).
    pub async fn bans(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<Vec<Ban>, AppError> {
        self.authorize(tenant, stream_id, actor).await?;
        Ok(store::active_bans(&self.pool, &tenant.schema, stream_id).await?)
    }

    /// Sets slow mode: 0 turns it off, otherwise 3–120 s.
    pub async fn set_slow_mode(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        seconds: i64,
    ) -> Result<i32, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        if !(seconds == 0 || (3..=120).contains(&seconds)) {
            return Err(AppError::Unprocessable(
                "slow_mode_seconds must be 0 (off) or 3-120".into(),
            ));
        }
        let seconds = seconds as i32;
        let mut tx = self.begin().await?;
        store::set_slow_mode(&mut tx, &tenant.schema, scope.room.id, seconds).await?;
        let details = json!({ "slow_mode_seconds": seconds });
        self.audit(
            &mut tx,
            tenant,
            Some(stream_id),
            actor,
            "slow_mode",
            None,
            None,
            details,
        )
        .await?;
        let text = if seconds == 0 {
            self.wording.slow_off.clone()
        } else {
            self.wording
                .slow_on
                .replace("{seconds}", &seconds.to_string())
        };
        let notice = self.notice(&mut tx, tenant, scope.room.id, text).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        self.publish(
            tenant,
            stream_id,
            &[
                RoomEvent::Settings {
                    slow_mode_seconds: seconds,
                },
                RoomEvent::Chat(notice),
            ],
        );
        Ok(seconds)
    }

    /// Appoints a stream moderator (owner or admin only).
    pub async fn appoint(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        username: &str,
    ) -> Result<(), AppError> {
        self.set_moderator(tenant, actor, stream_id, username, true)
            .await
    }

    /// Removes a stream moderator (owner or admin only).
    pub async fn dismiss(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        username: &str,
    ) -> Result<(), AppError> {
        self.set_moderator(tenant, actor, stream_id, username, false)
            .await
    }

    async fn set_moderator(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        username: &str,
        appoint: bool,
    ) -> Result<(), AppError> {
        if !self
            .rank(tenant, stream_id, actor.user_id)
            .await?
            .can_appoint()
        {
            return Err(AppError::Forbidden(
                "only the stream's owner or an admin can appoint or remove moderators".into(),
            ));
        }
        let target = users::id_by_name(&self.pool, &tenant.schema, username).await?;
        let mut tx = self.begin().await?;
        let action = if appoint {
            store::add_stream_moderator(&mut tx, &tenant.schema, stream_id, target, actor.user_id)
                .await?;
            "add_moderator"
        } else {
            store::remove_stream_moderator(&mut tx, &tenant.schema, stream_id, target).await?;
            "remove_moderator"
        };
        self.audit(
            &mut tx,
            tenant,
            Some(stream_id),
            actor,
            action,
            Some(target),
            None,
            json!({}),
        )
        .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        Ok(())
    }

    /// The stream's appointed moderators (moderators only).
    pub async fn moderators(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<Vec<String>, AppError> {
        self.authorize(tenant, stream_id, actor).await?;
        Ok(store::stream_moderators(&self.pool, &tenant.schema, stream_id).await?)
    }

    /// The newest audit entries of a stream (moderators only).
    pub async fn log(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<Vec<LogEntry>, AppError> {
        self.authorize(tenant, stream_id, actor).await?;
        Ok(store::log(&self.pool, &tenant.schema, stream_id, 200).await?)
    }

    fn require_term_admin(actor: &SessionUser) -> Result<(), AppError> {
        if can_moderate_tenant(actor.role) || actor.role == crate::auth::Role::Moderator {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only admins and moderators manage blocked terms".into(),
            ))
        }
    }

    pub async fn list_terms(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
    ) -> Result<Vec<BlockedTerm>, AppError> {
        Self::require_term_admin(actor)?;
        Ok(store::blocked_terms(&self.pool, &tenant.schema)
            .await?
            .into_iter()
            .map(|(term, _)| term)
            .collect())
    }

    pub async fn add_term(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        term: &str,
    ) -> Result<BlockedTerm, AppError> {
        Self::require_term_admin(actor)?;
        let normalized = validate_term(term).map_err(AppError::Unprocessable)?;
        let mut tx = self.begin().await?;
        let added = store::add_blocked_term(
            &mut tx,
            &tenant.schema,
            term.trim(),
            &normalized,
            actor.user_id,
        )
        .await?;
        self.audit(
            &mut tx,
            tenant,
            None,
            actor,
            "block_term",
            None,
            None,
            json!({ "term_id": added.id }),
        )
        .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        self.blocked.invalidate(tenant.id);
        Ok(added)
    }

    pub async fn remove_term(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        id: i32,
    ) -> Result<(), AppError> {
        Self::require_term_admin(actor)?;
        let mut tx = self.begin().await?;
        store::remove_blocked_term(&mut tx, &tenant.schema, id).await?;
        self.audit(
            &mut tx,
            tenant,
            None,
            actor,
            "unblock_term",
            None,
            None,
            json!({ "term_id": id }),
        )
        .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        self.blocked.invalidate(tenant.id);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        tx: &mut sqlx::PgConnection,
        tenant: &Tenant,
        stream_id: Option<i32>,
        actor: &SessionUser,
        action: &str,
        target_user_id: Option<i32>,
        target_message_id: Option<i32>,
        details: serde_json::Value,
    ) -> Result<(), AppError> {
        store::audit(
            tx,
            &tenant.schema,
            AuditEntry {
                stream_id,
                actor_id: actor.user_id,
                action,
                target_user_id,
                target_message_id,
                details,
            },
        )
        .await?;
        Ok(())
    }
}

/// `600` → `10 minutes`, for notices.
pub fn human_duration(secs: i64) -> String {
    let (n, unit) = if secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else if secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// What REST returns for a pin.
#[derive(Serialize)]
pub struct Pinned {
    pub pinned: ChatMessage,
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_well() {
        assert_eq!(super::human_duration(600), "10 minutes");
        assert_eq!(super::human_duration(1), "1 second");
        assert_eq!(super::human_duration(86_400 * 14), "14 days");
        assert_eq!(super::human_duration(3600), "1 hour");
        assert_eq!(super::human_duration(90), "90 seconds");
    }
}
