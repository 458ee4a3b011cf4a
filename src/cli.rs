//! The `stampede` command line. Operators' tools drive these commands, so
//! their names, flags and outputs are a contract (see docs/operations.md).

use clap::{Parser, Subcommand};
use sqlx::PgPool;

use crate::auth::{password, Role};
use crate::config::ServeConfig;
use crate::store::{self, migrate, stamps, streams, tenants, users, StoreError};
use crate::tenant::{SchemaName, SchemaNameError};

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

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "STAMPEDE_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "viewer")]
        role: Role,
    },
    /// Deactivate a user: no more logins, sessions deleted, open sockets on
    /// every node closed (4401).
    Deactivate {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Let a deactivated user log in again (old sessions stay dead).
    Activate {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
}

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

#[derive(Debug, Subcommand)]
pub enum StampCommand {
    /// Add a tenant's own stamp from an SVG file (checked for scripts,
    /// event handlers and external references).
    Add {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        /// The stamp's name, e.g. `:wave:`.
        #[arg(long)]
        name: String,
        /// Path of the SVG file.
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Rebuild a tenant's rollups (per-minute counts, unique sets) from raw rows.
    Backfill {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
    },
}

/// A command failed; the message is one line meant for the operator.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("DATABASE_URL is not set (pass --database-url or set the variable)")]
    NoDatabaseUrl,
    #[error(transparent)]
    SchemaName(#[from] SchemaNameError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password must not be empty")]
    EmptyPassword,
    #[error("{0}")]
    Password(#[from] password::HashError),
    #[error("cannot read or write {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("refused {path}: {source}")]
    Svg {
        path: String,
        source: crate::stamps::SvgError,
    },
}

impl From<sqlx::Error> for CliError {
    fn from(err: sqlx::Error) -> Self {
        CliError::Store(StoreError::Database(err))
    }
}

impl Cli {
    pub fn database_url(&self) -> Result<&str, CliError> {
        self.database_url.as_deref().ok_or(CliError::NoDatabaseUrl)
    }
}

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

/// `user create`.
pub async fn user_create(
    pool: &PgPool,
    tenant: &str,
    username: &str,
    password_text: &str,
    role: Role,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    if password_text.is_empty() {
        return Err(CliError::EmptyPassword);
    }
    users::validate_username(username)?;
    let hash = password::hash(password_text.to_owned()).await?;
    let user = users::create(pool, &tenant.schema, username, &hash, role).await?;
    Ok(format!(
        "created user {} ({}) in {}",
        user.username,
        user.role,
        tenant.schema.as_str()
    ))
}

/// `user deactivate`.
pub async fn user_deactivate(
    pool: &PgPool,
    tenant: &str,
    username: &str,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    let sessions = crate::auth::accounts::deactivate(pool, &tenant, username).await?;
    Ok(format!(
        "deactivated user {username} in {} ({sessions} session(s) ended)",
        tenant.schema.as_str()
    ))
}

/// `user activate`.
pub async fn user_activate(
    pool: &PgPool,
    tenant: &str,
    username: &str,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    crate::auth::accounts::activate(pool, &tenant, username).await?;
    Ok(format!(
        "activated user {username} in {}",
        tenant.schema.as_str()
    ))
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

/// `stamp add`.
pub async fn stamp_add(
    pool: &PgPool,
    tenant: &str,
    name: &str,
    file: &std::path::Path,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    stamps::validate_name(name)?;
    let path = file.display().to_string();
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|source| CliError::ReadFile {
            path: path.clone(),
            source,
        })?;
    if bytes.len() > crate::stamps::svg::MAX_SVG_BYTES {
        return Err(CliError::Svg {
            path,
            source: crate::stamps::SvgError::TooLarge,
        });
    }
    let svg = String::from_utf8(bytes).map_err(|_| CliError::Svg {
        path: path.clone(),
        source: crate::stamps::SvgError::Malformed("not UTF-8".into()),
    })?;
    crate::stamps::validate_svg(&svg).map_err(|source| CliError::Svg { path, source })?;
    let stamp = stamps::create_custom(pool, &tenant.schema, name, &svg).await?;
    Ok(format!(
        "{}\nadded stamp {} to {} at {}",
        stamp.id,
        stamp.name,
        tenant.schema.as_str(),
        stamp.image_url
    ))
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

/// `bench-setup`: the first line of the result is the new stream's id.
pub async fn bench_setup(
    pool: &PgPool,
    tenant: &str,
    count: u32,
    prefix: &str,
    title: &str,
    stream_count: u32,
    out: &std::path::Path,
) -> Result<String, CliError> {
    use crate::auth::session::{issue, SessionUser};

    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    // One hash for all: argon2 per user would make setup take minutes.
    let hash = password::hash(format!("{prefix}-password")).await?;
    let mut cookies = String::new();
    for i in 1..=count {
        let name = format!("{prefix}{i}");
        let id = match users::create(pool, &tenant.schema, &name, &hash, Role::Viewer).await {
            Ok(user) => user.id,
            Err(StoreError::Conflict(_)) => users::id_by_name(pool, &tenant.schema, &name).await?,
            Err(e) => return Err(e.into()),
        };
        let user = SessionUser {
            tenant_id: tenant.id,
            user_id: id,
            username: name,
            role: Role::Viewer,
        };
        let cookie = issue(pool, &user, time::Duration::days(1))
            .await
            .map_err(|e| CliError::Store(StoreError::Invalid(e.to_string())))?;
        cookies.push_str(&format!("{}={cookie}\n", crate::auth::session::COOKIE_NAME));
    }
    let path = out.display().to_string();
    tokio::fs::write(out, cookies)
        .await
        .map_err(|source| CliError::ReadFile {
            path: path.clone(),
            source,
        })?;
    let mut ids = Vec::with_capacity(stream_count as usize);
    for n in 1..=stream_count.max(1) {
        let title = if stream_count > 1 {
            format!("{title} {n}")
        } else {
            title.to_owned()
        };
        ids.push(
            streams::create(pool, &tenant.schema, &title, None)
                .await?
                .id
                .to_string(),
        );
    }
    let ids = ids.join(",");
    Ok(format!(
        "{ids}\nwrote {count} session cookies to {path}; stream(s) {ids} live"
    ))
}

/// The demo users: (username, role). They all get [`DEMO_PASSWORD`].
pub const DEMO_USERS: &[(&str, Role)] = &[
    ("alice", Role::Viewer),
    ("bob", Role::Viewer),
    ("mod", Role::Moderator),
    ("streamer", Role::Streamer),
    ("admin", Role::Admin),
    ("analyst", Role::Analyst),
];
/// The demo users' password.
pub const DEMO_PASSWORD: &str = "stampede";

/// `demo`: safe to run any number of times.
pub async fn demo(pool: &PgPool) -> Result<String, CliError> {
    migrate_all(pool).await?;
    let schema = SchemaName::parse("demo")?;
    let tenant = match tenants::get_by_schema(pool, &schema).await {
        Ok(t) => t,
        Err(StoreError::NotFound(_)) => {
            tenants::create(pool, &schema, "Stampede Demo TV", "demo.localhost").await?
        }
        Err(e) => return Err(e.into()),
    };
    for extra in ["localhost", "127.0.0.1"] {
        match tenants::add_domain(pool, &tenant, extra).await {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for (name, role) in DEMO_USERS {
        let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
        match users::create(pool, &tenant.schema, name, &hash, *role).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let live = streams::list_live(pool, &tenant.schema).await?;
    let stream = match live.into_iter().next() {
        Some(s) => s,
        None => {
            let owner = users::id_by_name(pool, &tenant.schema, "streamer").await?;
            streams::create(pool, &tenant.schema, "Stampede launch party", Some(owner)).await?
        }
    };
    let names: Vec<&str> = DEMO_USERS.iter().map(|(n, _)| *n).collect();
    Ok(format!(
        "demo tenant ready: http://demo.localhost:8000/streams/{}\nusers: {} (password: {DEMO_PASSWORD})",
        stream.id,
        names.join(", ")
    ))
}

/// Opens the pool a command needs.
pub async fn connect(cli: &Cli, max_connections: u32) -> Result<PgPool, CliError> {
    Ok(store::connect(cli.database_url()?, max_connections).await?)
}
