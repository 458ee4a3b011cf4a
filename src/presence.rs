//! Room audiences across nodes: `{"type":"presence","viewers":N,"chatters":M}`.
//!
//! Every [`INTERVAL`] each node reports the counts of the rooms it runs and
//! reads the room's total over all nodes; rooms announce the total to their
//! sockets when it changed, so a room hears about presence at most once per
//! interval. With Redis, each node's report is a key that lives for
//! [`TTL`], so a crashed node's viewers disappear within one TTL:
//!
//! - `stampede:{acme}:presence:42:nodes`: set of node ids reporting room 42;
//! - `stampede:{acme}:presence:42:node:<id>`: `"viewers chatters"`, expiring.
//!
//! A user with sockets on two nodes counts once per node.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::room::{RoomHandle, RoomKey, RoomRegistry};
use crate::shutdown::Shutdown;
use crate::tenant::SchemaName;

/// How often rooms report and hear their audience.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// How often live rooms' viewer counts are sampled into
/// `streaming_viewersample` (one row per room per slot, whichever node writes first).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);

/// How long a node's report counts without being renewed.
pub const TTL: Duration = Duration::from_secs(6);

/// A room's audience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Audience {
    pub viewers: u64,
    pub chatters: u64,
}

/// Reports this node's rooms and reads totals. Cheap to clone.
#[derive(Clone)]
pub struct Presence {
    registry: RoomRegistry,
    pool: sqlx::PgPool,
    redis_url: Option<Arc<str>>,
    /// Connected on first use; a failed attempt is retried next round.
    redis: Arc<OnceCell<RedisPresence>>,
}

#[derive(Clone)]
struct RedisPresence {
    conn: ConnectionManager,
    node: String,
}

impl Presence {
    /// Local counts only, or (with `redis_url`) counts over every node.
    pub fn new(registry: RoomRegistry, pool: sqlx::PgPool, redis_url: Option<&str>) -> Self {
        Self {
            registry,
            pool,
            redis_url: redis_url.map(Arc::from),
            redis: Arc::new(OnceCell::new()),
        }
    }

    async fn redis(&self) -> Option<&RedisPresence> {
        let url = self.redis_url.as_deref()?;
        self.redis.get_or_try_init(|| connect(url)).await.ok()
    }

    /// Reports and announces every [`INTERVAL`] until shutdown.
    pub fn spawn(self, shutdown: Shutdown) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_sample: Option<tokio::time::Instant> = None;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let due = last_sample.is_none_or(|t| t.elapsed() >= SAMPLE_EVERY);
                        if self.round(due).await && due {
                            last_sample = Some(tokio::time::Instant::now());
                        }
                    }
                    _ = shutdown.begun() => break,
                }
            }
        });
    }

    /// One report; with `sample`, also records each room's viewers for
    /// analytics. Returns whether there was any room.
    async fn round(&self, sample: bool) -> bool {
        let handles = self.registry.handles();
        let any = !handles.is_empty();
        for handle in handles {
            let local = local(&handle);
            let total = match self.redis().await {
                Some(r) => r
                    .report_and_sum(&handle.schema, handle.key, local)
                    .await
                    .unwrap_or(local),
                None => local,
            };
            handle.presence(total.viewers, total.chatters);
            if sample {
                let result = crate::store::analytics::record_viewers(
                    &self.pool,
                    &handle.schema,
                    handle.key.stream_id,
                    total.viewers as i64,
                )
                .await;
                if let Err(err) = result {
                    tracing::warn!(error = %err, "viewer sample not recorded");
                }
            }
        }
        any
    }

    /// The audience of a stream right now (over all nodes with Redis).
    pub async fn audience(&self, schema: &SchemaName, key: RoomKey) -> Audience {
        let local = self
            .registry
            .get(key)
            .map(|h| local(&h))
            .unwrap_or_default();
        match self.redis().await {
            Some(r) => r.sum(schema, key.stream_id).await.unwrap_or(local),
            None => local,
        }
    }
}

fn local(handle: &RoomHandle) -> Audience {
    Audience {
        viewers: handle.stats.viewers.load(Ordering::Relaxed) as u64,
        chatters: handle.stats.chatters.load(Ordering::Relaxed) as u64,
    }
}

/// One connection attempt; the caller retries on the next round.
async fn connect(url: &str) -> redis::RedisResult<RedisPresence> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(1)))
        .set_number_of_retries(1);
    let conn = client.get_connection_manager_with_config(config).await?;
    Ok(RedisPresence {
        conn,
        node: uuid::Uuid::new_v4().simple().to_string(),
    })
}

fn prefix(schema: &SchemaName, stream_id: i32) -> String {
    format!("stampede:{{{}}}:presence:{stream_id}", schema.as_str())
}

impl RedisPresence {
    async fn report_and_sum(
        &self,
        schema: &SchemaName,
        key: RoomKey,
        local: Audience,
    ) -> redis::RedisResult<Audience> {
        let prefix = prefix(schema, key.stream_id);
        let mut conn = self.conn.clone();
        redis::pipe()
            .set_ex(
                format!("{prefix}:node:{}", self.node),
                format!("{} {}", local.viewers, local.chatters),
                TTL.as_secs(),
            )
            .ignore()
            .sadd(format!("{prefix}:nodes"), &self.node)
            .ignore()
            .expire(format!("{prefix}:nodes"), 3600)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        self.sum(schema, key.stream_id).await
    }

    async fn sum(&self, schema: &SchemaName, stream_id: i32) -> redis::RedisResult<Audience> {
        let prefix = prefix(schema, stream_id);
        let mut conn = self.conn.clone();
        let nodes: Vec<String> = redis::cmd("SMEMBERS")
            .arg(format!("{prefix}:nodes"))
            .query_async(&mut conn)
            .await?;
        if nodes.is_empty() {
            return Ok(Audience::default());
        }
        let keys: Vec<String> = nodes.iter().map(|n| format!("{prefix}:node:{n}")).collect();
        let values: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut conn).await?;
        let mut total = Audience::default();
        let mut dead = Vec::new();
        for (node, value) in nodes.iter().zip(values) {
            match value.as_deref().and_then(|v| v.split_once(' ')) {
                Some((v, c)) => {
                    total.viewers += v.parse::<u64>().unwrap_or(0);
                    total.chatters += c.parse::<u64>().unwrap_or(0);
                }
                None => dead.push(node.clone()),
            }
        }
        if !dead.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("SREM")
                .arg(format!("{prefix}:nodes"))
                .arg(&dead)
                .query_async(&mut conn)
                .await;
        }
        Ok(total)
    }
}
