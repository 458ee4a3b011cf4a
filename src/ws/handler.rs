//! `GET /ws/chat/stream_{id}/`: every check happens here, before the upgrade,
//! in the order the protocol documents: tenant (by the middleware), Origin,
//! session (both shared with the notification socket, `handshake`), room.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::connection;
use super::context::ConnCtx;
use super::handshake::{self, Checked};
use crate::auth::{Role, SessionUser};
use crate::error::AppError;
use crate::moderation::permissions::Rank;
use crate::state::AppState;
use crate::store::embed;
use crate::tenant::CurrentTenant;

/// A reader without a login: a user id of its own below zero (no account
/// has one), so that the room counts each such socket as one viewer.
fn anonymous(tenant_id: i32) -> SessionUser {
    static READERS: AtomicU32 = AtomicU32::new(0);
    let n = READERS.fetch_add(1, Ordering::Relaxed) % i32::MAX.unsigned_abs();
    // -1, -2, … (n < i32::MAX, so this cannot overflow).
    let user_id = -1 - n as i32;
    SessionUser {
        tenant_id,
        user_id,
        username: String::new(),
        role: Role::Viewer,
    }
}

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
#[derive(Debug, Deserialize)]
pub struct ChatQuery {
    since_offset: Option<u64>,
    epoch: Option<String>,
    #[serde(default)]
    read_only: Option<String>,
}

/// The upgrade handler.
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
    let user = match user {
        Some(user) => user,
        // The overlay's readers, where the tenant allows reading without a login.
        None if read_only
            && embed::settings(&state.pool, tenant.id)
                .await?
                .anonymous_read =>
        {
            anonymous(tenant.id)
        }
        None => return Err(AppError::Unauthorized),
    };
    let is_anonymous = user.user_id < 0;
    let not_found = || AppError::NotFound("no active chat room for this stream".into());
    let stream_id = parse_room_segment(&segment).ok_or_else(not_found)?;
    // The room, the user's rank and any ban: one query shared with the
    // handshakes arriving at the same time.
    let info = state
        .admission
        .lookup(&tenant.schema, stream_id, user.user_id)
        .await?
        .ok_or_else(not_found)?;
    if !info.user_active && !is_anonymous {
        return Err(AppError::Unauthorized);
    }
    if let (Some(ban), false) = (info.ban, read_only) {
        return Err(AppError::Banned {
            until: ban.until,
            reason: ban.reason,
        });
    }
    let slot = state
        .socket_quota
        .acquire((tenant.id, user.user_id), state.config.max_sockets_per_user)
        .ok_or(AppError::TooManyConnections)?;
    let rank = Rank::of(&info.standing);
    let is_moderator = rank.can_moderate();
    let upgrade = upgrade.map_err(|e| AppError::BadRequest(e.body_text()))?;
    handshake::open_for_sockets(&state)?;
    let ctx = ConnCtx {
        checked_at,
        state: state.clone(),
        tenant: tenant.0.clone(),
        session_id: session.id().map(|id| id.to_string()).unwrap_or_default(),
        user,
        stream_id,
        room_id: info.room_id,
        is_moderator,
        badge: rank.badge(),
        read_only,
        resume: match (query.epoch, query.since_offset) {
            (Some(epoch), Some(since)) if epoch.len() <= 64 => Some((epoch, since)),
            _ => None,
        },
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
