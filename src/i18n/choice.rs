//! Which language a request gets: the `lang` cookie (set by the switch,
//! `GET /lang/{code}?next=`, and at login from the account's choice), else
//! `Accept-Language`, else English.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::{catalog, text, text_with, Locale};

/// The cookie the language switch sets.
pub const COOKIE: &str = "lang";
/// Messages whose id starts with this are handed to `watch.js` and
/// `mod_panel.js`.
const SCRIPT_PREFIX: &str = "js-";

/// The request's language and its words, as pages and templates use them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct I18n(pub Locale);

impl I18n {
    /// The language chosen by `headers`.
    pub fn of(headers: &HeaderMap) -> I18n {
        let cookie = crate::cookies::value(headers, COOKIE).and_then(Locale::parse);
        let accepted = || {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::negotiate)
        };
        I18n(cookie.or_else(accepted).unwrap_or_default())
    }

    /// The code for `lang` attributes.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        text(self.0, id)
    }

    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        text_with(self.0, id, &[(name, value)])
    }

    /// The message `id` with several arguments.
    pub fn tn(&self, id: &str, args: &[(&str, &str)]) -> String {
        text_with(self.0, id, args)
    }

    /// The other languages, for the switch: `(code, own name)`.
    pub fn others(&self) -> Vec<(&'static str, &'static str)> {
        Locale::ALL
            .into_iter()
            .filter(|l| *l != self.0)
            .map(|l| (l.code(), l.name()))
            .collect()
    }

    /// `watch.js`'s words as a JSON object (`js-` messages, prefix cut),
    /// for a `<script type="application/json">` block. `<` is escaped so
    /// that no text can close the block.
    pub fn script_words(&self) -> String {
        self.script_words_for(SCRIPT_PREFIX)
    }

    /// Another script's words: the messages whose id starts with `prefix`
    /// (`ajs-` for `analytics.js`), prefix cut, as [`I18n::script_words`].
    pub fn script_words_for(&self, prefix: &str) -> String {
        let words: serde_json::Map<String, serde_json::Value> = catalog::ids(Locale::En, prefix)
            .into_iter()
            .map(|id| {
                let value = text(self.0, &id);
                (id[prefix.len()..].to_owned(), value.into())
            })
            .collect();
        serde_json::to_string(&words)
            .unwrap_or_else(|_| "{}".into())
            .replace('<', "\\u003c")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for I18n {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(I18n::of(&parts.headers))
    }
}

/// The `Set-Cookie` value that remembers `locale` in this browser for a year.
pub fn cookie(locale: Locale) -> String {
    format!(
        "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        locale.code()
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_cookie_wins_over_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("ja-JP,ja;q=0.9"),
        );
        assert_eq!(I18n::of(&headers), I18n(Locale::Ja));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("sessionid=x; lang=en"),
        );
        assert_eq!(I18n::of(&headers), I18n(Locale::En));
        assert_eq!(I18n::of(&HeaderMap::new()), I18n(Locale::En));
    }

    #[test]
    fn script_words_cannot_close_their_block() {
        let words = I18n(Locale::Ja).script_words();
        assert!(!words.contains('<'));
        let parsed: serde_json::Value = serde_json::from_str(&words).unwrap();
        assert!(parsed.is_object());
    }
}
