//! A room's chat writer: whatever queued while the room's previous batch was
//! being committed goes into its next batch, handed to the node-wide
//! [`Committer`]; each message is published only after its transaction
//! committed, so nothing a client saw can be missing from history.

use std::sync::Arc;
use tokio::time::Instant;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc::{self, error::TrySendError};

use super::committer::{CommitError, Committer};
use super::event::publish;
use super::handle::{ChatLine, Command};
use super::outbox::Outbox;
use super::state::resent_frames;
use super::Member;
use crate::channel_layer::ChannelLayer;
use crate::chat::{ChatMessage, MessageType, RoomEvent};
use crate::config::MAX_CHAT_BATCH as MAX_BATCH;
use crate::store::messages::{NewMessage, Stored};
use crate::tenant::SchemaName;
use crate::wire::{error_json, with_client_id, ErrorCode};

/// Messages a room may have waiting for the database.
pub const QUEUE: usize = 4096;

/// A message waiting to be stored, with the sender's queue for error replies.
#[derive(Debug)]
pub struct Pending {
    pub message: NewMessage,
    pub reply: Arc<Outbox>,
    /// When the room accepted it, for the acknowledgement-latency metric.
    pub accepted: Instant,
}

impl Pending {
    /// A chat line from `member`, accepted by the room at `accepted`.
    pub fn new(member: &Member, line: ChatLine, reply: Arc<Outbox>, accepted: Instant) -> Self {
        Pending {
            message: NewMessage {
                user_id: Some(member.user_id),
                username: member.username.clone(),
                content: line.text,
                message_type: MessageType::Message,
                client_id: line.client_id,
                badge: member.badge,
                mentions: line.mentions,
                reply_to: line.reply_to,
                held: line.held,
            },
            reply,
            accepted,
        }
    }
}

/// Where a writer stores and publishes.
pub struct WriterTarget {
    pub committer: Committer,
    pub schema: SchemaName,
    pub room_id: i32,
    pub layer: Arc<dyn ChannelLayer>,
    pub group: String,
    /// The room's actor, for answering resends (weak: the writer must not
    /// keep a stopped room alive).
    pub(super) room: mpsc::WeakSender<Command>,
    /// Mentions and replies notify once their line is stored.
    pub notifier: crate::notifications::Notifier,
    pub stream_id: i32,
}

/// A room's side of its chat writer.
pub(crate) struct ChatQueue {
    tx: mpsc::Sender<Pending>,
}

impl ChatQueue {
    /// Starts the room's writer on `writers` (drained at shutdown).
    pub fn start(target: WriterTarget, writers: &tokio_util::task::TaskTracker) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        writers.spawn(run(target, rx));
        ChatQueue { tx }
    }

    /// Queues a message for storage, or tells its sender why not.
    pub fn submit(&self, pending: Pending) {
        let Err(err) = self.tx.try_send(pending) else {
            return;
        };
        let (code, text, pending) = match err {
            TrySendError::Full(p) => (
                ErrorCode::Overloaded,
                "chat is busy; try again in a moment",
                p,
            ),
            TrySendError::Closed(p) => (ErrorCode::Internal, "chat storage is unavailable", p),
        };
        let frame = error_json(code, text, None);
        let frame = with_client_id(&frame, pending.message.client_id.as_deref());
        pending.reply.send(Utf8Bytes::from(frame));
    }
}

/// Runs until every sender is dropped and the queue is empty.
async fn run(target: WriterTarget, mut rx: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows = batch.iter().map(|p| p.message.clone()).collect();
        // One batch in flight per room keeps the room's order.
        let result = target
            .committer
            .commit(target.schema.clone(), target.room_id, rows)
            .await;
        match result {
            Ok(stored) => {
                for (line, p) in stored.into_iter().zip(&batch) {
                    match line {
                        Stored::New(message) if p.message.held.is_some() => {
                            // Held: no one else sees it, so it notifies no one yet.
                            let held = RoomEvent::Held {
                                message,
                                reasons: p.message.held.clone().unwrap_or_default(),
                                author_id: p.message.user_id.unwrap_or_default(),
                            };
                            publish(&*target.layer, &target.group, &held)
                        }
                        Stored::New(message) => {
                            super::thread_notices::notify(
                                &target.notifier,
                                &target.schema,
                                target.stream_id,
                                &p.message,
                                &message,
                            );
                            publish(&*target.layer, &target.group, &RoomEvent::Chat(message))
                        }
                        Stored::Resent { original, deleted } => {
                            echo(&target.room, original, deleted, &p.reply)
                        }
                    }
                }
                let ack = metrics::histogram!("stampede_chat_ack_seconds");
                for p in &batch {
                    ack.record(p.accepted.elapsed().as_secs_f64());
                }
            }
            Err(err) => {
                tracing::error!(room_id = target.room_id, error = %err, rows = batch.len(), "chat batch not stored");
                let code = match err {
                    CommitError::Unavailable(_) => ErrorCode::Unavailable,
                    _ => ErrorCode::Internal,
                };
                let frame = error_json(
                    code,
                    "your message could not be stored; please send it again",
                    None,
                );
                for p in &batch {
                    let frame = with_client_id(&frame, p.message.client_id.as_deref());
                    p.reply.send(Utf8Bytes::from(frame));
                }
            }
        }
        batch.clear();
    }
}

/// Sends a resend's sender the line it resent, through the room so that it
/// gets the frame as broadcast (with its offset) when the room has it.
fn echo(room: &mpsc::WeakSender<Command>, original: ChatMessage, deleted: bool, to: &Arc<Outbox>) {
    let command = Command::Echo {
        original: original.clone(),
        deleted,
        to: to.clone(),
    };
    if room
        .upgrade()
        .is_none_or(|tx| tx.try_send(command).is_err())
    {
        // The room is busy or gone: the line without its offset still
        // tells the sender it was sent.
        for frame in resent_frames(&original, deleted) {
            to.send(frame);
        }
    }
}
