//! The user card: what a moderator sees on clicking a name in chat.

use serde::Serialize;

use super::Moderation;
use crate::auth::SessionUser;
use crate::chat::Badge;
use crate::error::AppError;
use crate::moderation::permissions::Rank;
use crate::store::bans::{self, Ban};
use crate::store::standing::standing;
use crate::store::user_card::{self, CardLine};
use crate::tenant::Tenant;

/// Lines of the user's shown on the card.
const RECENT_LINES: i64 = 20;

/// One user, as the card shows them to a moderator of the stream.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserCard {
    pub username: String,
    pub role: String,
    /// The badge their lines carry on this stream.
    pub badge: Option<Badge>,
    /// When the account was created.
    pub joined_at: String,
    pub is_active: bool,
    /// Whether the viewing moderator may time out or ban them.
    pub can_ban: bool,
    /// Their bans in force on this stream (stream-wide and tenant-wide).
    pub bans: Vec<Ban>,
    /// Their last lines in this stream's chat, newest first.
    pub recent_messages: Vec<CardLine>,
}

impl Moderation {
    /// The card of `username` on `stream_id` (moderators only).
    pub async fn user_card(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        username: &str,
    ) -> Result<UserCard, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let schema = &tenant.schema;
        let account = user_card::account(&self.pool, schema, username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no user {username:?}")))?;
        let rank = standing(&self.pool, schema, stream_id, account.id)
            .await?
            .map_or(Rank::Viewer, |s| Rank::of(&s));
        let bans = bans::active_bans(&self.pool, schema, stream_id)
            .await?
            .into_iter()
            .filter(|b| b.username == account.username)
            .collect();
        let recent_messages =
            user_card::recent_lines(&self.pool, schema, scope.room.id, &account, RECENT_LINES)
                .await?;
        Ok(UserCard {
            can_ban: account.id != actor.user_id && scope.rank.can_ban(rank),
            username: account.username,
            role: account.role,
            badge: rank.badge(),
            joined_at: account.joined_at,
            is_active: account.is_active,
            bans,
            recent_messages,
        })
    }
}
