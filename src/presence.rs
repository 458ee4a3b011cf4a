//! Room audiences across nodes: `{"type":"presence","viewers":N,"chatters":M}`,
//! counted per distinct user: a user with sockets on two nodes counts once.
//!
//! Every [`INTERVAL`] each node reports the rooms it runs and reads each
//! room's total over all nodes; rooms announce the total to their sockets
//! when it changed, so a room hears about presence at most once per interval.
//! Without Redis the node's own distinct users are the audience.
//!
//! With Redis, each node writes, per room, its signed-in users and its
//! chatters (rewritten only when they changed, else their TTL is renewed),
//! and a report line; every key expires after [`TTL`] unless renewed, so a
//! crashed node's users disappear within one TTL:
//!
//! - `stampede:{acme:42}:presence:nodes`: set of node ids reporting room 42;
//! - `stampede:{acme:42}:presence:node:<id>`: the report,
//!   `"viewers chatters anonymous vmode cmode"` (this node's distinct counts,
//!   anonymous reader sockets, and how its users are stored: `s` or `h`);
//! - `stampede:{acme:42}:presence:node:<id>:viewers:s` (a set of user ids) or
//!   `…:viewers:h` (a HyperLogLog of them), the same for `chatters`;
//! - `stampede:{acme:42}:presence:union:<id>`: scratch for `SUNIONSTORE`,
//!   deleted in the same pipeline.
//!
//! A room's keys share its hash tag, so on a Redis Cluster the multi-key
//! commands (`MGET`, `SUNIONSTORE`, `PFCOUNT`) stay on one shard; a round's
//! pipeline is split per slot ([`SlotPipe`]).
//!
//! A room's viewers are the union of its nodes' user sets plus every node's
//! anonymous readers (one per socket: their ids are per node and would
//! collide). While a room's total of a kind stays at most [`HLL_ABOVE`],
//! its nodes store exact sets and the count is exact (`SUNIONSTORE`'s
//! answer). Above it they store HyperLogLogs and the count is `PFCOUNT` over
//! them: standard error 0.81 %. It returns to sets below [`EXACT_BELOW`]. For
//! the one round in which a room's nodes disagree about the storage (one has
//! switched, another not yet), or a node of an older build reports only
//! counts, the room's counts are summed as before: an upper bound.
//!
//! If Redis fails, each room is announced with this node's own counts until
//! it answers again (the connection manager times out after 1 s, so a round
//! never hangs).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use redis::Value;
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::redis_conn::{RedisConn, RedisTarget, SlotPipe, Timeouts};
use crate::room::{RoomHandle, RoomKey, RoomRegistry, RoomStats, RosterCopy};
use crate::shutdown::Shutdown;
use crate::tenant::SchemaName;

/// How often rooms report and hear their audience.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// How often live rooms' viewer counts are sampled into
/// `streaming_viewersample` (one row per room per slot, whichever node writes first).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);

/// How long a node's report counts without being renewed.
pub const TTL: Duration = Duration::from_secs(6);

/// Above this many distinct users of a kind (viewers, chatters) a room is
/// counted with HyperLogLogs (0.81 % standard error) instead of exact sets.
pub const HLL_ABOVE: u64 = 10_000;
/// An estimated room goes back to exact sets below this; the gap keeps a
/// room near the threshold from switching every round.
pub const EXACT_BELOW: u64 = 9_000;

/// Rooms per batch of pipelines, so that one round's replies stay bounded.
const BATCH: usize = 200;

/// A room's audience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Audience {
    pub viewers: u64,
    pub chatters: u64,
}

/// How a node stores one kind of a room's users in Redis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Storage {
    /// A set of user ids: the union's size is exact.
    #[default]
    Set,
    /// A HyperLogLog of user ids: the union's size is an estimate.
    Hll,
}

impl Storage {
    fn tag(self) -> &'static str {
        match self {
            Storage::Set => "s",
            Storage::Hll => "h",
        }
    }

    fn parse(tag: &str) -> Option<Self> {
        match tag {
            "s" => Some(Storage::Set),
            "h" => Some(Storage::Hll),
            _ => None,
        }
    }

    /// The storage for a room stored as `self` whose last total was `total`.
    pub fn next(self, total: u64) -> Self {
        match self {
            Storage::Set if total > HLL_ABOVE => Storage::Hll,
            Storage::Hll if total < EXACT_BELOW => Storage::Set,
            same => same,
        }
    }
}

/// The two kinds of user a room counts, in the order of their arrays.
const KINDS: [&str; 2] = ["viewers", "chatters"];

/// One node's report on one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Distinct users on that node, anonymous readers included.
    pub local: Audience,
    /// Anonymous reader sockets on that node.
    pub anonymous: u64,
    /// How the node stored its viewers and chatters; `None` from a build
    /// that reports counts only.
    pub storage: Option<[Storage; 2]>,
}

impl Report {
    fn encode(&self) -> String {
        let storage = self.storage.unwrap_or_default();
        format!(
            "{} {} {} {} {}",
            self.local.viewers,
            self.local.chatters,
            self.anonymous,
            storage[0].tag(),
            storage[1].tag()
        )
    }

    /// Reads a report; a malformed one is treated as absent (a dead node).
    pub fn decode(text: &str) -> Option<Report> {
        let mut parts = text.split(' ');
        let viewers = parts.next()?.parse().ok()?;
        let chatters = parts.next()?.parse().ok()?;
        let local = Audience { viewers, chatters };
        let Some(anonymous) = parts.next() else {
            // "viewers chatters": a node of an older build.
            return Some(Report {
                local,
                anonymous: 0,
                storage: None,
            });
        };
        let anonymous = anonymous.parse().ok()?;
        let storage = [
            Storage::parse(parts.next()?)?,
            Storage::parse(parts.next()?)?,
        ];
        Some(Report {
            local,
            anonymous,
            storage: Some(storage),
        })
    }
}

/// How to total one kind over a room's live nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Every node stored the kind this way: count the union.
    Union(Storage),
    /// The nodes disagree (for a round, while switching) or one only
    /// reported counts: add the counts, an upper bound.
    Sum,
}

/// The merge for kind `kind` (0 viewers, 1 chatters) of these reports.
pub fn merge_plan(reports: &[Report], kind: usize) -> Merge {
    let mut storages = reports.iter().map(|r| r.storage.map(|s| s[kind]));
    match storages.next() {
        Some(Some(first)) if storages.all(|s| s == Some(first)) => Merge::Union(first),
        Some(_) => Merge::Sum,
        None => Merge::Union(Storage::Set),
    }
}

/// The total of a kind: the union's size (signed-in users), plus anonymous
/// readers for viewers; or the sum of the nodes' counts.
pub fn total(reports: &[Report], kind: usize, union: Option<u64>) -> u64 {
    match union {
        Some(users) if kind == 0 => users + reports.iter().map(|r| r.anonymous).sum::<u64>(),
        Some(users) => users,
        None => reports
            .iter()
            .map(|r| match kind {
                0 => r.local.viewers,
                _ => r.local.chatters,
            })
            .sum(),
    }
}

/// What this node last wrote for a room.
#[derive(Debug, Clone, Copy, Default)]
struct Written {
    /// The roster version the Redis keys hold; `None`: rewrite them.
    version: Option<u64>,
    storage: [Storage; 2],
    /// Whether each kind's key should exist (a missing one is rewritten).
    nonempty: [bool; 2],
    anonymous: u64,
    /// The room's last totals over all nodes, to choose the storage.
    totals: [u64; 2],
}

/// What the reporting task remembers between rounds.
#[derive(Default)]
struct Rounds {
    written: HashMap<RoomKey, Written>,
    /// Redis failed last round (logged once per outage).
    failing: bool,
}

/// Reports this node's rooms and reads totals. Cheap to clone.
#[derive(Clone)]
pub struct Presence {
    registry: RoomRegistry,
    pool: sqlx::PgPool,
    redis_target: Option<RedisTarget>,
    /// Connected on first use; a failed attempt is retried next round.
    redis: Arc<OnceCell<RedisPresence>>,
}

#[derive(Clone)]
struct RedisPresence {
    conn: RedisConn,
    node: String,
}

impl Presence {
    /// Local counts only, or (with Redis) counts over every node.
    pub fn new(registry: RoomRegistry, pool: sqlx::PgPool, redis: Option<RedisTarget>) -> Self {
        Self {
            registry,
            pool,
            redis_target: redis,
            redis: Arc::new(OnceCell::new()),
        }
    }

    async fn redis(&self) -> Option<&RedisPresence> {
        let target = self.redis_target.as_ref()?;
        self.redis.get_or_try_init(|| connect(target)).await.ok()
    }

    /// Reports and announces every [`INTERVAL`] until shutdown.
    pub fn spawn(self, shutdown: Shutdown) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_sample: Option<tokio::time::Instant> = None;
            let mut rounds = Rounds::default();
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let due = last_sample.is_none_or(|t| t.elapsed() >= SAMPLE_EVERY);
                        if self.round(&mut rounds, due).await && due {
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
    async fn round(&self, rounds: &mut Rounds, sample: bool) -> bool {
        let handles = self.registry.handles();
        let live: HashSet<RoomKey> = handles.iter().map(|h| h.key).collect();
        rounds.written.retain(|key, _| live.contains(key));
        let totals = self.totals(rounds, &handles).await;
        for (handle, total) in handles.iter().zip(totals) {
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
        !handles.is_empty()
    }

    /// Each room's audience over all nodes (or this node's, without Redis).
    async fn totals(&self, rounds: &mut Rounds, handles: &[RoomHandle]) -> Vec<Audience> {
        let Some(redis) = self.redis().await else {
            return handles.iter().map(local).collect();
        };
        let mut totals = Vec::with_capacity(handles.len());
        for batch in handles.chunks(BATCH) {
            let rooms: Vec<RoomRef<'_>> = batch.iter().map(RoomRef::from).collect();
            match redis.report_and_total(&rooms, &mut rounds.written).await {
                Ok(batch_totals) => {
                    if std::mem::take(&mut rounds.failing) {
                        tracing::info!("presence: Redis answers again");
                    }
                    totals.extend(batch_totals);
                }
                Err(err) => {
                    if !std::mem::replace(&mut rounds.failing, true) {
                        tracing::warn!(error = %err, "presence: Redis failed; announcing this node's counts");
                    }
                    // What reached Redis is unknown: rewrite it next time.
                    for handle in batch {
                        rounds.written.remove(&handle.key);
                    }
                    totals.extend(batch.iter().map(local));
                }
            }
        }
        totals
    }

    /// The audience of a stream right now (over all nodes with Redis).
    pub async fn audience(&self, schema: &SchemaName, key: RoomKey) -> Audience {
        let local = self
            .registry
            .get(key)
            .map(|h| local(&h))
            .unwrap_or_default();
        match self.redis().await {
            Some(r) => r.audience(schema, key.stream_id).await.unwrap_or(local),
            None => local,
        }
    }
}

fn local(handle: &RoomHandle) -> Audience {
    local_of(&handle.stats)
}

fn local_of(stats: &RoomStats) -> Audience {
    Audience {
        viewers: stats.viewers.load(Ordering::Relaxed) as u64,
        chatters: stats.chatters.load(Ordering::Relaxed) as u64,
    }
}

/// One room as a reporting round sees it.
struct RoomRef<'a> {
    key: RoomKey,
    schema: &'a SchemaName,
    stats: &'a RoomStats,
}

impl<'a> From<&'a RoomHandle> for RoomRef<'a> {
    fn from(handle: &'a RoomHandle) -> Self {
        RoomRef {
            key: handle.key,
            schema: &handle.schema,
            stats: &handle.stats,
        }
    }
}

/// One connection attempt; the caller retries on the next round.
async fn connect(target: &RedisTarget) -> redis::RedisResult<RedisPresence> {
    let conn = target.connect(Timeouts::DEFAULT).await?;
    Ok(RedisPresence {
        conn,
        node: uuid::Uuid::new_v4().simple().to_string(),
    })
}

/// A room's key names.
struct Keys {
    prefix: String,
}

impl Keys {
    fn new(schema: &SchemaName, stream_id: i32) -> Self {
        Keys {
            prefix: format!("stampede:{{{}:{stream_id}}}:presence", schema.as_str()),
        }
    }

    fn nodes(&self) -> String {
        format!("{}:nodes", self.prefix)
    }

    fn report(&self, node: &str) -> String {
        format!("{}:node:{node}", self.prefix)
    }

    fn users(&self, node: &str, kind: usize, storage: Storage) -> String {
        format!(
            "{}:node:{node}:{}:{}",
            self.prefix,
            KINDS[kind],
            storage.tag()
        )
    }

    fn union(&self, node: &str) -> String {
        format!("{}:union:{node}", self.prefix)
    }
}

fn answer<T: redis::FromRedisValue>(answers: &[Value], at: usize) -> redis::RedisResult<T> {
    let value = answers.get(at).ok_or_else(|| {
        redis::RedisError::from((redis::ErrorKind::Client, "pipeline answer missing"))
    })?;
    Ok(redis::from_redis_value_ref(value)?)
}

fn cmd(name: &str) -> redis::Cmd {
    redis::cmd(name)
}

impl RedisPresence {
    /// Writes this node's reports and rosters for `batch` and reads each
    /// room's total. Three round trips for the whole batch.
    async fn report_and_total(
        &self,
        batch: &[RoomRef<'_>],
        written: &mut HashMap<RoomKey, Written>,
    ) -> redis::RedisResult<Vec<Audience>> {
        let node = self.node.as_str();
        let ttl = TTL.as_secs();
        let keys: Vec<Keys> = batch
            .iter()
            .map(|h| Keys::new(h.schema, h.key.stream_id))
            .collect();
        let mut pipe = SlotPipe::new();
        // Per room: the EXPIREs whose answer says whether a key still exists.
        let mut renewed: Vec<Vec<(usize, usize)>> = Vec::with_capacity(batch.len());
        let mut members_at = Vec::with_capacity(batch.len());
        for (handle, keys) in batch.iter().zip(&keys) {
            let was = written.get(&handle.key).copied().unwrap_or_default();
            let storage = [0, 1].map(|kind| was.storage[kind].next(was.totals[kind]));
            let seen = if storage == was.storage {
                was.version
            } else {
                None
            };
            let copy = handle.stats.roster.copy_if_changed(seen);
            let mut now = was;
            now.storage = storage;
            let mut checks = Vec::new();
            match &copy {
                Some(copy) => {
                    write_roster(&mut pipe, keys, node, storage, copy);
                    now.version = Some(copy.version);
                    now.anonymous = copy.anonymous as u64;
                    now.nonempty = [!copy.users.is_empty(), !copy.chatters.is_empty()];
                }
                None => {
                    for kind in [0, 1] {
                        let mut renew = cmd("EXPIRE");
                        renew.arg(keys.users(node, kind, storage[kind])).arg(ttl);
                        checks.push((kind, pipe.keep(renew)));
                    }
                }
            }
            let report = Report {
                local: local_of(handle.stats),
                anonymous: now.anonymous,
                storage: Some(storage),
            };
            let mut set = cmd("SET");
            set.arg(keys.report(node))
                .arg(report.encode())
                .arg("EX")
                .arg(ttl);
            pipe.skip(set);
            let mut add = cmd("SADD");
            add.arg(keys.nodes()).arg(node);
            pipe.skip(add);
            let mut keep_nodes = cmd("EXPIRE");
            keep_nodes.arg(keys.nodes()).arg(3600);
            pipe.skip(keep_nodes);
            let mut members = cmd("SMEMBERS");
            members.arg(keys.nodes());
            members_at.push(pipe.keep(members));
            renewed.push(checks);
            written.insert(handle.key, now);
        }
        let answers = pipe.run(&mut self.conn.clone()).await?;
        let mut nodes = Vec::with_capacity(batch.len());
        for ((handle, checks), at) in batch.iter().zip(renewed).zip(members_at) {
            for (kind, at) in checks {
                let existed: bool = answer(&answers, at)?;
                let entry = written.entry(handle.key).or_default();
                if !existed && entry.nonempty[kind] {
                    // Lost (Redis restarted or flushed): rewrite next round.
                    entry.version = None;
                }
            }
            nodes.push(answer::<Vec<String>>(&answers, at)?);
        }
        let totals = self.merge(&keys, nodes).await?;
        for (handle, total) in batch.iter().zip(&totals) {
            if let Some(entry) = written.get_mut(&handle.key) {
                entry.totals = [total.viewers, total.chatters];
            }
        }
        Ok(totals)
    }

    /// Reads the reports of each room's `nodes` and counts the room.
    async fn merge(
        &self,
        rooms: &[Keys],
        nodes: Vec<Vec<String>>,
    ) -> redis::RedisResult<Vec<Audience>> {
        let mut conn = self.conn.clone();
        let mut pipe = SlotPipe::new();
        let mut reports_at = Vec::with_capacity(rooms.len());
        for (keys, nodes) in rooms.iter().zip(&nodes) {
            if nodes.is_empty() {
                reports_at.push(None);
                continue;
            }
            let mut get = cmd("MGET");
            for node in nodes {
                get.arg(keys.report(node));
            }
            reports_at.push(Some(pipe.keep(get)));
        }
        let answers = pipe.run(&mut conn).await?;

        let mut pipe = SlotPipe::new();
        // Per room: its live reports, and per kind where its union count is.
        let mut plans = Vec::with_capacity(rooms.len());
        for ((keys, nodes), at) in rooms.iter().zip(&nodes).zip(reports_at) {
            let texts: Vec<Option<String>> = match at {
                Some(at) => answer(&answers, at)?,
                None => Vec::new(),
            };
            let mut live = Vec::new();
            let mut dead = Vec::new();
            for (node, text) in nodes.iter().zip(texts) {
                match text.as_deref().and_then(Report::decode) {
                    Some(report) => live.push((node.as_str(), report)),
                    None => dead.push(node.as_str()),
                }
            }
            if !dead.is_empty() {
                let mut forget = cmd("SREM");
                forget.arg(keys.nodes()).arg(&dead);
                pipe.skip(forget);
            }
            let mut unions = [None, None];
            let reports: Vec<Report> = live.iter().map(|(_, r)| *r).collect();
            for (kind, union) in unions.iter_mut().enumerate() {
                let Merge::Union(storage) = merge_plan(&reports, kind) else {
                    continue;
                };
                let sources: Vec<String> = live
                    .iter()
                    .map(|(node, _)| keys.users(node, kind, storage))
                    .collect();
                if sources.is_empty() {
                    continue;
                }
                let count = match storage {
                    Storage::Set => {
                        let scratch = keys.union(&self.node);
                        let mut union = cmd("SUNIONSTORE");
                        union.arg(&scratch).arg(&sources);
                        let at = pipe.keep(union);
                        let mut drop = cmd("DEL");
                        drop.arg(&scratch);
                        pipe.skip(drop);
                        at
                    }
                    Storage::Hll => {
                        let mut count = cmd("PFCOUNT");
                        count.arg(&sources);
                        pipe.keep(count)
                    }
                };
                *union = Some(count);
            }
            plans.push((reports, unions));
        }
        let answers = pipe.run(&mut conn).await?;
        let mut totals = Vec::with_capacity(plans.len());
        for (reports, unions) in plans {
            let mut counts = [0u64; 2];
            for (kind, count) in counts.iter_mut().enumerate() {
                let union = match unions[kind] {
                    Some(at) => Some(answer::<u64>(&answers, at)?),
                    None if matches!(merge_plan(&reports, kind), Merge::Union(_)) => Some(0),
                    None => None,
                };
                *count = total(&reports, kind, union);
            }
            totals.push(Audience {
                viewers: counts[0],
                chatters: counts[1],
            });
        }
        Ok(totals)
    }

    /// A stream's audience over all nodes, without reporting.
    async fn audience(&self, schema: &SchemaName, stream_id: i32) -> redis::RedisResult<Audience> {
        let keys = Keys::new(schema, stream_id);
        let nodes: Vec<String> = cmd("SMEMBERS")
            .arg(keys.nodes())
            .query_async(&mut self.conn.clone())
            .await?;
        let totals = self.merge(std::slice::from_ref(&keys), vec![nodes]).await?;
        Ok(totals.into_iter().next().unwrap_or_default())
    }
}

/// Replaces this node's stored users of a room with `copy`.
fn write_roster(
    pipe: &mut SlotPipe,
    keys: &Keys,
    node: &str,
    storage: [Storage; 2],
    copy: &RosterCopy,
) {
    for (kind, ids) in [&copy.users, &copy.chatters].into_iter().enumerate() {
        // Whichever storage the key had, it starts again empty.
        for old in [Storage::Set, Storage::Hll] {
            let mut del = cmd("DEL");
            del.arg(keys.users(node, kind, old));
            pipe.skip(del);
        }
        if ids.is_empty() {
            continue;
        }
        let key = keys.users(node, kind, storage[kind]);
        let mut add = cmd(match storage[kind] {
            Storage::Set => "SADD",
            Storage::Hll => "PFADD",
        });
        add.arg(&key).arg(ids);
        pipe.skip(add);
        let mut expire = cmd("EXPIRE");
        expire.arg(&key).arg(TTL.as_secs());
        pipe.skip(expire);
    }
}

/// What [`bench`] measured for one node's reporting round.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub rooms: usize,
    pub viewers_per_room: usize,
    pub nodes: usize,
    /// The first round, which writes every roster (milliseconds).
    pub first_ms: f64,
    /// A round in which no roster changed: reports and TTLs renewed.
    pub steady_ms: f64,
    /// A round in which every roster of the node changed and is rewritten.
    pub churn_ms: f64,
    /// Commands Redis ran for the steady and the churn round (`INFO`).
    pub steady_commands: u64,
    pub churn_commands: u64,
    /// Redis's own CPU time (user + system) for those rounds, milliseconds.
    pub steady_redis_cpu_ms: f64,
    pub churn_redis_cpu_ms: f64,
    /// The largest error of a room's merged viewers or chatters in the
    /// steady round, in percent of the distinct count (0 with sets).
    pub max_error_pct: f64,
}

/// Measures the reporting round against the Redis at `redis_url` with
/// synthetic rooms (no sockets): `rooms` rooms of `viewers` users spread
/// over `nodes` nodes round-robin, user 1 on every node (counted once) and
/// each node's first three users chatters. Writes keys under the schema
/// `presence_bench`; they expire (the node sets are deleted at the end).
pub async fn bench(
    redis_url: &str,
    rooms: usize,
    viewers: usize,
    nodes: usize,
) -> redis::RedisResult<BenchReport> {
    let invalid = |what: &'static str| redis::RedisError::from((redis::ErrorKind::Client, what));
    if rooms == 0 || viewers == 0 || nodes == 0 {
        return Err(invalid("rooms, viewers and nodes must be positive"));
    }
    let schema = SchemaName::parse("presence_bench").map_err(|_| invalid("schema name"))?;
    let mut reporters = Vec::with_capacity(nodes);
    for _ in 0..nodes {
        let target = RedisTarget::single(redis_url).map_err(|_| invalid("redis url"))?;
        reporters.push(connect(&target).await?);
    }
    let keys: Vec<RoomKey> = (0..rooms)
        .map(|r| RoomKey {
            tenant_id: 0,
            stream_id: i32::try_from(r + 1).unwrap_or(i32::MAX),
        })
        .collect();
    // stats[node][room]
    let stats: Vec<Vec<RoomStats>> = (0..nodes)
        .map(|node| {
            keys.iter()
                .map(|_| {
                    let mut users: Vec<i32> = (1..=viewers as i32)
                        .filter(|u| (*u as usize) % nodes == node || *u == 1)
                        .collect();
                    users.dedup();
                    let chatters: Vec<i32> = users.iter().copied().take(3).collect();
                    let stats = RoomStats::default();
                    stats.viewers.store(users.len(), Ordering::Relaxed);
                    stats.chatters.store(chatters.len(), Ordering::Relaxed);
                    stats.roster.replace(&users, 0, &chatters);
                    stats
                })
                .collect()
        })
        .collect();
    let expected_chatters: HashSet<i32> = (0..nodes)
        .flat_map(|node| {
            (1..=viewers as i32)
                .filter(move |u| (*u as usize) % nodes == node || *u == 1)
                .take(3)
        })
        .collect();
    let mut written: Vec<HashMap<RoomKey, Written>> = vec![HashMap::new(); nodes];

    async fn round(
        reporter: &RedisPresence,
        rooms: &[RoomRef<'_>],
        written: &mut HashMap<RoomKey, Written>,
    ) -> redis::RedisResult<Vec<Audience>> {
        let mut totals = Vec::with_capacity(rooms.len());
        for batch in rooms.chunks(BATCH) {
            totals.extend(reporter.report_and_total(batch, written).await?);
        }
        Ok(totals)
    }
    let refs = |node: usize| -> Vec<RoomRef<'_>> {
        keys.iter()
            .zip(&stats[node])
            .map(|(key, stats)| RoomRef {
                key: *key,
                schema: &schema,
                stats,
            })
            .collect()
    };

    // First rounds: every node writes its rosters; node 0's is timed. A
    // second pass lets rooms above the threshold switch to HyperLogLogs, so
    // that the steady round below is steady.
    let mut first_ms = 0.0;
    for pass in 0..2 {
        for (node, reporter) in reporters.iter().enumerate() {
            let started = std::time::Instant::now();
            round(reporter, &refs(node), &mut written[node]).await?;
            if node == 0 && pass == 0 {
                first_ms = ms(started.elapsed());
            }
        }
    }
    let mut conn = reporters[0].conn.clone();
    let before = server_counters(&mut conn).await?;
    let started = std::time::Instant::now();
    let totals = round(&reporters[0], &refs(0), &mut written[0]).await?;
    let steady_ms = ms(started.elapsed());
    let steady = server_counters(&mut conn).await?;
    let error = |got: u64, want: usize| (got as f64 - want as f64).abs() * 100.0 / want as f64;
    let max_error_pct = totals
        .iter()
        .map(|t| error(t.viewers, viewers).max(error(t.chatters, expected_chatters.len())))
        .fold(0.0, f64::max);

    for stats in &stats[0] {
        if let Some(copy) = stats.roster.copy_if_changed(None) {
            stats
                .roster
                .replace(&copy.users, copy.anonymous, &copy.chatters);
        }
    }
    let before_churn = server_counters(&mut conn).await?;
    let started = std::time::Instant::now();
    round(&reporters[0], &refs(0), &mut written[0]).await?;
    let churn_ms = ms(started.elapsed());
    let churn = server_counters(&mut conn).await?;

    let mut cleanup = redis::pipe();
    for key in &keys {
        cleanup
            .del(Keys::new(&schema, key.stream_id).nodes())
            .ignore();
    }
    cleanup.query_async::<()>(&mut conn).await?;
    // Each INFO pair counts one of its own commands.
    Ok(BenchReport {
        rooms,
        viewers_per_room: viewers,
        nodes,
        first_ms,
        steady_ms,
        churn_ms,
        steady_commands: (steady.0 - before.0).saturating_sub(1) as u64,
        churn_commands: (churn.0 - before_churn.0).saturating_sub(1) as u64,
        steady_redis_cpu_ms: (steady.1 - before.1) * 1000.0,
        churn_redis_cpu_ms: (churn.1 - before_churn.1) * 1000.0,
        max_error_pct,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Redis's commands processed and CPU seconds (user + system) so far.
async fn server_counters(conn: &mut RedisConn) -> redis::RedisResult<(i64, f64)> {
    let info: String = cmd("INFO").arg("all").query_async(conn).await?;
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
            .unwrap_or("0")
            .to_owned()
    };
    let commands = field("total_commands_processed").parse().unwrap_or(0);
    let cpu = ["used_cpu_user", "used_cpu_sys"]
        .iter()
        .map(|name| field(name).parse::<f64>().unwrap_or(0.0))
        .sum();
    Ok((commands, cpu))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(viewers: u64, chatters: u64, anonymous: u64, storage: [Storage; 2]) -> Report {
        Report {
            local: Audience { viewers, chatters },
            anonymous,
            storage: Some(storage),
        }
    }

    #[test]
    fn reports_round_trip_and_older_ones_are_read() {
        let r = report(12, 3, 2, [Storage::Hll, Storage::Set]);
        assert_eq!(r.encode(), "12 3 2 h s");
        assert_eq!(Report::decode(&r.encode()), Some(r));
        let old = Report::decode("7 1").expect("older report");
        assert_eq!((old.local.viewers, old.storage), (7, None));
        assert_eq!(Report::decode("7 x 1 s s"), None);
        assert_eq!(Report::decode("7 1 1 q s"), None);
        assert_eq!(Report::decode(""), None);
    }

    #[test]
    fn union_plus_anonymous_readers_when_nodes_agree() {
        use Storage::*;
        let reports = [report(3, 1, 1, [Set, Set]), report(2, 1, 0, [Set, Set])];
        assert_eq!(merge_plan(&reports, 0), Merge::Union(Set));
        // Users {1, 2} on one node and {1, 2} on the other; one anonymous reader.
        assert_eq!(total(&reports, 0, Some(2)), 3);
        assert_eq!(total(&reports, 1, Some(1)), 1);
    }

    #[test]
    fn disagreeing_or_older_nodes_are_summed() {
        use Storage::*;
        let mixed = [report(3, 1, 0, [Set, Set]), report(2, 1, 0, [Hll, Set])];
        assert_eq!(merge_plan(&mixed, 0), Merge::Sum);
        assert_eq!(merge_plan(&mixed, 1), Merge::Union(Set));
        assert_eq!(total(&mixed, 0, None), 5);
        let mut old = mixed;
        old[1].storage = None;
        assert_eq!(merge_plan(&old, 1), Merge::Sum);
        assert_eq!(total(&old, 1, None), 2);
        assert_eq!(merge_plan(&[], 0), Merge::Union(Set));
    }

    #[test]
    fn storage_switches_above_the_threshold_and_back_below_the_lower_one() {
        use Storage::*;
        assert_eq!(Set.next(HLL_ABOVE), Set);
        assert_eq!(Set.next(HLL_ABOVE + 1), Hll);
        assert_eq!(Hll.next(HLL_ABOVE), Hll);
        assert_eq!(Hll.next(EXACT_BELOW), Hll);
        assert_eq!(Hll.next(EXACT_BELOW - 1), Set);
    }
}
