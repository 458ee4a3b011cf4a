//! `GET /api/stamps`: the tenant's active stamps.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::AppError;
use crate::state::AppState;
use crate::store::stamps::Stamp;
use crate::tenant::CurrentTenant;

pub fn router() -> Router<AppState> {
    Router::new().route("/stamps", get(list))
}

async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
) -> Result<Json<Value>, AppError> {
    let stamps = state.stamps.list(&tenant).await?;
    let stamps: Vec<&Stamp> = stamps.iter().map(|s| s.as_ref()).collect();
    Ok(Json(json!({ "stamps": stamps })))
}
