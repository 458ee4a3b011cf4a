//! Pinning: one visible message of a room at most, shown above the chat.

use serde::Serialize;

use super::act::{Announce, Audit, Done};
use super::Moderation;
use crate::auth::SessionUser;
use crate::chat::{ChatMessage, Notice, NoticeKey, RoomEvent};
use crate::error::AppError;
use crate::store::audit_log::Action;
use crate::store::pins;
use crate::tenant::Tenant;

/// What REST returns for a pin.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Pinned {
    pub pinned: ChatMessage,
}

fn unpinned(id: i32) -> RoomEvent {
    RoomEvent::Unpin { id: i64::from(id) }
}

impl Moderation {
    /// Pins a visible message of the stream's room (replacing any pin).
    pub async fn pin(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        message_id: i64,
    ) -> Result<ChatMessage, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let id =
            i32::try_from(message_id).map_err(|_| AppError::NotFound("no such message".into()))?;
        let (schema, room) = (&tenant.schema, &scope.room);
        self.act(tenant, actor, async |tx| {
            let message = pins::visible_message(tx, schema, room.id, id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no message {id} in this chat")))?;
            let previous = pins::unpin_all(tx, schema, room.id).await?;
            pins::pin(tx, schema, id).await?;
            let mut events: Vec<RoomEvent> = previous
                .into_iter()
                .filter(|p| *p != id)
                .map(unpinned)
                .collect();
            events.push(RoomEvent::Pin {
                message: message.clone(),
            });
            Ok(Done {
                output: message,
                audit: Audit::new(Action::Pin, stream_id).message(id),
                announce: Some(Announce::new(room, Notice::of(NoticeKey::Pin), events)),
            })
        })
        .await
    }

    /// Unpins the stream's pinned message; `NotFound` if none is pinned.
    pub async fn unpin(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
    ) -> Result<(), AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let (schema, room) = (&tenant.schema, &scope.room);
        self.act(tenant, actor, async |tx| {
            let previous = pins::unpin_all(tx, schema, room.id).await?;
            let Some(&first) = previous.first() else {
                return Err(AppError::NotFound("nothing is pinned".into()));
            };
            let events = previous.into_iter().map(unpinned).collect();
            Ok(Done {
                output: (),
                audit: Audit::new(Action::Unpin, stream_id).message(first),
                announce: Some(Announce::new(room, Notice::of(NoticeKey::Unpin), events)),
            })
        })
        .await
    }
}
