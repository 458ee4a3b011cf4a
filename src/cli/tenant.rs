//! `tenant …`: manage tenants.

use clap::Subcommand;
use sqlx::PgPool;

use super::CliError;
use crate::store::{embed, tenants};
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
    /// Show or change how the tenant's chat may be embedded (the overlay at
    /// /embed/streams/{id}/chat): reading without login, framing origins.
    Embed {
        #[arg(long)]
        schema: String,
        /// Let anyone read the chat read-only without logging in.
        #[arg(long)]
        anonymous_read: Option<bool>,
        /// An origin (https://host[:port]) allowed to frame the overlay;
        /// repeat for several. Replaces the list.
        #[arg(long = "embed-origin")]
        embed_origins: Vec<String>,
        /// Remove every framing origin.
        #[arg(long, conflicts_with = "embed_origins")]
        clear_origins: bool,
    },
}

/// `tenant embed`: prints the settings as they are after the change.
pub async fn tenant_embed(
    pool: &PgPool,
    schema: &str,
    anonymous_read: Option<bool>,
    origins: &[String],
    clear_origins: bool,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(schema)?).await?;
    let origins = (clear_origins || !origins.is_empty()).then_some(origins);
    let now = embed::update(pool, tenant.id, anonymous_read, origins).await?;
    Ok(format!(
        "tenant {}: anonymous read {}; embed origins: {}",
        tenant.schema.as_str(),
        if now.anonymous_read { "on" } else { "off" },
        if now.embed_origins.is_empty() {
            "none".to_owned()
        } else {
            now.embed_origins.join(" ")
        }
    ))
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
