//! Cookie sessions (`sessionid`, HttpOnly, SameSite=Lax) bound to a tenant.
//!
//! The session remembers which tenant it was created on; a cookie replayed on
//! another tenant's host is treated as no session at all.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::revocation::{self, Revoked};
use super::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{users, StoreError};
use crate::tenant::CurrentTenant;

/// The cookie's name, kept from the seed's Django deployment.
pub const COOKIE_NAME: &str = "sessionid";
/// Session key of the [`SessionUser`].
pub const USER_KEY: &str = "user";
/// Session key of the day (days since 1970, UTC) the session was last used.
pub const SEEN_KEY: &str = "seen_day";

/// What a logged-in session holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionUser {
    pub tenant_id: i32,
    pub user_id: i32,
    pub username: String,
    pub role: Role,
}

/// Stores `user` in a fresh session id (no fixation).
pub async fn log_in(session: &Session, user: &SessionUser) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(USER_KEY, user).await?;
    session.insert(SEEN_KEY, today()).await?;
    Ok(())
}

/// Ends the session, deletes it from the store, and closes its open
/// sockets on every node (4401).
pub async fn log_out(session: &Session, pool: &sqlx::PgPool) -> Result<(), AppError> {
    let id = session.id().map(|id| id.to_string());
    session.flush().await?;
    if let Some(session_id) = id {
        revocation::notify(pool, &Revoked::Session { session_id })
            .await
            .map_err(StoreError::from)?;
    }
    Ok(())
}

/// The session's user if it belongs to `tenant_id`.
pub async fn user_of(session: &Session, tenant_id: i32) -> Result<Option<SessionUser>, AppError> {
    let user = session
        .get::<SessionUser>(USER_KEY)
        .await?
        .filter(|u| u.tenant_id == tenant_id);
    if user.is_some() {
        keep_alive(session).await?;
    }
    Ok(user)
}

/// Sessions expire after a period without use (`Expiry::OnInactivity`), but
/// the expiry only moves when the session is saved, and only changed
/// sessions are saved. Recording the day of use changes an active session
/// (and so extends it) at most once a day, not on every request.
async fn keep_alive(session: &Session) -> Result<(), AppError> {
    let today = today();
    if session.get::<i64>(SEEN_KEY).await? != Some(today) {
        session.insert(SEEN_KEY, today).await?;
    }
    Ok(())
}

fn today() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() / 86_400
}

/// Creates a logged-in session directly in the store and returns the cookie
/// value. For operator tooling (load tests); browsers log in through the API.
pub async fn issue(
    pool: &sqlx::PgPool,
    user: &SessionUser,
    ttl: time::Duration,
) -> Result<String, AppError> {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore;

    let value = serde_json::to_value(user).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut record = Record {
        id: Id::default(),
        data: [
            (USER_KEY.to_owned(), value),
            (SEEN_KEY.to_owned(), today().into()),
        ]
        .into_iter()
        .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + ttl,
    };
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .create(&mut record)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let id = record.id.to_string();
    crate::store::sessions::record_owner(pool, &id, user.tenant_id, user.user_id)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(id)
}

/// Extractor: the logged-in user of this tenant, or 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

/// Extractor: the logged-in user of this tenant, if any. Store errors still fail.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SessionUser>);

/// The session's user as the user is now: `None` if deactivated or deleted
/// since the login (their sessions are deleted too, but a request may have
/// loaded one just before), and with the role they have now.
impl<S> FromRequestParts<S> for MaybeUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let tenant = CurrentTenant::from_request_parts(parts, state).await?;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| AppError::Internal(msg.to_owned()))?;
        let Some(mut user) = user_of(&session, tenant.id).await? else {
            return Ok(MaybeUser(None));
        };
        let app = AppState::from_ref(state);
        match users::get(&app.pool, &tenant.schema, user.user_id).await? {
            Some(now) => {
                user.role = now.role;
                Ok(MaybeUser(Some(user)))
            }
            None => Ok(MaybeUser(None)),
        }
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        MaybeUser::from_request_parts(parts, state)
            .await?
            .0
            .map(CurrentUser)
            .ok_or(AppError::Unauthorized)
    }
}
