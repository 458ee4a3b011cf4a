//! `/api/streams/{id}/follow` and `/api/follows`: the streams a user
//! follows; each notifies its followers once when it goes live.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::http::openapi::{NotFound, Unauthorized};
use crate::state::AppState;
use crate::store::follows::{self, Followed};
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(follow, unfollow))
        .routes(routes!(list))
}

#[derive(Serialize, utoipa::ToSchema)]
struct FollowState {
    stream_id: i32,
    following: bool,
}

#[utoipa::path(
    post,
    path = "/streams/{id}/follow",
    tag = "users",
    operation_id = "follow_stream",
    summary = "Follow a stream (idempotent): notified when it goes live",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses(
        (status = 200, body = FollowState),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
    security(("session" = []))
)]
async fn follow(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<Json<FollowState>, AppError> {
    follows::follow(&state.pool, &tenant.schema, user.user_id, id).await?;
    Ok(Json(FollowState {
        stream_id: id,
        following: true,
    }))
}

#[utoipa::path(
    delete,
    path = "/streams/{id}/follow",
    tag = "users",
    operation_id = "unfollow_stream",
    summary = "Stop following a stream (idempotent)",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses(
        (status = 200, body = FollowState),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
    security(("session" = []))
)]
async fn unfollow(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<Json<FollowState>, AppError> {
    follows::unfollow(&state.pool, &tenant.schema, user.user_id, id).await?;
    Ok(Json(FollowState {
        stream_id: id,
        following: false,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct FollowList {
    follows: Vec<Followed>,
}

#[utoipa::path(
    get,
    path = "/follows",
    tag = "users",
    operation_id = "list_follows",
    summary = "The streams the caller follows",
    responses((status = 200, body = FollowList), (status = 401, response = Unauthorized)),
    security(("session" = []))
)]
async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<FollowList>, AppError> {
    let follows = follows::list(&state.pool, &tenant.schema, user.user_id).await?;
    Ok(Json(FollowList { follows }))
}
