//! Moderation. The checks applied to what users send (sanitising, rate
//! limits, blocked terms, the last behind a per-tenant cache of the stored
//! list) and the rank rules; [`actions`] carries out moderators' actions
//! (store, audit, announce, broadcast).

pub mod actions;
pub mod automod;
pub mod blocked_terms;
pub mod gcra_script;
pub mod global_limit;
pub mod held_expiry;
pub mod permissions;
pub mod rate_limit;
pub mod sanitize;
pub mod vet;

pub use rate_limit::UserRateLimiter;
pub use sanitize::{sanitize, validate_length, TextError};
