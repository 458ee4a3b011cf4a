//! The running rooms of this process, by key. The registry adds to it; an
//! idle actor removes itself, but only its own entry (a newer actor for the
//! same room may have replaced it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::{RoomHandle, RoomKey};

#[derive(Default)]
pub(crate) struct Directory {
    rooms: Mutex<HashMap<RoomKey, RoomHandle>>,
    next_actor: AtomicU64,
}

impl Directory {
    /// The map; held only for map operations, never across an await.
    pub fn rooms(&self) -> MutexGuard<'_, HashMap<RoomKey, RoomHandle>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh id for a new actor.
    pub fn next_actor_id(&self) -> u64 {
        self.next_actor.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Removes the entry for `key` if it still belongs to actor `actor_id`.
    pub fn remove_if_current(&self, key: RoomKey, actor_id: u64) -> bool {
        let mut rooms = self.rooms();
        if rooms.get(&key).is_some_and(|h| h.actor_id == actor_id) {
            rooms.remove(&key);
            true
        } else {
            false
        }
    }
}
