//! Moderation over REST, for tools. The same actions as over the socket,
//! with the same server-side checks (see `moderation::actions`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::chat::BanScope;
use crate::error::AppError;
use crate::http::extract::{AppJson, AppPath};
use crate::http::openapi::{BadJson, Conflict, Forbidden, Invalid, Refusals, Unauthorized};
use crate::moderation::actions::{BanRequest, Pinned, UserCard};
use crate::state::AppState;
use crate::store::audit_log::LogEntry;
use crate::store::bans::Ban;
use crate::store::blocked_terms::BlockedTerm;
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pin, unpin))
        .routes(routes!(delete_message))
        .routes(routes!(clear))
        .routes(routes!(ban, bans))
        .routes(routes!(unban))
        .routes(routes!(settings))
        .routes(routes!(log))
        .routes(routes!(user_card))
        .routes(routes!(appoint, moderators))
        .routes(routes!(dismiss))
        .routes(routes!(list_terms, add_term))
        .routes(routes!(remove_term))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct PinBody {
    message_id: i64,
}

#[utoipa::path(
    post,
    path = "/streams/{id}/pin",
    tag = "moderation",
    operation_id = "pin_message",
    summary = "Pin a line above the chat",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    request_body = PinBody,
    responses(
        (status = 200, body = Pinned),
        (status = 400, response = BadJson),
        Refusals,
    ),
    security(("session" = []))
)]
async fn pin(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
    AppJson(body): AppJson<PinBody>,
) -> Result<Json<Pinned>, AppError> {
    let pinned = state
        .moderation
        .pin(&tenant, &user, stream_id, body.message_id)
        .await?;
    Ok(Json(Pinned { pinned }))
}

#[utoipa::path(
    delete,
    path = "/streams/{id}/pin",
    tag = "moderation",
    operation_id = "unpin_message",
    summary = "Unpin the pinned line",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    responses(
        (status = 204, description = "Unpinned."),
        Refusals,
    ),
    security(("session" = []))
)]
async fn unpin(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<StatusCode, AppError> {
    state.moderation.unpin(&tenant, &user, stream_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/messages/{id}",
    tag = "moderation",
    summary = "Delete a line (moderators)",
    params(
        ("id" = i64, Path, description = "The line's id."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        Refusals,
    ),
    security(("session" = []))
)]
async fn delete_message(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i64>,
) -> Result<StatusCode, AppError> {
    state.moderation.delete_message(&tenant, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct ClearBody {
    /// Only this user's messages; all messages when absent.
    username: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Cleared {
    /// Lines removed.
    removed: usize,
}

#[utoipa::path(
    post,
    path = "/streams/{id}/messages/clear",
    tag = "moderation",
    operation_id = "clear_messages",
    summary = "Clear the chat, or one user's lines",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    request_body = ClearBody,
    responses(
        (status = 200, body = Cleared),
        (status = 400, response = BadJson),
        Refusals,
    ),
    security(("session" = []))
)]
async fn clear(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
    AppJson(body): AppJson<ClearBody>,
) -> Result<Json<Cleared>, AppError> {
    let removed = state
        .moderation
        .clear(&tenant, &user, stream_id, body.username.as_deref())
        .await?;
    Ok(Json(Cleared { removed }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct BanBody {
    username: String,
    /// A timeout's length; a permanent ban when absent.
    duration_secs: Option<i64>,
    reason: Option<String>,
    /// `stream` (default) or `tenant`-wide (tenant moderators).
    #[serde(default)]
    scope: BanScope,
}

#[utoipa::path(
    post,
    path = "/streams/{id}/bans",
    tag = "moderation",
    operation_id = "ban_user",
    summary = "Ban or time out a user",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    request_body = BanBody,
    responses(
        (status = 201, description = "Banned.", body = Ban),
        (status = 400, response = BadJson),
        Refusals,
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn ban(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
    AppJson(body): AppJson<BanBody>,
) -> Result<impl IntoResponse, AppError> {
    let request = BanRequest {
        username: body.username,
        duration_secs: body.duration_secs,
        reason: body.reason,
        scope: body.scope,
    };
    let ban = state
        .moderation
        .ban(&tenant, &user, stream_id, request)
        .await?;
    Ok((StatusCode::CREATED, Json(ban)))
}

#[derive(Serialize, utoipa::ToSchema)]
struct BanList {
    bans: Vec<Ban>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}/bans",
    tag = "moderation",
    operation_id = "list_bans",
    summary = "The bans in force on the stream (and tenant-wide)",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    responses(
        (status = 200, body = BanList),
        Refusals,
    ),
    security(("session" = []))
)]
async fn bans(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<Json<BanList>, AppError> {
    let bans = state.moderation.bans(&tenant, &user, stream_id).await?;
    Ok(Json(BanList { bans }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ScopeQuery {
    /// `stream` (default) or `tenant`.
    #[serde(default)]
    scope: BanScope,
}

#[utoipa::path(
    delete,
    path = "/streams/{id}/bans/{user}",
    tag = "moderation",
    operation_id = "unban_user",
    summary = "Lift a ban or timeout",
    params(
        ("id" = i32, Path, description = "The stream's id."),
        ("user" = String, Path, description = "The username."),
        ScopeQuery,
    ),
    responses(
        (status = 204, description = "Lifted."),
        Refusals,
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn unban(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath((stream_id, username)): AppPath<(i32, String)>,
    query: Result<Query<ScopeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, AppError> {
    let Query(query) = query?;
    state
        .moderation
        .unban(&tenant, &user, stream_id, &username, query.scope)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct SettingsBody {
    /// Seconds between a user's lines; 0 turns slow mode off.
    slow_mode_seconds: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StreamSettings {
    slow_mode_seconds: i32,
}

#[utoipa::path(
    put,
    path = "/streams/{id}/settings",
    tag = "moderation",
    operation_id = "stream_settings",
    summary = "Set the stream's slow mode",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    request_body = SettingsBody,
    responses(
        (status = 200, body = StreamSettings),
        (status = 400, response = BadJson),
        Refusals,
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn settings(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
    AppJson(body): AppJson<SettingsBody>,
) -> Result<Json<StreamSettings>, AppError> {
    let slow_mode_seconds = state
        .moderation
        .set_slow_mode(&tenant, &user, stream_id, body.slow_mode_seconds)
        .await?;
    Ok(Json(StreamSettings { slow_mode_seconds }))
}

/// `GET /api/streams/{id}/users/{username}`: the user card (moderators).
#[utoipa::path(
    get,
    path = "/streams/{id}/users/{user}",
    tag = "moderation",
    summary = "A user's card: role, bans, recent lines (moderators)",
    params(
        ("id" = i32, Path, description = "The stream's id."),
        ("user" = String, Path, description = "The username."),
    ),
    responses(
        (status = 200, body = UserCard),
        Refusals,
    ),
    security(("session" = []))
)]
async fn user_card(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath((stream_id, username)): AppPath<(i32, String)>,
) -> Result<Json<UserCard>, AppError> {
    let card = state
        .moderation
        .user_card(&tenant, &user, stream_id, &username)
        .await?;
    Ok(Json(card))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ModerationLog {
    actions: Vec<LogEntry>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}/moderation-log",
    tag = "moderation",
    operation_id = "moderation_log",
    summary = "The stream's moderation actions",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    responses(
        (status = 200, body = ModerationLog),
        Refusals,
    ),
    security(("session" = []))
)]
async fn log(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<Json<ModerationLog>, AppError> {
    let actions = state.moderation.log(&tenant, &user, stream_id).await?;
    Ok(Json(ModerationLog { actions }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct UsernameBody {
    username: String,
}

#[utoipa::path(
    post,
    path = "/streams/{id}/moderators",
    tag = "moderation",
    operation_id = "appoint_moderator",
    summary = "Appoint a moderator of the stream",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    request_body = UsernameBody,
    responses(
        (status = 201, description = "Appointed."),
        (status = 400, response = BadJson),
        Refusals,
        (status = 409, response = Conflict),
    ),
    security(("session" = []))
)]
async fn appoint(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
    AppJson(body): AppJson<UsernameBody>,
) -> Result<StatusCode, AppError> {
    state
        .moderation
        .appoint(&tenant, &user, stream_id, &body.username)
        .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Serialize, utoipa::ToSchema)]
struct Moderators {
    /// Usernames.
    moderators: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}/moderators",
    tag = "moderation",
    operation_id = "list_moderators",
    summary = "The stream's appointed moderators",
    params(
        ("id" = i32, Path, description = "The stream's id."),
    ),
    responses(
        (status = 200, body = Moderators),
        Refusals,
    ),
    security(("session" = []))
)]
async fn moderators(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<Json<Moderators>, AppError> {
    let moderators = state
        .moderation
        .moderators(&tenant, &user, stream_id)
        .await?;
    Ok(Json(Moderators { moderators }))
}

#[utoipa::path(
    delete,
    path = "/streams/{id}/moderators/{user}",
    tag = "moderation",
    operation_id = "dismiss_moderator",
    summary = "Dismiss a moderator of the stream",
    params(
        ("id" = i32, Path, description = "The stream's id."),
        ("user" = String, Path, description = "The username."),
    ),
    responses(
        (status = 204, description = "Dismissed."),
        Refusals,
    ),
    security(("session" = []))
)]
async fn dismiss(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath((stream_id, username)): AppPath<(i32, String)>,
) -> Result<StatusCode, AppError> {
    state
        .moderation
        .dismiss(&tenant, &user, stream_id, &username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
struct Terms {
    terms: Vec<BlockedTerm>,
}

#[utoipa::path(
    get,
    path = "/blocked-terms",
    tag = "moderation",
    summary = "The tenant's blocked terms (admins, moderators)",
    responses(
        (status = 200, body = Terms),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
    security(("session" = []))
)]
async fn list_terms(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Terms>, AppError> {
    let terms = state.moderation.list_terms(&tenant, &user).await?;
    Ok(Json(Terms { terms }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TermBody {
    term: String,
}

#[utoipa::path(
    post,
    path = "/blocked-terms",
    tag = "moderation",
    summary = "Add a blocked term",
    request_body = TermBody,
    responses(
        (status = 201, description = "Added.", body = BlockedTerm),
        (status = 400, response = BadJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn add_term(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<TermBody>,
) -> Result<impl IntoResponse, AppError> {
    let term = state
        .moderation
        .add_term(&tenant, &user, &body.term)
        .await?;
    Ok((StatusCode::CREATED, Json(term)))
}

#[utoipa::path(
    delete,
    path = "/blocked-terms/{id}",
    tag = "moderation",
    summary = "Remove a blocked term",
    params(
        ("id" = i32, Path, description = "The term's id."),
    ),
    responses(
        (status = 204, description = "Removed."),
        Refusals,
    ),
    security(("session" = []))
)]
async fn remove_term(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<StatusCode, AppError> {
    state.moderation.remove_term(&tenant, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
