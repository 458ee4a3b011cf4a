//! `/api/users/{username}/deactivate` and `/activate`: tenant admins only.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{accounts, CurrentUser, Role};
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::http::openapi::{Invalid, Refusals};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(deactivate))
        .routes(routes!(activate))
}

fn require_admin(actor: &CurrentUser) -> Result<(), AppError> {
    if actor.0.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only admins deactivate and activate users".into(),
        ))
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct AccountState {
    username: String,
    is_active: bool,
    /// On deactivation: the user's sessions ended (their sockets close 4401).
    #[serde(skip_serializing_if = "Option::is_none")]
    sessions_deleted: Option<u64>,
}

#[utoipa::path(
    post,
    path = "/users/{username}/deactivate",
    tag = "users",
    summary = "Deactivate a user: logs them out everywhere (admins)",
    params(("username" = String, Path, description = "The user.")),
    responses(
        (status = 200, body = AccountState),
        Refusals,
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn deactivate(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    actor: CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<AccountState>, AppError> {
    require_admin(&actor)?;
    if username.eq_ignore_ascii_case(&actor.0.username) {
        return Err(AppError::Unprocessable(
            "you cannot deactivate yourself".into(),
        ));
    }
    let sessions = accounts::deactivate(&state.pool, &tenant, &username).await?;
    Ok(Json(AccountState {
        username,
        is_active: false,
        sessions_deleted: Some(sessions),
    }))
}

#[utoipa::path(
    post,
    path = "/users/{username}/activate",
    tag = "users",
    summary = "Activate a user again (admins)",
    params(("username" = String, Path, description = "The user.")),
    responses(
        (status = 200, body = AccountState),
        Refusals,
    ),
    security(("session" = []))
)]
async fn activate(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    actor: CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<AccountState>, AppError> {
    require_admin(&actor)?;
    accounts::activate(&state.pool, &tenant, &username).await?;
    Ok(Json(AccountState {
        username,
        is_active: true,
        sessions_deleted: None,
    }))
}
