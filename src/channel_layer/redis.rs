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
//! `stampede:{acme}:tenant`). Envelope: 16 bytes of node id, then `U` and the
//! payload, or for a logged event `S<offset>|<epoch>|` and the payload.
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::{mpsc, watch};

use futures_util::future::BoxFuture;

use super::{
    new_epoch, ChannelLayer, Delivery, LayerStatus, MemoryLayer, Replay, Seq, Subscription,
    LOG_CAPACITY,
};

/// Events waiting for Redis before new ones are dropped (from Redis only:
/// local delivery never waits).
const PUBLISH_QUEUE: usize = 65_536;
/// Most PUBLISH commands sent in one pipeline.
const PIPELINE: usize = 256;
/// How often the driver checks the connection (and retries when down).
const CHECK_EVERY: Duration = Duration::from_secs(1);

type NodeId = [u8; 16];

/// Driver between the layer handle and its tasks.
struct Driver {
    local: MemoryLayer,
    client: redis::Client,
    /// A connection for replay queries, made on first use.
    query: tokio::sync::OnceCell<ConnectionManager>,
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
        let shared = Arc::new(Driver {
            local: MemoryLayer::new(),
            client: client.clone(),
            query: tokio::sync::OnceCell::new(),
            node_id: *uuid::Uuid::new_v4().as_bytes(),
            up: AtomicBool::new(false),
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
            match replay(&self.shared, group, epoch, since).await {
                Ok(replay) => replay,
                Err(err) => {
                    tracing::warn!(error = %err, "replay unavailable");
                    Replay::Gap
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

/// Delivers messages from Redis to local subscribers.
async fn dispatch(shared: Arc<Driver>, mut push_rx: mpsc::UnboundedReceiver<PushInfo>) {
    while let Some(push) = push_rx.recv().await {
        match push.kind {
            PushKind::Message => {
                let mut data = push.data.into_iter();
                let (Some(Value::BulkString(channel)), Some(Value::BulkString(payload))) =
                    (data.next(), data.next())
                else {
                    continue;
                };
                if payload.len() < 17 || payload[..16] == shared.node_id {
                    continue; // malformed, or our own echo (delivered locally already)
                }
                let Ok(channel) = String::from_utf8(channel) else {
                    continue;
                };
                if let Some(delivery) = open_envelope(Bytes::from(payload).slice(16..)) {
                    shared.local.deliver(&channel, delivery);
                }
            }
            PushKind::Disconnection => shared.mark_down(&"connection lost"),
            _ => {}
        }
    }
}

/// Reads `U<payload>` or `S<offset>|<epoch>|<payload>`.
fn open_envelope(body: Bytes) -> Option<Delivery> {
    match body.first()? {
        b'U' => Some(Delivery {
            seq: None,
            payload: body.slice(1..),
        }),
        b'S' => {
            let rest = &body[1..];
            let bar1 = rest.iter().position(|b| *b == b'|')?;
            let bar2 = bar1 + 1 + rest[bar1 + 1..].iter().position(|b| *b == b'|')?;
            let offset = std::str::from_utf8(&rest[..bar1]).ok()?.parse().ok()?;
            let epoch = std::str::from_utf8(&rest[bar1 + 1..bar2]).ok()?;
            Some(Delivery {
                seq: Some(Seq {
                    offset,
                    epoch: Arc::from(epoch),
                }),
                payload: body.slice(1 + bar2 + 1..),
            })
        }
        _ => None,
    }
}

/// Takes the next offset, logs and publishes, atomically.
/// KEYS: offset, epoch, log. ARGV: payload, fresh epoch, channel, envelope head, log size.
const LOGGED_PUBLISH: &str = r#"
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[2], epoch)
  redis.call('SET', KEYS[1], 0)
  redis.call('DEL', KEYS[3])
end
local off = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], off .. '-0', 'p', ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. 'S' .. off .. '|' .. epoch .. '|' .. ARGV[1])
return {off, epoch}
"#;

async fn replay(
    shared: &Driver,
    group: &str,
    epoch: &str,
    since: u64,
) -> redis::RedisResult<Replay> {
    let conn = shared
        .query
        .get_or_try_init(|| shared.client.get_connection_manager_with_config(config()))
        .await?;
    let mut conn = conn.clone();
    let start = if since == 0 {
        "-".to_owned()
    } else {
        format!("({since}-0")
    };
    let (current, last, range): (
        Option<String>,
        Option<u64>,
        redis::streams::StreamRangeReply,
    ) = redis::pipe()
        .get(format!("{group}:epoch"))
        .get(format!("{group}:offset"))
        .cmd("XRANGE")
        .arg(format!("{group}:log"))
        .arg(start)
        .arg("+")
        .query_async(&mut conn)
        .await?;
    let last = last.unwrap_or(0);
    if current.as_deref() != Some(epoch) || since > last {
        return Ok(Replay::Gap);
    }
    let epoch: Arc<str> = Arc::from(epoch);
    let mut events = Vec::with_capacity(range.ids.len());
    for entry in range.ids {
        let offset: u64 = entry
            .id
            .split('-')
            .next()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let payload: Vec<u8> = entry.get("p").unwrap_or_default();
        events.push(Delivery {
            seq: Some(Seq {
                offset,
                epoch: epoch.clone(),
            }),
            payload: Bytes::from(payload),
        });
    }
    // Covered only if nothing between `since` and the first kept entry was trimmed.
    let first = events
        .first()
        .and_then(|d| d.seq.as_ref())
        .map(|s| s.offset);
    let covered = match first {
        Some(first) => first == since + 1,
        None => since == last,
    };
    Ok(if covered {
        Replay::Events(events)
    } else {
        Replay::Gap
    })
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

/// Sends one pipeline; returns the sequence each item got (`None` if unlogged).
async fn publish_batch(
    shared: &Driver,
    c: &mut Connections,
    batch: &[Outgoing],
) -> redis::RedisResult<Vec<Option<Seq>>> {
    let mut pipe = redis::pipe();
    for item in batch {
        let mut head = Vec::with_capacity(17);
        head.extend_from_slice(&shared.node_id);
        if item.logged {
            pipe.cmd("EVAL")
                .arg(LOGGED_PUBLISH)
                .arg(3)
                .arg(format!("{}:offset", item.group))
                .arg(format!("{}:epoch", item.group))
                .arg(format!("{}:log", item.group))
                .arg(item.payload.as_ref())
                .arg(&*new_epoch())
                .arg(&item.group)
                .arg(head)
                .arg(LOG_CAPACITY);
        } else {
            head.push(b'U');
            head.extend_from_slice(&item.payload);
            pipe.publish(&item.group, head).ignore();
        }
    }
    let replies: Vec<(u64, String)> = pipe.query_async(&mut c.publisher).await?;
    let mut replies = replies.into_iter();
    Ok(batch
        .iter()
        .map(|item| {
            if !item.logged {
                return None;
            }
            replies.next().map(|(offset, epoch)| Seq {
                offset,
                epoch: Arc::from(epoch),
            })
        })
        .collect())
}

/// Owns the connections: subscribes, publishes in pipelines, watches health.
async fn drive(
    client: redis::Client,
    shared: Arc<Driver>,
    push_tx: mpsc::UnboundedSender<PushInfo>,
    mut publish_rx: mpsc::Receiver<Outgoing>,
    mut control_rx: mpsc::UnboundedReceiver<Control>,
) {
    // Groups this node needs, with the flag telling subscribers they are live.
    let mut wanted: HashMap<String, watch::Sender<bool>> = HashMap::new();
    let mut conns: Option<Connections> = None;
    // Subscriptions made while Redis was down must be made again.
    let mut resubscribe = true;
    let mut batch: Vec<Outgoing> = Vec::with_capacity(PIPELINE);
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
                let connected = shared.up.load(Ordering::SeqCst);
                let results = match conns.as_mut() {
                    Some(c) if connected => publish_batch(&shared, c, &batch).await,
                    _ => Err(redis::RedisError::from((redis::ErrorKind::Io, "redis is down"))),
                };
                match results {
                    Ok(seqs) => {
                        for (item, seq) in batch.drain(..).zip(seqs) {
                            if item.logged {
                                shared.local.deliver(&item.group, Delivery { seq, payload: item.payload });
                            }
                        }
                    }
                    Err(err) => {
                        if connected {
                            shared.mark_down(&err);
                            resubscribe = true;
                        }
                        shared.count_dropped(batch.len() as u64);
                        // Local viewers still get logged events, without an offset.
                        for item in batch.drain(..).filter(|i| i.logged) {
                            shared.local.deliver(&item.group, Delivery { seq: None, payload: item.payload });
                        }
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
