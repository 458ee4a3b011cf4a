//! The generated OpenAPI document (`GET /api/openapi.json`) and its
//! rendered page (`GET /api/docs`): a valid 3.1 document, every route of
//! the app described and every described operation routed, and real
//! answers that fit the schemas.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{stage, test_config, TestApp};
use serde_json::{json, Value};
use stampede::auth::Role::{Admin, Viewer};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

async fn document(app: &TestApp) -> Value {
    // No tenant data: any Host gets it, the bare address too.
    let reply = app.get_bare("/api/openapi.json").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.header("content-type").starts_with("application/json"));
    reply.body
}

/// The value a `#/…` JSON pointer names in `doc`.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Every `$ref` anywhere under `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => found.push(r.clone()),
                    _ => refs(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

/// (method, path) of every operation the document describes, with a
/// templated parameter whose schema is an `enum` expanded into its values
/// (the static files are described as one `/static/{file}`).
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let mut paths = vec![path.clone()];
            for param in op["parameters"].as_array().into_iter().flatten() {
                let Some(values) = param["schema"]["enum"].as_array() else {
                    continue;
                };
                let name = format!("{{{}}}", param["name"].as_str().expect("name"));
                let mut expanded = Vec::new();
                for p in &paths {
                    for v in values {
                        expanded.push(p.replace(&name, v.as_str().expect("enum string")));
                    }
                }
                paths = expanded;
            }
            ops.extend(paths.into_iter().map(|p| (method.to_uppercase(), p)));
        }
    }
    ops
}

/// (method, path) of every route the app's router holds, read from its
/// `Debug` form: axum has no public route listing, and its `Debug` prints
/// each route id's path (`paths: {RouteId(3): "/x"}`) and method router
/// (`RouteId(3): MethodRouter(MethodRouter { get: Route, post: None, … })`).
/// Only the main path router counts, not the fallback router after it.
/// If a new axum prints these differently, the assertions on the result
/// fail loudly rather than pass on an empty list.
fn registered(router_debug: &str) -> BTreeSet<(String, String)> {
    let main = router_debug
        .split(", fallback_router: ")
        .next()
        .expect("router debug");
    let mut paths = BTreeMap::new();
    let mut methods: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rest = main;
    while let Some(at) = rest.find("RouteId(") {
        rest = &rest[at + "RouteId(".len()..];
        let (id, after) = rest.split_once("): ").expect("route id");
        if let Some(quoted) = after.strip_prefix('"') {
            let (path, _) = quoted.split_once('"').expect("quoted path");
            paths.insert(id.to_owned(), path.to_owned());
        } else if let Some(body) = after.strip_prefix("MethodRouter(MethodRouter { ") {
            let (fields, _) = body.split_once(", allow_header").expect("method router");
            let set = fields
                .split(", ")
                .filter_map(|f| f.split_once(": "))
                .filter(|(name, endpoint)| *name != "fallback" && *endpoint != "None")
                .map(|(name, _)| name.to_uppercase())
                .collect();
            methods.insert(id.to_owned(), set);
        } else {
            // A service route: any method; described if any method is.
            methods.insert(id.to_owned(), vec!["*".to_owned()]);
        }
    }
    let mut routes = BTreeSet::new();
    for (id, path) in paths {
        if path.contains("__private__axum") {
            continue;
        }
        let list = methods
            .get(&id)
            .unwrap_or_else(|| panic!("methods of {path}"));
        for method in list {
            routes.insert((method.clone(), path.clone()));
        }
    }
    routes
}

async fn app_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let state = stampede::AppState::new(
        test_config(),
        app.pool().clone(),
        stampede::shutdown::Shutdown::new(),
    )
    .await
    .expect("state");
    let router = stampede::http::router(state);
    registered(&format!("{router:?}"))
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_self_contained() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "refs: {}", found.len());
    for reference in &found {
        assert!(resolve(&doc, reference).is_some(), "unresolved {reference}");
    }

    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object();
            assert!(
                responses.is_some_and(|r| !r.is_empty()),
                "{method} {path}: no responses"
            );
            let id = op["operationId"].as_str().expect("operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()));
        }
    }
    // Each component schema is a valid JSON Schema (2020-12, as 3.1 says).
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in schemas.keys() {
        validator(&doc, &format!("#/components/schemas/{name}"));
    }
    // Tenant writes say they pass the Origin check.
    let params = doc["paths"]["/api/session"]["post"]["parameters"].to_string();
    assert!(params.contains("\"Origin\""), "{params}");
    // The error codes are listed from `ErrorCode`.
    let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    assert!(codes
        .as_array()
        .is_some_and(|c| c.contains(&json!("unknown_host"))));
    let scheme = &doc["components"]["securitySchemes"]["session"];
    assert_eq!(
        scheme,
        &json!({"type": "apiKey", "in": "cookie", "name": "sessionid", "description": scheme["description"]})
    );
}

#[tokio::test]
async fn the_docs_page_loads_its_assets_from_the_server() {
    let app = TestApp::spawn().await;
    let page = app.get_bare("/api/docs").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    // The site's policy, unchanged: no inline script, nothing from elsewhere.
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    assert!(!page.text.contains("<script>") && !page.text.contains("<style"));
    let mut urls = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in page.text.split(attr).skip(1) {
            urls.push(part.split('"').next().expect("url").to_owned());
        }
    }
    assert!(urls.len() >= 3, "{urls:?}");
    for url in urls {
        assert!(url.starts_with("/static/"), "{url} is not served locally");
        let reply = app.get_bare(&url).await;
        assert_eq!(reply.status, 200, "{url}");
    }
}

#[tokio::test]
async fn every_route_is_documented_and_every_operation_routed() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let described = documented(&doc);
    let routed = app_routes(&app).await;
    assert!(
        routed.len() > 60,
        "parsed {} routes: {routed:?}",
        routed.len()
    );
    assert!(routed.contains(&("GET".into(), "/api/streams".into())));

    let undocumented: Vec<_> = routed
        .iter()
        .filter(|(method, path)| {
            let exact = described.contains(&(method.clone(), path.clone()));
            let any_method = method == "*" && described.iter().any(|(_, p)| p == path);
            !(exact || any_method)
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes without an OpenAPI description (register them with \
         `.routes(routes!(handler))`, see src/http/openapi.rs): {undocumented:?}"
    );
    let unrouted: Vec<_> = described.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "described but not routed: {unrouted:?}"
    );
}

/// `path` with its parameters filled in with values that route (not
/// necessarily ones that exist).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{room}" => "stream_1",
            "{code}" => "en",
            "{file}" => "x.svg",
            "{username}" | "{user}" => "nobody",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_answers_without_falling_through() {
    let mut config = test_config();
    config.metrics_token = Some("openapi-test-metrics-token".into());
    let app = TestApp::spawn_with(config).await;
    let _tenant = app.acme(&[("alice", Viewer)]).await;
    let doc = document(&app).await;
    for (method, path) in documented(&doc) {
        let url = concrete(&path);
        let reply = app.api(&method, &url, "alice", None).await;
        let fell_through =
            reply.status == 405 || (reply.status == 404 && reply.body["message"] == "no such page");
        assert!(
            !fell_through,
            "{method} {url} ({path}) fell through: {} {}",
            reply.status, reply.text
        );
    }
}

/// A validator for the schema `reference` names, resolving `$ref`s
/// against the document's components.
fn validator(doc: &Value, reference: &str) -> jsonschema::Validator {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "$ref": reference,
    });
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{reference}: {e}"))
}

/// The JSON schema of `method path`'s answer with `status`, following a
/// reusable response's `$ref`.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let mut response = &doc["paths"][path][method]["responses"][status.to_string()];
    if let Some(reference) = response["$ref"].as_str() {
        response = resolve(doc, reference).expect("response ref");
    }
    response["content"]["application/json"]["schema"].clone()
}

fn assert_fits(doc: &Value, method: &str, path: &str, reply: &common::Reply) {
    let schema = response_schema(doc, method, path, reply.status);
    assert!(
        schema.is_object(),
        "{method} {path} {}: no schema",
        reply.status
    );
    let reference = schema["$ref"].as_str().expect("a named schema");
    let validator = validator(doc, reference);
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {}: {errors:?}\n{}",
        reply.status,
        reply.text
    );
}

#[tokio::test]
async fn real_answers_fit_their_schemas() {
    let (app, tenant, stream) = stage(test_config(), &[("alice", Viewer), ("root", Admin)]).await;
    let schema = &tenant.schema;
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content)
         SELECT r.id, u.id, 'hello ' || n
         FROM {schema}.chat_chatroom r, {schema}.accounts_user u, generate_series(1, 3) n
         WHERE r.stream_id = $1 AND u.username = 'alice'"
    ))
    .bind(stream)
    .execute(app.pool())
    .await
    .expect("lines");
    let doc = document(&app).await;

    let streams = app.api("GET", "/api/streams", "alice", None).await;
    assert_eq!(streams.status, 200);
    assert!(!streams.body["streams"].as_array().expect("list").is_empty());
    assert_fits(&doc, "get", "/api/streams", &streams);

    let history = format!("/api/streams/{stream}/messages");
    let page = app.api("GET", &history, "alice", None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["messages"].as_array().map(Vec::len), Some(3));
    assert_fits(&doc, "get", "/api/streams/{id}/messages", &page);

    let shown = app
        .api("GET", &format!("/api/streams/{stream}"), "alice", None)
        .await;
    assert_fits(&doc, "get", "/api/streams/{id}", &shown);
    let me = app.api("GET", "/api/session", "root", None).await;
    assert_fits(&doc, "get", "/api/session", &me);
    let health = app.get_bare("/health").await;
    assert_fits(&doc, "get", "/health", &health);

    // Errors: the one ErrorBody, with a documented code.
    let missing = app.api("GET", "/api/streams/999999", "alice", None).await;
    assert_eq!(missing.error(), (404, Some("not_found")));
    assert_fits(&doc, "get", "/api/streams/{id}", &missing);
    let anonymous = app.api("GET", &history, common::As::Anonymous, None).await;
    assert_eq!(anonymous.error(), (401, Some("unauthorized")));
    assert_fits(&doc, "get", "/api/streams/{id}/messages", &anonymous);
    let bad = app
        .api("GET", &format!("{history}?limit=0"), "alice", None)
        .await;
    assert_eq!(bad.error(), (422, Some("invalid")));
    assert_fits(&doc, "get", "/api/streams/{id}/messages", &bad);
    // A body that does not fit the schema is caught (the check has teeth).
    let wrong = json!({"streams": [{"id": "one"}]});
    let validator = validator(&doc, "#/components/schemas/StreamList");
    assert!(!validator.is_valid(&wrong));
}
