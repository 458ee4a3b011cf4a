//! Revoking sessions so that open sockets on every node notice.
//!
//! A session is revoked by logout, a user by deactivation. Deleting the
//! session rows stops new requests at once (every node reads the same
//! store), but an open socket checked its cookie only at the handshake.
//! So the revoker also sends a Postgres `NOTIFY` in the same transaction,
//! and every node listens ([`crate::ws::revocations`]) and closes the
//! matching sockets it holds. Postgres carries it, not Redis, so a single
//! node without Redis and the CLI (which runs no node) both work.

use serde::{Deserialize, Serialize};

/// The Postgres channel revocations travel on.
pub const CHANNEL: &str = "stampede_revocations";

/// What was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Revoked {
    /// Every session of a user (deactivation).
    User { tenant_id: i32, user_id: i32 },
    /// One session (logout).
    Session { session_id: String },
}

/// Announces `revoked` to every node when the caller's transaction commits.
pub async fn notify(
    executor: impl sqlx::PgExecutor<'_>,
    revoked: &Revoked,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(revoked).unwrap_or_default();
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(executor)
        .await?;
    Ok(())
}
