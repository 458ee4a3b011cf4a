//! Static files, embedded at build time so a deployment is one binary.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

const WATCH_JS: &str = include_str!("../../templates/static/watch.js");
const STYLE_CSS: &str = include_str!("../../templates/static/style.css");
const ANALYTICS_JS: &str = include_str!("../../templates/static/analytics.js");
const CACHE: &str = "public, max-age=300";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/watch.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, CACHE),
                    ],
                    WATCH_JS,
                )
                    .into_response()
            }),
        )
        .route(
            "/analytics.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, CACHE),
                    ],
                    ANALYTICS_JS,
                )
                    .into_response()
            }),
        )
        .route(
            "/style.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, CACHE),
                    ],
                    STYLE_CSS,
                )
                    .into_response()
            }),
        )
}
