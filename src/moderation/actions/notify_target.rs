//! The personal notification (kind `moderation`) a user gets when they are
//! timed out, banned or unbanned, with the moderator's reason. Sent after
//! the action committed, through the notification writer's queue: the
//! moderator never waits for it, and a full queue drops it (counted).

use super::Moderation;
use crate::chat::BanScope;
use crate::notifications::{Kind, NewNotification, NotificationType, Title};
use crate::store::stream_lifecycle::watch_link;
use crate::tenant::Tenant;

/// What happened to the user.
pub(super) enum Outcome {
    Timeout { secs: i64 },
    Ban,
    Unban,
}

impl Moderation {
    /// Tells `target_id` what happened, on stream `stream_id` or (scope
    /// `Tenant`) everywhere; `reason` as the moderator typed it.
    pub(super) fn tell_target(
        &self,
        tenant: &Tenant,
        target_id: i32,
        outcome: Outcome,
        scope: BanScope,
        stream_id: i32,
        reason: &str,
    ) {
        let everywhere = scope == BanScope::Tenant;
        let (kind_type, title) = match outcome {
            Outcome::Timeout { secs } => (
                NotificationType::Warning,
                Title::Timeout { secs, everywhere },
            ),
            Outcome::Ban => (NotificationType::Error, Title::Ban { everywhere }),
            Outcome::Unban => (NotificationType::Success, Title::Unban { everywhere }),
        };
        let link = (!everywhere).then(|| watch_link(stream_id));
        let reason: String = reason
            .trim()
            .chars()
            .take(crate::notifications::MAX_BODY_CHARS)
            .collect();
        let built =
            NewNotification::worded(Kind::Moderation, kind_type, title, &reason, link.as_deref())
                // A reason with control characters was refused before the action.
                .or_else(|_| {
                    NewNotification::worded(Kind::Moderation, kind_type, title, "", link.as_deref())
                });
        match built {
            // Counted and logged by the notifier when dropped.
            Ok(notification) => {
                let _ = self.notifier.notify(tenant, &[target_id], notification);
            }
            Err(err) => tracing::warn!(error = %err, "moderation notification not built"),
        }
    }
}
