//! `GET /api/stamps`: the tenant's active stamps.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::http::openapi::NotFound;
use crate::state::AppState;
use crate::store::stamps::Stamp;
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Serialize, utoipa::ToSchema)]
struct StampList<'a> {
    stamps: Vec<&'a Stamp>,
}

#[utoipa::path(
    get,
    path = "/stamps",
    tag = "stamps",
    operation_id = "list_stamps",
    summary = "The tenant's active stamps, in order",
    responses((status = 200, body = StampList), (status = 404, response = NotFound))
)]
async fn list(State(state): State<AppState>, tenant: CurrentTenant) -> Result<Response, AppError> {
    let stamps = state.stamps.list(&tenant).await?;
    let stamps: Vec<&Stamp> = stamps.iter().map(|s| s.as_ref()).collect();
    Ok(Json(StampList { stamps }).into_response())
}
