//! `/api/notifications`: the logged-in user's notifications (keyset pages,
//! unread count, marking read) and, for admins, sending one to a user or to
//! the whole tenant. Marking read reaches every device of the user on every
//! node (`notifications::Notifier::mark_read`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{page_limit, AppError};
use crate::http::extract::{AppJson, AppPath};
use crate::http::openapi::{BadJson, Forbidden, Invalid, NotFound, Unauthorized, Unavailable};
use crate::i18n::I18n;
use crate::moderation::permissions::can_moderate_tenant;
use crate::notifications::{Kind, NewNotification, Notification, NotificationType, NotifyError};
use crate::state::AppState;
use crate::store::notifications::{self, MarkedRead};
use crate::store::users;
use crate::tenant::CurrentTenant;

/// Largest page.
pub const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, send))
        .routes(routes!(unread_count))
        .routes(routes!(read_all))
        .routes(routes!(read_one))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// `true`: unread ones only.
    #[serde(default)]
    unread: bool,
    /// Only ids below this (the previous page's `next_before`).
    before: Option<i64>,
    /// 1–100, default 50.
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Page {
    /// Newest first.
    notifications: Vec<Notification>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
    unread: i64,
}

#[utoipa::path(
    get,
    path = "/notifications",
    tag = "notifications",
    operation_id = "list_notifications",
    summary = "A page of the caller's notifications, newest first",
    params(PageQuery),
    responses(
        (status = 200, body = Page),
        (status = 401, response = Unauthorized),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn list(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    i18n: I18n,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Page>, AppError> {
    let Query(query) = query?;
    let limit = page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
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
        notifications: page.into_iter().map(|n| n.into_worded(i18n.0)).collect(),
        next_before,
        unread,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Unread {
    unread: i64,
}

#[utoipa::path(
    get,
    path = "/notifications/unread-count",
    tag = "notifications",
    summary = "How many of the caller's notifications are unread",
    responses((status = 200, body = Unread), (status = 401, response = Unauthorized)),
    security(("session" = []))
)]
async fn unread_count(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Unread>, AppError> {
    let unread = notifications::unread_count(&state.pool, &tenant.schema, user.user_id).await?;
    Ok(Json(Unread { unread }))
}

#[derive(Serialize, utoipa::ToSchema)]
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

#[utoipa::path(
    post,
    path = "/notifications/{id}/read",
    tag = "notifications",
    summary = "Mark one notification read, on every device",
    params(("id" = i64, Path, description = "The notification's id.")),
    responses(
        (status = 200, body = Marked),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []))
)]
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

#[utoipa::path(
    post,
    path = "/notifications/read-all",
    tag = "notifications",
    summary = "Mark all the caller's notifications read, on every device",
    responses(
        (status = 200, body = Marked),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []))
)]
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

#[derive(Deserialize, utoipa::ToSchema)]
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
#[utoipa::path(
    post,
    path = "/notifications",
    tag = "notifications",
    operation_id = "send_notification",
    summary = "Send a system notification to a user or to everyone (admins)",
    request_body = SendBody,
    responses(
        (status = 202, description = "Queued for the writer.", body = Queued),
        (status = 400, response = BadJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []))
)]
async fn send(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<SendBody>,
) -> Result<(StatusCode, Json<Queued>), AppError> {
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
            (notifier.notify(&tenant, &[id], notification), name)
        }
        (None, true) => (
            notifier.notify_tenant(&tenant, notification),
            "all".to_owned(),
        ),
        _ => {
            return Err(AppError::Unprocessable(
                "give either \"username\" or \"all\": true".into(),
            ))
        }
    };
    queued.map_err(|e| match e {
        NotifyError::Overloaded | NotifyError::Closed => AppError::Unavailable(e.to_string()),
    })?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued: true, to })))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Queued {
    queued: bool,
    /// The recipient's username, or `all`.
    to: String,
}
