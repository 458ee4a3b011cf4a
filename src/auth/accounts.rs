//! Deactivating and activating users. A deactivated user cannot log in,
//! their sessions are deleted, and their open sockets on every node are
//! closed (see [`super::revocation`]). Activating lets them log in again;
//! the old sessions stay dead.

use sqlx::PgPool;

use super::revocation::{self, Revoked};
use crate::store::{sessions, users, StoreError};
use crate::tenant::Tenant;

/// Deactivates `username`; returns how many sessions were deleted.
pub async fn deactivate(pool: &PgPool, tenant: &Tenant, username: &str) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let user_id = users::set_active(&mut tx, &tenant.schema, username, false).await?;
    let deleted = sessions::delete_of_user(&mut tx, tenant.id, user_id).await?;
    // Delivered when the transaction commits, with the sessions gone.
    revocation::notify(
        &mut *tx,
        &Revoked::User {
            tenant_id: tenant.id,
            user_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Activates `username` again.
pub async fn activate(pool: &PgPool, tenant: &Tenant, username: &str) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    users::set_active(&mut conn, &tenant.schema, username, true).await?;
    Ok(())
}
