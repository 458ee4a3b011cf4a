//! `GET /ws/chat/stream_{id}/`: every check happens here, before the upgrade,
//! in the order the protocol documents: tenant (by the middleware), Origin,
//! session (both shared with the notification socket, `handshake`), room.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::admit::{admit, user_or_reader, Admitted, Request};
use super::connection;
use super::handshake::{self, Checked};
use crate::error::{AppError, ErrorBody};
use crate::http::openapi::{Forbidden, NotFound, Unauthorized, Unavailable};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

/// Parses the seed's room segment `stream_{id}`.
pub fn parse_room_segment(segment: &str) -> Option<i32> {
    segment
        .strip_prefix("stream_")
        .and_then(|id| id.parse::<i32>().ok())
        .filter(|id| *id > 0)
}

/// The handshake's query: `?since_offset=N&epoch=E`, a reconnecting client
/// asking for what it missed; `read_only=1`, a socket that only reads (a
/// banned or timed-out user is admitted on one).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// The last room offset the client saw (with `epoch`): events after it
    /// are replayed, or a `history.reset` is sent when they are gone.
    since_offset: Option<u64>,
    /// The room epoch the offset belongs to (at most 64 characters).
    epoch: Option<String>,
    /// `1` or `true`: a socket that only reads (banned and timed-out users,
    /// and readers without a login where the tenant allows them).
    #[serde(default)]
    read_only: Option<String>,
}

/// The upgrade handler.
#[utoipa::path(
    get,
    path = "/ws/chat/{room}/",
    tag = "sockets",
    summary = "A stream's chat socket",
    description = "Upgrades to a WebSocket carrying the seed-001 chat frames \
                   (docs/protocol.md). Needs `Connection: Upgrade`, \
                   `Upgrade: websocket` and a same-origin `Origin`.",
    params(
        ("room" = String, Path, description = "`stream_{id}`", example = "stream_1"),
        ChatQuery,
    ),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol."),
        (status = 400, description = "Not a WebSocket upgrade.", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, description = "`too_many_connections`: the user's socket cap.", body = ErrorBody),
        (status = 503, response = Unavailable),
    ),
    security((), ("session" = []))
)]
pub async fn chat_socket(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    Path(segment): Path<String>,
    query: Result<Query<ChatQuery>, QueryRejection>,
    headers: HeaderMap,
    session: Session,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query?;
    let read_only = matches!(query.read_only.as_deref(), Some("1" | "true"));
    let Checked { checked_at, user } =
        handshake::origin_and_session(&state, tenant.id, &headers, &session).await?;
    let user = user_or_reader(&state, tenant.id, user, read_only).await?;
    let not_found = || AppError::NotFound("no active chat room for this stream".into());
    let stream_id = parse_room_segment(&segment).ok_or_else(not_found)?;
    let Admitted { ctx, slot } = admit(
        &state,
        Request {
            tenant: tenant.0.clone(),
            user,
            session_id: session.id().map(|id| id.to_string()).unwrap_or_default(),
            checked_at,
            stream_id,
            read_only,
            resume: query.epoch.zip(query.since_offset),
        },
    )
    .await?;
    let upgrade = upgrade.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let tracker = state.shutdown.sockets().clone();
    Ok(handshake::sized(upgrade).on_upgrade(move |socket| {
        tracker.track_future(async move {
            // Counted until the socket's task ends.
            let _slot = slot;
            connection::serve(socket, ctx).await;
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_room_segment;

    #[test]
    fn room_segments() {
        assert_eq!(parse_room_segment("stream_42"), Some(42));
        assert_eq!(parse_room_segment("stream_0"), None);
        assert_eq!(parse_room_segment("stream_-1"), None);
        assert_eq!(parse_room_segment("room_42"), None);
        assert_eq!(parse_room_segment("stream_99999999999"), None);
    }
}
