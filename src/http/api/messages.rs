//! A chat line over REST: its author edits it (`PATCH`), moderators read
//! its earlier texts (`GET …/versions`). Deleting is moderation
//! (`DELETE /api/messages/{id}`, in `moderation`).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::editing::{self, Edited};
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::http::extract::{AppJson, AppPath};
use crate::http::openapi::{BadJson, NotFound, Refusals, Unauthorized};
use crate::state::AppState;
use crate::store::edits::Versions;
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(edit))
        .routes(routes!(versions))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct EditBody {
    /// The new text, as typed.
    message: String,
}

#[utoipa::path(
    patch,
    path = "/messages/{id}",
    tag = "messages",
    operation_id = "edit_message",
    summary = "The author edits their line (within the edit window)",
    params(("id" = i64, Path, description = "The line's id.")),
    request_body = EditBody,
    responses(
        (status = 200, body = Edited),
        (status = 400, response = BadJson),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not the author, `edit_window_passed`, or banned.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 422, description = "Refused like a chat line (`empty`, `too_long`, `blocked_term`, `edit_held`…).", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with `retry_after_ms`.", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn edit(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<EditBody>,
) -> Result<Json<Edited>, AppError> {
    let edited = editing::edit(&state, &tenant, &user, id, &body.message).await?;
    Ok(Json(edited))
}

#[utoipa::path(
    get,
    path = "/messages/{id}/versions",
    tag = "messages",
    summary = "A line's earlier texts (moderators)",
    params(("id" = i64, Path, description = "The line's id.")),
    responses(
        (status = 200, body = Versions),
        Refusals,
    ),
    security(("session" = []))
)]
async fn versions(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Versions>, AppError> {
    Ok(Json(state.moderation.versions(&tenant, &user, id).await?))
}
