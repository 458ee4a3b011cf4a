//! Stampede: a multi-tenant live-stream chat and reaction service.
//!
//! # Layout
//! From the lowest layer up; docs/architecture.md has which way each module
//! may depend, and the exceptions the code still has.
//! - [`chat`]: the chat domain every layer shares: messages, reactions, ban
//!   scopes, room events, roles.
//! - [`charset`]: character classes that matter for safety (control,
//!   invisible, bidi), used by the frame parser, the input guard and moderation.
//! - [`config`], [`coalesce`], [`quota`], [`shutdown`], [`channel_layer`],
//!   [`analytics`], [`fd_limit`], [`listener`]: leaves. Settings validated once;
//!   batch workers that turn many queued jobs into one statement; counted
//!   slots per key; the drain of sockets, then rooms, then writers;
//!   publish/subscribe between rooms and nodes (in-process, or Redis);
//!   statistics parameters, CSV and SVG charts; the open-file limit; the
//!   listening socket.
//! - [`redis_conn`]: Redis as one server or a cluster (sharded pub/sub,
//!   pipelines split per hash slot), for the channel layer, presence and
//!   global limits.
//! - [`store`]: Postgres access, one file per table group, and migrations.
//! - [`error`]: [`error::AppError`] and the one [`error::ErrorCode`] list
//!   shared by HTTP bodies and socket frames; error pages.
//! - [`tenant`]: Host header → [`tenant::Tenant`], and the schema-name check
//!   that guards every piece of SQL touching a tenant schema.
//! - [`wire`]: the seed-001 WebSocket frames, both directions, and room events
//!   rendered as frames.
//! - [`stamps`]: built-in stamp SVGs, the upload check, the per-tenant catalog.
//! - [`auth`]: passwords, cookie sessions bound to a tenant, CSRF, the Origin
//!   check, login throttling, and the notice that a session was revoked.
//! - [`room`]: one actor per active stream room; it owns its members, history
//!   and rules, hands chat to a group-committing writer and fans events out
//!   through one ring per room.
//! - [`moderation`]: the checks on what users send (sanitising, blocked
//!   terms, rate limits, ranks; `vet` for every chat text; `automod`, the
//!   rules that hold a line for review) and moderators' actions (approving
//!   and denying held lines among them).
//! - [`editing`]: authors editing their own lines (window, checks, the
//!   stored versions, `chat.edited` to every node).
//! - [`notifications`]: personal notifications: the producers' `Notifier`
//!   and its batching writer, the node's devices by user (`hub`), delivery
//!   to every device on every node, coalescing, retention, and the personal
//!   socket `GET /ws/notifications/`.
//! - [`search`]: message search (issue 18): who may search what, the
//!   per-user limit, highlight ranges; the SQL and its strategy for big
//!   tenants in `store::search`.
//! - [`presence`]: room audiences counted per distinct user over nodes,
//!   announced every 2 s.
//! - [`pg_notify`]: the node's one Postgres `LISTEN` connection, for changes
//!   other nodes and the CLI announce (session revocations, stream ends and
//!   starts).
//! - [`ws`]: handshake checks, the socket's I/O task, what each client frame
//!   does, closing revoked sessions' sockets, the per-user socket cap.
//! - [`socketio`]: the Socket.IO v4 transport at `/socket.io/` into the
//!   same rooms, over `ws::admit` and `ws::frames`.
//! - [`sse`]: `GET /sse/streams/{id}/chat`, a room's events as Server-Sent
//!   Events (read-only; `Last-Event-ID` resumes from the room's log).
//! - [`state`]: [`AppState`], the services every handler shares.
//! - [`http`]: pages and JSON API routers, and the layers in front of them.
//! - [`metrics`]: Prometheus metrics at `/metrics`, bounded labels.
//! - [`server`]: the accept loop: connections per address, header and idle timeouts.
//! - [`cli`]: the `stampede` command line.

pub mod analytics;
pub mod auth;
pub mod channel_layer;
pub mod charset;
pub mod chat;
pub mod cli;
pub mod coalesce;
pub mod config;
pub mod cookies;
pub mod editing;
pub mod error;
pub mod fd_limit;
pub mod http;
pub mod i18n;
pub mod listener;
pub mod mentions;
pub mod metrics;
pub mod moderation;
pub mod notifications;
pub mod pg_notify;
pub mod presence;
pub mod quota;
pub mod redis_conn;
pub mod room;
pub mod search;
pub mod server;
pub mod shutdown;
pub mod socketio;
pub mod sse;
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
    http::spawn_session_cleanup(&state);
    let app = http::router(state.clone());
    let limits = server::ConnLimits {
        max_per_ip: state.config.max_connections_per_ip,
        header_timeout: state.config.header_timeout(),
        idle_timeout: state.config.idle_timeout(),
        trusted_proxies: state.config.trusted_proxies.clone(),
    };
    if let Some(listener) = metrics_listener {
        let (router, limits, shutdown) = (
            metrics::private_router(metrics_token),
            limits.clone(),
            drain.clone(),
        );
        tokio::spawn(async move {
            if let Err(err) = server::serve(listener, router, limits, shutdown).await {
                tracing::error!(error = %err, "metrics listener failed");
            }
        });
    }
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
