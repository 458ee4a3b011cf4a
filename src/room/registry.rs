//! Finds or starts the actor of a room.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::actor::{RoomActor, RoomSpec};
use super::committer::Committer;
use super::directory::Directory;
use super::fanout::Cursor;
use super::reaction_writer::ReactionCommitter;
use super::services::RoomServices;
use super::{Attach, Membership, RoomHandle, RoomKey};
use crate::channel_layer::ChannelLayer;
use crate::config::ServeConfig;
use crate::shutdown::Shutdown;
use crate::tenant::Tenant;

/// Commands a room can have queued before senders wait.
const COMMAND_QUEUE: usize = 1024;
/// Attempts to join when the actor found was just stopping.
const JOIN_ATTEMPTS: usize = 3;

/// The rooms of this process. Cheap to clone.
#[derive(Clone)]
pub struct RoomRegistry {
    services: Arc<RoomServices>,
    directory: Arc<Directory>,
}

/// The room could not be joined.
#[derive(Debug, thiserror::Error)]
#[error("room unavailable")]
pub struct RoomUnavailable;

impl RoomRegistry {
    pub fn new(
        pool: PgPool,
        layer: Arc<dyn ChannelLayer>,
        config: Arc<ServeConfig>,
        shutdown: Shutdown,
        notifier: crate::notifications::Notifier,
    ) -> Self {
        Self {
            services: Arc::new(RoomServices {
                committer: Committer::start(pool.clone()),
                reaction_committer: ReactionCommitter::start(pool.clone()),
                pool,
                layer,
                config,
                shutdown,
                notifier,
            }),
            directory: Arc::default(),
        }
    }

    /// Joins the room of `stream_id` (chat room `room_id`), starting its actor
    /// if needed. The room's history is queued in `attach.outbox` first.
    pub async fn join(
        &self,
        tenant: &Tenant,
        stream_id: i32,
        room_id: i32,
        attach: Attach,
    ) -> Result<(Membership, Cursor), RoomUnavailable> {
        let key = RoomKey {
            tenant_id: tenant.id,
            stream_id,
        };
        for _ in 0..JOIN_ATTEMPTS {
            let handle = self.get_or_spawn(key, tenant, room_id);
            if let Ok((conn, cursor)) = handle.join(attach.clone()).await {
                return Ok((Membership { handle, conn }, cursor));
            }
            // The actor stopped between lookup and join; start a fresh one.
            self.directory.remove_if_current(key, handle.actor_id);
        }
        Err(RoomUnavailable)
    }

    /// Number of rooms with a running actor.
    pub fn len(&self) -> usize {
        self.directory.rooms().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Handles of every running room (for node-wide tasks such as presence).
    pub fn handles(&self) -> Vec<RoomHandle> {
        self.directory.rooms().values().cloned().collect()
    }

    /// The running room of `key`, if any.
    pub fn get(&self, key: RoomKey) -> Option<RoomHandle> {
        self.directory.rooms().get(&key).cloned()
    }

    /// Forgets every room so that actors stop once their sockets are gone.
    pub fn close_all(&self) {
        self.directory.rooms().clear();
    }

    fn get_or_spawn(&self, key: RoomKey, tenant: &Tenant, room_id: i32) -> RoomHandle {
        let mut rooms = self.directory.rooms();
        if let Some(handle) = rooms.get(&key) {
            return handle.clone();
        }
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let weak = tx.downgrade();
        let actor_id = self.directory.next_actor_id();
        let handle = RoomHandle::new(key, actor_id, tx, tenant.schema.clone());
        rooms.insert(key, handle.clone());
        drop(rooms);
        let spec = RoomSpec {
            key,
            actor_id,
            schema: tenant.schema.clone(),
            room_id,
        };
        RoomActor::spawn(
            spec,
            self.services.clone(),
            self.directory.clone(),
            (weak, rx),
            handle.stats.clone(),
        );
        handle
    }
}
