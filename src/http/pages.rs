//! Server-rendered pages: stream list, watch page, login form.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::csrf::{self, Csrf};
use crate::auth::session::{log_in, log_out};
use crate::auth::{MaybeUser, SessionUser};
use crate::error::{AppError, ErrorBody, ErrorPage};
use crate::http::api::authenticate;
use crate::http::client_addr::ClientAddr;
use crate::http::extract::AppPath;
use crate::http::nav::Nav;
use crate::i18n::{choice, I18n, Locale};
use crate::state::AppState;
use crate::store::handshake::BanInForce;
use crate::store::stamps::Stamp;
use crate::store::streams::{self, Stream};
use crate::store::users;
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(crate::http::language::switch))
        .routes(routes!(watch))
        .routes(routes!(popout))
        .routes(routes!(login_form, login_submit))
        .routes(routes!(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    i18n: I18n,
    tenant_name: String,
    nav: Nav,
    live: Vec<Stream>,
    scheduled: Vec<Stream>,
    ended: Vec<Stream>,
}

#[utoipa::path(
    get,
    path = "/",
    tag = "pages",
    summary = "The tenant's home page: live, upcoming and ended streams",
    responses((status = 200, description = "HTML.", content_type = "text/html", body = String)),
    security((), ("session" = []))
)]
async fn index(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    csrf: Csrf,
    i18n: I18n,
) -> Result<Response, AppError> {
    let (mut live, mut scheduled, mut ended) = (Vec::new(), Vec::new(), Vec::new());
    for stream in streams::list_home(&state.pool, &tenant.schema).await? {
        match stream.status.as_str() {
            "live" => live.push(stream),
            "scheduled" => scheduled.push(stream),
            _ => ended.push(stream),
        }
    }
    let page = IndexPage {
        i18n,
        tenant_name: tenant.name.clone(),
        nav: Nav::new(user.as_ref(), &csrf.token),
        live,
        scheduled,
        ended,
    };
    Ok((csrf, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "watch.html")]
struct WatchPage {
    i18n: I18n,
    tenant_name: String,
    nav: Nav,
    user: SessionUser,
    stream: Stream,
    stamps: Vec<Stamp>,
    max_message_chars: usize,
    /// How long the viewer may edit their lines (the Edit item's window).
    edit_window_secs: u64,
    /// Shows moderator controls; every action is still checked server-side.
    can_moderate: bool,
    /// The viewer's ban in force: the page opens read-only.
    ban: Option<BanInForce>,
    /// The chat alone, full height (`/streams/{id}/chat`, a pop-out window).
    popout: bool,
    /// An ended stream's length: the page plays its chat back (not in the
    /// pop-out, which has no player).
    replay_ms: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/streams/{id}",
    tag = "pages",
    summary = "A stream's watch page (chat, reactions; replay once ended)",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses(
        (status = 200, description = "HTML.", content_type = "text/html", body = String),
        (status = 303, description = "Not logged in: to `/accounts/login?next=…`."),
        (status = 404, description = "No such stream (an HTML error page).", content_type = "text/html", body = String),
    ),
    security((), ("session" = []))
)]
async fn watch(
    state: State<AppState>,
    tenant: CurrentTenant,
    user: MaybeUser,
    csrf: Csrf,
    i18n: I18n,
    id: AppPath<i32>,
) -> Result<Response, AppError> {
    watch_page(state, tenant, user, csrf, i18n, id, false).await
}

/// The chat of the watch page alone, for a pop-out window.
#[utoipa::path(
    get,
    path = "/streams/{id}/chat",
    tag = "pages",
    summary = "A stream's chat alone, for a pop-out window",
    params(("id" = i32, Path, description = "The stream's id.")),
    responses(
        (status = 200, description = "HTML.", content_type = "text/html", body = String),
        (status = 303, description = "Not logged in: to `/accounts/login?next=…`."),
        (status = 404, description = "No such stream (an HTML error page).", content_type = "text/html", body = String),
    ),
    security((), ("session" = []))
)]
async fn popout(
    state: State<AppState>,
    tenant: CurrentTenant,
    user: MaybeUser,
    csrf: Csrf,
    i18n: I18n,
    id: AppPath<i32>,
) -> Result<Response, AppError> {
    watch_page(state, tenant, user, csrf, i18n, id, true).await
}

async fn watch_page(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    csrf: Csrf,
    i18n: I18n,
    AppPath(id): AppPath<i32>,
    popout: bool,
) -> Result<Response, AppError> {
    let Some(user) = user else {
        let path = if popout {
            format!("/streams/{id}/chat")
        } else {
            format!("/streams/{id}")
        };
        return Ok(Redirect::to(&format!("/accounts/login?next={path}")).into_response());
    };
    let Some(stream) = streams::get(&state.pool, &tenant.schema, id).await? else {
        let headline = i18n.t("error-no-such-stream");
        return Ok(ErrorPage::new(i18n, StatusCode::NOT_FOUND, headline, None).respond());
    };
    let stamps = state.stamps.list(&tenant).await?;
    let can_moderate = state
        .moderation
        .rank(&tenant, id, user.user_id)
        .await?
        .can_moderate();
    let ban = match stream.status.as_str() {
        "ended" => None,
        _ => state
            .admission
            .lookup(&tenant.schema, id, user.user_id)
            .await?
            .and_then(|info| info.ban),
    };
    let replay_ms = match stream.status.as_str() {
        "ended" if !popout => stream.duration_ms,
        _ => None,
    };
    let page = WatchPage {
        replay_ms,
        i18n,
        ban,
        can_moderate,
        tenant_name: tenant.name.clone(),
        nav: Nav::new(Some(&user), &csrf.token),
        user,
        stream,
        stamps: stamps.iter().map(|s| (**s).clone()).collect(),
        max_message_chars: state.config.max_message_chars,
        edit_window_secs: state.config.edit_window_secs,
        popout,
    };
    Ok((csrf, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    i18n: I18n,
    tenant_name: String,
    csrf_token: String,
    next: String,
    error: Option<String>,
    username: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NextQuery {
    /// A local path to go to after logging in (anything else goes home).
    next: Option<String>,
}

/// Only same-site paths, so the login form (and the language switch) can't
/// be used as an open redirect.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[utoipa::path(
    get,
    path = "/accounts/login",
    tag = "pages",
    summary = "The login form (sets the CSRF cookie)",
    params(NextQuery),
    responses((status = 200, description = "HTML.", content_type = "text/html", body = String))
)]
async fn login_form(
    tenant: CurrentTenant,
    csrf: Csrf,
    i18n: I18n,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = LoginPage {
        i18n,
        tenant_name: tenant.name.clone(),
        csrf_token: csrf.token.clone(),
        next: safe_next(q.next.as_deref()),
        error: None,
        username: String::new(),
    };
    (csrf, page).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

#[utoipa::path(
    post,
    path = "/accounts/login",
    tag = "pages",
    summary = "The login form's post: logs in and sets `sessionid`",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Logged in: to `next` (and sets `sessionid`)."),
        (status = 400, description = "Not a login form.", body = ErrorBody),
        (status = 401, description = "Wrong username or password: the form again.", content_type = "text/html", body = String),
        (status = 403, description = "A missing or wrong CSRF token (`bad_csrf`) or a foreign Origin.", body = ErrorBody),
        (status = 429, description = "Too many failures: the form again, with `Retry-After`.", content_type = "text/html", body = String),
        (status = 503, description = "Busy hashing: the form again, with `Retry-After`.", content_type = "text/html", body = String),
    )
)]
async fn login_submit(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    ClientAddr(client): ClientAddr,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    csrf::verify(&state.csrf, &headers, &form.csrf_token)?;
    let i18n = I18n::of(&headers);
    let next = safe_next(form.next.as_deref());
    let refusal = match authenticate(&state, &tenant, client, &form.username, &form.password).await
    {
        Ok(user) => {
            log_in(&session, &user).await?;
            // The language chosen on any device comes along.
            let language = users::language(&state.pool, &tenant.schema, user.user_id)
                .await
                .unwrap_or_else(|err| {
                    tracing::warn!(error = %err, "could not read the user's language");
                    None
                });
            let redirect = Redirect::to(&next);
            return Ok(match language.as_deref().and_then(Locale::parse) {
                Some(locale) => {
                    ([(header::SET_COOKIE, choice::cookie(locale))], redirect).into_response()
                }
                None => redirect.into_response(),
            });
        }
        Err(err @ AppError::InvalidCredentials) => (err, i18n.t("login-invalid")),
        // The page refuses as the API does, in words.
        Err(err @ AppError::RateLimited { .. }) => {
            let secs = err.retry_after().unwrap_or(1);
            let text = i18n.t1("login-throttled", "seconds", &secs.to_string());
            (err, text)
        }
        Err(err @ AppError::Busy) => (err, i18n.t("login-busy")),
        Err(other) => return Err(other),
    };
    let (err, message) = refusal;
    let page = LoginPage {
        i18n,
        tenant_name: tenant.name.clone(),
        csrf_token: form.csrf_token,
        next,
        error: Some(message),
        username: form.username,
    };
    let response = (err.status(), page).into_response();
    Ok(crate::error::with_refusal_headers(response, &err))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct CsrfForm {
    csrf_token: String,
}

#[utoipa::path(
    post,
    path = "/accounts/logout",
    tag = "pages",
    summary = "The header's log-out button",
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Logged out: to `/accounts/login`."),
        (status = 400, description = "Not a form.", body = ErrorBody),
        (status = 403, description = "A missing or wrong CSRF token (`bad_csrf`) or a foreign Origin.", body = ErrorBody),
    )
)]
async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, AppError> {
    csrf::verify(&state.csrf, &headers, &form.csrf_token)?;
    log_out(&session, &state.pool).await?;
    Ok(Redirect::to("/accounts/login"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/streams/1")), "/streams/1");
        assert_eq!(safe_next(Some("//evil.test")), "/");
        assert_eq!(safe_next(Some("https://evil.test")), "/");
        assert_eq!(safe_next(Some("/\\evil.test")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
