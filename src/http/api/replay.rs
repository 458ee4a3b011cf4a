//! `GET /api/streams/{id}/replay`: a stream's chat over a window of stream
//! time, for playing it back beside the recording (`store::replay`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::chat::ChatMessage;
use crate::error::{page_limit, AppError, ErrorBody};
use crate::http::extract::AppPath;
use crate::http::openapi::{Invalid, NotFound, Unauthorized};
use crate::state::AppState;
use crate::store::replay::{self, Item, Window};
use crate::store::streams;
use crate::tenant::CurrentTenant;

/// Lines per page by default and at most.
const DEFAULT_LIMIT: i64 = 500;
const MAX_LIMIT: i64 = 1000;
/// The longest window one request may ask for (reactions come per second).
pub const MAX_WINDOW_MS: i64 = 3_600_000;
/// The window when `to_ms` is left out.
const DEFAULT_WINDOW_MS: i64 = 600_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(replay_page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReplayQuery {
    /// Window start, in ms of stream time (default 0).
    from_ms: Option<i64>,
    /// Window end, exclusive (default `from_ms` + 10 min; at most 1 h later).
    to_ms: Option<i64>,
    /// With `from_ms`, from a previous page's `next`.
    after: Option<i64>,
    /// Lines per page, 1–1000, default 500.
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Next {
    from_ms: i64,
    after: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReplayPage {
    stream_id: i32,
    started_at: Option<String>,
    ended_at: Option<String>,
    from_ms: i64,
    to_ms: i64,
    /// The line pinned as the window starts (`from_ms`), if any.
    pinned: Option<ChatMessage>,
    /// In stream-time order.
    items: Vec<Item>,
    /// The rest of the window, when this page was cut at `limit` lines:
    /// pass its `from_ms` and `after` (and the same `to_ms`).
    next: Option<Next>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}/replay",
    tag = "streams",
    summary = "A stream's chat and reactions over a window of stream time",
    params(("id" = i32, Path, description = "The stream's id."), ReplayQuery),
    responses(
        (status = 200, body = ReplayPage),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, description = "The stream has not started.", body = ErrorBody),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn replay_page(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    _user: CurrentUser,
    AppPath(id): AppPath<i32>,
    query: Result<Query<ReplayQuery>, QueryRejection>,
) -> Result<Json<ReplayPage>, AppError> {
    let Query(query) = query?;
    let from_ms = query.from_ms.unwrap_or(0);
    let to_ms = query
        .to_ms
        .unwrap_or(from_ms.saturating_add(DEFAULT_WINDOW_MS));
    if from_ms < 0 || to_ms <= from_ms || to_ms - from_ms > MAX_WINDOW_MS {
        return Err(AppError::Unprocessable(format!(
            "from_ms must be >= 0 and to_ms after it, at most {MAX_WINDOW_MS} ms later"
        )));
    }
    let limit = page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let (pool, schema) = (&state.pool, &tenant.schema);
    let not_found = || AppError::NotFound(format!("no stream {id}"));
    let stream = streams::get(pool, schema, id)
        .await?
        .ok_or_else(not_found)?;
    let room = streams::room(pool, schema, id)
        .await?
        .ok_or_else(not_found)?;
    let window = Window {
        stream_id: id,
        room_id: room.id,
        from_ms,
        to_ms,
        after_id: query.after,
        limit,
    };
    let page = replay::page(pool, schema, &window)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("stream {id} has not started")))?;
    Ok(Json(ReplayPage {
        stream_id: id,
        started_at: stream.started_at,
        ended_at: stream.ended_at,
        from_ms,
        to_ms,
        pinned: page.pinned,
        items: page.items,
        next: page.next.map(|(from_ms, after)| Next { from_ms, after }),
    }))
}
