//! Moderation over REST, for tools. The same actions as over the socket,
//! with the same server-side checks (see `moderation::actions`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::chat::BanScope;
use crate::error::AppError;
use crate::http::extract::{AppJson, AppPath};
use crate::moderation::actions::{BanRequest, Pinned, UserCard};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/streams/{id}/pin", post(pin).delete(unpin))
        .route("/messages/{id}", delete(delete_message))
        .route("/streams/{id}/messages/clear", post(clear))
        .route("/streams/{id}/bans", post(ban).get(bans))
        .route("/streams/{id}/bans/{user}", delete(unban))
        .route("/streams/{id}/settings", put(settings))
        .route("/streams/{id}/moderation-log", get(log))
        .route("/streams/{id}/users/{user}", get(user_card))
        .route("/streams/{id}/moderators", post(appoint).get(moderators))
        .route("/streams/{id}/moderators/{user}", delete(dismiss))
        .route("/blocked-terms", get(list_terms).post(add_term))
        .route("/blocked-terms/{id}", delete(remove_term))
}

#[derive(Deserialize)]
struct PinBody {
    message_id: i64,
}

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

async fn unpin(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<StatusCode, AppError> {
    state.moderation.unpin(&tenant, &user, stream_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_message(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i64>,
) -> Result<StatusCode, AppError> {
    state.moderation.delete_message(&tenant, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
struct ClearBody {
    /// Only this user's messages; all messages when absent.
    username: Option<String>,
}

async fn clear(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
    AppJson(body): AppJson<ClearBody>,
) -> Result<impl IntoResponse, AppError> {
    let removed = state
        .moderation
        .clear(&tenant, &user, stream_id, body.username.as_deref())
        .await?;
    Ok(Json(json!({ "removed": removed })))
}

#[derive(Deserialize)]
struct BanBody {
    username: String,
    duration_secs: Option<i64>,
    reason: Option<String>,
    #[serde(default)]
    scope: BanScope,
}

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

async fn bans(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<impl IntoResponse, AppError> {
    let bans = state.moderation.bans(&tenant, &user, stream_id).await?;
    Ok(Json(json!({ "bans": bans })))
}

#[derive(Deserialize)]
struct ScopeQuery {
    #[serde(default)]
    scope: BanScope,
}

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

#[derive(Deserialize)]
struct SettingsBody {
    slow_mode_seconds: i64,
}

async fn settings(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
    AppJson(body): AppJson<SettingsBody>,
) -> Result<impl IntoResponse, AppError> {
    let seconds = state
        .moderation
        .set_slow_mode(&tenant, &user, stream_id, body.slow_mode_seconds)
        .await?;
    Ok(Json(json!({ "slow_mode_seconds": seconds })))
}

/// `GET /api/streams/{id}/users/{username}`: the user card (moderators).
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

async fn log(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<impl IntoResponse, AppError> {
    let entries = state.moderation.log(&tenant, &user, stream_id).await?;
    Ok(Json(json!({ "actions": entries })))
}

#[derive(Deserialize)]
struct UsernameBody {
    username: String,
}

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

async fn moderators(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(stream_id): AppPath<i32>,
) -> Result<impl IntoResponse, AppError> {
    let list = state
        .moderation
        .moderators(&tenant, &user, stream_id)
        .await?;
    Ok(Json(json!({ "moderators": list })))
}

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

async fn list_terms(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<impl IntoResponse, AppError> {
    let terms = state.moderation.list_terms(&tenant, &user).await?;
    Ok(Json(json!({ "terms": terms })))
}

#[derive(Deserialize)]
struct TermBody {
    term: String,
}

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

async fn remove_term(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<StatusCode, AppError> {
    state.moderation.remove_term(&tenant, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
