//! Guards what a client sends over HTTP before any handler (and so any SQL)
//! runs:
//! - a request body must arrive whole within `--body-timeout-secs` (408
//!   past it; a body trickled a byte at a time would otherwise hold a
//!   connection and a task for as long as the client likes);
//! - control characters in the decoded path, a query parameter, or any
//!   string of a JSON or form body answer `422 invalid`. Postgres cannot
//!   store NUL at all, and the other controls corrupt logs and terminals.
//!   Bodies may hold line breaks and tabs; paths and queries may not.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::charset::{find_control, TEXT_WHITESPACE};
use crate::error::AppError;
use crate::state::AppState;

/// Larger bodies are refused by the body limit layer outside this one.
const MAX_BODY: usize = 64 * 1024;

/// Middleware: see the module documentation.
pub async fn guard_input(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
    if find_control(&path, &[]).is_some() {
        return refuse("the path", &req);
    }
    if let Some(query) = req.uri().query() {
        let bad = form_urlencoded::parse(query.as_bytes())
            .any(|(k, v)| find_control(&k, &[]).is_some() || find_control(&v, &[]).is_some());
        if bad {
            return refuse("a query parameter", &req);
        }
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let kind = body_kind(&req);
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(state.config.body_timeout(), to_bytes(body, MAX_BODY));
    let bytes = match read.await {
        Ok(Ok(bytes)) => bytes,
        Err(_elapsed) => {
            return (
                StatusCode::REQUEST_TIMEOUT,
                AppError::BadRequest("the request body took too long".into()),
            )
                .into_response()
        }
        Ok(Err(_)) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::BadRequest("request body too large or cut short".into()),
            )
                .into_response()
        }
    };
    let clean = match kind {
        BodyKind::Json => json_is_clean(&bytes),
        BodyKind::Form => form_urlencoded::parse(&bytes).all(|(k, v)| {
            find_control(&k, TEXT_WHITESPACE).is_none()
                && find_control(&v, TEXT_WHITESPACE).is_none()
        }),
        BodyKind::Other => true,
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    if !clean {
        return refuse("the request body", &req);
    }
    next.run(req).await
}

#[derive(PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
    Other,
}

fn body_kind(req: &Request) -> BodyKind {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else if content_type.starts_with("application/json") || content_type.contains("+json") {
        BodyKind::Json
    } else {
        BodyKind::Other
    }
}

/// Malformed JSON passes: the handler's extractor answers it with `bad_json`.
fn json_is_clean(bytes: &Bytes) -> bool {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => value_is_clean(&value),
        Err(_) => true,
    }
}

fn value_is_clean(value: &Value) -> bool {
    match value {
        Value::String(s) => find_control(s, TEXT_WHITESPACE).is_none(),
        Value::Array(items) => items.iter().all(value_is_clean),
        Value::Object(map) => map
            .iter()
            .all(|(k, v)| find_control(k, &[]).is_none() && value_is_clean(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

fn refuse(what: &str, req: &Request) -> Response {
    AppError::Unprocessable(format!("{what} contains a control character"))
        .into_response_for(req.headers())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_and_keys_are_checked_at_any_depth() {
        let clean = |s: &str| json_is_clean(&Bytes::from(s.to_owned()));
        assert!(clean(r#"{"username":"alice","lines":"a\nb"}"#));
        assert!(!clean(r#"{"username":"al\u0000ice"}"#));
        assert!(!clean(r#"{"a":[{"b":"\u001b[2J"}]}"#));
        assert!(!clean(r#"{"k\u0007":1}"#));
        assert!(clean("{not json"));
    }
}
