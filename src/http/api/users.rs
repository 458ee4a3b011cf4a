//! `/api/users/{username}/deactivate` and `/activate`: tenant admins only.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::{accounts, CurrentUser, Role};
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{username}/deactivate", post(deactivate))
        .route("/users/{username}/activate", post(activate))
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

async fn deactivate(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    actor: CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<Value>, AppError> {
    require_admin(&actor)?;
    if username.eq_ignore_ascii_case(&actor.0.username) {
        return Err(AppError::Unprocessable(
            "you cannot deactivate yourself".into(),
        ));
    }
    let sessions = accounts::deactivate(&state.pool, &tenant, &username).await?;
    Ok(Json(
        json!({ "username": username, "is_active": false, "sessions_deleted": sessions }),
    ))
}

async fn activate(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    actor: CurrentUser,
    AppPath(username): AppPath<String>,
) -> Result<Json<Value>, AppError> {
    require_admin(&actor)?;
    accounts::activate(&state.pool, &tenant, &username).await?;
    Ok(Json(json!({ "username": username, "is_active": true })))
}
