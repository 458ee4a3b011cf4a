//! Removing chat: one message, one user's messages, or the whole room.

use serde_json::json;

use super::act::{Announce, Audit, Done};
use super::Moderation;
use crate::auth::SessionUser;
use crate::chat::{Notice, NoticeKey, RoomEvent};
use crate::error::AppError;
use crate::store::audit_log::Action;
use crate::store::{deletions, users};
use crate::tenant::Tenant;

impl Moderation {
    /// Deletes one message, wherever it is (REST `DELETE /api/messages/{id}`).
    pub async fn delete_message(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        message_id: i64,
    ) -> Result<(), AppError> {
        let not_found = || AppError::NotFound(format!("no message {message_id}"));
        let id = i32::try_from(message_id).map_err(|_| not_found())?;
        let (_, stream_id, _) = deletions::message_room(&self.pool, &tenant.schema, id)
            .await?
            .ok_or_else(not_found)?;
        self.delete_in_stream(tenant, actor, stream_id, message_id)
            .await
    }

    /// Deletes one message of the stream's room.
    pub async fn delete_in_stream(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        message_id: i64,
    ) -> Result<(), AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let not_found = || AppError::NotFound(format!("no message {message_id} in this chat"));
        let id = i32::try_from(message_id).map_err(|_| not_found())?;
        let (schema, room) = (&tenant.schema, &scope.room);
        self.act(tenant, actor, async |tx| {
            let (ids, _) = deletions::soft_delete(tx, schema, room.id, Some(id), None).await?;
            if ids.is_empty() {
                return Err(not_found());
            }
            let deleted = RoomEvent::Delete {
                ids: ids.into_iter().map(i64::from).collect(),
            };
            Ok(Done {
                output: (),
                audit: Audit::new(Action::Delete, stream_id).message(id),
                announce: Some(Announce::new(
                    room,
                    Notice::of(NoticeKey::Delete),
                    vec![deleted],
                )),
            })
        })
        .await
    }

    /// Removes all messages of `username` in the room, or all messages.
    /// Returns how many were removed.
    pub async fn clear(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        username: Option<&str>,
    ) -> Result<usize, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let target = match username {
            Some(name) => Some(users::id_by_name(&self.pool, &tenant.schema, name).await?),
            None => None,
        };
        let (action, notice) = match username {
            Some(name) => (
                Action::ClearUser,
                Notice::of(NoticeKey::ClearUser).with("user", name),
            ),
            None => (Action::Clear, Notice::of(NoticeKey::Clear)),
        };
        let (schema, room) = (&tenant.schema, &scope.room);
        self.act(tenant, actor, async |tx| {
            let (ids, _) = deletions::soft_delete(tx, schema, room.id, None, target).await?;
            let cleared = RoomEvent::Clear {
                username: username.map(str::to_owned),
            };
            Ok(Done {
                output: ids.len(),
                audit: Audit::new(action, stream_id)
                    .user(target)
                    .details(json!({"removed": ids.len()})),
                announce: Some(Announce::new(room, notice, vec![cleared])),
            })
        })
        .await
    }
}
