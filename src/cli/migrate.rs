//! `migrate`: bring the public schema and every tenant schema up to date.

use sqlx::PgPool;

use super::CliError;
use crate::store::{migrate, tenants};

/// Applies public and per-tenant migrations; returns how many tenants it checked.
pub async fn migrate_all(pool: &PgPool) -> Result<usize, CliError> {
    migrate::migrate_public(pool).await?;
    let all = tenants::list(pool).await?;
    for tenant in &all {
        let mut tx = pool.begin().await?;
        migrate::migrate_tenant(&mut tx, &tenant.schema).await?;
        tx.commit().await?;
    }
    Ok(all.len())
}
