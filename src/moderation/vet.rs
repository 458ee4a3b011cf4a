//! The checks every chat text passes, new or edited: length and characters,
//! sanitising, the tenant's blocked terms, then the user's chat rate limit
//! (last, so refused text costs no budget), across nodes when Redis is
//! configured (see `global_limit`), together with slow mode for new lines.

use super::global_limit::{SlowMode, SlowVerdict};
use crate::error::ErrorCode;
use crate::state::AppState;
use crate::tenant::Tenant;

use super::blocked_terms::contains_blocked;
use super::{sanitize, validate_length, TextError};

/// Text that may be posted.
#[derive(Debug)]
pub struct Vetted<'a> {
    /// As typed, trimmed: what mentions are read from.
    pub raw: &'a str,
    /// HTML-escaped, as stored and broadcast.
    pub clean: String,
    /// Slow mode as checked across nodes, for the room to apply.
    pub slow_mode: SlowVerdict,
}

/// Why text was refused, as the error frame or body says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_ms: Option<u64>,
}

impl Refused {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
}

/// Checks `message` from `user_id`; a pass takes one unit of the user's
/// chat rate limit. `slow` is the room's slow mode when it applies to this
/// line (a new line of a non-moderator); its verdict is the room's to apply.
pub async fn vet<'a>(
    state: &AppState,
    tenant: &Tenant,
    user_id: i32,
    message: &'a str,
    slow: Option<SlowMode>,
) -> Result<Vetted<'a>, Refused> {
    let (raw, clean) = validate_length(message, state.config.max_message_chars)
        .and_then(|raw| sanitize(raw).map(|clean| (raw, clean)))
        .map_err(|err| {
            let code = match err {
                TextError::Empty => ErrorCode::Empty,
                TextError::TooLong(_) => ErrorCode::TooLong,
                TextError::Control => ErrorCode::BadRequest,
            };
            Refused::new(code, err.to_string())
        })?;
    match state.moderation.blocked.terms(tenant).await {
        // The typed text, not `clean`: escaping adds entity names (`amp`,
        // `lt`) nobody sees. Terms split by tags are caught inside
        // `contains_blocked` (see `blocked_terms::remove_tags`). The term is
        // not echoed back, so the list cannot be probed for it.
        Ok(terms) if contains_blocked(raw, &terms) => {
            return Err(Refused::new(
                ErrorCode::BlockedTerm,
                "your message contains a blocked term",
            ))
        }
        Ok(_) => {}
        Err(err) => {
            tracing::error!(error = %err, "blocked terms unavailable");
            return Err(Refused::new(
                ErrorCode::Unavailable,
                "chat is unavailable right now; nothing was sent",
            ));
        }
    }
    let slow_mode = match state.limits.chat(tenant, user_id, slow).await {
        Ok(verdict) => verdict,
        Err(wait) => {
            return Err(Refused {
                retry_after_ms: Some(wait.as_millis().max(1) as u64),
                ..Refused::new(ErrorCode::RateLimited, "slow down")
            })
        }
    };
    Ok(Vetted {
        raw,
        clean,
        slow_mode,
    })
}
