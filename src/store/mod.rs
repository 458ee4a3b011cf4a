//! Postgres access, one file per table group. Queries are built at run time
//! with `sqlx::query*` so that building never needs a live database; tenant
//! tables are qualified with a validated [`crate::tenant::SchemaName`].

pub mod analytics;
pub mod audit_log;
pub mod automod;
pub mod backfill;
pub mod bans;
pub mod batch_id;
pub mod blocked_terms;
pub mod blocks;
pub mod deletions;
pub mod edits;
pub mod embed;
pub mod follows;
pub mod handshake;
pub mod messages;
pub mod migrate;
pub mod moderators;
pub mod notices;
pub mod notifications;
pub mod pins;
pub mod reactions;
pub mod replay;
pub mod replies;
pub mod room_settings;
pub mod search;
pub mod sessions;
pub mod stamps;
pub mod standing;
pub mod stream_lifecycle;
pub mod streams;
pub mod tenants;
pub mod user_card;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use time::PrimitiveDateTime;

/// Why a store call failed, in terms callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the row; the text names what clashed.
    #[error("{0}")]
    Conflict(String),
    /// A row the call depends on does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Input that no row could hold.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// The database could not be reached (see [`is_unreachable`]).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Database(err) if is_unreachable(err))
    }
}

/// Opens a pool whose sessions run in UTC, so that the seed's
/// `TIMESTAMP DEFAULT CURRENT_TIMESTAMP` columns hold UTC wall time.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.options([("TimeZone", "UTC")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings every connection it hands out by default: a second round
        // trip per query. A dead connection fails its query instead (the
        // caller sees a store error) and the pool replaces it.
        .test_before_acquire(false)
        .connect_with(options)
        .await
}

/// RFC 3339 in UTC, e.g. `2026-11-23T12:00:00.123456Z`.
pub fn format_timestamp(ts: PrimitiveDateTime) -> String {
    ts.assume_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| ts.to_string())
}

/// True when `err` means the database could not be reached or went away
/// (as opposed to refusing a statement): worth answering "unavailable, try
/// again", not "internal error".
pub fn is_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exceptions; 57P01-57P03: shutting down or
        // not yet accepting connections.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// True when `err` is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
