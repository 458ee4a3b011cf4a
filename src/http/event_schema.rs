//! `GET /api/schema/events.json`: the JSON Schema of every WebSocket frame
//! ([`crate::wire::schema`]). Served on any host: it holds no tenant data.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// The JSON Schema (draft 2020-12) of every frame of both sockets.
#[utoipa::path(
    get,
    path = "/api/schema/events.json",
    tag = "service",
    summary = "JSON Schema of every WebSocket frame",
    description = "Generated from the server's frame types. `$defs` names the four kinds: \
                   `ChatSocketServerFrame`, `ChatClientFrame`, \
                   `NotificationSocketServerFrame`, `NotificationClientFrame` \
                   (docs/protocol.md §6).",
    responses(
        (status = 200, description = "The schema.", content_type = "application/schema+json", body = Object),
    )
)]
pub async fn events() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/schema+json"),
            // Changes only with the server's version.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        crate::wire::schema::events_json(),
    )
}
