//! The JSON API under `/api`. Errors are `{"error": code, "message": text}`.

pub mod analytics;
mod blocks;
mod follows;
mod moderation;
mod notifications;
mod session;
mod stamps;
mod streams;
mod users;

use axum::Router;

pub use session::authenticate;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(streams::router())
        .merge(stamps::router())
        .merge(moderation::router())
        .merge(analytics::router())
        .merge(users::router())
        .merge(blocks::router())
        .merge(follows::router())
        .merge(notifications::router())
}
