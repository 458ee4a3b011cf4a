//! `GET /ws/notifications/`: a user's personal socket. The handshake runs
//! the chat socket's checks (`ws::handshake`: Origin, session) plus an
//! active account and a per-user cap ([`handler`]); then one task per
//! socket ([`connection`]) sends the sync (read in batches, [`sync`]),
//! writes what the hub hands its device and reads the client's read marks
//! ([`client`]).

mod client;
pub mod connection;
pub mod handler;
pub mod sync;

use std::sync::Arc;

use crate::auth::SessionUser;
use crate::state::AppState;
use crate::tenant::Tenant;

/// What a notification socket knows after its handshake.
pub struct NotifyCtx {
    pub state: AppState,
    pub tenant: Arc<Tenant>,
    pub user: SessionUser,
    /// The cookie session (logout closes the socket).
    pub session_id: String,
    /// When the handshake read the session.
    pub checked_at: tokio::time::Instant,
    /// The language titles are worded in (the handshake's `lang` cookie or
    /// `Accept-Language`, as for pages).
    pub locale: crate::i18n::Locale,
}
