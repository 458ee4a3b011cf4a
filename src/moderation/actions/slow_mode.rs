//! Slow mode: the least time between two messages of one user in a room.

use serde_json::json;

use super::act::{Announce, Audit, Done};
use super::Moderation;
use crate::auth::SessionUser;
use crate::chat::{Notice, NoticeKey, RoomEvent};
use crate::error::AppError;
use crate::store::audit_log::Action;
use crate::store::room_settings;
use crate::tenant::Tenant;

/// The intervals a moderator may set besides 0 (off).
const SLOW_MODE_SECS: std::ops::RangeInclusive<i64> = 3..=120;

impl Moderation {
    /// Sets slow mode: 0 turns it off, otherwise 3–120 s.
    pub async fn set_slow_mode(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        seconds: i64,
    ) -> Result<i32, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        if !(seconds == 0 || SLOW_MODE_SECS.contains(&seconds)) {
            return Err(AppError::Unprocessable(
                "slow_mode_seconds must be 0 (off) or 3-120".into(),
            ));
        }
        // At most 120 now, so the cast is exact.
        let seconds = seconds as i32;
        let notice = if seconds == 0 {
            Notice::of(NoticeKey::SlowOff)
        } else {
            Notice::of(NoticeKey::SlowOn).with("seconds", seconds)
        };
        let (schema, room) = (&tenant.schema, &scope.room);
        self.act(tenant, actor, async |tx| {
            room_settings::set_slow_mode(tx, schema, room.id, seconds).await?;
            let settings = RoomEvent::Settings {
                slow_mode_seconds: seconds,
            };
            Ok(Done {
                output: seconds,
                audit: Audit::new(Action::SlowMode, stream_id)
                    .details(json!({ "slow_mode_seconds": seconds })),
                announce: Some(Announce::new(room, notice, vec![settings])),
            })
        })
        .await
    }
}
