//! CSRF tokens for HTML forms (the JSON API relies on JSON bodies and the
//! Origin check instead), as a signed double-submit cookie: the `csrftoken`
//! cookie holds a random nonce and its HMAC under a secret all nodes share,
//! and a form must carry the same token. Nothing is stored per visitor, so an
//! anonymous page view writes no session row.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponseParts, ResponseParts};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::AppError;
use crate::state::AppState;

/// The cookie's name, kept from the seed's Django deployment.
pub const COOKIE_NAME: &str = "csrftoken";

/// The key tokens are signed with.
#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl CsrfKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// Loads the deployment's key (made by the migrations).
    pub async fn load(pool: &sqlx::PgPool) -> Result<Self, sqlx::Error> {
        let secret: String =
            sqlx::query_scalar("SELECT secret FROM public.server_secrets WHERE name = 'csrf'")
                .fetch_one(pool)
                .await?;
        Ok(Self::new(secret.as_bytes()))
    }

    fn mac(&self, nonce: &str) -> String {
        // HMAC accepts keys of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(nonce.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// A fresh `nonce.mac` token.
    pub fn issue(&self) -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let nonce = hex(&bytes);
        let mac = self.mac(&nonce);
        format!("{nonce}.{mac}")
    }

    /// Whether `token` was issued with this key.
    pub fn is_valid(&self, token: &str) -> bool {
        match token.split_once('.') {
            Some((nonce, mac)) if nonce.len() == 32 => {
                constant_time_eq(self.mac(nonce).as_bytes(), mac.as_bytes())
            }
            _ => false,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Extractor: the request's valid token, or a fresh one the response must
/// set (return the extractor itself among the response's parts).
#[derive(Debug, Clone)]
pub struct Csrf {
    pub token: String,
    /// Set-Cookie value when the token is new.
    set_cookie: Option<HeaderValue>,
}

impl<S> FromRequestParts<S> for Csrf
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let state = AppState::from_ref(state);
        if let Some(token) = cookie_token(&parts.headers).filter(|t| state.csrf.is_valid(t)) {
            return Ok(Csrf {
                token,
                set_cookie: None,
            });
        }
        let token = state.csrf.issue();
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000{secure}"
        );
        let set_cookie = HeaderValue::from_str(&cookie)
            .map_err(|e| AppError::Internal(format!("csrf cookie: {e}")))?;
        Ok(Csrf {
            token,
            set_cookie: Some(set_cookie),
        })
    }
}

impl IntoResponseParts for Csrf {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(cookie) = self.set_cookie {
            res.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Ok(res)
    }
}

/// The `csrftoken` cookie's value, if any.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    crate::cookies::value(headers, COOKIE_NAME).map(str::to_owned)
}

/// Fails with `bad_csrf` unless `submitted` is the request's own valid
/// cookie token.
pub fn verify(key: &CsrfKey, headers: &HeaderMap, submitted: &str) -> Result<(), AppError> {
    let cookie = cookie_token(headers).ok_or(AppError::BadCsrf)?;
    if key.is_valid(&cookie) && constant_time_eq(cookie.as_bytes(), submitted.as_bytes()) {
        Ok(())
    } else {
        Err(AppError::BadCsrf)
    }
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn tokens_are_signed() {
        let key = CsrfKey::new(b"k1");
        let token = key.issue();
        assert!(key.is_valid(&token));
        assert!(
            !CsrfKey::new(b"k2").is_valid(&token),
            "another deployment's"
        );
        let (nonce, _) = token.split_once('.').unwrap();
        assert!(!key.is_valid(&format!("{nonce}.{}", "0".repeat(64))));
        assert!(!key.is_valid("nonsense"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("a=b; {COOKIE_NAME}={token}").parse().unwrap(),
        );
        assert!(verify(&key, &headers, &token).is_ok());
        assert!(
            verify(&key, &headers, &key.issue()).is_err(),
            "not the cookie's"
        );
        assert!(
            verify(&key, &HeaderMap::new(), &token).is_err(),
            "no cookie"
        );
    }
}
