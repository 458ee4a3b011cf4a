//! Errors answered as a page, for browsers: a headline in the reader's
//! language, and the server's own (English) detail folded away below it.

use askama::Template;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::{with_refusal_headers, AppError, ErrorCode};
use crate::i18n::I18n;

/// Shown for errors when the client asked for HTML.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    i18n: I18n,
    status: u16,
    headline: String,
    detail: Option<String>,
}

impl ErrorPage {
    /// A page saying `headline` (already in `i18n`'s language), with the
    /// server's `detail` when it says more.
    pub fn new(i18n: I18n, status: StatusCode, headline: String, detail: Option<String>) -> Self {
        ErrorPage {
            i18n,
            status: status.as_u16(),
            headline,
            detail,
        }
    }

    /// The page for an error `code`, worded from the catalogs.
    pub fn for_code(
        i18n: I18n,
        status: StatusCode,
        code: ErrorCode,
        detail: Option<String>,
    ) -> Self {
        let headline = i18n.t(&catalog_id(code));
        ErrorPage::new(i18n, status, headline, detail)
    }

    /// Renders with the status.
    pub fn respond(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.render().unwrap_or_else(|_| self.headline.clone());
        (status, Html(body)).into_response()
    }
}

/// The catalog message of an error code: `error-` and the code.
pub fn catalog_id(code: ErrorCode) -> String {
    format!("error-{}", code.as_str())
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
        let page = self.page(I18n::of(headers));
        with_refusal_headers(page.respond(), &self)
    }

    /// This error as a page in `i18n`'s language.
    pub fn page(&self, i18n: I18n) -> ErrorPage {
        ErrorPage::for_code(
            i18n,
            self.status(),
            self.code(),
            Some(self.public_message()),
        )
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn every_code_has_words_in_every_language() {
        for locale in Locale::ALL {
            for code in ErrorCode::iter() {
                let id = catalog_id(code);
                assert_ne!(crate::i18n::text(locale, &id), id, "{locale:?} lacks {id}");
            }
        }
    }
}
