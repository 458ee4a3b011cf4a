//! Message search (`search`): one stream's chat for its viewers, the
//! whole tenant's for moderators and admins.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::http::openapi::{Forbidden, Invalid, NotFound, RateLimited, Unauthorized, Unavailable};
use crate::search::{self, Results, Scope};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(in_stream))
        .routes(routes!(in_tenant))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Words to find (all of them); `q` or `user` is needed.
    q: Option<String>,
    /// Only this user's lines.
    user: Option<String>,
    /// Only lines older than this id (a previous page's `next_before`).
    before: Option<i64>,
    /// Results per page.
    limit: Option<i64>,
    /// Tenant-wide route only: one stream's lines.
    stream: Option<i32>,
}

impl SearchQuery {
    fn request(self) -> search::Request {
        search::Request {
            q: self.q,
            user: self.user,
            before: self.before,
            limit: self.limit,
        }
    }
}

#[utoipa::path(
    get,
    path = "/streams/{id}/messages/search",
    tag = "messages",
    operation_id = "search_stream",
    summary = "Search one stream's chat (its viewers)",
    params(("id" = i32, Path, description = "The stream's id."), SearchQuery),
    responses(
        (status = 200, body = Results),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []))
)]
async fn in_stream(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Results>, AppError> {
    let Query(query) = query?;
    let scope = Scope::Stream(id);
    Ok(Json(
        search::run(&state, &tenant, &user, scope, &query.request()).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/messages/search",
    tag = "messages",
    operation_id = "search_tenant",
    summary = "Search the whole tenant's chat (moderators and admins)",
    params(SearchQuery),
    responses(
        (status = 200, body = Results),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []))
)]
async fn in_tenant(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Results>, AppError> {
    let Query(query) = query?;
    let scope = Scope::Tenant(query.stream);
    Ok(Json(
        search::run(&state, &tenant, &user, scope, &query.request()).await?,
    ))
}
