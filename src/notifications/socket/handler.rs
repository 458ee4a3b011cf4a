//! The upgrade handler of `GET /ws/notifications/`: tenant (middleware),
//! Origin and session (shared with chat), an active account, the per-user
//! socket cap, then the upgrade.

use axum::extract::ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use tower_sessions::Session;

use super::{connection, NotifyCtx};
use crate::error::{AppError, ErrorBody};
use crate::http::openapi::{Forbidden, Unauthorized, Unavailable};
use crate::state::AppState;
use crate::store::users;
use crate::tenant::CurrentTenant;
use crate::ws::handshake::{self, Checked};

/// The upgrade handler.
#[utoipa::path(
    get,
    path = "/ws/notifications/",
    tag = "sockets",
    summary = "The user's notification socket",
    description = "Upgrades to a WebSocket carrying the user's notifications \
                   (docs/protocol.md). Needs a session and a same-origin `Origin`.",
    responses(
        (status = 101, description = "Switched to the WebSocket protocol."),
        (status = 400, description = "Not a WebSocket upgrade.", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 429, description = "`too_many_connections`: the user's socket cap.", body = ErrorBody),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []))
)]
pub async fn notification_socket(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    headers: HeaderMap,
    session: Session,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let Checked { checked_at, user } =
        handshake::origin_and_session(&state, tenant.id, &headers, &session).await?;
    // Notifications are personal: no anonymous readers.
    let user = user.ok_or(AppError::Unauthorized)?;
    // A user deactivated since the login has no session any more, but this
    // request may have loaded it just before.
    users::get(&state.pool, &tenant.schema, user.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let slot = state
        .notifications
        .sockets
        .acquire((tenant.id, user.user_id), state.config.max_sockets_per_user)
        .ok_or(AppError::TooManyConnections)?;
    let upgrade = upgrade.map_err(|e| AppError::BadRequest(e.body_text()))?;
    handshake::open_for_sockets(&state)?;
    let ctx = NotifyCtx {
        state: state.clone(),
        tenant: tenant.0.clone(),
        session_id: session.id().map(|id| id.to_string()).unwrap_or_default(),
        user,
        checked_at,
        locale: crate::i18n::I18n::of(&headers).0,
    };
    let tracker = state.shutdown.sockets().clone();
    Ok(handshake::sized(upgrade).on_upgrade(move |socket| {
        tracker.track_future(async move {
            // Counted until the socket's task ends.
            let _slot = slot;
            connection::serve(socket, ctx).await;
        })
    }))
}
