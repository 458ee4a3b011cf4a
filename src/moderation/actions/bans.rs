//! Bans and timeouts, on one stream or tenant-wide. A moderator may only act
//! against users ranked below them, and only admins reach the whole tenant.
//! The user is told through a personal notification (`notify_target`).

use serde_json::json;

use super::act::{Announce, Audit, Done};
use super::notify_target::Outcome;
use super::Moderation;
use crate::auth::SessionUser;
use crate::chat::{BanScope, Notice, NoticeKey, RoomEvent};
use crate::error::AppError;
use crate::moderation::permissions::can_moderate_tenant;
use crate::moderation::sanitize::sanitize;
use crate::store::audit_log::Action;
use crate::store::bans::{self, Ban};
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

impl BanRequest {
    /// Checks the duration and the reason; returns the reason as stored:
    /// trimmed and sanitised, empty when absent.
    fn check(&self) -> Result<String, AppError> {
        if let Some(secs) = self.duration_secs {
            if !(1..=MAX_TIMEOUT_SECS).contains(&secs) {
                return Err(AppError::Unprocessable(format!(
                    "duration_secs must be 1-{MAX_TIMEOUT_SECS} (14 days); omit it for a permanent ban"
                )));
            }
        }
        let reason = self.reason.as_deref().map(str::trim).unwrap_or_default();
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(AppError::Unprocessable(format!(
                "reason must be at most {MAX_REASON_CHARS} characters"
            )));
        }
        Ok(if reason.is_empty() {
            String::new()
        } else {
            sanitize(reason).unwrap_or_default()
        })
    }
}

/// Tenant-wide bans are for admins; `doing` names the refused act.
fn check_tenant_scope(actor: &SessionUser, scope: BanScope, doing: &str) -> Result<(), AppError> {
    if scope == BanScope::Tenant && !can_moderate_tenant(actor.role) {
        return Err(AppError::Forbidden(format!("only admins can {doing}")));
    }
    Ok(())
}

impl Moderation {
    /// Bans or times out a user on the stream or tenant-wide.
    pub async fn ban(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        request: BanRequest,
    ) -> Result<Ban, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let reason = request.check()?;
        check_tenant_scope(actor, request.scope, "ban tenant-wide")?;
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
        let (schema, room) = (&tenant.schema, &scope.room);
        let outcome = match request.duration_secs {
            Some(secs) => Outcome::Timeout { secs },
            None => Outcome::Ban,
        };
        let typed_reason = request.reason.as_deref().unwrap_or_default();
        self.act(tenant, actor, async |tx| {
            let ban = bans::insert(
                tx,
                schema,
                target_id,
                stream_scope,
                &reason,
                actor.user_id,
                request.duration_secs,
            )
            .await?;
            let (action, notice) = match request.duration_secs {
                Some(secs) => (
                    Action::Timeout,
                    Notice::of(NoticeKey::Timeout)
                        .with("user", ban.username.as_str())
                        .with("duration_secs", secs),
                ),
                None => (
                    Action::Ban,
                    Notice::of(NoticeKey::Ban).with("user", ban.username.as_str()),
                ),
            };
            let details = json!({
                "reason": reason,
                "duration_secs": request.duration_secs,
                "scope": request.scope,
                "expires_at": ban.expires_at,
            });
            let banned = RoomEvent::Ban {
                user_id: target_id,
                until: ban.expires_at.clone(),
                reason: (!reason.is_empty()).then(|| reason.clone()),
            };
            Ok(Done {
                output: ban,
                audit: Audit::new(action, stream_scope)
                    .user(target_id)
                    .details(details),
                announce: Some(Announce::new(room, notice, vec![banned]).scoped(request.scope)),
            })
        })
        .await
        .inspect(|_| {
            let scope = request.scope;
            self.tell_target(tenant, target_id, outcome, scope, stream_id, typed_reason);
        })
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
        check_tenant_scope(actor, ban_scope, "lift tenant-wide bans")?;
        let target_id = users::id_by_name(&self.pool, &tenant.schema, username).await?;
        let stream_scope = (ban_scope == BanScope::Stream).then_some(stream_id);
        let (schema, room) = (&tenant.schema, &scope.room);
        self.act(tenant, actor, async |tx| {
            let lifted = bans::lift(tx, schema, target_id, stream_scope, actor.user_id).await?;
            if lifted == 0 {
                return Err(AppError::NotFound(format!(
                    "{username} has no active ban here"
                )));
            }
            let notice = Notice::of(NoticeKey::Unban).with("user", username);
            let unbanned = RoomEvent::Unban { user_id: target_id };
            Ok(Done {
                output: (),
                audit: Audit::new(Action::Unban, stream_scope)
                    .user(target_id)
                    .details(json!({ "scope": ban_scope })),
                announce: Some(Announce::new(room, notice, vec![unbanned]).scoped(ban_scope)),
            })
        })
        .await
        .inspect(|()| self.tell_target(tenant, target_id, Outcome::Unban, ban_scope, stream_id, ""))
    }

    /// Active bans affecting the stream (moderators only).
    pub async fn bans(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<Vec<Ban>, AppError> {
        self.authorize(tenant, stream_id, actor).await?;
        Ok(bans::active_bans(&self.pool, &tenant.schema, stream_id).await?)
    }
}
