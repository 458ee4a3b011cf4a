//! The single-node channel layer: a broadcast channel per group.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::broadcast;

use super::{ChannelLayer, Subscription, GROUP_CAPACITY};

/// In-process groups. Cheap to clone.
#[derive(Clone, Default)]
pub struct MemoryLayer {
    // A std Mutex: held only for a map lookup, never across an await.
    groups: Arc<Mutex<HashMap<String, broadcast::Sender<Bytes>>>>,
}

impl MemoryLayer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of groups with at least one subscriber.
    pub fn group_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Bytes>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.groups
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ChannelLayer for MemoryLayer {
    fn publish(&self, group: &str, payload: Bytes) {
        if let Some(tx) = self.lock().get(group) {
            // An error only means nobody listens right now.
            let _ = tx.send(payload);
        }
    }

    fn subscribe(&self, group: &str) -> Subscription {
        let rx = self
            .lock()
            .entry(group.to_owned())
            .or_insert_with(|| broadcast::channel(GROUP_CAPACITY).0)
            .subscribe();
        let guard = GroupGuard {
            layer: self.clone(),
            group: group.to_owned(),
        };
        Subscription::new(rx, Some(Box::new(guard)))
    }
}

/// Removes a group once its last subscriber is gone.
struct GroupGuard {
    layer: MemoryLayer,
    group: String,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let mut groups = self.layer.lock();
        if groups
            .get(&self.group)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            groups.remove(&self.group);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_to_every_subscriber_of_the_group_only() {
        let layer = MemoryLayer::new();
        let mut a1 = layer.subscribe("a");
        let mut a2 = layer.subscribe("a");
        let mut b = layer.subscribe("b");
        layer.publish("a", Bytes::from_static(b"x"));
        layer.publish("b", Bytes::from_static(b"y"));
        assert_eq!(a1.recv().await.unwrap(), "x");
        assert_eq!(a2.recv().await.unwrap(), "x");
        assert_eq!(b.recv().await.unwrap(), "y");
    }

    #[tokio::test]
    async fn last_unsubscribe_removes_the_group() {
        let layer = MemoryLayer::new();
        let s1 = layer.subscribe("a");
        let s2 = layer.subscribe("a");
        assert_eq!(layer.group_count(), 1);
        drop(s1);
        assert_eq!(layer.group_count(), 1);
        drop(s2);
        assert_eq!(layer.group_count(), 0);
    }
}
