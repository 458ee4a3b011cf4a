//! The OpenAPI 3.1 description of every HTTP route, generated from the
//! handlers' `#[utoipa::path]` annotations, served at `GET /api/openapi.json`
//! and rendered at `GET /api/docs` (Swagger UI, vendored under
//! `templates/static/vendor/`).
//!
//! # Adding a route
//! Annotate the handler with `#[utoipa::path(get, path = "/…", tag = "…",
//! responses(…))]` (the path relative to the module's router, as it is
//! nested) and register it in that module's `router()` with
//! `.routes(routes!(handler))`: that one line routes it and describes it.
//! A plain `.route(…)` is not described, and `tests/openapi.rs` fails until
//! it is. E.g. a JSON route in `api/x.rs`: `path = "/schema/events.json"`
//! (nested under `/api`), `.routes(routes!(events_schema))` in its
//! `router()`; a tenant route beside the sockets in `http::tenant_routes`:
//! `path = "/sse/streams/{id}/chat"`, `.routes(routes!(sse::chat))`.
//! Routes answered on any Host go in `http::public_routes` instead; a
//! second path for the same handler, with `alias`.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Required};
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::assets::SWAGGER_UI;
use crate::auth::session::COOKIE_NAME;
use crate::error::{ErrorBody, ErrorCode};
use crate::state::AppState;

/// The name of the cookie security scheme operations refer to.
pub const SESSION: &str = "session";

const INTRO: &str = "\
The HTTP API of Stampede, generated from the server's code.

**Tenant.** Every route except `/health`, `/metrics`, `/static/…`, \
`/api/schema/events.json` and this reference is served per tenant: the \
tenant is chosen by the `Host` header (404 `unknown_host` for a host no tenant has).

**Session.** `POST /api/session` logs in and sets the `sessionid` cookie \
(HttpOnly, SameSite=Lax); routes marked with the `session` scheme answer \
401 `unauthorized` without it.

**Writes.** POST, PUT, PATCH and DELETE are refused with 403 `bad_origin` \
when they carry an `Origin` other than the tenant's own (or \
`Sec-Fetch-Site: cross-site`): send them from the tenant's pages or \
without a foreign `Origin`.

**Errors.** Every JSON error is an `ErrorBody`: a stable `error` code to \
switch on and a human `message`.

**Real-time.** The chat WebSocket and the notification socket are listed \
under `sockets` (their frames: `/api/schema/events.json`); the same rooms \
are also served to Socket.IO v4 clients at `/socket.io/` (Engine.IO's own \
protocol, not described here) and read-only as Server-Sent Events.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Stampede", description = INTRO, license(name = "MIT")),
    components(
        schemas(ErrorBody, ErrorCode),
        responses(
            BadJson,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            Invalid,
            RateLimited,
            Unavailable
        )
    ),
    modifiers(&SessionCookie),
    tags(
        (name = "session", description = "Logging in and out over JSON."),
        (name = "streams", description = "Streams, their chat history and replay."),
        (name = "messages", description = "Chat lines: edits, versions, search."),
        (name = "moderation", description = "Moderators' actions and blocked terms."),
        (name = "automod", description = "Auto-moderation rules and held lines."),
        (name = "stamps", description = "The tenant's reaction stamps."),
        (name = "analytics", description = "Statistics for analysts and admins (JSON or CSV)."),
        (name = "users", description = "Accounts, blocks and follows."),
        (name = "notifications", description = "Personal notifications."),
        (name = "sockets", description = "WebSocket upgrades (101); frames in docs/protocol.md."),
        (name = "pages", description = "Server-rendered HTML pages and form posts."),
        (name = "service", description = "Health, metrics and this reference: any Host."),
        (name = "assets", description = "Embedded static files: any Host."),
    )
)]
struct ApiDoc;

/// The `sessionid` cookie `POST /api/session` sets.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                COOKIE_NAME,
                "The session cookie `POST /api/session` (or the login form) sets.",
            ))),
        );
    }
}

/// 400 `bad_json`: the body is not the JSON the operation takes.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct BadJson(ErrorBody);

/// 401 `unauthorized`: no valid session (or `invalid_credentials`).
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Unauthorized(ErrorBody);

/// 403 `forbidden` (role), `bad_origin` (a foreign write) or `banned`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Forbidden(ErrorBody);

/// 404 `not_found` (also for an id that does not parse) or `unknown_host`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct NotFound(ErrorBody);

/// 409 `conflict`: the state does not allow it (already done, not started).
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Conflict(ErrorBody);

/// 422 `invalid` (a value out of range) or a chat refusal code.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Invalid(ErrorBody);

/// 429 `rate_limited`: try again after `Retry-After` seconds.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct RateLimited(ErrorBody);

/// 503 `unavailable`: the database or a queue is out of reach; retry.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Unavailable(ErrorBody);

/// The usual refusals of a privileged action: no session, not allowed
/// (role or rank), no such stream or target.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    #[response(status = 401)]
    Unauthorized(#[ref_response] Unauthorized),
    #[response(status = 403)]
    Forbidden(#[ref_response] Forbidden),
    #[response(status = 404)]
    NotFound(#[ref_response] NotFound),
}

/// The same operation answered at `path` too (e.g. without a trailing
/// slash): routed and described there as well, under its own operation id.
pub fn alias<S>(path: &str, routes: UtoipaMethodRouter<S>) -> UtoipaMethodRouter<S> {
    let (schemas, mut paths, method_router) = routes;
    let copies: Vec<_> = paths.paths.values().cloned().collect();
    for mut item in copies {
        for op in operations_mut(&mut item) {
            if let Some(id) = &mut op.operation_id {
                id.push_str("_alias");
            }
            op.summary = op.summary.take().map(|s| format!("{s} (alias)"));
        }
        paths.paths.insert(path.to_owned(), item);
    }
    (schemas, paths, method_router)
}

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.options,
        &mut item.head,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// The finished document: the routes served on any Host, and the tenant's,
/// whose writes pass the Origin check (their `Origin` parameter).
pub fn document(public: OpenApiRouter<AppState>, tenant: OpenApiRouter<AppState>) -> Document {
    let mut tenant = tenant.into_openapi();
    for item in tenant.paths.paths.values_mut() {
        for (method, op) in methods_mut(item) {
            if !matches!(method, HttpMethod::Get | HttpMethod::Head) {
                op.parameters
                    .get_or_insert_with(Vec::new)
                    .push(utoipa::openapi::RefOr::T(origin_header()));
            }
        }
    }
    let mut doc = ApiDoc::openapi();
    doc.merge(public.into_openapi());
    doc.merge(tenant);
    doc
}

fn methods_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, &mut item.get),
        (HttpMethod::Put, &mut item.put),
        (HttpMethod::Post, &mut item.post),
        (HttpMethod::Delete, &mut item.delete),
        (HttpMethod::Patch, &mut item.patch),
        (HttpMethod::Options, &mut item.options),
        (HttpMethod::Head, &mut item.head),
        (HttpMethod::Trace, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
}

fn origin_header() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("Origin")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "If present, the tenant's own origin (`scheme://host[:port]`) or an \
             allowed one; a foreign one is refused with 403 `bad_origin`.",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String),
        ))
        .build()
}

/// The routes of this module: the document and its rendered page.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(docs_page))
}

/// The serialized document, built once: it depends on the code only.
static JSON: OnceLock<String> = OnceLock::new();

/// The document as JSON (no tenant data; served on any Host).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "service",
    responses((status = 200, description = "This OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> impl IntoResponse {
    let json = JSON.get_or_init(|| {
        let doc = crate::http::document();
        // Serializing our own document cannot fail: every key is a string.
        doc.to_pretty_json().unwrap_or_default()
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        json.as_str(),
    )
}

/// The reference page: Swagger UI, from `/static`, started by `api_docs.js`
/// (no inline script, so the site's CSP holds unchanged).
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "service",
    responses((status = 200, description = "The rendered API reference.", content_type = "text/html", body = String))
)]
async fn docs_page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        DOCS_HTML.as_str(),
    )
}

static DOCS_HTML: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Stampede API</title>\n\
         <link rel=\"stylesheet\" href=\"/static/vendor/{SWAGGER_UI}/swagger-ui.css\">\n\
         </head>\n<body>\n<div id=\"docs\"></div>\n\
         <script src=\"/static/vendor/{SWAGGER_UI}/swagger-ui-bundle.js\"></script>\n\
         <script src=\"/static/api_docs.js\"></script>\n</body>\n</html>\n"
    )
});
