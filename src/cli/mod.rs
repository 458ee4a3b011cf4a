//! The `stampede` command line. Operators' tools drive these commands, so
//! their names, flags and outputs are a contract (see docs/operations.md).
//!
//! This module holds the top-level parser, the shared error type and the
//! database connection; each command group lives in its own module and is
//! re-exported here, so every item keeps its `stampede::cli::…` path.

use clap::{Parser, Subcommand};
use sqlx::PgPool;

use crate::config::ServeConfig;
use crate::store;

mod analytics;
mod bench_setup;
mod demo;
mod error;
mod migrate;
mod stamp;
mod stream;
mod tenant;
mod user;

pub use analytics::{analytics_backfill, AnalyticsCommand};
pub use bench_setup::bench_setup;
pub use demo::{demo, DEMO_PASSWORD, DEMO_USERS};
pub use error::CliError;
pub use migrate::migrate_all;
pub use stamp::{stamp_add, StampCommand};
pub use stream::{stream, StreamCommand};
pub use tenant::{tenant_create, tenant_embed, TenantCommand};
pub use user::{user_activate, user_create, user_deactivate, UserCommand};

#[derive(Debug, Parser)]
#[command(
    name = "stampede",
    version,
    about = "Multi-tenant live-stream chat and reactions"
)]
pub struct Cli {
    /// Postgres URL, e.g. postgres://stampede:stampede@127.0.0.1:5432/stampede
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations to the public schema and every tenant schema.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage users of a tenant.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage streams of a tenant.
    Stream {
        #[command(subcommand)]
        command: StreamCommand,
    },
    /// Manage a tenant's stamps.
    Stamp {
        #[command(subcommand)]
        command: StampCommand,
    },
    /// Analytics maintenance.
    Analytics {
        #[command(subcommand)]
        command: AnalyticsCommand,
    },
    /// Prepare a load test: users `{prefix}1..N`, a live stream, and one
    /// session cookie per user written to `--out` (one `sessionid=…` per line).
    BenchSetup {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value_t = 1000)]
        users: u32,
        #[arg(long, default_value = "bench")]
        prefix: String,
        #[arg(long, default_value = "Load test")]
        title: String,
        /// Live streams to create; their ids are printed comma-separated.
        #[arg(long, default_value_t = 1)]
        streams: u32,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Run the HTTP and WebSocket server.
    Serve(Box<ServeConfig>),
    /// Create (idempotently) the demo tenant at demo.localhost with users and a live stream.
    Demo,
}

impl Cli {
    pub fn database_url(&self) -> Result<&str, CliError> {
        self.database_url.as_deref().ok_or(CliError::NoDatabaseUrl)
    }
}

/// Opens the pool a command needs.
pub async fn connect(cli: &Cli, max_connections: u32) -> Result<PgPool, CliError> {
    Ok(store::connect(cli.database_url()?, max_connections).await?)
}
