//! `GET /ws/chat/stream_{id}/`: every check happens here, before the upgrade,
//! in the order the protocol documents: tenant (by the middleware), Origin,
//! session, room.

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
use super::MAX_FRAME_BYTES;
use crate::auth::origin::origin_allowed;
use crate::auth::session::user_of;
use crate::auth::{Role, SessionUser};
use crate::error::AppError;
use crate::moderation::permissions::Rank;
use crate::state::AppState;
use crate::store::embed;
use crate::tenant::CurrentTenant;

/// Bytes of outgoing frames gathered before a socket write. The buffer keeps
/// its largest size for the socket's life, so this bounds idle memory too.
const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// Initial read buffer: client frames are small (a chat line is under 2 KiB);
/// a bigger one grows the buffer up to the frame limit.
const READ_BUFFER_BYTES: usize = 1024;

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
    // The session is loaded below, so this is before the check.
    let checked_at = tokio::time::Instant::now();
    let Query(query) = query?;
    let read_only = matches!(query.read_only.as_deref(), Some("1" | "true"));
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return Err(AppError::BadOrigin);
    }
    let user = match user_of(&session, tenant.id).await? {
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
    if state.shutdown.is_begun() {
        return Err(AppError::Unavailable("server is shutting down".into()));
    }
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
    Ok(upgrade
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        // Frames are fed in batches and flushed once; the buffer lets a batch
        // leave in one write instead of one syscall per frame.
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| {
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
