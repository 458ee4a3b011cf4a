//! Pure checks a room applies to what users send: sanitising and rate limits.
//! Nothing here does I/O.

pub mod rate_limit;
pub mod sanitize;

pub use rate_limit::UserRateLimiter;
pub use sanitize::{sanitize, validate_length, TextError};
