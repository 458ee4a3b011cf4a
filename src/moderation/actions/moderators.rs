//! Appointed stream moderators: the owner's or an admin's to name.

use super::act::{Audit, Done};
use super::Moderation;
use crate::auth::SessionUser;
use crate::error::AppError;
use crate::store::audit_log::Action;
use crate::store::{moderators, users};
use crate::tenant::Tenant;

impl Moderation {
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

    /// No notice: who moderates is not news for the chat.
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
        let schema = &tenant.schema;
        self.act(tenant, actor, async |tx| {
            let action = if appoint {
                moderators::add(tx, schema, stream_id, target, actor.user_id).await?;
                Action::AddModerator
            } else {
                moderators::remove(tx, schema, stream_id, target).await?;
                Action::RemoveModerator
            };
            Ok(Done {
                output: (),
                audit: Audit::new(action, stream_id).user(target),
                announce: None,
            })
        })
        .await
    }

    /// The stream's appointed moderators (moderators only).
    pub async fn moderators(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<Vec<String>, AppError> {
        self.authorize(tenant, stream_id, actor).await?;
        Ok(moderators::of_stream(&self.pool, &tenant.schema, stream_id).await?)
    }
}
