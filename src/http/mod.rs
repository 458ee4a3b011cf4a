//! HTTP routing. Each module exposes `router()`; this file stacks them with
//! the layers every tenant route shares (tenant resolution → session → Origin).
//! `/health` and `/static/*` sit outside the tenant layer: they carry no tenant data.

pub mod api;
mod assets;
pub mod client_addr;
mod dashboard;
mod embed;
pub mod extract;
mod health;
mod input_guard;
mod language;
mod media;
pub mod nav;
pub mod pages;

use std::time::Duration;

use crate::auth::session_store::SessionBackend;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware;
use axum::routing::get;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::origin::same_origin_writes;
use crate::auth::session::COOKIE_NAME;
use crate::error::AppError;
use crate::notifications::socket::handler::notification_socket;
use crate::state::AppState;
use crate::tenant::resolve_tenant;
use crate::ws::handler::chat_socket;

/// Sessions expire after this long without a request.
const SESSION_IDLE: time::Duration = time::Duration::days(14);

/// Pages load scripts, styles and sockets from their own origin only.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The whole application.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(SessionBackend::new(state.pool.clone()))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));

    let tenant_routes = Router::new()
        .merge(pages::router())
        .merge(dashboard::router().layer(no_store()))
        .merge(media::router())
        .merge(embed::router())
        .nest("/api", api::router().layer(no_store()))
        .route("/ws/chat/{room}/", get(chat_socket))
        .route("/ws/chat/{room}", get(chat_socket))
        .route("/ws/notifications/", get(notification_socket))
        .route("/ws/notifications", get(notification_socket))
        .fallback(|| async { AppError::NotFound("no such page".into()) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            same_origin_writes,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.tenants.clone(),
            resolve_tenant,
        ));

    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(crate::metrics::render_public))
        .nest("/static", assets::router())
        .merge(tenant_routes)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            input_guard::guard_input,
        ))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        // 5xx answers are not logged one by one: a flood answered 503 would
        // flood the log too. Server faults are logged where they happen
        // (`AppError::public_message`), refusals are counted in metrics.
        .layer(
            TraceLayer::new_for_http().on_failure(
                tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
            ),
        )
        .with_state(state)
}

/// Private answers (API, CSV, the dashboard) must not be kept by browsers
/// or shared caches.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// Periodically deletes expired sessions from the store.
pub fn spawn_session_cleanup(state: &AppState) {
    let store = tower_sessions_sqlx_store::PostgresStore::new(state.pool.clone());
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        use tower_sessions::ExpiredDeletion;
        tokio::select! {
            res = store.continuously_delete_expired(Duration::from_secs(3600)) => {
                if let Err(err) = res {
                    tracing::warn!(error = %err, "session cleanup stopped");
                }
            }
            _ = shutdown.begun() => {}
        }
    });
}
