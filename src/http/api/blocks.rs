//! `/api/users/{username}/block` and `/api/blocks`: users a user blocked.
//! A blocked user's mentions and replies never notify the blocker.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::state::AppState;
use crate::store::blocks;
use crate::tenant::CurrentTenant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{username}/block", post(block).delete(unblock))
        .route("/blocks", get(list))
}

async fn block(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<Value>, AppError> {
    blocks::block(&state.pool, &tenant.schema, user.user_id, &username).await?;
    Ok(Json(json!({ "username": username, "blocked": true })))
}

async fn unblock(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<Value>, AppError> {
    blocks::unblock(&state.pool, &tenant.schema, user.user_id, &username).await?;
    Ok(Json(json!({ "username": username, "blocked": false })))
}

async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, AppError> {
    let blocks = blocks::list(&state.pool, &tenant.schema, user.user_id).await?;
    Ok(Json(json!({ "blocks": blocks })))
}
