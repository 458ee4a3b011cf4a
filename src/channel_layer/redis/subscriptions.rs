//! The groups this node needs from Redis, and whether each subscription
//! holds: what tells a room its events from other nodes reach it.
//!
//! On one Redis a subscription holds once `SUBSCRIBE` answered. On a
//! cluster only the shard's own confirmation (an `ssubscribe` push naming
//! the channel) counts: a subscription sent while the client's slot map is
//! stale can answer without ever holding, so one not confirmed within
//! [`CONFIRM_WAIT`] is made again. A group whose shard dropped it (a slot
//! moved), or that we move ourselves after the topology changed, goes
//! unconfirmed until its new subscription is confirmed; its rooms then
//! resync (see `room::actor`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::redis_conn::RedisConn;

/// How long a cluster subscription may go unconfirmed before it is made again.
pub(super) const CONFIRM_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(super) struct Subscriptions {
    /// Groups wanted, with the flag their subscribers watch.
    wanted: HashMap<String, watch::Sender<bool>>,
    /// Cluster: subscribed, waiting for the shard's confirmation since then.
    awaiting: HashMap<String, Instant>,
    /// Cluster: groups we unsubscribed ourselves to move them; the
    /// unsubscribe confirmation that follows is ours, not a lost slot.
    moving: HashSet<String>,
}

impl Subscriptions {
    pub(super) fn want(&mut self, group: String, ready: watch::Sender<bool>) {
        self.wanted.insert(group, ready);
    }

    pub(super) fn unwant(&mut self, group: &str) {
        self.wanted.remove(group);
        self.awaiting.remove(group);
    }

    /// Subscribes `group` (wanted). On one Redis it holds once answered; on
    /// a cluster once the shard confirms it ([`Subscriptions::confirmed`]).
    pub(super) async fn subscribe(
        &mut self,
        conn: &mut RedisConn,
        group: &str,
    ) -> redis::RedisResult<()> {
        conn.subscribe(group).await?;
        if conn.is_cluster() {
            self.awaiting.insert(group.to_owned(), Instant::now());
        } else if let Some(ready) = self.wanted.get(group) {
            let _ = ready.send(true);
        }
        Ok(())
    }

    /// A shard confirmed a subscription (cluster).
    pub(super) fn confirmed(&mut self, group: &str) {
        if self.awaiting.remove(group).is_some() {
            if let Some(ready) = self.wanted.get(group) {
                let _ = ready.send(true);
            }
        }
    }

    /// A shard dropped `group`; true when it must be subscribed again (it
    /// is wanted, and the drop is not the confirmation of our own move).
    pub(super) fn lost(&mut self, group: &str) -> bool {
        if self.moving.remove(group) {
            return false;
        }
        match self.wanted.get(group) {
            Some(ready) => {
                let _ = ready.send(false);
                true
            }
            None => false,
        }
    }

    /// Cluster subscriptions unconfirmed for longer than [`CONFIRM_WAIT`].
    pub(super) fn overdue(&self) -> Vec<String> {
        self.awaiting
            .iter()
            .filter(|(_, since)| since.elapsed() > CONFIRM_WAIT)
            .map(|(group, _)| group.clone())
            .collect()
    }

    /// Subscribes every wanted group (after Redis came back).
    pub(super) async fn subscribe_all(&mut self, conn: &mut RedisConn) -> redis::RedisResult<()> {
        let groups: Vec<String> = self.wanted.keys().cloned().collect();
        for group in groups {
            self.subscribe(conn, &group).await?;
        }
        Ok(())
    }

    /// The cluster's slots moved: every group is unsubscribed and
    /// subscribed again where its slot now lives, and goes unconfirmed until
    /// the shard says so, so its rooms resync.
    pub(super) async fn rehome(&mut self, conn: &mut RedisConn) -> redis::RedisResult<()> {
        tracing::warn!(
            groups = self.wanted.len(),
            "redis cluster topology changed; subscribing again"
        );
        self.moving.clear();
        let groups: Vec<String> = self.wanted.keys().cloned().collect();
        for group in groups {
            if let Some(ready) = self.wanted.get(&group) {
                let _ = ready.send(false);
            }
            self.moving.insert(group.clone());
            let _ = conn.unsubscribe(&group).await;
            self.subscribe(conn, &group).await?;
        }
        Ok(())
    }
}
