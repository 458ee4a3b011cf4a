//! The chat overlay, `/embed/streams/{id}/chat`: read-only, transparent,
//! large text, lines fading after `?fade=` seconds; for an OBS browser
//! source or the broadcaster's own site. Without a login only when the
//! tenant allows anonymous reading; framable only by the tenant's embed
//! origins (every other page keeps `frame-ancestors 'none'`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::MaybeUser;
use crate::error::{AppError, ErrorPage};
use crate::http::extract::AppPath;
use crate::i18n::I18n;
use crate::state::AppState;
use crate::store::embed;
use crate::store::stamps::Stamp;
use crate::store::streams::{self, Stream};
use crate::tenant::CurrentTenant;

/// Longest fade delay, in seconds.
pub const MAX_FADE_SECS: u32 = 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(overlay))
}

#[derive(Template, WebTemplate)]
#[template(path = "chat_embed.html")]
struct OverlayPage {
    i18n: I18n,
    stream: Stream,
    username: String,
    stamps: Vec<Stamp>,
    max_message_chars: usize,
    /// Seconds before a line fades away (0: lines stay).
    fade: u32,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OverlayQuery {
    /// Seconds before a line fades away, 0–3600 (0 or absent: lines stay).
    fade: Option<String>,
}

#[utoipa::path(
    get,
    path = "/embed/streams/{id}/chat",
    tag = "pages",
    summary = "The read-only chat overlay (OBS browser source)",
    params(("id" = i32, Path, description = "The stream's id."), OverlayQuery),
    responses(
        (status = 200, description = "HTML, framable by the tenant's embed origins.", content_type = "text/html", body = String),
        (status = 303, description = "Not logged in and the tenant does not allow anonymous reading: to the login form."),
        (status = 400, description = "A `fade` out of range (an HTML error page).", content_type = "text/html", body = String),
        (status = 404, description = "No such stream (an HTML error page).", content_type = "text/html", body = String),
    ),
    security((), ("session" = []))
)]
async fn overlay(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    i18n: I18n,
    AppPath(id): AppPath<i32>,
    Query(query): Query<OverlayQuery>,
) -> Result<Response, AppError> {
    let settings = embed::settings(&state.pool, tenant.id).await?;
    if user.is_none() && !settings.anonymous_read {
        let next = format!("/accounts/login?next=/embed/streams/{id}/chat");
        return Ok(Redirect::to(&next).into_response());
    }
    let fade = match query.fade.as_deref().map(str::parse::<u32>) {
        None => 0,
        Some(Ok(secs)) if secs <= MAX_FADE_SECS => secs,
        Some(_) => {
            let headline = i18n.t1("error-bad-fade", "max", &MAX_FADE_SECS.to_string());
            return Ok(ErrorPage::new(i18n, StatusCode::BAD_REQUEST, headline, None).respond());
        }
    };
    let Some(stream) = streams::get(&state.pool, &tenant.schema, id).await? else {
        let headline = i18n.t("error-no-such-stream");
        return Ok(ErrorPage::new(i18n, StatusCode::NOT_FOUND, headline, None).respond());
    };
    let stamps = state.stamps.list(&tenant).await?;
    let page = OverlayPage {
        i18n,
        stream,
        username: user.map(|u| u.username).unwrap_or_default(),
        stamps: stamps.iter().map(|s| (**s).clone()).collect(),
        max_message_chars: state.config.max_message_chars,
        fade,
    };
    let mut response = page.into_response();
    if let Ok(csp) = HeaderValue::from_str(&csp(&settings.embed_origins)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(response)
}

/// The pages' policy, but framable by the tenant's embed origins (already
/// checked to be plain `scheme://host[:port]` values).
fn csp(origins: &[String]) -> String {
    let mut ancestors = String::from("'self'");
    for origin in origins {
        ancestors.push(' ');
        ancestors.push_str(origin);
    }
    format!(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         connect-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'"
    )
}
