//! The node's services every room actor uses, built once by the registry.

use std::sync::Arc;

use sqlx::PgPool;

use super::committer::Committer;
use super::reaction_writer::ReactionCommitter;
use crate::channel_layer::ChannelLayer;
use crate::config::ServeConfig;
use crate::shutdown::Shutdown;

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
}
