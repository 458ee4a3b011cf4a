//! The JSON API under `/api`. Errors are `{"error": code, "message": text}`.

pub mod analytics;
mod automod;
mod blocks;
mod follows;
mod messages;
mod moderation;
mod notifications;
mod replay;
mod search;
mod session;
mod stamps;
mod streams;
mod users;

use utoipa_axum::router::OpenApiRouter;

pub use session::authenticate;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(session::router())
        .merge(streams::router())
        .merge(stamps::router())
        .merge(moderation::router())
        .merge(automod::router())
        .merge(messages::router())
        .merge(replay::router())
        .merge(search::router())
        .merge(analytics::router())
        .merge(users::router())
        .merge(blocks::router())
        .merge(follows::router())
        .merge(notifications::router())
}
