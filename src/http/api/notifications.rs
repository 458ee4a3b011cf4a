//! `/api/notifications`: the logged-in user's notifications (keyset pages,
//! unread count, marking read) and, for admins, sending one to a user or to
//! the whole tenant. Marking read reaches every device of the user on every
//! node (`notifications::Notifier::mark_read`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::http::extract::{AppJson, AppPath};
use crate::moderation::permissions::can_moderate_tenant;
use crate::notifications::{Kind, NewNotification, Notification, NotificationType, NotifyError};
use crate::state::AppState;
use crate::store::notifications::{self, MarkedRead};
use crate::store::users;
use crate::tenant::CurrentTenant;

/// Largest page.
pub const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list).post(send))
        .route("/notifications/unread-count", get(unread_count))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
}

#[derive(Deserialize)]
struct PageQuery {
    /// `true`: unread ones only.
    #[serde(default)]
    unread: bool,
    /// Only ids below this (the previous page's `next_before`).
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct Page {
    /// Newest first.
    notifications: Vec<Notification>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
    unread: i64,
}

async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Page>, AppError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::Unprocessable(format!(
            "limit must be 1-{MAX_PAGE}"
        )));
    }
    let (pool, schema) = (&state.pool, &tenant.schema);
    let page = notifications::page(
        pool,
        schema,
        user.user_id,
        query.unread,
        query.before,
        limit,
    )
    .await?;
    let next_before = if page.len() as i64 == limit {
        page.last().map(|n| n.id)
    } else {
        None
    };
    let unread = notifications::unread_count(pool, schema, user.user_id).await?;
    Ok(Json(Page {
        notifications: page,
        next_before,
        unread,
    }))
}

async fn unread_count(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, AppError> {
    let unread = notifications::unread_count(&state.pool, &tenant.schema, user.user_id).await?;
    Ok(Json(json!({ "unread": unread })))
}

#[derive(Serialize)]
struct Marked {
    /// What this call marked read (already read ones are not listed).
    ids: Vec<i64>,
    unread: i64,
}

impl From<MarkedRead> for Marked {
    fn from(m: MarkedRead) -> Self {
        Marked {
            ids: m.ids,
            unread: m.unread,
        }
    }
}

async fn read_one(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Marked>, AppError> {
    let notifier = &state.notifications.notifier;
    let marked = notifier
        .mark_read(&tenant, user.user_id, Some(&[id]))
        .await?;
    if marked.ids.is_empty()
        && !notifications::owns(&state.pool, &tenant.schema, user.user_id, id).await?
    {
        return Err(AppError::NotFound(format!("no notification {id}")));
    }
    Ok(Json(marked.into()))
}

async fn read_all(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Marked>, AppError> {
    let notifier = &state.notifications.notifier;
    Ok(Json(
        notifier
            .mark_read(&tenant, user.user_id, None)
            .await?
            .into(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    /// One recipient; or `all: true` for every active user of the tenant.
    username: Option<String>,
    #[serde(default)]
    all: bool,
    /// `info` (default), `warning`, `error` or `success`.
    #[serde(rename = "type")]
    kind_type: Option<String>,
    title: String,
    #[serde(default)]
    body: String,
    link: Option<String>,
}

/// `POST /api/notifications` (admins): a `system` notification, queued for
/// the writer; 202 once queued.
async fn send(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<SendBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    if !can_moderate_tenant(user.role) {
        return Err(AppError::Forbidden("only admins send notifications".into()));
    }
    let kind_type = match body.kind_type.as_deref() {
        None => NotificationType::Info,
        Some(t) => t.parse().map_err(|_| {
            AppError::Unprocessable("type must be info, warning, error or success".into())
        })?,
    };
    let notification = NewNotification::new(
        Kind::System,
        kind_type,
        &body.title,
        &body.body,
        body.link.as_deref(),
    )
    .map_err(|e| AppError::Unprocessable(e.to_string()))?;
    let notifier = &state.notifications.notifier;
    let (queued, to) = match (body.username, body.all) {
        (Some(name), false) => {
            let id = users::id_by_name(&state.pool, &tenant.schema, &name).await?;
            (notifier.notify(&tenant, &[id], notification), json!(name))
        }
        (None, true) => (notifier.notify_tenant(&tenant, notification), json!("all")),
        _ => {
            return Err(AppError::Unprocessable(
                "give either \"username\" or \"all\": true".into(),
            ))
        }
    };
    queued.map_err(|e| match e {
        NotifyError::Overloaded | NotifyError::Closed => AppError::Unavailable(e.to_string()),
    })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "queued": true, "to": to })),
    ))
}
