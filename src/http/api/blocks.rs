//! `/api/users/{username}/block` and `/api/blocks`: users a user blocked.
//! A blocked user's mentions and replies never notify the blocker.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::http::openapi::{Invalid, NotFound, Unauthorized};
use crate::state::AppState;
use crate::store::blocks::{self, Blocked};
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(block, unblock))
        .routes(routes!(list))
}

#[derive(Serialize, utoipa::ToSchema)]
struct BlockState {
    username: String,
    blocked: bool,
}

#[utoipa::path(
    post,
    path = "/users/{username}/block",
    tag = "users",
    operation_id = "block_user",
    summary = "Block a user (idempotent): their mentions and replies stop notifying",
    params(("username" = String, Path, description = "The user to block.")),
    responses(
        (status = 200, body = BlockState),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, description = "`invalid`: oneself.", body = crate::error::ErrorBody),
    ),
    security(("session" = []))
)]
async fn block(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<BlockState>, AppError> {
    blocks::block(&state.pool, &tenant.schema, user.user_id, &username).await?;
    Ok(Json(BlockState {
        username,
        blocked: true,
    }))
}

#[utoipa::path(
    delete,
    path = "/users/{username}/block",
    tag = "users",
    operation_id = "unblock_user",
    summary = "Unblock a user (idempotent)",
    params(("username" = String, Path, description = "The user to unblock.")),
    responses(
        (status = 200, body = BlockState),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn unblock(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<BlockState>, AppError> {
    blocks::unblock(&state.pool, &tenant.schema, user.user_id, &username).await?;
    Ok(Json(BlockState {
        username,
        blocked: false,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct BlockList {
    blocks: Vec<Blocked>,
}

#[utoipa::path(
    get,
    path = "/blocks",
    tag = "users",
    operation_id = "list_blocks",
    summary = "The users the caller blocked",
    responses((status = 200, body = BlockList), (status = 401, response = Unauthorized)),
    security(("session" = []))
)]
async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<BlockList>, AppError> {
    let blocks = blocks::list(&state.pool, &tenant.schema, user.user_id).await?;
    Ok(Json(BlockList { blocks }))
}
