//! Moderators' actions, shared by the WebSocket and the REST API.
//!
//! Each action checks the actor's rank on the stream (server-side, every
//! time), then [`Moderation::act`] writes its changes, its audit entry and
//! its chat notice in one transaction, and only after the commit publishes
//! the events that make every node's room apply it. Rooms never wait on any
//! of this.

mod act;
mod bans;
mod deletes;
mod held;
mod moderators;
mod notify_target;
mod pins;
mod slow_mode;
mod terms;
mod user_card;
mod versions;

pub use user_card::UserCard;

use std::sync::Arc;

use sqlx::PgPool;

use super::automod::AutoMod;
use super::blocked_terms::BlockedTerms;
use super::permissions::Rank;
use crate::auth::SessionUser;
use crate::channel_layer::ChannelLayer;
use crate::config::Wording;
use crate::error::AppError;
use crate::notifications::Notifier;
use crate::store::audit_log::{self, LogEntry};
use crate::store::standing::standing;
use crate::store::streams::{self, Room};
use crate::tenant::Tenant;

pub use crate::store::audit_log::Action;
pub use bans::{BanRequest, MAX_REASON_CHARS, MAX_TIMEOUT_SECS};
pub use pins::Pinned;

/// Audit entries the moderation log shows at most.
const LOG_LIMIT: i64 = 200;

/// Carries out moderation actions. Cheap to clone.
#[derive(Clone)]
pub struct Moderation {
    pool: PgPool,
    layer: Arc<dyn ChannelLayer>,
    wording: Arc<Wording>,
    /// Tells users they were timed out, banned or unbanned.
    notifier: Notifier,
    pub blocked: BlockedTerms,
    pub automod: AutoMod,
}

/// The stream an action is about and the actor's rank on it.
struct Scope {
    room: Room,
    rank: Rank,
}

impl Moderation {
    pub fn new(
        pool: PgPool,
        layer: Arc<dyn ChannelLayer>,
        wording: Wording,
        notifier: Notifier,
    ) -> Self {
        Self {
            blocked: BlockedTerms::new(pool.clone()),
            automod: AutoMod::new(pool.clone()),
            pool,
            layer,
            wording: Arc::new(wording),
            notifier,
        }
    }

    /// The actor's rank on `stream_id`: 404 if the stream is unknown.
    pub async fn rank(
        &self,
        tenant: &Tenant,
        stream_id: i32,
        user_id: i32,
    ) -> Result<Rank, AppError> {
        standing(&self.pool, &tenant.schema, stream_id, user_id)
            .await?
            .map(|s| Rank::of(&s))
            .ok_or_else(|| AppError::NotFound(format!("no stream {stream_id}")))
    }

    /// The gate of every per-stream action: the actor may moderate the
    /// stream, and it has a chat room for notices.
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

    /// The newest audit entries of a stream (moderators only).
    pub async fn log(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<Vec<LogEntry>, AppError> {
        self.authorize(tenant, stream_id, actor).await?;
        Ok(audit_log::recent(&self.pool, &tenant.schema, stream_id, LOG_LIMIT).await?)
    }
}
