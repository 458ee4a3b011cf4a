//! The node's services every room actor uses, built once by the registry.

use std::sync::Arc;

use sqlx::PgPool;

use super::committer::Committer;
use super::reaction_writer::ReactionCommitter;
use super::reactions::Reactions;
use super::writer::{ChatQueue, WriterTarget};
use crate::channel_layer::ChannelLayer;
use crate::config::ServeConfig;
use crate::notifications::Notifier;
use crate::shutdown::Shutdown;
use crate::tenant::SchemaName;

/// The node's services every room actor uses.
pub(crate) struct RoomServices {
    pub pool: PgPool,
    /// The node's chat committer, shared by every room's writer.
    pub committer: Committer,
    /// The node's reaction inserts, shared by every room's reaction writer.
    pub reaction_committer: ReactionCommitter,
    pub layer: Arc<dyn ChannelLayer>,
    pub config: Arc<ServeConfig>,
    pub shutdown: Shutdown,
    /// For the mentions and replies of stored lines.
    pub notifier: Notifier,
}

impl RoomServices {
    /// Starts a room's chat writer and reaction writer (drained at shutdown).
    pub fn writers(
        &self,
        schema: &SchemaName,
        stream_id: i32,
        room_id: i32,
        group: &str,
        room: tokio::sync::mpsc::WeakSender<super::handle::Command>,
    ) -> (ChatQueue, Reactions) {
        let target = WriterTarget {
            committer: self.committer.clone(),
            schema: schema.clone(),
            room_id,
            layer: self.layer.clone(),
            group: group.to_owned(),
            room,
            notifier: self.notifier.clone(),
            stream_id,
        };
        let writers = self.shutdown.writers();
        let chat = ChatQueue::start(target, writers);
        let committer = self.reaction_committer.clone();
        let reactions = Reactions::start(committer, schema.clone(), &self.config, writers);
        (chat, reactions)
    }
}
