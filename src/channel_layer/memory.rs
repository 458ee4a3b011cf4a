//! The single-node channel layer: a broadcast channel per group, and an
//! in-memory log per group for replay.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

use super::{
    new_epoch, ChannelLayer, Delivery, Replay, Seq, Subscription, GROUP_CAPACITY, LOG_CAPACITY,
};

/// The last logged events of one group.
struct Log {
    epoch: Arc<str>,
    /// Offset of the newest event (0: none yet).
    last: u64,
    entries: VecDeque<Delivery>,
}

#[derive(Default)]
struct Inner {
    groups: HashMap<String, broadcast::Sender<Delivery>>,
    // Logs outlive subscriptions, so a room that empties and refills keeps
    // its epoch and its clients can resume.
    logs: HashMap<String, Log>,
    /// Groups whose last subscriber left, oldest first. Only the newest
    /// [`IDLE_LOGS`] keep their logs; without this bound every room a
    /// long-running node ever served would keep up to [`LOG_CAPACITY`] events.
    idle: VecDeque<String>,
}

/// Logs kept for groups nobody subscribes to. A client resuming in a room
/// whose log was dropped is told of the gap and reloads history.
pub const IDLE_LOGS: usize = 256;

impl Inner {
    fn went_idle(&mut self, group: &str) {
        self.groups.remove(group);
        self.idle.push_back(group.to_owned());
        while self.idle.len() > IDLE_LOGS {
            let Some(oldest) = self.idle.pop_front() else {
                break;
            };
            // A group subscribed again since is in use; it is queued anew
            // when it next goes idle.
            if !self.groups.contains_key(&oldest) && !self.idle.contains(&oldest) {
                self.logs.remove(&oldest);
            }
        }
    }
}

/// In-process groups. Cheap to clone.
#[derive(Clone, Default)]
pub struct MemoryLayer {
    // A std Mutex: held only for map operations, never across an await.
    inner: Arc<Mutex<Inner>>,
}

impl MemoryLayer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of groups with at least one subscriber.
    pub fn group_count(&self) -> usize {
        self.lock().groups.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the maps inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Delivers an event that already has its place (or none) to local subscribers.
    pub(crate) fn deliver(&self, group: &str, delivery: Delivery) {
        if let Some(tx) = self.lock().groups.get(group) {
            // An error only means nobody listens right now.
            let _ = tx.send(delivery);
        }
    }
}

impl ChannelLayer for MemoryLayer {
    fn publish(&self, group: &str, payload: Bytes) {
        self.deliver(group, Delivery { seq: None, payload });
    }

    fn publish_logged(&self, group: &str, payload: Bytes) {
        let mut inner = self.lock();
        let log = inner.logs.entry(group.to_owned()).or_insert_with(|| Log {
            epoch: new_epoch(),
            last: 0,
            entries: VecDeque::new(),
        });
        log.last += 1;
        let delivery = Delivery {
            seq: Some(Seq {
                offset: log.last,
                epoch: log.epoch.clone(),
            }),
            payload,
        };
        log.entries.push_back(delivery.clone());
        if log.entries.len() > LOG_CAPACITY {
            log.entries.pop_front();
        }
        // Offsets are assigned and sent under one lock, so they arrive in order.
        if let Some(tx) = inner.groups.get(group) {
            let _ = tx.send(delivery);
        }
    }

    fn replay<'a>(&'a self, group: &'a str, epoch: &'a str, since: u64) -> BoxFuture<'a, Replay> {
        let inner = self.lock();
        let replay = match inner.logs.get(group) {
            Some(log) if &*log.epoch == epoch && since <= log.last => {
                let first = log.last + 1 - log.entries.len() as u64;
                if since + 1 < first {
                    Replay::Gap
                } else {
                    Replay::Events(
                        log.entries
                            .iter()
                            .filter(|d| d.seq.as_ref().is_some_and(|s| s.offset > since))
                            .cloned()
                            .collect(),
                    )
                }
            }
            _ => Replay::Gap,
        };
        Box::pin(std::future::ready(replay))
    }

    fn epoch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Option<String>> {
        let epoch = self.lock().logs.get(group).map(|log| log.epoch.to_string());
        Box::pin(std::future::ready(epoch))
    }

    fn subscribe(&self, group: &str) -> Subscription {
        let rx = self
            .lock()
            .groups
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
        let mut inner = self.layer.lock();
        if inner
            .groups
            .get(&self.group)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            inner.went_idle(&self.group);
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
        assert_eq!(a1.recv().await.unwrap().payload, "x");
        assert_eq!(a2.recv().await.unwrap().payload, "x");
        assert_eq!(b.recv().await.unwrap().payload, "y");
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

    #[tokio::test]
    async fn logged_events_replay_exactly_what_was_missed() {
        let layer = MemoryLayer::new();
        let mut sub = layer.subscribe("a");
        for i in 1..=5u8 {
            layer.publish_logged("a", Bytes::from(vec![i]));
        }
        let first = sub.recv().await.unwrap().seq.unwrap();
        assert_eq!(first.offset, 1);
        let Replay::Events(events) = layer.replay("a", &first.epoch, 2).await else {
            panic!("covered");
        };
        let offsets: Vec<u64> = events
            .iter()
            .map(|d| d.seq.as_ref().unwrap().offset)
            .collect();
        assert_eq!(offsets, [3, 4, 5]);
        assert!(
            matches!(layer.replay("a", &first.epoch, 5).await, Replay::Events(e) if e.is_empty())
        );
        assert!(matches!(
            layer.replay("a", "other-epoch", 2).await,
            Replay::Gap
        ));
        assert!(matches!(
            layer.replay("a", &first.epoch, 9).await,
            Replay::Gap
        ));
        for _ in 0..LOG_CAPACITY {
            layer.publish_logged("a", Bytes::from_static(b"z"));
        }
        assert!(
            matches!(layer.replay("a", &first.epoch, 2).await, Replay::Gap),
            "trimmed"
        );
    }

    #[tokio::test]
    async fn only_the_newest_idle_groups_keep_their_logs() {
        let layer = MemoryLayer::new();
        let mut epochs = Vec::new();
        // A group in use all along, and IDLE_LOGS + 1 groups that empty.
        let mut busy = layer.subscribe("busy");
        layer.publish_logged("busy", Bytes::from_static(b"b"));
        let busy_epoch = busy.recv().await.unwrap().seq.unwrap().epoch;
        for i in 0..=IDLE_LOGS {
            let group = format!("g{i}");
            let mut sub = layer.subscribe(&group);
            layer.publish_logged(&group, Bytes::from_static(b"x"));
            epochs.push(sub.recv().await.unwrap().seq.unwrap().epoch);
        }
        let resumable = |group: String, epoch: Arc<str>| {
            let layer = layer.clone();
            async move {
                matches!(layer.replay(&group, &epoch, 0).await, Replay::Events(e) if e.len() == 1)
            }
        };
        assert!(
            !resumable("g0".into(), epochs[0].clone()).await,
            "oldest idle log dropped"
        );
        assert!(resumable("g1".into(), epochs[1].clone()).await);
        assert!(resumable(format!("g{IDLE_LOGS}"), epochs[IDLE_LOGS].clone()).await);
        assert!(
            resumable("busy".into(), busy_epoch).await,
            "a group in use keeps its log"
        );
    }
}
