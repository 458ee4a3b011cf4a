//! Managing a tenant's blocked terms. Tenant-wide, so no room hears of it;
//! the cached list is dropped after each change.

use serde_json::json;

use super::act::{Audit, Done};
use super::Moderation;
use crate::auth::{Role, SessionUser};
use crate::error::AppError;
use crate::moderation::blocked_terms::validate_term;
use crate::moderation::permissions::can_moderate_tenant;
use crate::store::audit_log::Action;
use crate::store::blocked_terms::{self, BlockedTerm};
use crate::tenant::Tenant;

fn require_term_admin(actor: &SessionUser) -> Result<(), AppError> {
    if can_moderate_tenant(actor.role) || actor.role == Role::Moderator {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only admins and moderators manage blocked terms".into(),
        ))
    }
}

impl Moderation {
    pub async fn list_terms(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
    ) -> Result<Vec<BlockedTerm>, AppError> {
        require_term_admin(actor)?;
        Ok(blocked_terms::all(&self.pool, &tenant.schema)
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
        require_term_admin(actor)?;
        let normalized = validate_term(term).map_err(AppError::Unprocessable)?;
        let schema = &tenant.schema;
        let added = self
            .act(tenant, actor, async |tx| {
                let added =
                    blocked_terms::add(tx, schema, term.trim(), &normalized, actor.user_id).await?;
                Ok(Done {
                    audit: Audit::new(Action::BlockTerm, None)
                        .details(json!({ "term_id": added.id })),
                    output: added,
                    announce: None,
                })
            })
            .await?;
        self.blocked.invalidate(tenant.id);
        Ok(added)
    }

    pub async fn remove_term(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        id: i32,
    ) -> Result<(), AppError> {
        require_term_admin(actor)?;
        let schema = &tenant.schema;
        self.act(tenant, actor, async |tx| {
            blocked_terms::remove(tx, schema, id).await?;
            Ok(Done {
                output: (),
                audit: Audit::new(Action::UnblockTerm, None).details(json!({ "term_id": id })),
                announce: None,
            })
        })
        .await?;
        self.blocked.invalidate(tenant.id);
        Ok(())
    }
}
