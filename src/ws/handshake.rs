//! The checks every WebSocket of a tenant passes before its upgrade, in
//! this order: the tenant (by the middleware), the Origin, the session; and
//! the frame limits and buffers every socket gets. Shared by the chat socket
//! (`ws::handler`) and the notification socket (`notifications::socket`),
//! so the two cannot drift apart.

use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use tower_sessions::Session;

use super::MAX_FRAME_BYTES;
use crate::auth::origin::origin_allowed;
use crate::auth::session::user_of;
use crate::auth::SessionUser;
use crate::error::AppError;
use crate::state::AppState;

/// Bytes of outgoing frames gathered before a socket write. The buffer keeps
/// its largest size for the socket's life, so this bounds idle memory too.
const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// Initial read buffer: client frames are small (a chat line is under 2 KiB);
/// a bigger one grows the buffer up to the frame limit.
const READ_BUFFER_BYTES: usize = 1024;

/// What the common checks found.
pub struct Checked {
    /// When the checks began, before the session was read (for revocations
    /// that arrive while the socket registers).
    pub checked_at: tokio::time::Instant,
    /// The session's user of this tenant; `None` without a login.
    pub user: Option<SessionUser>,
}

/// The Origin must be the tenant's own host or an allowed one (else
/// `bad_origin`); then the session is read.
pub async fn origin_and_session(
    state: &AppState,
    tenant_id: i32,
    headers: &HeaderMap,
    session: &Session,
) -> Result<Checked, AppError> {
    // The session is loaded below, so this is before the check.
    let checked_at = tokio::time::Instant::now();
    if !origin_allowed(headers, &state.config.allowed_origins) {
        return Err(AppError::BadOrigin);
    }
    let user = user_of(session, tenant_id).await?;
    Ok(Checked { checked_at, user })
}

/// Refuses new sockets once shutdown began (they would be closed at once).
pub fn open_for_sockets(state: &AppState) -> Result<(), AppError> {
    if state.shutdown.is_begun() {
        Err(AppError::Unavailable("server is shutting down".into()))
    } else {
        Ok(())
    }
}

/// The frame limit and the buffer sizes of every socket.
pub fn sized(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        // Frames are fed in batches and flushed once; the buffer lets a batch
        // leave in one write instead of one syscall per frame.
        .write_buffer_size(WRITE_BUFFER_BYTES)
}
