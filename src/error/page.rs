//! Errors answered as a page, for browsers.

use askama::Template;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};

use super::{with_refusal_headers, AppError};

/// Shown for errors when the client asked for HTML.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub message: &'a str,
}

impl AppError {
    /// Like `into_response`, but answers browsers (Accept: text/html) with a page.
    pub fn into_response_for(self, headers: &HeaderMap) -> Response {
        let wants_html = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        if !wants_html {
            return self.into_response();
        }
        let status = self.status();
        let message = self.public_message();
        let page = ErrorPage {
            status: status.as_u16(),
            message: &message,
        };
        let body = page.render().unwrap_or(message.clone());
        with_refusal_headers((status, Html(body)).into_response(), &self)
    }
}
