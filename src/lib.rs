//! Stampede: a multi-tenant live-stream chat and reaction service.
//!
//! # Layout
//! - [`analytics`]: reaction and chat statistics per tenant (rollups, CSV, SVG).
//! - [`config`]: command-line and environment settings, validated once.
//! - [`chat`]: the chat domain (messages, reactions, ban scopes) every layer shares.
//! - [`tenant`]: Host header → [`tenant::Tenant`], and the schema-name check
//!   that guards every piece of SQL touching a tenant schema.
//! - [`auth`]: passwords, cookie sessions bound to a tenant, roles, CSRF.
//! - [`store`]: Postgres access per table, and migrations (public + per tenant).
//! - [`room`]: one actor per active stream room; it owns subscribers and history
//!   and hands chat to a group-committing writer.
//! - [`coalesce`]: batch workers that turn many queued jobs into one statement.
//! - [`channel_layer`]: publish/subscribe between rooms and nodes (in-process by default).
//! - [`stamps`]: built-in stamp SVGs, the upload check, the per-tenant catalog.
//! - [`moderation`]: pure checks the room applies: sanitising and rate limits.
//! - [`wire`]: the seed-001 WebSocket frames, both directions, and room events rendered as frames.
//! - [`ws`]: handshake checks and the socket I/O tasks.
//! - [`http`]: pages and JSON API routers.
//! - [`presence`]: room audiences summed over nodes, announced every 2 s.
//! - [`metrics`]: Prometheus metrics at `/metrics`, bounded labels.
//! - [`server`]: the accept loop: connections per address, header and idle timeouts.
//! - [`shutdown`]: the signal that drains sockets, then rooms, then writers.
//! - [`quota`]: counted slots per key (connections per address, sockets per user).
//! - [`fd_limit`]: lifts the open-file limit for nodes holding many sockets.

pub mod analytics;
pub mod auth;
pub mod channel_layer;
pub mod chat;
pub mod cli;
pub mod coalesce;
pub mod config;
pub mod error;
pub mod fd_limit;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod moderation;
pub mod presence;
pub mod quota;
pub mod room;
pub mod server;
pub mod shutdown;
pub mod stamps;
pub mod state;
pub mod store;
pub mod tenant;
pub mod wire;
pub mod ws;

use std::future::Future;

use tokio::net::TcpListener;

pub use config::ServeConfig;
pub use state::AppState;

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("session store: {0}")]
    Sessions(String),
    #[error("{0}")]
    Config(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves HTTP and WebSocket traffic on `listener` until `shutdown` resolves,
/// then closes every socket (1001), lets rooms and writers flush, and returns.
pub async fn run(
    config: ServeConfig,
    pool: sqlx::PgPool,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    metrics::install();
    let drain = shutdown::Shutdown::new();
    let metrics_listener = match config.metrics_bind {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let metrics_token = config.metrics_token.clone();
    let state = AppState::new(config, pool, drain.clone()).await?;
    if let Some(listener) = metrics_listener {
        let shutdown = drain.clone();
        tokio::spawn(async move {
            if let Err(err) = metrics::serve_private(listener, metrics_token, shutdown).await {
                tracing::error!(error = %err, "metrics listener failed");
            }
        });
    }
    http::spawn_session_cleanup(&state);
    let app = http::router(state.clone());
    let limits = server::ConnLimits {
        max_per_ip: state.config.max_connections_per_ip,
        header_timeout: state.config.header_timeout(),
        idle_timeout: state.config.idle_timeout(),
        trusted_proxies: state.config.trusted_proxies.clone(),
    };
    let notify = drain.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: closing sockets");
        notify.begin();
    });
    server::serve(listener, app, limits, drain.clone()).await?;
    drain.sockets_closed().await;
    // With no socket left, dropping the registry's handles stops every room,
    // and each room's writer commits its queue before it ends.
    state.rooms.close_all();
    drop(state);
    drain.writers_flushed().await;
    tracing::info!("shutdown complete");
    Ok(())
}
