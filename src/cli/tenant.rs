//! `tenant …`: manage tenants.

use clap::Subcommand;
use sqlx::PgPool;

use super::CliError;
use crate::store::tenants;
use crate::tenant::SchemaName;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant, its schema and its primary domain.
    Create {
        #[arg(long)]
        schema: String,
        #[arg(long)]
        domain: String,
        #[arg(long)]
        name: Option<String>,
    },
}

/// `tenant create`.
pub async fn tenant_create(
    pool: &PgPool,
    schema: &str,
    domain: &str,
    name: Option<&str>,
) -> Result<String, CliError> {
    let schema = SchemaName::parse(schema)?;
    let tenant = tenants::create(pool, &schema, name.unwrap_or(schema.as_str()), domain).await?;
    Ok(format!(
        "created tenant {} ({}) at {}",
        tenant.schema.as_str(),
        tenant.name,
        domain.to_ascii_lowercase()
    ))
}
