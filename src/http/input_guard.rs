//! Refuses control characters in anything a client sends over HTTP (the
//! decoded path, query parameters, and every string of a JSON or form body)
//! with `422 invalid`, before a handler, and so any SQL, runs. Postgres
//! cannot store NUL at all, and the other controls corrupt logs and
//! terminals. Bodies may hold line breaks and tabs; paths and queries may not.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::AppError;
use crate::moderation::charset::{find_control, TEXT_WHITESPACE};

/// Larger bodies are refused by the body limit layer outside this one.
const MAX_BODY: usize = 64 * 1024;

/// Middleware: see the module documentation.
pub async fn refuse_control_chars(req: Request, next: Next) -> Response {
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
    let kind = body_kind(&req);
    if kind == BodyKind::Other || matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
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
