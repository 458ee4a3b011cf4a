//! `/api/streams`: live streams, chat history pages, and starting and
//! ending streams (their owner and admins).

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::{CurrentUser, MaybeUser};
use crate::chat::ChatMessage;
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::moderation::permissions::Rank;
use crate::room::RoomKey;
use crate::state::AppState;
use crate::store::streams::{self, Stream};
use crate::store::{messages, standing, stream_lifecycle};
use crate::tenant::CurrentTenant;

/// Largest history page.
pub const MAX_PAGE: i64 = 200;
const DEFAULT_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/streams", get(list))
        .route("/streams/{id}", get(show))
        .route("/streams/{id}/messages", get(history))
        .route("/streams/{id}/start", post(start))
        .route("/streams/{id}/end", post(end))
}

#[derive(Serialize)]
struct StreamList {
    streams: Vec<Stream>,
}

async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
) -> Result<Json<StreamList>, AppError> {
    let streams = streams::list_live(&state.pool, &tenant.schema).await?;
    Ok(Json(StreamList { streams }))
}

#[derive(Serialize)]
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
    ban: Option<Option<BanView>>,
}

#[derive(Serialize)]
struct BanView {
    until: Option<String>,
    reason: Option<String>,
}

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

#[derive(Deserialize)]
struct HistoryQuery {
    before_id: Option<i32>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct HistoryPage {
    /// Newest first.
    messages: Vec<ChatMessage>,
    /// Pass as `before_id` to get the next (older) page; `null` at the start.
    next_before_id: Option<i64>,
}

async fn history(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    _user: CurrentUser,
    AppPath(id): AppPath<i32>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryPage>, AppError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::Unprocessable(format!(
            "limit must be 1-{MAX_PAGE}"
        )));
    }
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
