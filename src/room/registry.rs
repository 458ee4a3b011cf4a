//! Finds or starts the actor of a room.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::actor::{RoomActor, RoomSpec};
use super::committer::Committer;
use super::fanout::Cursor;
use super::handle::Command;
use super::reaction_writer::ReactionCommitter;
use super::{Attach, Membership, RoomHandle, RoomKey};
use crate::channel_layer::ChannelLayer;
use crate::config::ServeConfig;
use crate::shutdown::Shutdown;
use crate::tenant::Tenant;

/// Commands a room can have queued before senders wait.
const COMMAND_QUEUE: usize = 1024;
/// Attempts to join when the actor found was just stopping.
const JOIN_ATTEMPTS: usize = 3;

/// What every room actor shares.
pub(crate) struct RoomDeps {
    pub pool: PgPool,
    /// The node's chat committer, shared by every room's writer.
    pub committer: Committer,
    /// The node's reaction inserts, shared by every room's reaction writer.
    pub reaction_committer: ReactionCommitter,
    pub layer: Arc<dyn ChannelLayer>,
    pub config: Arc<ServeConfig>,
    pub shutdown: Shutdown,
    rooms: Mutex<HashMap<RoomKey, RoomHandle>>,
    next_actor: AtomicU64,
}

impl RoomDeps {
    fn rooms(&self) -> MutexGuard<'_, HashMap<RoomKey, RoomHandle>> {
        // Held only for map operations, never across an await.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes the entry for `key` if it still belongs to actor `actor_id`.
    pub(crate) fn remove_if_current(&self, key: RoomKey, actor_id: u64) -> bool {
        let mut rooms = self.rooms();
        if rooms.get(&key).is_some_and(|h| h.actor_id == actor_id) {
            rooms.remove(&key);
            true
        } else {
            false
        }
    }
}

/// The rooms of this process. Cheap to clone.
#[derive(Clone)]
pub struct RoomRegistry {
    deps: Arc<RoomDeps>,
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
    ) -> Self {
        Self {
            deps: Arc::new(RoomDeps {
                committer: Committer::start(pool.clone()),
                reaction_committer: ReactionCommitter::start(pool.clone()),
                pool,
                layer,
                config,
                shutdown,
                rooms: Mutex::new(HashMap::new()),
                next_actor: AtomicU64::new(1),
            }),
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
            let (respond_to, answer) = oneshot::channel();
            let sent = handle
                .tx
                .send(Command::Join {
                    attach: attach.clone(),
                    respond_to,
                })
                .await;
            if sent.is_ok() {
                if let Ok((conn, cursor)) = answer.await {
                    return Ok((Membership { handle, conn }, cursor));
                }
            }
            // The actor stopped between lookup and join; start a fresh one.
            self.deps.remove_if_current(key, handle.actor_id);
        }
        Err(RoomUnavailable)
    }

    /// Number of rooms with a running actor.
    pub fn len(&self) -> usize {
        self.deps.rooms().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Handles of every running room (for node-wide tasks such as presence).
    pub fn handles(&self) -> Vec<RoomHandle> {
        self.deps.rooms().values().cloned().collect()
    }

    /// The running room of `key`, if any.
    pub fn get(&self, key: RoomKey) -> Option<RoomHandle> {
        self.deps.rooms().get(&key).cloned()
    }

    /// Forgets every room so that actors stop once their sockets are gone.
    pub fn close_all(&self) {
        self.deps.rooms().clear();
    }

    fn get_or_spawn(&self, key: RoomKey, tenant: &Tenant, room_id: i32) -> RoomHandle {
        let mut rooms = self.deps.rooms();
        if let Some(handle) = rooms.get(&key) {
            return handle.clone();
        }
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let actor_id = self.deps.next_actor.fetch_add(1, Ordering::Relaxed);
        let handle = RoomHandle {
            key,
            actor_id,
            tx,
            schema: tenant.schema.clone(),
            stats: Arc::default(),
        };
        rooms.insert(key, handle.clone());
        drop(rooms);
        let spec = RoomSpec {
            key,
            actor_id,
            schema: tenant.schema.clone(),
            room_id,
        };
        RoomActor::spawn(spec, self.deps.clone(), rx, handle.stats.clone());
        handle
    }
}
