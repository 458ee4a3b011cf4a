//! HTTP routing. Each module exposes `router()`, an `OpenApiRouter` whose
//! routes carry their OpenAPI description (`openapi` says how to add one);
//! this file stacks them with the layers every tenant route shares (tenant
//! resolution → session → Origin). `/health`, `/metrics`, `/static/*` and
//! the API reference sit outside the tenant layer: they carry no tenant data.

pub mod api;
mod assets;
pub mod client_addr;
mod dashboard;
mod embed;
mod event_schema;
pub mod extract;
mod health;
mod input_guard;
mod language;
mod media;
pub mod nav;
pub mod openapi;
pub mod pages;

use std::time::Duration;

use crate::auth::session_store::SessionBackend;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::origin::same_origin_writes;
use crate::auth::session::COOKIE_NAME;
use crate::error::AppError;
use crate::notifications::socket::handler as notification_handler;
use crate::state::AppState;
use crate::tenant::resolve_tenant;
use crate::ws::handler as chat_handler;

/// Sessions expire after this long without a request.
const SESSION_IDLE: time::Duration = time::Duration::days(14);

/// Pages load scripts, styles and sockets from their own origin only.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The OpenAPI document of every route: built from the same two route
/// sets `router` serves, so the two cannot differ.
pub fn document() -> utoipa::openapi::OpenApi {
    openapi::document(public_routes(), tenant_routes())
}

/// The tenant's pages, API and sockets.
fn tenant_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(pages::router())
        .merge(dashboard::router().layer(no_store()))
        .merge(media::router())
        .merge(embed::router())
        .nest("/api", api::router().layer(no_store()))
        .routes(openapi::alias(
            "/ws/chat/{room}",
            routes!(chat_handler::chat_socket),
        ))
        .routes(openapi::alias(
            "/ws/notifications",
            routes!(notification_handler::notification_socket),
        ))
        .merge(crate::sse::router())
}

/// Routes that carry no tenant data, answered whatever the Host.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(crate::metrics::render_public))
        .nest("/static", assets::router())
        .merge(openapi::router())
        .merge(event_schema::router())
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(SessionBackend::new(state.pool.clone()))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));

    let tenant_routes = Router::from(tenant_routes())
        .fallback(|| async { AppError::NotFound("no such page".into()) })
        // Innermost: Socket.IO's handshake then carries the tenant and session.
        .layer(crate::socketio::layer(&state))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            same_origin_writes,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.tenants.clone(),
            resolve_tenant,
        ));

    Router::from(public_routes())
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
