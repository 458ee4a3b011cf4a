//! The texts an edited message showed before (moderators of its stream
//! only: nobody else sees what an author replaced).

use super::Moderation;
use crate::auth::SessionUser;
use crate::error::AppError;
use crate::store::edits::{self, Versions};
use crate::tenant::Tenant;

impl Moderation {
    /// Message `message_id` with its earlier texts, oldest first; deleted
    /// messages too (moderators see what was removed).
    pub async fn versions(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        message_id: i64,
    ) -> Result<Versions, AppError> {
        let not_found = || AppError::NotFound(format!("no message {message_id}"));
        let versions = edits::versions(&self.pool, &tenant.schema, message_id)
            .await?
            .ok_or_else(not_found)?;
        // Rank is per stream, so the message is found first. That tells a
        // non-moderator whether an id exists, which the chat shows anyway.
        self.authorize(tenant, versions.stream_id, actor).await?;
        Ok(versions)
    }
}
