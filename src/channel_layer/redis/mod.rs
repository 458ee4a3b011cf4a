//! The multi-node channel layer: Redis pub/sub around the in-process one.
//!
//! Shaped like socketioxide's Redis adapter: publishing delivers to this
//! node's subscribers at once (through the wrapped [`MemoryLayer`]) and
//! sends the event to Redis wrapped in an envelope with this node's id;
//! events coming back from Redis are delivered locally unless they are our
//! own echo. Each node subscribes once per group that has local subscribers,
//! not once per socket.
//!
//! Redis channels: the group names (`stampede:{acme:42}:room`,
//! `stampede:{acme}:tenant`). Envelope: 16 bytes of node id, then `U` and the
//! payload, or for a logged event `S<offset>|<epoch>|` and the payload.
//!
//! On a Redis Cluster (`--redis-cluster-urls`) the channels are sharded
//! (`SSUBSCRIBE`/`SPUBLISH`): a room's channel, offset, epoch and log share
//! its hash tag `{tenant:room}`, so they live on one shard and rooms spread
//! over all of them. When a failover or resharding moves a room's slot, the
//! shard unsubscribes us; the driver subscribes again and flips the
//! group's confirmation off and on, so the room has its sockets resume from
//! the log rather than miss what was published in between.
//!
//! Logged events go through one Lua script that, atomically, takes the next
//! offset (`<group>:offset`), keeps the event in a capped stream
//! (`<group>:log`, about [`LOG_CAPACITY`] entries, stream ids = offsets) and
//! publishes it, so every node sees offsets in order. The epoch
//! (`<group>:epoch`) is created with the log; if Redis loses it (a flush, a
//! restart without persistence) the next event starts a new epoch.
//!
//! One driver task owns the Redis connections (connection managers, RESP3).
//! When Redis is unreachable the node keeps delivering locally, logs the
//! outage once, reports itself degraded, retries every second, and when Redis
//! is back re-subscribes every group it needs.
//!
//! - this file: [`RedisLayer`], the [`ChannelLayer`] other modules hold;
//! - `driver`: the task owning the connections (pipelined publishes, subscriptions);
//! - `inbound`: messages from Redis delivered locally, envelopes opened;
//! - `log`: the Lua script of logged publishes, and replays.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use futures_util::future::BoxFuture;

mod driver;
mod inbound;
mod log;
mod subscriptions;

use driver::drive;
use inbound::dispatch;
use log::replay;

use crate::redis_conn::{RedisConn, RedisTarget, Timeouts};

use super::{
    new_epoch, ChannelLayer, Delivery, LayerStatus, MemoryLayer, Replay, Seq, Subscription,
    LOG_CAPACITY,
};

/// Events waiting for Redis before new ones are dropped (from Redis only:
/// local delivery never waits).
const PUBLISH_QUEUE: usize = 65_536;
/// Most PUBLISH commands sent in one pipeline.
const PIPELINE: usize = 256;
/// Retries of a replay that failed on a cluster (100 ms, then 200, 300).
const REPLAY_RETRIES: usize = 3;
/// How often the driver checks the connection (and retries when down).
const CHECK_EVERY: Duration = Duration::from_secs(1);

type NodeId = [u8; 16];

/// Driver between the layer handle and its tasks.
struct Driver {
    local: MemoryLayer,
    target: RedisTarget,
    /// A connection for replay queries, made on first use.
    query: tokio::sync::OnceCell<RedisConn>,
    node_id: NodeId,
    up: AtomicBool,
}

impl Driver {
    fn mark_down(&self, err: &dyn std::fmt::Display) {
        if self.up.swap(false, Ordering::SeqCst) {
            tracing::error!(error = %err, "redis unreachable: serving local viewers only until it is back");
        }
    }

    /// Counts events that never reached Redis (queue full or Redis down).
    fn count_dropped(&self, n: u64) {
        metrics::counter!("stampede_channel_layer_dropped_total").increment(n);
    }

    fn mark_up(&self) {
        if !self.up.swap(true, Ordering::SeqCst) {
            tracing::info!("redis connected: events cross nodes");
        }
    }
}

/// An event on its way to Redis.
struct Outgoing {
    group: String,
    payload: Bytes,
    logged: bool,
}

enum Control {
    /// Subscribe, and set the flag once Redis confirmed it.
    Subscribe(String, watch::Sender<bool>),
    Unsubscribe(String),
    /// The server dropped the subscription (its slot moved to another
    /// shard): subscribe again.
    Lost(String),
    /// A shard confirmed a subscription (cluster).
    Confirmed(String),
}

/// Local subscriber count of a group, and its "confirmed by Redis" flag.
type GroupEntry = (usize, watch::Receiver<bool>);

/// The Redis channel layer. Cheap to clone.
#[derive(Clone)]
pub struct RedisLayer {
    shared: Arc<Driver>,
    publish_tx: mpsc::Sender<Outgoing>,
    control_tx: mpsc::UnboundedSender<Control>,
    /// Local subscriptions per group (to subscribe in Redis on the first),
    /// and whether Redis confirmed the group's subscription.
    counts: Arc<Mutex<HashMap<String, GroupEntry>>>,
}

impl RedisLayer {
    /// Starts the layer. Nothing fails here: an unreachable Redis is an
    /// outage like any other, and the driver keeps trying.
    pub fn start(target: RedisTarget) -> Self {
        let shared = Arc::new(Driver {
            local: MemoryLayer::new(),
            target,
            query: tokio::sync::OnceCell::new(),
            node_id: *uuid::Uuid::new_v4().as_bytes(),
            up: AtomicBool::new(false),
        });
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        tokio::spawn(dispatch(shared.clone(), push_rx, control_tx.clone()));
        tokio::spawn(drive(shared.clone(), push_tx, publish_rx, control_rx));
        Self {
            shared,
            publish_tx,
            control_tx,
            counts: Arc::default(),
        }
    }

    /// True while Redis answers.
    pub fn is_connected(&self) -> bool {
        self.shared.up.load(Ordering::SeqCst)
    }
}

impl ChannelLayer for RedisLayer {
    fn publish(&self, group: &str, payload: Bytes) {
        self.shared.local.deliver(
            group,
            Delivery {
                seq: None,
                payload: payload.clone(),
            },
        );
        let outgoing = Outgoing {
            group: group.to_owned(),
            payload,
            logged: false,
        };
        if self.publish_tx.try_send(outgoing).is_err() {
            self.shared.count_dropped(1);
        }
    }

    fn publish_logged(&self, group: &str, payload: Bytes) {
        // Delivered locally once Redis has given it an offset (see `drive`).
        let outgoing = Outgoing {
            group: group.to_owned(),
            payload,
            logged: true,
        };
        if let Err(err) = self.publish_tx.try_send(outgoing) {
            let outgoing = err.into_inner();
            self.shared.count_dropped(1);
            self.shared.local.deliver(
                &outgoing.group,
                Delivery {
                    seq: None,
                    payload: outgoing.payload,
                },
            );
        }
    }

    fn replay<'a>(&'a self, group: &'a str, epoch: &'a str, since: u64) -> BoxFuture<'a, Replay> {
        Box::pin(async move {
            // A cluster moving a slot (failover) answers a query or two with
            // an error while clients learn the new map: worth a retry, as
            // the alternative is a client told its gap cannot be filled.
            let mut attempt = 0;
            loop {
                match replay(&self.shared, group, epoch, since).await {
                    Ok(replay) => return replay,
                    Err(err) if attempt < REPLAY_RETRIES && self.shared.target.is_cluster() => {
                        tracing::debug!(error = %err, attempt, "replay failed; retrying");
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "replay unavailable");
                        return Replay::Gap;
                    }
                }
            }
        })
    }

    fn epoch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Option<String>> {
        Box::pin(async move {
            match log::epoch(&self.shared, group).await {
                Ok(epoch) => epoch,
                Err(err) => {
                    tracing::warn!(error = %err, "log epoch unavailable");
                    None
                }
            }
        })
    }

    fn subscribe(&self, group: &str) -> Subscription {
        let subscription = self.shared.local.subscribe(group);
        let ready = {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            match counts.get_mut(group) {
                Some((n, ready)) => {
                    *n += 1;
                    ready.clone()
                }
                None => {
                    let (tx, rx) = watch::channel(false);
                    counts.insert(group.to_owned(), (1, rx.clone()));
                    let _ = self
                        .control_tx
                        .send(Control::Subscribe(group.to_owned(), tx));
                    rx
                }
            }
        };
        subscription
            .guard(Box::new(RedisGuard {
                layer: self.clone(),
                group: group.to_owned(),
            }))
            .with_ready(ready)
    }

    fn status(&self) -> LayerStatus {
        if self.is_connected() {
            LayerStatus::Connected
        } else {
            LayerStatus::Degraded
        }
    }
}

/// Unsubscribes the node from Redis when its last local subscriber leaves.
struct RedisGuard {
    layer: RedisLayer,
    group: String,
}

impl Drop for RedisGuard {
    fn drop(&mut self) {
        let last = {
            let mut counts = self.layer.counts.lock().unwrap_or_else(|p| p.into_inner());
            match counts.get_mut(&self.group) {
                Some((n, _)) if *n > 1 => {
                    *n -= 1;
                    false
                }
                _ => {
                    counts.remove(&self.group);
                    true
                }
            }
        };
        if last {
            let _ = self
                .layer
                .control_tx
                .send(Control::Unsubscribe(self.group.clone()));
        }
    }
}

/// The connection for replay and epoch queries, made on first use.
async fn query_conn(shared: &Driver) -> redis::RedisResult<RedisConn> {
    shared
        .query
        .get_or_try_init(|| shared.target.connect(Timeouts::DEFAULT))
        .await
        .cloned()
}
