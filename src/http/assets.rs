//! Static files, embedded at build time so a deployment is one binary.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
use axum::Router;

use crate::state::AppState;

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const CACHE: &str = "public, max-age=300";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/watch.js",
            asset(JS, include_str!("../../templates/static/watch.js")),
        )
        .route(
            "/mod_panel.js",
            asset(JS, include_str!("../../templates/static/mod_panel.js")),
        )
        .route(
            "/analytics.js",
            asset(JS, include_str!("../../templates/static/analytics.js")),
        )
        .route(
            "/bell.js",
            asset(JS, include_str!("../../templates/static/bell.js")),
        )
        .route(
            "/line_menu.js",
            asset(JS, include_str!("../../templates/static/line_menu.js")),
        )
        .route(
            "/zone.js",
            asset(JS, include_str!("../../templates/static/zone.js")),
        )
        .route(
            "/style.css",
            asset(CSS, include_str!("../../templates/static/style.css")),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> MethodRouter<AppState> {
    get(move || async move {
        (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, CACHE),
            ],
            body,
        )
            .into_response()
    })
}
