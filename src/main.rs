//! The `stampede` binary: parses the command line, sets up logging, and runs
//! the command. All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;
use stampede::cli::{
    self, AnalyticsCommand, Cli, Command, StampCommand, TenantCommand, UserCommand,
};
use tracing_subscriber::EnvFilter;

/// Small, short-lived allocations (frames, futures, query buffers) dominate;
/// mimalloc serves them from per-thread pages without glibc's bin juggling.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("STAMPEDE_LOG")
                .unwrap_or_else(|_| EnvFilter::new(default_filter(&cli.command))),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn default_filter(command: &Command) -> &'static str {
    match command {
        Command::Serve(_) => "info,tower_http=info,sqlx=warn",
        _ => "warn",
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let output = match &cli.command {
        Command::Migrate => {
            let pool = cli::connect(&cli, 2).await?;
            let n = cli::migrate_all(&pool).await?;
            format!("migrated public schema and {n} tenant schema(s)")
        }
        Command::Tenant {
            command:
                TenantCommand::Create {
                    schema,
                    domain,
                    name,
                },
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::migrate_all(&pool).await?;
            cli::tenant_create(&pool, schema, domain, name.as_deref()).await?
        }
        Command::Tenant {
            command:
                TenantCommand::Embed {
                    schema,
                    anonymous_read,
                    embed_origins,
                    clear_origins,
                },
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::tenant_embed(
                &pool,
                schema,
                *anonymous_read,
                embed_origins,
                *clear_origins,
            )
            .await?
        }
        Command::User {
            command:
                UserCommand::Create {
                    tenant,
                    username,
                    password,
                    role,
                },
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::user_create(&pool, tenant, username, password, *role).await?
        }
        Command::User {
            command: UserCommand::Deactivate { tenant, username },
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::user_deactivate(&pool, tenant, username).await?
        }
        Command::User {
            command: UserCommand::Activate { tenant, username },
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::user_activate(&pool, tenant, username).await?
        }
        Command::Stream { command } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::stream(&pool, command).await?
        }
        Command::Stamp {
            command: StampCommand::Add { tenant, name, file },
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::stamp_add(&pool, tenant, name, file).await?
        }
        Command::BenchSetup {
            tenant,
            users,
            prefix,
            title,
            streams,
            out,
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::bench_setup(&pool, tenant, *users, prefix, title, *streams, out).await?
        }
        Command::Analytics {
            command: AnalyticsCommand::Backfill { tenant },
        } => {
            let pool = cli::connect(&cli, 2).await?;
            cli::analytics_backfill(&pool, tenant).await?
        }
        Command::Demo => {
            let pool = cli::connect(&cli, 2).await?;
            cli::demo(&pool).await?
        }
        Command::Serve(config) => {
            config.validate()?;
            let pool = cli::connect(&cli, config.db_max_connections).await?;
            cli::migrate_all(&pool).await?;
            let files = stampede::fd_limit::raise()?;
            let listener = stampede::listener::bind(config.bind, config.reuse_port)?;
            tracing::info!(addr = %listener.local_addr()?, open_files = files, "listening");
            stampede::run((**config).clone(), pool, listener, shutdown_signal()).await?;
            return Ok(());
        }
    };
    println!("{output}");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
