//! Origin checks: a WebSocket or a state-changing request from a browser must
//! come from the tenant's own origin (the Host it was sent to) or from an
//! origin an operator allowed.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// True when the request's `Origin` is the host it was sent to, or is listed
/// in `allowed`. A missing Origin is not allowed: browsers always send one on
/// WebSocket handshakes, so its absence means a non-browser client that
/// should set it explicitly.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return true;
    }
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| host.trim().eq_ignore_ascii_case(authority))
}

/// Middleware: refuses state-changing requests that a browser sent from a
/// foreign origin (defence in depth next to SameSite cookies and CSRF tokens).
pub async fn same_origin_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = req.headers();
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let foreign_origin = headers.contains_key(header::ORIGIN)
        && !origin_allowed(headers, &state.config.allowed_origins);
    if !safe && (cross_site || foreign_origin) {
        return AppError::BadOrigin.into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn same_host_is_allowed() {
        assert!(origin_allowed(
            &headers("acme.localhost:8000", Some("http://acme.localhost:8000")),
            &[]
        ));
        assert!(origin_allowed(
            &headers("Acme.localhost", Some("https://acme.localhost")),
            &[]
        ));
    }

    #[test]
    fn others_are_refused() {
        assert!(!origin_allowed(&headers("acme.localhost", None), &[]));
        assert!(!origin_allowed(
            &headers("acme.localhost", Some("http://evil.test")),
            &[]
        ));
        assert!(!origin_allowed(
            &headers("acme.localhost:8000", Some("http://acme.localhost:9000")),
            &[]
        ));
        assert!(!origin_allowed(
            &headers("acme.localhost", Some("null")),
            &[]
        ));
    }

    #[test]
    fn allow_list_applies() {
        let allowed = vec!["https://embed.example.com".to_owned()];
        assert!(origin_allowed(
            &headers("acme.localhost", Some("https://embed.example.com")),
            &allowed
        ));
    }
}
