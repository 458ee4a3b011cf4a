//! What a socket knows after the handshake, shared by its I/O loop and
//! the handling of its frames.

use std::sync::Arc;

use crate::auth::SessionUser;
use crate::state::AppState;
use crate::tenant::Tenant;

/// What a socket knows after the handshake.
pub struct ConnCtx {
    pub state: AppState,
    pub tenant: Arc<Tenant>,
    pub user: SessionUser,
    /// The cookie session the socket was opened with (revoked by logout).
    pub session_id: String,
    pub stream_id: i32,
    pub room_id: i32,
    /// Computed at the handshake; exempts from slow mode.
    pub is_moderator: bool,
    /// The badge of the user's rank on the stream.
    pub badge: Option<crate::chat::Badge>,
    /// Reads only: posting, reacting and moderating are refused (`read_only`).
    pub read_only: bool,
    /// When the handshake began, before it checked the session (for
    /// revocations that arrive while the socket registers).
    pub checked_at: tokio::time::Instant,
    /// `(epoch, since_offset)` from a reconnecting client's query string.
    pub resume: Option<(String, u64)>,
}
