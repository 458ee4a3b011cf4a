//! Deciding on lines auto-moderation held: approving shows the line to the
//! room with its original time; denying keeps it hidden and tells its
//! author. Either way it leaves every moderator's queue, on every node.
//! A line is decided once: the second decision finds it no longer held.

use serde_json::json;

use super::act::{Announce, Audit, Done};
use super::Moderation;
use crate::auth::SessionUser;
use crate::chat::{ChatMessage, MessageType, ReplyTo, RoomEvent};
use crate::error::AppError;
use crate::room::thread_notices::notify;
use crate::store::audit_log::Action;
use crate::store::automod::{self, HeldLine};
use crate::store::messages::NewMessage;
use crate::tenant::Tenant;

/// Held lines a queue lists at most.
pub const QUEUE_LIMIT: i64 = 500;

fn not_held(id: i64) -> AppError {
    AppError::NotFound(format!("no held message {id} in this chat"))
}

impl Moderation {
    /// Shows held line `message_id` of the stream's room.
    pub async fn approve(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        message_id: i64,
    ) -> Result<ChatMessage, AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let id = i32::try_from(message_id).map_err(|_| not_held(message_id))?;
        let (schema, room) = (&tenant.schema, &scope.room);
        let (line, threads) = self
            .act(tenant, actor, async |tx| {
                let held = automod::approve(tx, schema, room.id, id)
                    .await?
                    .ok_or_else(|| not_held(message_id))?;
                let threads = automod::threads(tx, schema, id).await?;
                Ok(Done {
                    output: (held.message.clone(), threads),
                    audit: Audit::new(Action::Approve, stream_id)
                        .message(id)
                        .user(held.user_id)
                        .details(json!({ "reasons": held.reasons })),
                    announce: Some(Announce::quiet(room, vec![RoomEvent::Chat(held.message)])),
                })
            })
            .await?;
        // Held, it notified no one; shown, it notifies as a new line would.
        let sent = NewMessage {
            user_id: threads.author_id,
            username: line.username.clone(),
            content: line.message.clone(),
            message_type: MessageType::Message,
            client_id: None,
            badge: None,
            mentions: threads.mentions,
            reply_to: threads.reply_author_id.map(|user_id| ReplyTo {
                id: 0,
                username: String::new(),
                message: String::new(),
                deleted: false,
                user_id: Some(user_id),
            }),
            held: None,
        };
        notify(&self.notifier, schema, stream_id, &sent, &line);
        Ok(line)
    }

    /// Keeps held line `message_id` of the stream's room hidden.
    pub async fn deny(
        &self,
        tenant: &Tenant,
        actor: &SessionUser,
        stream_id: i32,
        message_id: i64,
    ) -> Result<(), AppError> {
        let scope = self.authorize(tenant, stream_id, actor).await?;
        let id = i32::try_from(message_id).map_err(|_| not_held(message_id))?;
        let (schema, room) = (&tenant.schema, &scope.room);
        self.act(tenant, actor, async |tx| {
            let author_id = automod::deny(tx, schema, room.id, id)
                .await?
                .ok_or_else(|| not_held(message_id))?;
            let denied = RoomEvent::Denied {
                id: message_id,
                author_id,
                expired: false,
            };
            Ok(Done {
                output: (),
                audit: Audit::new(Action::Deny, stream_id)
                    .message(id)
                    .user(author_id),
                announce: Some(Announce::quiet(room, vec![denied])),
            })
        })
        .await
    }

    /// The stream's held lines, oldest first: all of them for its
    /// moderators, their own for anyone else.
    pub async fn held(
        &self,
        tenant: &Tenant,
        viewer: &SessionUser,
        stream_id: i32,
    ) -> Result<Vec<HeldLine>, AppError> {
        let rank = self.rank(tenant, stream_id, viewer.user_id).await?;
        let room = crate::store::streams::room(&self.pool, &tenant.schema, stream_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no chat room for stream {stream_id}")))?;
        let only = (!rank.can_moderate()).then_some(viewer.user_id);
        Ok(automod::queue(&self.pool, &tenant.schema, room.id, only, QUEUE_LIMIT).await?)
    }
}
