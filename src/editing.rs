//! Authors editing their own chat lines (`chat.edit` on the socket,
//! `PATCH /api/messages/{id}`): within `--edit-window-secs` of sending,
//! with the checks of a new line (length, sanitising, blocked terms, the
//! chat rate limit), never while banned. The new text is stored with the
//! old one kept for moderators, then every node's room hears
//! [`RoomEvent::Edit`]: it updates its history, pin and resume log and
//! sends `chat.edited`. Edits do not notify: a mention added by an edit is
//! highlighted, but only a new line pings.

use serde::Serialize;

use crate::auth::{Role, SessionUser};
use crate::channel_layer::room_group;
use crate::chat::{Edit, RoomEvent};
use crate::error::{AppError, ErrorCode};
use crate::moderation::vet::{vet, Vetted};
use crate::room::event::publish;
use crate::state::AppState;
use crate::store::edits::{self, NewText, Outcome};
use crate::tenant::Tenant;

/// A line after its author's edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Edited {
    pub id: i64,
    /// HTML-escaped, as broadcast.
    pub message: String,
    /// `None` only for a line never edited whose text was sent unchanged.
    pub edited_at: Option<String>,
    pub mentions: Vec<String>,
}

/// Replaces the text of line `id` by `user`'s `text`.
pub async fn edit(
    state: &AppState,
    tenant: &Tenant,
    user: &SessionUser,
    id: i64,
    text: &str,
) -> Result<Edited, AppError> {
    let window = state.config.edit_window_secs;
    let window_passed = || AppError::Refused {
        code: ErrorCode::EditWindowPassed,
        message: format!("messages can be edited for {window} seconds after they are sent"),
        retry_after_ms: None,
    };
    if window == 0 {
        return Err(window_passed());
    }
    // Slow mode spaces new lines; an edit adds none.
    let Vetted { raw, clean, .. } = vet(state, tenant, user.user_id, text, None).await?;
    // An edit must not slip past auto-moderation: text it would hold is not
    // applied (tenant moderators and admins are exempt, as for new lines).
    let exempt = matches!(user.role, Role::Moderator | Role::Admin);
    let automod = &state.moderation.automod;
    if !exempt {
        if let Some(reasons) = automod
            .check_edit(tenant, user.user_id, raw, &clean)
            .await?
        {
            let reasons: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
            return Err(AppError::Refused {
                code: ErrorCode::EditHeld,
                message: format!(
                    "this text would be held for review ({}); the edit was not applied",
                    reasons.join(", ")
                ),
                retry_after_ms: None,
            });
        }
    }
    let mentions: Vec<String> = state
        .mentions
        .resolve(tenant, raw)
        .await?
        .into_iter()
        .map(|m| m.username)
        .collect();
    let stored = edits::edit(
        &state.pool,
        &tenant.schema,
        &NewText {
            message_id: id,
            user_id: user.user_id,
            content: &clean,
            mentions: &mentions,
            window_secs: i64::try_from(window).unwrap_or(i64::MAX),
        },
    )
    .await?;
    let edited = |edited_at| Edited {
        id,
        message: clean.clone(),
        edited_at,
        mentions: mentions.clone(),
    };
    match stored {
        Outcome::Edited {
            stream_id,
            edited_at,
        } => {
            let event = RoomEvent::Edit(Edit {
                id,
                message: clean.clone(),
                edited_at: edited_at.clone(),
                mentions: mentions.clone(),
            });
            let group = room_group(tenant.schema.as_str(), stream_id);
            publish(&*state.layer, &group, &event);
            metrics::counter!("stampede_messages_edited_total").increment(1);
            Ok(edited(Some(edited_at)))
        }
        Outcome::Unchanged { edited_at } => Ok(edited(edited_at)),
        Outcome::NotFound => Err(AppError::NotFound(format!("no message {id} to edit"))),
        Outcome::NotAuthor => Err(AppError::Forbidden(
            "only its author may edit a message".into(),
        )),
        Outcome::WindowPassed => Err(window_passed()),
        Outcome::Banned => Err(AppError::Banned {
            until: None,
            reason: None,
        }),
    }
}
