//! `analytics …`: analytics maintenance.

use clap::Subcommand;
use sqlx::PgPool;

use super::CliError;
use crate::store::tenants;
use crate::tenant::SchemaName;

#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Rebuild a tenant's rollups (per-minute counts, unique sets) from raw rows.
    Backfill {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
    },
}

/// `analytics backfill`.
pub async fn analytics_backfill(pool: &PgPool, tenant: &str) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    let (reactions, chat) = crate::store::analytics::backfill(pool, &tenant.schema).await?;
    Ok(format!(
        "rebuilt rollups of {}: {reactions} reaction minute(s), {chat} chat minute(s)",
        tenant.schema.as_str()
    ))
}
