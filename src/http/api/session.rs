//! `/api/session`: log in, who am I, log out.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::session::{log_in, log_out};
use crate::auth::{password, CurrentUser, Role, SessionUser};
use crate::error::{AppError, ErrorBody};
use crate::http::client_addr::ClientAddr;
use crate::http::extract::AppJson;
use crate::http::openapi::{BadJson, RateLimited, Unauthorized, Unavailable};
use crate::state::AppState;
use crate::store::users;
use crate::tenant::CurrentTenant;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, show, destroy))
}

/// Who the session belongs to.
#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    username: String,
    role: Role,
}

/// Checks credentials against the tenant's users. Refused without looking
/// (429) while `client` has failed too often, for this username or at all;
/// refused with 503 when the hashing queue is full.
pub async fn authenticate(
    state: &AppState,
    tenant: &CurrentTenant,
    client: IpAddr,
    username: &str,
    password_text: &str,
) -> Result<SessionUser, AppError> {
    state
        .login_throttle
        .check(client, tenant.id, username)
        .map_err(|retry_after| AppError::RateLimited { retry_after })?;
    let _slot = state
        .hash_gate
        .enter(client)
        .await
        .map_err(|_| AppError::Busy)?;
    // Boxed: the lookup and the hash make a large future, and inline it
    // would be allocated by every login of a flood, even those refused above.
    Box::pin(check_credentials(
        state,
        tenant,
        client,
        username,
        password_text,
    ))
    .await
}

/// The database lookup and the hash, once a hashing slot is held.
async fn check_credentials(
    state: &AppState,
    tenant: &CurrentTenant,
    client: IpAddr,
    username: &str,
    password_text: &str,
) -> Result<SessionUser, AppError> {
    let creds = if username.len() <= 150 {
        users::credentials(&state.pool, &tenant.schema, username).await?
    } else {
        None
    };
    let active = creds.filter(|c| c.is_active);
    let hash = active.as_ref().map(|c| c.password_hash.clone());
    if !password::verify(password_text.to_owned(), hash).await {
        state
            .login_throttle
            .record_failure(client, tenant.id, username);
        return Err(AppError::InvalidCredentials);
    }
    let user = active.ok_or(AppError::InvalidCredentials)?.user()?;
    Ok(SessionUser {
        tenant_id: tenant.id,
        user_id: user.id,
        username: user.username,
        role: user.role,
    })
}

#[utoipa::path(
    post,
    path = "/session",
    tag = "session",
    operation_id = "log_in",
    summary = "Log in: sets the `sessionid` cookie",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; `Set-Cookie: sessionid=…`.", body = Me),
        (status = 400, response = BadJson),
        (status = 401, description = "`invalid_credentials`.", body = ErrorBody),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    )
)]
async fn create(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    ClientAddr(client): ClientAddr,
    session: Session,
    AppJson(body): AppJson<LoginRequest>,
) -> Result<impl IntoResponse, AppError> {
    let user = authenticate(&state, &tenant, client, &body.username, &body.password).await?;
    log_in(&session, &user).await?;
    Ok(Json(Me {
        username: user.username,
        role: user.role,
    }))
}

#[utoipa::path(
    get,
    path = "/session",
    tag = "session",
    operation_id = "who_am_i",
    summary = "The logged-in user",
    responses((status = 200, body = Me), (status = 401, response = Unauthorized)),
    security(("session" = []))
)]
async fn show(CurrentUser(user): CurrentUser) -> impl IntoResponse {
    Json(Me {
        username: user.username,
        role: user.role,
    })
}

#[utoipa::path(
    delete,
    path = "/session",
    tag = "session",
    operation_id = "log_out",
    summary = "Log out (idempotent)",
    responses((status = 204, description = "Logged out (or was not logged in).")),
    security((), ("session" = []))
)]
async fn destroy(State(state): State<AppState>, session: Session) -> Result<StatusCode, AppError> {
    log_out(&session, &state.pool).await?;
    Ok(StatusCode::NO_CONTENT)
}
