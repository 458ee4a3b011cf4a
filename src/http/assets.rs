//! Static files, embedded at build time so a deployment is one binary.
//! [`FILES`] routes and describes them: a file added there is served at
//! `/static/{name}` and listed in the OpenAPI document's `file` enum.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::{
    ObjectBuilder, OpenApiBuilder, PathsBuilder, Required, ResponseBuilder, Type,
};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const CACHE: &str = "public, max-age=300";
/// Vendored files carry their version in their path, so they never change.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// The vendored Swagger UI's directory (`templates/static/vendor/README.md`
/// says how to update it).
macro_rules! swagger_ui {
    () => {
        "swagger-ui-dist-5.35.0"
    };
}

/// The vendored Swagger UI release, as its directory under `/static/vendor/`.
pub(crate) const SWAGGER_UI: &str = swagger_ui!();

/// One embedded file.
pub(crate) struct File {
    /// Its path under `/static/`.
    pub name: &'static str,
    content_type: &'static str,
    cache: &'static str,
    body: &'static str,
}

macro_rules! static_file {
    ($name:expr, $content_type:expr, $cache:expr) => {
        File {
            name: $name,
            content_type: $content_type,
            cache: $cache,
            body: include_str!(concat!("../../templates/static/", $name)),
        }
    };
}

/// Every file under `/static`.
pub(crate) const FILES: &[File] = &[
    static_file!("watch.js", JS, CACHE),
    static_file!("mod_panel.js", JS, CACHE),
    static_file!("analytics.js", JS, CACHE),
    static_file!("bell.js", JS, CACHE),
    static_file!("line_menu.js", JS, CACHE),
    static_file!("replay.js", JS, CACHE),
    static_file!("search.js", JS, CACHE),
    static_file!("zone.js", JS, CACHE),
    static_file!("api_docs.js", JS, CACHE),
    // @stampede/client's browser bundle (built in clients/js, checked by its tests).
    static_file!("stampede-client.js", JS, CACHE),
    static_file!("style.css", CSS, CACHE),
    static_file!(
        concat!("vendor/", swagger_ui!(), "/swagger-ui-bundle.js"),
        JS,
        CACHE_FOREVER
    ),
    static_file!(
        concat!("vendor/", swagger_ui!(), "/swagger-ui.css"),
        CSS,
        CACHE_FOREVER
    ),
];

/// One route per file (an unknown name falls through to the app's 404),
/// described as the one templated path `/{file}`.
pub fn router() -> OpenApiRouter<AppState> {
    FILES.iter().fold(
        OpenApiRouter::with_openapi(description()),
        |router, file| router.route(&format!("/{}", file.name), asset(file)),
    )
}

fn description() -> utoipa::openapi::OpenApi {
    let names = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(FILES.iter().map(|f| f.name)));
    let file = ParameterBuilder::new()
        .name("file")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("One of the embedded files (a path, may contain `/`)."))
        .schema(Some(names));
    let operation = OperationBuilder::new()
        .tag("assets")
        .operation_id(Some("static_file"))
        .summary(Some("An embedded script, stylesheet or vendored asset"))
        .parameter(file)
        .response(
            "200",
            ResponseBuilder::new().description("The file, cacheable (`Cache-Control: public`)."),
        )
        .response(
            "404",
            ResponseBuilder::new().description("No such file (the app's fallback)."),
        );
    OpenApiBuilder::new()
        .paths(PathsBuilder::new().path("/{file}", PathItem::new(HttpMethod::Get, operation)))
        .build()
}

fn asset(file: &'static File) -> MethodRouter<AppState> {
    get(move || async move {
        (
            [
                (header::CONTENT_TYPE, file.content_type),
                (header::CACHE_CONTROL, file.cache),
            ],
            file.body,
        )
            .into_response()
    })
}
