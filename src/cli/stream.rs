//! `stream …`: manage streams of a tenant.

use clap::Subcommand;
use sqlx::PgPool;

use super::CliError;
use crate::store::{streams, tenants, users};
use crate::tenant::SchemaName;

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Create a live stream; prints its id on the first line.
    Create {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        title: String,
        /// Username of the streamer who owns it.
        #[arg(long)]
        owner: Option<String>,
    },
}

/// `stream create`: the first line is the new stream's id.
pub async fn stream_create(
    pool: &PgPool,
    tenant: &str,
    title: &str,
    owner: Option<&str>,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    let owner_id = match owner {
        Some(name) => Some(users::id_by_name(pool, &tenant.schema, name).await?),
        None => None,
    };
    let stream = streams::create(pool, &tenant.schema, title, owner_id).await?;
    Ok(format!(
        "{}\ncreated live stream {} {:?} in {}; chat at /ws/chat/stream_{}/",
        stream.id,
        stream.id,
        stream.title,
        tenant.schema.as_str(),
        stream.id
    ))
}
