//! `/media/stamps/{file}`: built-in stamps from the binary, a tenant's own
//! stamps from its schema. SVG is served with headers that keep a browser
//! from running anything in it even when opened directly.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::stamps::builtin;
use crate::state::AppState;
use crate::store::stamps;
use crate::tenant::CurrentTenant;

/// Stamps never change once published (a new image gets a new name).
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";
/// Nothing but the SVG's own inline styling; no scripts, no loads, no framing.
const SVG_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stamp_file))
}

#[utoipa::path(
    get,
    path = "/media/stamps/{file}",
    tag = "stamps",
    summary = "A stamp's SVG image (built-in or the tenant's own)",
    params(("file" = String, Path, description = "The image's file name, e.g. `clap.svg`.")),
    responses(
        (status = 200, description = "The SVG, cached for good, sandboxed by its own CSP.", content_type = "image/svg+xml", body = String),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
async fn stamp_file(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    AppPath(file): AppPath<String>,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("no such stamp image".into());
    if let Some(svg) = builtin::get(&file) {
        return Ok(svg_response(svg.to_owned()));
    }
    if !file.ends_with(".svg") || file.len() > 64 {
        return Err(not_found());
    }
    let svg = stamps::custom_svg(
        &state.pool,
        &tenant.schema,
        &format!("/media/stamps/{file}"),
    )
    .await?
    .ok_or_else(not_found)?;
    Ok(svg_response(svg))
}

fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, CACHE_FOREVER),
            (header::CONTENT_SECURITY_POLICY, SVG_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        svg,
    )
        .into_response()
}
