//! Auto-moderation over REST: the tenant's rules (`GET/PUT /api/automod`,
//! admins and moderators, like blocked terms), a stream's held lines, and
//! deciding on them (the same actions as `chat.approve` / `chat.deny`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{CurrentUser, Role, SessionUser};
use crate::chat::ChatMessage;
use crate::error::AppError;
use crate::http::extract::{AppJson, AppPath};
use crate::http::openapi::{BadJson, Conflict, Forbidden, Invalid, Refusals, Unauthorized};
use crate::moderation::automod::{SaveError, Settings};
use crate::moderation::permissions::can_moderate_tenant;
use crate::state::AppState;
use crate::store::automod::HeldLine;
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rules, save))
        .routes(routes!(held))
        .routes(routes!(approve))
        .routes(routes!(deny))
}

fn require_rule_keeper(user: &SessionUser) -> Result<(), AppError> {
    if can_moderate_tenant(user.role) || user.role == Role::Moderator {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only admins and moderators manage auto-moderation".into(),
        ))
    }
}

#[utoipa::path(
    get,
    path = "/automod",
    tag = "automod",
    operation_id = "automod_rules",
    summary = "The tenant's auto-moderation rules (admins, moderators)",
    responses(
        (status = 200, body = Settings),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
    security(("session" = []))
)]
async fn rules(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Settings>, AppError> {
    require_rule_keeper(&user)?;
    let rules = state.moderation.automod.rules(&tenant).await?;
    Ok(Json(rules.settings.clone()))
}

#[utoipa::path(
    put,
    path = "/automod",
    tag = "automod",
    operation_id = "save_automod_rules",
    summary = "Replace the rules (left-out fields take their defaults)",
    request_body = Settings,
    responses(
        (status = 200, body = Settings),
        (status = 400, response = BadJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn save(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppJson(settings): AppJson<Settings>,
) -> Result<Json<Settings>, AppError> {
    require_rule_keeper(&user)?;
    let saved = state
        .moderation
        .automod
        .save(&tenant, user.user_id, settings)
        .await
        .map_err(|err| match err {
            SaveError::Invalid(why) => AppError::Unprocessable(why),
            SaveError::Store(err) => err.into(),
        })?;
    Ok(Json(saved.settings.clone()))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Queue {
    held: Vec<HeldLine>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}/held",
    tag = "automod",
    operation_id = "held_lines",
    summary = "Lines auto-moderation holds for review (the stream's moderators)",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses(
        (status = 200, body = Queue),
        Refusals,
    ),
    security(("session" = []))
)]
async fn held(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<Json<Queue>, AppError> {
    let held = state.moderation.held(&tenant, &user, stream_id).await?;
    Ok(Json(Queue { held }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Approved {
    /// The line, now shown to everyone.
    message: ChatMessage,
}

#[utoipa::path(
    post,
    path = "/streams/{id}/held/{message_id}/approve",
    tag = "automod",
    operation_id = "approve_held",
    summary = "Show a held line (as `chat.approve`)",
    params(
        ("id" = i32, Path, description = "The stream's id."),
        ("message_id" = i64, Path, description = "The held line's id."),
    ),
    responses(
        (status = 200, body = Approved),
        Refusals,
        (status = 409, response = Conflict),
    ),
    security(("session" = []))
)]
async fn approve(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath((stream_id, message_id)): AppPath<(i32, i64)>,
) -> Result<Json<Approved>, AppError> {
    let message: ChatMessage = state
        .moderation
        .approve(&tenant, &user, stream_id, message_id)
        .await?;
    Ok(Json(Approved { message }))
}

#[utoipa::path(
    post,
    path = "/streams/{id}/held/{message_id}/deny",
    tag = "automod",
    operation_id = "deny_held",
    summary = "Drop a held line for good (as `chat.deny`)",
    params(
        ("id" = i32, Path, description = "The stream's id."),
        ("message_id" = i64, Path, description = "The held line's id."),
    ),
    responses(
        (status = 204, description = "Denied."),
        Refusals,
        (status = 409, response = Conflict),
    ),
    security(("session" = []))
)]
async fn deny(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath((stream_id, message_id)): AppPath<(i32, i64)>,
) -> Result<StatusCode, AppError> {
    state
        .moderation
        .deny(&tenant, &user, stream_id, message_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
