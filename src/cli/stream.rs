//! `stream …`: manage streams of a tenant.

use clap::Subcommand;
use sqlx::PgPool;

use super::CliError;
use crate::store::{stream_lifecycle, streams, tenants, users};
use crate::tenant::SchemaName;

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Create a live stream (or a scheduled one); prints its id on the first line.
    Create {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        title: String,
        /// Username of the streamer who owns it.
        #[arg(long)]
        owner: Option<String>,
        /// Create it scheduled (chat open, not live yet) instead of live.
        #[arg(long)]
        scheduled: bool,
    },
    /// Make a scheduled stream live.
    Start {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: i32,
    },
    /// End a stream: its chat gets `stream.ended` and closes on every node.
    End {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: i32,
    },
}

/// Runs a `stream …` command; returns what to print.
pub async fn stream(pool: &PgPool, command: &StreamCommand) -> Result<String, CliError> {
    match command {
        StreamCommand::Create {
            tenant,
            title,
            owner,
            scheduled,
        } => create(pool, tenant, title, owner.as_deref(), *scheduled).await,
        StreamCommand::Start { tenant, id } => {
            let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
            let stream = stream_lifecycle::start(pool, &tenant.schema, tenant.id, *id).await?;
            Ok(format!("stream {} is live: {:?}", stream.id, stream.title))
        }
        StreamCommand::End { tenant, id } => {
            let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
            let stream = stream_lifecycle::end(pool, &tenant.schema, tenant.id, *id).await?;
            Ok(format!(
                "stream {} has ended: {:?}; its chat was closed on every node",
                stream.id, stream.title
            ))
        }
    }
}

/// `stream create`: the first line is the new stream's id.
async fn create(
    pool: &PgPool,
    tenant: &str,
    title: &str,
    owner: Option<&str>,
    scheduled: bool,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    let owner_id = match owner {
        Some(name) => Some(users::id_by_name(pool, &tenant.schema, name).await?),
        None => None,
    };
    let (stream, what) = if scheduled {
        let stream = streams::schedule(pool, &tenant.schema, title, owner_id).await?;
        (stream, "scheduled")
    } else {
        let stream = streams::create(pool, &tenant.schema, title, owner_id).await?;
        (stream, "live")
    };
    Ok(format!(
        "{}\ncreated {what} stream {} {:?} in {}; chat at /ws/chat/stream_{}/",
        stream.id,
        stream.id,
        stream.title,
        tenant.schema.as_str(),
        stream.id
    ))
}
