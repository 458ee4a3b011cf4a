//! `/api/streams/{id}/follow` and `/api/follows`: the streams a user
//! follows; each notifies its followers once when it goes live.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::state::AppState;
use crate::store::follows;
use crate::tenant::CurrentTenant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/streams/{id}/follow", post(follow).delete(unfollow))
        .route("/follows", get(list))
}

async fn follow(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<Json<Value>, AppError> {
    follows::follow(&state.pool, &tenant.schema, user.user_id, id).await?;
    Ok(Json(json!({ "stream_id": id, "following": true })))
}

async fn unfollow(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<Json<Value>, AppError> {
    follows::unfollow(&state.pool, &tenant.schema, user.user_id, id).await?;
    Ok(Json(json!({ "stream_id": id, "following": false })))
}

async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, AppError> {
    let follows = follows::list(&state.pool, &tenant.schema, user.user_id).await?;
    Ok(Json(json!({ "follows": follows })))
}
