//! Who is asking: passwords, tenant-bound cookie sessions, roles, CSRF and
//! the Origin check. Never touches WebSocket frames.

pub mod accounts;
pub mod csrf;
pub mod hash_gate;
pub mod login_throttle;
pub mod origin;
pub mod password;
pub mod revocation;
pub mod session;
pub mod session_store;

pub use crate::chat::{Role, UnknownRole};
pub use session::{CurrentUser, MaybeUser, SessionUser};
