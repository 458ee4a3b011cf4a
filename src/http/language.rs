//! `GET /lang/{code}[?next=/path]`: the language switch in every page's
//! header. It remembers the choice in the browser (the `lang` cookie) and,
//! for a logged-in user, on the account, so that logging in on another
//! device brings it along.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::MaybeUser;
use crate::http::pages::safe_next;
use crate::i18n::{choice, Locale};
use crate::state::AppState;
use crate::store::users;
use crate::tenant::CurrentTenant;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SwitchQuery {
    /// A local path to go back to.
    next: Option<String>,
}

/// Goes back to `next`, else to the page the switch was on (a same-origin
/// `Referer`), else home. Only local paths: never an open redirect.
#[utoipa::path(
    get,
    path = "/lang/{code}",
    tag = "pages",
    summary = "Switches the language (the `lang` cookie, and the account's)",
    params(
        ("code" = String, Path, description = "A language code such as `en` or `ja`; others change nothing."),
        SwitchQuery,
    ),
    responses((status = 303, description = "Back to `next`, the same-origin Referer, or home.")),
    security((), ("session" = []))
)]
pub async fn switch(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
    Query(query): Query<SwitchQuery>,
    headers: HeaderMap,
) -> Response {
    let next = query.next.clone().or_else(|| same_origin_referer(&headers));
    let next = safe_next(next.as_deref());
    let Some(locale) = Locale::parse(&code) else {
        return Redirect::to(&next).into_response();
    };
    if let Some(user) = user {
        // The browser's cookie already carries the choice; failing to keep
        // it on the account only loses it on other devices.
        if let Err(err) =
            users::set_language(&state.pool, &tenant.schema, user.user_id, locale.code()).await
        {
            tracing::warn!(error = %err, "could not store the user's language");
        }
    }
    (
        [(header::SET_COOKIE, choice::cookie(locale))],
        Redirect::to(&next),
    )
        .into_response()
}

fn same_origin_referer(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?;
    let path = rest.strip_prefix(host)?;
    path.starts_with('/').then(|| path.to_owned())
}
