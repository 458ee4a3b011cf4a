//! The stable error codes clients switch on: the `"error"` of an HTTP body
//! and the `"code"` of a WebSocket error frame come from this one list.

use serde::Serialize;

/// Every machine-readable error code, HTTP and WebSocket alike.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// No tenant is served at the request's Host.
    UnknownHost,
    Unauthorized,
    InvalidCredentials,
    /// A WebSocket handshake from another site.
    BadOrigin,
    BadCsrf,
    /// A frame that is not a JSON object with the keys its type needs.
    BadJson,
    /// A well-formed request or frame with a value no client may send
    /// (control characters).
    BadRequest,
    UnknownType,
    Empty,
    TooLong,
    RateLimited,
    UnknownStamp,
    Banned,
    SlowMode,
    BlockedTerm,
    Forbidden,
    NotFound,
    Invalid,
    Conflict,
    /// A message may be edited only for `--edit-window-secs` after it was sent.
    EditWindowPassed,
    /// Auto-moderation would hold the edited text for review: the edit was
    /// not applied (a line already shown cannot go back to waiting).
    EditHeld,
    /// A queue of the server is full: not stored, try again in a moment.
    Overloaded,
    /// The session was logged out or the user deactivated; close 4401 follows.
    SessionRevoked,
    /// A frame that would post, react or moderate on a read-only socket.
    ReadOnly,
    /// The database cannot be reached: nothing was stored; try again.
    Unavailable,
    TooManyConnections,
    Internal,
}

impl ErrorCode {
    /// The code as sent (also a metrics label).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn text_and_json_agree() {
        for code in ErrorCode::iter() {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(
            ErrorCode::TooManyConnections.as_str(),
            "too_many_connections"
        );
        assert_eq!(ErrorCode::BadJson.as_str(), "bad_json");
    }
}
