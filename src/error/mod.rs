//! The one error mapping: a status, a stable machine code ([`ErrorCode`])
//! and a human message, sent as `{"error": code, "message": text}` over HTTP
//! and as `{"type":"error","code":…,"message":…}` on a socket. Server faults
//! are logged here and answered with a generic message so internals never leak.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::store::StoreError;

mod code;
mod page;

pub use code::ErrorCode;
pub use page::ErrorPage;

/// Every error an HTTP handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no tenant is served at this host")]
    UnknownHost,
    #[error("authentication required")]
    Unauthorized,
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("origin not allowed")]
    BadOrigin,
    #[error("missing or invalid CSRF token")]
    BadCsrf,
    #[error("{0}")]
    Forbidden(String),
    #[error("you are banned from this chat")]
    Banned {
        until: Option<String>,
        /// The moderator's reason (HTML-escaped), if one was given.
        reason: Option<String>,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("malformed JSON body: {0}")]
    BadJson(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("session: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("{0}")]
    Unavailable(String),
    /// Too many attempts (e.g. failed logins): try again after `retry_after`.
    #[error("too many attempts; try again in {} seconds", retry_after_secs(.retry_after))]
    RateLimited { retry_after: std::time::Duration },
    /// Every slot and queue place is taken (e.g. password hashing).
    #[error("the server is busy; try again shortly")]
    Busy,
    #[error("too many open connections")]
    TooManyConnections,
    #[error("{0}")]
    Internal(String),
    /// Chat text refused by the checks every line passes
    /// (`moderation::vet`), or an edit out of its window.
    #[error("{message}")]
    Refused {
        code: ErrorCode,
        message: String,
        retry_after_ms: Option<u64>,
    },
}

impl From<crate::moderation::vet::Refused> for AppError {
    fn from(r: crate::moderation::vet::Refused) -> Self {
        AppError::Refused {
            code: r.code,
            message: r.message,
            retry_after_ms: r.retry_after_ms,
        }
    }
}

/// A page size a client asked for (`?limit=`): `default` when absent,
/// 422 `invalid` outside `1..=max`. Every paged route answers the same way.
pub fn page_limit(asked: Option<i64>, default: i64, max: i64) -> Result<i64, AppError> {
    let limit = asked.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::Unprocessable(format!("limit must be 1-{max}")))
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::UnknownHost | AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::BadOrigin
            | AppError::BadCsrf
            | AppError::Forbidden(_)
            | AppError::Banned { .. } => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) | AppError::BadJson(_) => StatusCode::BAD_REQUEST,
            AppError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            AppError::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            AppError::Store(StoreError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Refused { code, .. } => match code {
                ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
                ErrorCode::EditWindowPassed => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            AppError::Unavailable(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            _ if self.is_unreachable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RateLimited { .. } | AppError::TooManyConnections => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Store(StoreError::Database(_))
            | AppError::Session(_)
            | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::UnknownHost => ErrorCode::UnknownHost,
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::InvalidCredentials => ErrorCode::InvalidCredentials,
            AppError::BadOrigin => ErrorCode::BadOrigin,
            AppError::BadCsrf => ErrorCode::BadCsrf,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::Banned { .. } => ErrorCode::Banned,
            AppError::NotFound(_) | AppError::Store(StoreError::NotFound(_)) => ErrorCode::NotFound,
            AppError::Conflict(_) | AppError::Store(StoreError::Conflict(_)) => ErrorCode::Conflict,
            AppError::Unprocessable(_) | AppError::Store(StoreError::Invalid(_)) => {
                ErrorCode::Invalid
            }
            AppError::BadRequest(_) => ErrorCode::BadRequest,
            AppError::BadJson(_) => ErrorCode::BadJson,
            AppError::Refused { code, .. } => *code,
            AppError::Unavailable(_) | AppError::Busy => ErrorCode::Unavailable,
            _ if self.is_unreachable() => ErrorCode::Unavailable,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::TooManyConnections => ErrorCode::TooManyConnections,
            AppError::Store(StoreError::Database(_))
            | AppError::Session(_)
            | AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// What a client may be told: the error's text, except for server
    /// faults, which are logged with their detail and answered generically.
    /// The HTTP body and the WebSocket error frame both use it.
    pub fn public_message(&self) -> String {
        if self.is_unreachable() {
            tracing::warn!(error = %self, "database unreachable");
            "the service is unavailable; try again shortly".to_owned()
        } else if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "internal server error".to_owned()
        } else {
            self.to_string()
        }
    }

    /// The database (directly, or behind the session store) could not be
    /// reached: the client may retry, nothing is wrong with its request.
    fn is_unreachable(&self) -> bool {
        use tower_sessions::session::Error as SessionError;
        use tower_sessions::session_store::Error as StoreFault;
        match self {
            AppError::Store(err) => err.is_unreachable(),
            AppError::Session(SessionError::Store(StoreFault::Backend(_))) => true,
            _ => false,
        }
    }

    /// Seconds a client should wait before retrying, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after } => Some(retry_after_secs(retry_after)),
            AppError::Busy => Some(1),
            AppError::Refused {
                retry_after_ms: Some(ms),
                ..
            } => Some(ms.div_ceil(1000)),
            _ if self.is_unreachable() => Some(1),
            _ => None,
        }
    }
}

/// Whole seconds, rounded up so a client that waits exactly this long is let in.
fn retry_after_secs(wait: &std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Adds `Retry-After`, and `Connection: close` to a refusal for load or
/// abuse: a flood's refused requests then free their connections (buffers,
/// task) at once instead of idling on keep-alive until the client is done.
pub(crate) fn with_refusal_headers(mut response: Response, err: &AppError) -> Response {
    let headers = response.headers_mut();
    if let Some(secs) = err.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if matches!(
        err,
        AppError::Busy | AppError::RateLimited { .. } | AppError::TooManyConnections
    ) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The JSON body of every HTTP error; the OpenAPI document describes it
/// from this type, so the two cannot drift apart.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    /// On chat refused for a while (rate limit, slow mode): when to retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// On `banned`: when the ban ends (`null`: permanent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub until: Option<Option<String>>,
    /// On `banned`: the moderator's reason, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&AppError> for ErrorBody {
    fn from(err: &AppError) -> Self {
        let mut body = ErrorBody {
            error: err.code(),
            message: err.public_message(),
            retry_after_ms: None,
            until: None,
            reason: None,
        };
        match err {
            AppError::Refused { retry_after_ms, .. } => body.retry_after_ms = *retry_after_ms,
            AppError::Banned { until, reason } => {
                body.until = Some(until.clone());
                body.reason = reason.clone();
            }
            _ => {}
        }
        body
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody::from(&self);
        with_refusal_headers((self.status(), Json(body)).into_response(), &self)
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        AppError::BadJson(rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::Unprocessable(rejection.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        // A path that does not parse (e.g. a non-numeric id) names nothing.
        AppError::NotFound(rejection.body_text())
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}
