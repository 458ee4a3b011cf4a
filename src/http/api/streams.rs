//! `/api/streams`: live streams, chat history pages, and starting and
//! ending streams (their owner and admins).

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{CurrentUser, MaybeUser};
use crate::chat::ChatMessage;
use crate::error::{page_limit, AppError};
use crate::http::extract::AppPath;
use crate::http::openapi::{Conflict, Invalid, NotFound, Refusals, Unauthorized};
use crate::moderation::permissions::Rank;
use crate::room::RoomKey;
use crate::state::AppState;
use crate::store::streams::{self, Stream};
use crate::store::{messages, standing, stream_lifecycle};
use crate::tenant::CurrentTenant;

/// Largest history page.
pub const MAX_PAGE: i64 = 200;
const DEFAULT_PAGE: i64 = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(history))
        .routes(routes!(start))
        .routes(routes!(end))
}

#[derive(Serialize, utoipa::ToSchema)]
struct StreamList {
    streams: Vec<Stream>,
}

#[utoipa::path(
    get,
    path = "/streams",
    tag = "streams",
    operation_id = "list_live_streams",
    summary = "The tenant's live streams",
    responses((status = 200, body = StreamList), (status = 404, response = NotFound))
)]
async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
) -> Result<Json<StreamList>, AppError> {
    let streams = streams::list_live(&state.pool, &tenant.schema).await?;
    Ok(Json(StreamList { streams }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct StreamInfo {
    #[serde(flatten)]
    stream: Stream,
    /// Distinct users in the chat right now, over all nodes.
    viewers: u64,
    /// Distinct users who chatted in the last 5 minutes.
    chatters: u64,
    /// For a logged-in viewer: their ban on this stream in force, if any
    /// (`{"until", "reason"}`), so a page can open read-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BanView>)]
    ban: Option<Option<BanView>>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct BanView {
    until: Option<String>,
    reason: Option<String>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}",
    tag = "streams",
    operation_id = "show_stream",
    summary = "One stream with its audience (and the caller's ban)",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses((status = 200, body = StreamInfo), (status = 404, response = NotFound)),
    security((), ("session" = []))
)]
async fn show(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    AppPath(id): AppPath<i32>,
) -> Result<Json<StreamInfo>, AppError> {
    let stream = streams::get(&state.pool, &tenant.schema, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stream {id}")))?;
    let key = RoomKey {
        tenant_id: tenant.id,
        stream_id: id,
    };
    let audience = state.presence.audience(&tenant.schema, key).await;
    let ban = match user {
        Some(user) => Some(
            state
                .admission
                .lookup(&tenant.schema, id, user.user_id)
                .await?
                .and_then(|info| info.ban)
                .map(|ban| BanView {
                    until: ban.until,
                    reason: ban.reason,
                }),
        ),
        None => None,
    };
    Ok(Json(StreamInfo {
        stream,
        viewers: audience.viewers,
        chatters: audience.chatters,
        ban,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// Lines older than this id (a previous page's `next_before_id`).
    before_id: Option<i32>,
    /// 1–200, default 50.
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct HistoryPage {
    /// Newest first.
    messages: Vec<ChatMessage>,
    /// Pass as `before_id` to get the next (older) page; `null` at the start.
    next_before_id: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}/messages",
    tag = "streams",
    summary = "A page of a stream's chat history, newest first",
    params(("id" = i32, Path, description = "The stream's id."), HistoryQuery),
    responses(
        (status = 200, body = HistoryPage),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn history(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    _user: CurrentUser,
    AppPath(id): AppPath<i32>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryPage>, AppError> {
    let Query(query) = query?;
    let limit = page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let room = streams::room(&state.pool, &tenant.schema, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stream {id}")))?;
    let messages =
        messages::page(&state.pool, &tenant.schema, room.id, query.before_id, limit).await?;
    let next_before_id = if messages.len() as i64 == limit {
        messages.last().and_then(|m| m.id)
    } else {
        None
    };
    Ok(Json(HistoryPage {
        messages,
        next_before_id,
    }))
}

/// `POST /api/streams/{id}/start`: a scheduled stream goes live.
#[utoipa::path(
    post,
    path = "/streams/{id}/start",
    tag = "streams",
    summary = "A scheduled stream goes live (its owner and admins)",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses(
        (status = 200, body = Stream),
        Refusals,
        (status = 409, response = Conflict),
    ),
    security(("session" = []))
)]
async fn start(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<Json<Stream>, AppError> {
    may_run(&state, &tenant, user.user_id, id).await?;
    Ok(Json(
        stream_lifecycle::start(&state.pool, &tenant.schema, tenant.id, id).await?,
    ))
}

/// `POST /api/streams/{id}/end`: the stream ends and its chat closes on
/// every node (`stream.ended`, then close 1000).
#[utoipa::path(
    post,
    path = "/streams/{id}/end",
    tag = "streams",
    summary = "The stream ends; its chat closes on every node",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses(
        (status = 200, body = Stream),
        Refusals,
        (status = 409, response = Conflict),
    ),
    security(("session" = []))
)]
async fn end(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
) -> Result<Json<Stream>, AppError> {
    may_run(&state, &tenant, user.user_id, id).await?;
    let stream = stream_lifecycle::end(&state.pool, &tenant.schema, tenant.id, id).await?;
    Ok(Json(stream))
}

/// Starting and ending a stream is for its owner and the tenant's admins.
async fn may_run(
    state: &AppState,
    tenant: &CurrentTenant,
    user_id: i32,
    id: i32,
) -> Result<(), AppError> {
    let standing = standing::standing(&state.pool, &tenant.schema, id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stream {id}")))?;
    if Rank::of(&standing).can_run_stream() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the stream's owner and admins may start or end it".into(),
        ))
    }
}
