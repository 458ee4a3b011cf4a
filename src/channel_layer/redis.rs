//! The multi-node channel layer: Redis pub/sub around the in-process one.
//!
//! Shaped like socketioxide's Redis adapter: publishing delivers to this
//! node's subscribers at once (through the wrapped [`MemoryLayer`]) and
//! sends the event to Redis wrapped in an envelope with this node's id;
//! events coming back from Redis are delivered locally unless they are our
//! own echo. Each node subscribes once per group that has local subscribers,
//! not once per socket.
//!
//! Redis channels: the group names (`stampede:{acme}:room:42`,
//! `stampede:{acme}:tenant`). Envelope: 16 bytes of node id, then the payload.
//!
//! One driver task owns the Redis connections (connection managers, RESP3).
//! When Redis is unreachable the node keeps delivering locally, logs the
//! outage once, reports itself degraded, retries every second, and when Redis
//! is back re-subscribes every group it needs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::{mpsc, watch};

use super::{ChannelLayer, LayerStatus, MemoryLayer, Subscription};

/// Events waiting for Redis before new ones are dropped (from Redis only:
/// local delivery never waits).
const PUBLISH_QUEUE: usize = 65_536;
/// Most PUBLISH commands sent in one pipeline.
const PIPELINE: usize = 256;
/// How often the driver checks the connection (and retries when down).
const CHECK_EVERY: Duration = Duration::from_secs(1);

type NodeId = [u8; 16];

/// Shared between the layer handle and its tasks.
struct Shared {
    local: MemoryLayer,
    node_id: NodeId,
    up: AtomicBool,
    /// Events that could not be sent to Redis (queue full or Redis down).
    dropped: AtomicU64,
}

impl Shared {
    fn mark_down(&self, err: &dyn std::fmt::Display) {
        if self.up.swap(false, Ordering::SeqCst) {
            tracing::error!(error = %err, "redis unreachable: serving local viewers only until it is back");
        }
    }

    fn mark_up(&self) {
        if !self.up.swap(true, Ordering::SeqCst) {
            tracing::info!("redis connected: events cross nodes");
        }
    }
}

enum Control {
    /// Subscribe, and set the flag once Redis confirmed it.
    Subscribe(String, watch::Sender<bool>),
    Unsubscribe(String),
}

/// Local subscriber count of a group, and its "confirmed by Redis" flag.
type GroupEntry = (usize, watch::Receiver<bool>);

/// The Redis channel layer. Cheap to clone.
#[derive(Clone)]
pub struct RedisLayer {
    shared: Arc<Shared>,
    publish_tx: mpsc::Sender<(String, Bytes)>,
    control_tx: mpsc::UnboundedSender<Control>,
    /// Local subscriptions per group (to subscribe in Redis on the first),
    /// and whether Redis confirmed the group's subscription.
    counts: Arc<Mutex<HashMap<String, GroupEntry>>>,
}

/// The Redis URL could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid redis url: {0}")]
pub struct RedisUrlError(String);

impl RedisLayer {
    /// Starts the layer. Only a malformed URL fails: an unreachable Redis is
    /// an outage like any other, and the driver keeps trying.
    pub fn start(url: &str) -> Result<Self, RedisUrlError> {
        let info = url
            .into_connection_info()
            .map_err(|e| RedisUrlError(e.to_string()))?;
        let redis_settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let info = info.set_redis_settings(redis_settings);
        let client = redis::Client::open(info).map_err(|e| RedisUrlError(e.to_string()))?;
        let shared = Arc::new(Shared {
            local: MemoryLayer::new(),
            node_id: *uuid::Uuid::new_v4().as_bytes(),
            up: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        });
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        tokio::spawn(dispatch(shared.clone(), push_rx));
        tokio::spawn(drive(
            client,
            shared.clone(),
            push_tx,
            publish_rx,
            control_rx,
        ));
        Ok(Self {
            shared,
            publish_tx,
            control_tx,
            counts: Arc::default(),
        })
    }

    /// True while Redis answers.
    pub fn is_connected(&self) -> bool {
        self.shared.up.load(Ordering::SeqCst)
    }

    /// Events that never reached Redis.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl ChannelLayer for RedisLayer {
    fn publish(&self, group: &str, payload: Bytes) {
        self.shared.local.publish(group, payload.clone());
        let mut envelope = BytesMut::with_capacity(16 + payload.len());
        envelope.extend_from_slice(&self.shared.node_id);
        envelope.extend_from_slice(&payload);
        if self
            .publish_tx
            .try_send((group.to_owned(), envelope.freeze()))
            .is_err()
        {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
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

/// Delivers messages from Redis to local subscribers.
async fn dispatch(shared: Arc<Shared>, mut push_rx: mpsc::UnboundedReceiver<PushInfo>) {
    while let Some(push) = push_rx.recv().await {
        match push.kind {
            PushKind::Message => {
                let mut data = push.data.into_iter();
                let (Some(Value::BulkString(channel)), Some(Value::BulkString(payload))) =
                    (data.next(), data.next())
                else {
                    continue;
                };
                if payload.len() < 16 || payload[..16] == shared.node_id {
                    continue; // malformed, or our own echo (delivered locally already)
                }
                let Ok(channel) = String::from_utf8(channel) else {
                    continue;
                };
                shared
                    .local
                    .publish(&channel, Bytes::from(payload).slice(16..));
            }
            PushKind::Disconnection => shared.mark_down(&"connection lost"),
            _ => {}
        }
    }
}

/// The two connections the driver holds once Redis answers.
struct Connections {
    subscriber: ConnectionManager,
    publisher: ConnectionManager,
}

fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(1)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500))
}

async fn connect(
    client: &redis::Client,
    push_tx: &mpsc::UnboundedSender<PushInfo>,
) -> redis::RedisResult<Connections> {
    let subscriber = client
        .get_connection_manager_with_config(
            config()
                .set_push_sender(push_tx.clone())
                .set_automatic_resubscription(),
        )
        .await?;
    let publisher = client.get_connection_manager_with_config(config()).await?;
    Ok(Connections {
        subscriber,
        publisher,
    })
}

/// Owns the connections: subscribes, publishes in pipelines, watches health.
async fn drive(
    client: redis::Client,
    shared: Arc<Shared>,
    push_tx: mpsc::UnboundedSender<PushInfo>,
    mut publish_rx: mpsc::Receiver<(String, Bytes)>,
    mut control_rx: mpsc::UnboundedReceiver<Control>,
) {
    // Groups this node needs, with the flag telling subscribers they are live.
    let mut wanted: HashMap<String, watch::Sender<bool>> = HashMap::new();
    let mut conns: Option<Connections> = None;
    // Subscriptions made while Redis was down must be made again.
    let mut resubscribe = true;
    let mut batch: Vec<(String, Bytes)> = Vec::with_capacity(PIPELINE);
    let mut check = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            control = control_rx.recv() => {
                let Some(control) = control else { return };
                match control {
                    Control::Subscribe(group, ready) => {
                        if let Some(c) = conns.as_mut() {
                            match c.subscriber.subscribe(&group).await {
                                Ok(()) => { let _ = ready.send(true); }
                                Err(err) => {
                                    shared.mark_down(&err);
                                    resubscribe = true;
                                }
                            }
                        }
                        wanted.insert(group, ready);
                    }
                    Control::Unsubscribe(group) => {
                        wanted.remove(&group);
                        if let Some(c) = conns.as_mut() {
                            if let Err(err) = c.subscriber.unsubscribe(&group).await {
                                shared.mark_down(&err);
                                resubscribe = true;
                            }
                        }
                    }
                }
            }
            n = publish_rx.recv_many(&mut batch, PIPELINE) => {
                if n == 0 { return; }
                match conns.as_mut() {
                    Some(c) if shared.up.load(Ordering::SeqCst) => {
                        let mut pipe = redis::pipe();
                        for (group, envelope) in &batch {
                            pipe.publish(group, envelope.as_ref()).ignore();
                        }
                        if let Err(err) = pipe.query_async::<()>(&mut c.publisher).await {
                            shared.dropped.fetch_add(batch.len() as u64, Ordering::Relaxed);
                            shared.mark_down(&err);
                            resubscribe = true;
                        }
                    }
                    _ => {
                        shared.dropped.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    }
                }
                batch.clear();
            }
            _ = check.tick() => {
                if conns.is_none() {
                    match connect(&client, &push_tx).await {
                        Ok(c) => conns = Some(c),
                        Err(err) => {
                            shared.mark_down(&err);
                            continue;
                        }
                    }
                }
                let Some(c) = conns.as_mut() else { continue };
                // A PING on each connection makes the managers notice a
                // restart and reconnect.
                let ping_sub: redis::RedisResult<()> = redis::cmd("PING").query_async(&mut c.subscriber).await;
                let ping_pub: redis::RedisResult<()> = redis::cmd("PING").query_async(&mut c.publisher).await;
                if let Err(err) = ping_sub.and(ping_pub) {
                    shared.mark_down(&err);
                    resubscribe = true;
                    continue;
                }
                if resubscribe {
                    let mut ok = true;
                    for (group, ready) in &wanted {
                        if let Err(err) = c.subscriber.subscribe(group).await {
                            shared.mark_down(&err);
                            ok = false;
                            break;
                        }
                        let _ = ready.send(true);
                    }
                    if !ok {
                        continue;
                    }
                    resubscribe = false;
                }
                shared.mark_up();
            }
        }
    }
}
