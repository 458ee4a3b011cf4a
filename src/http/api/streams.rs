//! `/api/streams`: live streams and chat history pages.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::chat::ChatMessage;
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::room::RoomKey;
use crate::state::AppState;
use crate::store::messages;
use crate::store::streams::{self, Stream};
use crate::tenant::CurrentTenant;

/// Largest history page.
pub const MAX_PAGE: i64 = 200;
const DEFAULT_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/streams", get(list))
        .route("/streams/{id}", get(show))
        .route("/streams/{id}/messages", get(history))
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
}

async fn show(
    State(state): State<AppState>,
    tenant: CurrentTenant,
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
    Ok(Json(StreamInfo {
        stream,
        viewers: audience.viewers,
        chatters: audience.chatters,
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
