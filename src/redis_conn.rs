//! Redis as one server or as a cluster, behind one connection type.
//!
//! `--redis-url` names one server; `--redis-cluster-urls` some nodes of a
//! Redis Cluster (the client learns the rest). Everything that talks to
//! Redis (the channel layer, presence, global limits) takes a
//! [`RedisTarget`] and gets [`RedisConn`]s, which run commands and pipelines
//! the same way on both.
//!
//! What differs in a cluster, and is handled here:
//! - pub/sub is sharded: `SPUBLISH`/`SSUBSCRIBE` (Redis ≥ 7) instead of
//!   `PUBLISH`/`SUBSCRIBE`, so a channel's messages cross only its shard
//!   ([`RedisConn::publish_command`], [`RedisConn::subscribe`]);
//! - a pipeline must stay within one hash slot: [`SlotPipe`] splits one
//!   into a pipeline per slot, run concurrently, answers put back in order.
//!
//! Keys and channels carry a hash tag per room (`stampede:{acme:42}:…`),
//! per user for limits, per tenant for tenant-wide events, so that what one
//! operation touches shares a slot and rooms spread over the shards.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::try_join_all;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use redis::{Cmd, ConnectionInfo, IntoConnectionInfo, Pipeline, ProtocolVersion, PushInfo};
use redis::{RedisFuture, RedisResult, Value};
use tokio::sync::mpsc::UnboundedSender;

/// A Redis URL that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid redis url: {0}")]
pub struct RedisUrlError(String);

/// Where Redis is: one server, or a cluster's seed nodes.
#[derive(Clone, Debug)]
pub enum RedisTarget {
    Single(ConnectionInfo),
    Cluster(Vec<ConnectionInfo>),
}

/// How long one connection waits, and how often it retries a command.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    pub response: Duration,
    pub retries: usize,
}

impl Timeouts {
    /// One second to connect and to answer, one retry: a node marks Redis
    /// down quickly and goes on serving its own viewers.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Duration::from_secs(1),
        response: Duration::from_secs(1),
        retries: 1,
    };
}

fn resp3(info: ConnectionInfo) -> ConnectionInfo {
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    info.set_redis_settings(settings)
}

fn parse(url: &str) -> Result<ConnectionInfo, RedisUrlError> {
    url.into_connection_info()
        .map(resp3)
        .map_err(|e| RedisUrlError(e.to_string()))
}

impl RedisTarget {
    /// One server at `url`.
    pub fn single(url: &str) -> Result<Self, RedisUrlError> {
        Ok(RedisTarget::Single(parse(url)?))
    }

    /// A cluster reachable through any of `urls`.
    pub fn cluster<S: AsRef<str>>(urls: &[S]) -> Result<Self, RedisUrlError> {
        if urls.is_empty() {
            return Err(RedisUrlError("no cluster node given".into()));
        }
        let nodes = urls
            .iter()
            .map(|u| parse(u.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(RedisTarget::Cluster(nodes))
    }

    /// The target of `--redis-url` or `--redis-cluster-urls`, if any.
    pub fn from_flags(
        url: Option<&str>,
        cluster_urls: &[String],
    ) -> Result<Option<Self>, RedisUrlError> {
        match (url, cluster_urls.is_empty()) {
            (Some(_), false) => Err(RedisUrlError(
                "give --redis-url or --redis-cluster-urls, not both".into(),
            )),
            (Some(url), true) => Self::single(url).map(Some),
            (None, false) => Self::cluster(cluster_urls).map(Some),
            (None, true) => Ok(None),
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisTarget::Cluster(_))
    }

    /// A connection for commands; it reconnects by itself.
    pub async fn connect(&self, timeouts: Timeouts) -> RedisResult<RedisConn> {
        self.open(timeouts, None).await
    }

    /// A connection whose pushes (pub/sub messages, disconnections) go to
    /// `push`; its subscriptions are made again after a reconnect.
    pub async fn subscriber(
        &self,
        timeouts: Timeouts,
        push: UnboundedSender<PushInfo>,
    ) -> RedisResult<RedisConn> {
        self.open(timeouts, Some(push)).await
    }

    async fn open(
        &self,
        timeouts: Timeouts,
        push: Option<UnboundedSender<PushInfo>>,
    ) -> RedisResult<RedisConn> {
        match self {
            RedisTarget::Single(info) => {
                let client = redis::Client::open(info.clone())?;
                let mut config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeouts.connect))
                    .set_response_timeout(Some(timeouts.response))
                    .set_number_of_retries(timeouts.retries)
                    .set_max_delay(Duration::from_millis(500));
                if let Some(push) = push {
                    config = config.set_push_sender(push).set_automatic_resubscription();
                }
                let conn = client.get_connection_manager_with_config(config).await?;
                Ok(RedisConn::Single(conn))
            }
            RedisTarget::Cluster(nodes) => {
                // Retries also follow MOVED redirects and ride out a
                // failover (a master's slots move within a second or two):
                // a connection that may retry at all retries for ~2 s, so a
                // publish during a failover is late, not lost.
                let retries = if timeouts.retries == 0 { 1 } else { 6 };
                let mut builder = ClusterClientBuilder::new(nodes.clone())
                    .use_protocol(ProtocolVersion::RESP3)
                    .connection_timeout(timeouts.connect)
                    .response_timeout(timeouts.response)
                    .retries(retries)
                    .min_retry_wait(50)
                    .max_retry_wait(500);
                if let Some(push) = push {
                    builder = builder.push_sender(push);
                }
                let conn = builder.build()?.get_async_connection().await?;
                Ok(RedisConn::Cluster(conn))
            }
        }
    }
}

/// A connection to one Redis or to a cluster. Cheap to clone: clones share
/// the underlying connections.
#[derive(Clone)]
pub enum RedisConn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
        }
    }
}

impl RedisConn {
    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisConn::Cluster(_))
    }

    /// `PUBLISH`, or in a cluster `SPUBLISH` (the channel's shard only).
    pub fn publish_command(&self) -> &'static str {
        match self {
            RedisConn::Single(_) => "PUBLISH",
            RedisConn::Cluster(_) => "SPUBLISH",
        }
    }

    /// Subscribes to `channel` (`SSUBSCRIBE` in a cluster, on the node
    /// serving its slot).
    pub async fn subscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            RedisConn::Single(c) => c.subscribe(channel).await,
            RedisConn::Cluster(c) => c.ssubscribe(channel).await,
        }
    }

    pub async fn unsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            RedisConn::Single(c) => c.unsubscribe(channel).await,
            RedisConn::Cluster(c) => c.sunsubscribe(channel).await,
        }
    }
}

/// A pipeline of commands that may touch different hash slots, each
/// command's answer kept or dropped. On one server it is one round trip; in
/// a cluster, one pipeline per slot (a cluster refuses cross-slot
/// pipelines), run concurrently. Commands of one slot keep their order.
#[derive(Default)]
pub struct SlotPipe {
    commands: Vec<(Cmd, bool)>,
    kept: usize,
}

impl SlotPipe {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a command whose answer is wanted; returns its index among the
    /// answers [`SlotPipe::run`] gives.
    pub fn keep(&mut self, cmd: Cmd) -> usize {
        self.commands.push((cmd, true));
        self.kept += 1;
        self.kept - 1
    }

    /// Adds a command whose answer is not needed.
    pub fn skip(&mut self, cmd: Cmd) {
        self.commands.push((cmd, false));
    }

    /// Runs everything; the answers of the kept commands, in order.
    pub async fn run(self, conn: &mut RedisConn) -> RedisResult<Vec<Value>> {
        if self.commands.is_empty() {
            return Ok(Vec::new());
        }
        if !conn.is_cluster() {
            let mut pipe = redis::pipe();
            for (cmd, keep) in self.commands {
                let added = pipe.add_command(cmd);
                if !keep {
                    added.ignore();
                }
            }
            return pipe.query_async(conn).await;
        }
        // Per slot: its pipeline and, per command, where its answer goes.
        let mut by_slot: HashMap<Slot, (Pipeline, Vec<Option<usize>>)> = HashMap::new();
        let mut next_kept = 0;
        for (cmd, keep) in self.commands {
            let slot = Slot::for_key(first_key(&cmd));
            let (pipe, places) = by_slot
                .entry(slot)
                .or_insert_with(|| (redis::pipe(), Vec::new()));
            pipe.add_command(cmd);
            places.push(keep.then(|| {
                next_kept += 1;
                next_kept - 1
            }));
        }
        let runs = by_slot.into_values().map(|(pipe, places)| {
            let mut conn = conn.clone();
            async move {
                let answers: Vec<Value> = pipe.query_async(&mut conn).await?;
                Ok::<_, redis::RedisError>((answers, places))
            }
        });
        let mut answers = vec![Value::Nil; self.kept];
        for (got, places) in try_join_all(runs).await? {
            for (value, place) in got.into_iter().zip(places) {
                if let Some(at) = place {
                    answers[at] = value;
                }
            }
        }
        Ok(answers)
    }
}

/// The first argument after the command's name: the key, for every
/// command this crate pipelines.
fn first_key(cmd: &Cmd) -> Vec<u8> {
    match cmd.args_iter().nth(1) {
        Some(redis::Arg::Simple(bytes)) => bytes.to_vec(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_choose_one_target() {
        assert!(RedisTarget::from_flags(None, &[]).unwrap().is_none());
        let single = RedisTarget::from_flags(Some("redis://127.0.0.1:6379"), &[]).unwrap();
        assert!(matches!(single, Some(RedisTarget::Single(_))));
        let nodes = [
            "redis://127.0.0.1:7000".to_owned(),
            "redis://127.0.0.1:7001".to_owned(),
        ];
        let cluster = RedisTarget::from_flags(None, &nodes).unwrap();
        assert!(matches!(cluster, Some(RedisTarget::Cluster(n)) if n.len() == 2));
        assert!(RedisTarget::from_flags(Some("redis://127.0.0.1"), &nodes).is_err());
        assert!(RedisTarget::from_flags(None, &["nope://x".to_owned()]).is_err());
    }

    #[test]
    fn a_command_is_routed_by_its_key() {
        let mut cmd = redis::cmd("SET");
        cmd.arg("stampede:{acme:42}:room:offset").arg(1);
        assert_eq!(first_key(&cmd), b"stampede:{acme:42}:room:offset");
        assert_eq!(
            Slot::for_key(first_key(&cmd)),
            Slot::for_key("stampede:{acme:42}:room:log")
        );
    }
}
