//! Settings for `stampede serve`, from flags or `STAMPEDE_*` environment
//! variables. No other module reads the environment.

use std::net::SocketAddr;
use std::time::Duration;

/// Most chat rows in one INSERT. A commit publishes its whole batch at
/// once, so the broadcast ring must hold one batch beyond the join history
/// a new socket sends first (checked in [`ServeConfig::validate`]).
pub const MAX_CHAT_BATCH: usize = 256;

/// Everything the server can be tuned with. Build with clap or [`Default`].
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "STAMPEDE_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// Let several server processes listen on the same address (SO_REUSEPORT);
    /// the kernel spreads connections over them. Use with `--redis-url`.
    #[arg(long, env = "STAMPEDE_REUSE_PORT")]
    pub reuse_port: bool,
    /// Mark the `sessionid` cookie `Secure` (set this behind HTTPS).
    #[arg(long, env = "STAMPEDE_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Extra origins (e.g. `https://embed.example.com`) allowed to open
    /// WebSockets and call the API besides the tenant's own host.
    #[arg(long, env = "STAMPEDE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Longest chat message accepted, in characters after trimming.
    #[arg(long, env = "STAMPEDE_MAX_MESSAGE_CHARS", default_value_t = 500)]
    pub max_message_chars: usize,
    /// Seconds after sending during which authors may edit a message (0:
    /// editing is off).
    #[arg(long, env = "STAMPEDE_EDIT_WINDOW_SECS", default_value_t = 120)]
    pub edit_window_secs: u64,
    /// Seconds a line held by auto-moderation waits for a moderator before
    /// it is denied automatically.
    #[arg(long, env = "STAMPEDE_HELD_EXPIRY_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub held_expiry_secs: u64,
    /// Chat messages a user may send per `chat_rate_period_secs` (per tenant).
    #[arg(long, env = "STAMPEDE_CHAT_RATE_LIMIT", default_value_t = 20)]
    pub chat_rate_limit: u32,
    /// Window of the chat rate limit, in seconds.
    #[arg(long, env = "STAMPEDE_CHAT_RATE_PERIOD_SECS", default_value_t = 30)]
    pub chat_rate_period_secs: u64,
    /// Message searches a user may run per minute (per tenant): the most
    /// expensive read a viewer can ask for.
    #[arg(long, env = "STAMPEDE_SEARCH_PER_MINUTE", default_value_t = 30)]
    pub search_per_minute: u32,
    /// Milliseconds of work after which a search page stops and returns
    /// what it found, with `next` where it stopped.
    #[arg(long, env = "STAMPEDE_SEARCH_BUDGET_MS", default_value_t = 70)]
    pub search_budget_ms: u64,
    /// Reactions a user may send per second (sustained, per tenant).
    #[arg(long, env = "STAMPEDE_REACTION_RATE", default_value_t = 10)]
    pub reaction_rate_per_sec: u32,
    /// Reactions a user may send at once before the per-second rate applies.
    #[arg(long, env = "STAMPEDE_REACTION_BURST", default_value_t = 20)]
    pub reaction_burst: u32,
    /// Milliseconds a room collects reactions before broadcasting them.
    #[arg(long, env = "STAMPEDE_REACTION_TICK_MS", default_value_t = 150)]
    pub reaction_tick_ms: u64,
    /// Reactions per tick up to which each is sent as its own seed-shaped
    /// event; above it the tick is sent as one `reaction.burst`.
    #[arg(long, env = "STAMPEDE_REACTION_BURST_THRESHOLD", default_value_t = 20)]
    pub reaction_burst_threshold: usize,
    /// Longest time an accepted reaction waits before its row is written.
    #[arg(long, env = "STAMPEDE_REACTION_FLUSH_MS", default_value_t = 100)]
    pub reaction_flush_ms: u64,
    /// Join/leave notices are announced only while a room has at most this
    /// many sockets on the node: in a big room they would cost every viewer
    /// a frame per arrival (a reconnect storm would be quadratic).
    #[arg(long, env = "STAMPEDE_ANNOUNCE_JOINS_UP_TO", default_value_t = 200)]
    pub announce_joins_up_to: usize,
    /// Frames a socket may fall behind in its room's broadcast ring before
    /// the room closes it as too slow (4408); also the size of that ring and
    /// of each socket's mailbox for frames addressed to it alone.
    #[arg(long, env = "STAMPEDE_OUTBOUND_QUEUE", default_value_t = 1024)]
    pub outbound_queue: usize,
    /// Messages replayed to a socket when it joins.
    #[arg(long, env = "STAMPEDE_HISTORY_SIZE", default_value_t = 50)]
    pub history_size: usize,
    /// Seconds between server pings; a socket silent for two intervals is closed.
    #[arg(long, env = "STAMPEDE_PING_INTERVAL_SECS", default_value_t = 20)]
    pub ping_interval_secs: u64,
    /// Seconds an empty room's actor lingers before it stops.
    #[arg(long, env = "STAMPEDE_ROOM_IDLE_SECS", default_value_t = 30)]
    pub room_idle_secs: u64,
    /// Redis for the multi-node channel layer (e.g. `redis://127.0.0.1:6379`).
    /// Unset: single node, in-process channel layer.
    #[arg(long, env = "REDIS_URL", conflicts_with = "redis_cluster_urls")]
    pub redis_url: Option<String>,
    /// Nodes of a Redis Cluster (comma list; any few will do, the rest are
    /// discovered), instead of `--redis-url`: rooms spread over the shards
    /// with sharded pub/sub (Redis ≥ 7).
    #[arg(long, env = "REDIS_CLUSTER_URLS", value_delimiter = ',')]
    pub redis_cluster_urls: Vec<String>,
    /// Milliseconds a global limit check (one Lua script in Redis) may take
    /// before the node decides with its local limiters instead.
    #[arg(long, env = "STAMPEDE_GLOBAL_LIMIT_TIMEOUT_MS", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=5_000))]
    pub global_limit_timeout_ms: u64,
    /// Postgres connections in the pool.
    #[arg(long, env = "STAMPEDE_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,
    /// Bearer token `/metrics` requires. With neither this nor
    /// `--metrics-bind`, `/metrics` is off (404).
    #[arg(long, env = "STAMPEDE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A separate (private) address serving only `/metrics`; the public
    /// listener then answers `/metrics` only with `--metrics-token`.
    #[arg(long, env = "STAMPEDE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Failed logins for one username from one address within
    /// `login_failure_window_secs` before that pair is refused (429).
    #[arg(long, env = "STAMPEDE_LOGIN_FAILURES_PER_USER", default_value_t = 5)]
    pub login_failures_per_user: u32,
    /// Failed logins from one address within the window before every login
    /// from it is refused (429).
    #[arg(long, env = "STAMPEDE_LOGIN_FAILURES_PER_IP", default_value_t = 30)]
    pub login_failures_per_ip: u32,
    /// The window failed logins are counted in, in seconds.
    #[arg(
        long,
        env = "STAMPEDE_LOGIN_FAILURE_WINDOW_SECS",
        default_value_t = 900
    )]
    pub login_failure_window_secs: u64,
    /// Password hashes computed at once (each holds ~19 MiB and a core).
    #[arg(long, env = "STAMPEDE_MAX_CONCURRENT_HASHES", default_value_t = cores())]
    pub max_concurrent_hashes: usize,
    /// Logins waiting for a hashing slot before further ones answer 503.
    #[arg(long, env = "STAMPEDE_MAX_QUEUED_HASHES", default_value_t = 64)]
    pub max_queued_hashes: usize,
    /// Proxies (CIDR list) whose `Forwarded` / `X-Forwarded-For` headers
    /// name the client; from anyone else those headers are ignored.
    #[arg(long, env = "STAMPEDE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Open chat sockets one user may hold per tenant on this node; the next
    /// handshake answers 429 `too_many_connections`.
    #[arg(long, env = "STAMPEDE_MAX_SOCKETS_PER_USER", default_value_t = 10)]
    pub max_sockets_per_user: usize,
    /// Open TCP connections one client address may hold (WebSockets
    /// included); more are closed at accept. Trusted proxies are exempt.
    #[arg(long, env = "STAMPEDE_MAX_CONNECTIONS_PER_IP", default_value_t = 1000)]
    pub max_connections_per_ip: usize,
    /// Seconds a request's headers may take from its first byte (and a new
    /// connection to send its first request) before the connection is closed.
    #[arg(long, env = "STAMPEDE_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a keep-alive connection may idle between requests.
    #[arg(long, env = "STAMPEDE_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// Seconds a request body may take to arrive (408 past it).
    #[arg(long, env = "STAMPEDE_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// Seconds between refreshes of a live stream's analytics page: often
    /// enough to watch a stream unfold, rare enough that a room of analysts
    /// costs the database little.
    #[arg(long, env = "STAMPEDE_ANALYTICS_REFRESH_SECS", default_value_t = 15)]
    pub analytics_refresh_secs: u64,
    /// Read notifications older than this many days are deleted (hourly).
    /// Unread ones are kept however old.
    #[arg(
        long,
        env = "STAMPEDE_NOTIFICATION_RETENTION_DAYS",
        default_value_t = 90
    )]
    pub notification_retention_days: u32,
    /// Notifications queued for the batching writer at most; past it new
    /// ones are dropped (counted in `stampede_notifications_dropped_total`)
    /// rather than slowing the chat that produced them.
    #[arg(long, env = "STAMPEDE_NOTIFICATION_QUEUE", default_value_t = 8192)]
    pub notification_queue: usize,
    /// A device gets at most one `notification.new` frame per this many
    /// milliseconds; a burst in between becomes one frame with a count.
    #[arg(
        long,
        env = "STAMPEDE_NOTIFICATION_COALESCE_MS",
        default_value_t = 1000
    )]
    pub notification_coalesce_ms: u64,
    /// Text of moderation notices.
    #[command(flatten)]
    pub wording: Wording,
}

impl Default for ServeConfig {
    /// The defaults written in the clap attributes above (the only place
    /// they are written): an empty command line, the environment ignored.
    fn default() -> Self {
        use clap::{Args, FromArgMatches};
        let command =
            ServeConfig::augment_args(clap::Command::new("stampede")).mut_args(|arg| arg.env(None));
        let parsed = command
            .try_get_matches_from(["stampede"])
            .map_err(|e| e.to_string())
            .and_then(|m| ServeConfig::from_arg_matches(&m).map_err(|e| e.to_string()));
        match parsed {
            Ok(config) => config,
            // Every flag has a default, so this cannot happen; the unit test
            // below would fail first.
            Err(err) => unreachable!("defaults do not parse: {err}"),
        }
    }
}

/// Cores this process may use: the default number of concurrent hashes.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The text of moderation notices in chat. `{user}` is the target's
/// username, `{duration}` a timeout's length, `{seconds}` the slow-mode interval.
#[derive(Debug, Clone, clap::Args)]
pub struct Wording {
    #[arg(
        long = "text-ban",
        env = "STAMPEDE_TEXT_BAN",
        default_value = "{user} has been banned"
    )]
    pub ban: String,
    #[arg(
        long = "text-timeout",
        env = "STAMPEDE_TEXT_TIMEOUT",
        default_value = "{user} has been timed out for {duration}"
    )]
    pub timeout: String,
    #[arg(
        long = "text-unban",
        env = "STAMPEDE_TEXT_UNBAN",
        default_value = "{user} is no longer banned"
    )]
    pub unban: String,
    #[arg(
        long = "text-delete",
        env = "STAMPEDE_TEXT_DELETE",
        default_value = "A message was removed by a moderator"
    )]
    pub delete: String,
    #[arg(
        long = "text-clear-user",
        env = "STAMPEDE_TEXT_CLEAR_USER",
        default_value = "Messages from {user} were removed by a moderator"
    )]
    pub clear_user: String,
    #[arg(
        long = "text-clear",
        env = "STAMPEDE_TEXT_CLEAR",
        default_value = "Chat was cleared by a moderator"
    )]
    pub clear: String,
    #[arg(
        long = "text-pin",
        env = "STAMPEDE_TEXT_PIN",
        default_value = "A message was pinned"
    )]
    pub pin: String,
    #[arg(
        long = "text-unpin",
        env = "STAMPEDE_TEXT_UNPIN",
        default_value = "The pinned message was unpinned"
    )]
    pub unpin: String,
    #[arg(
        long = "text-slow-on",
        env = "STAMPEDE_TEXT_SLOW_ON",
        default_value = "Slow mode is on: one message every {seconds} seconds"
    )]
    pub slow_on: String,
    #[arg(
        long = "text-slow-off",
        env = "STAMPEDE_TEXT_SLOW_OFF",
        default_value = "Slow mode is off"
    )]
    pub slow_off: String,
}

/// A setting that makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting: {0}")]
pub struct ConfigError(pub String);

impl ServeConfig {
    /// Checks ranges once, at start-up, so the rest of the code can trust them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("max_message_chars", self.max_message_chars as u64),
            ("chat_rate_limit", u64::from(self.chat_rate_limit)),
            ("chat_rate_period_secs", self.chat_rate_period_secs),
            ("search_per_minute", u64::from(self.search_per_minute)),
            ("outbound_queue", self.outbound_queue as u64),
            (
                "reaction_rate_per_sec",
                u64::from(self.reaction_rate_per_sec),
            ),
            ("reaction_burst", u64::from(self.reaction_burst)),
            ("reaction_tick_ms", self.reaction_tick_ms),
            ("reaction_flush_ms", self.reaction_flush_ms),
            ("ping_interval_secs", self.ping_interval_secs),
            ("db_max_connections", u64::from(self.db_max_connections)),
            (
                "login_failures_per_user",
                u64::from(self.login_failures_per_user),
            ),
            (
                "login_failures_per_ip",
                u64::from(self.login_failures_per_ip),
            ),
            ("login_failure_window_secs", self.login_failure_window_secs),
            ("max_concurrent_hashes", self.max_concurrent_hashes as u64),
            ("max_sockets_per_user", self.max_sockets_per_user as u64),
            ("max_connections_per_ip", self.max_connections_per_ip as u64),
            ("header_timeout_secs", self.header_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("body_timeout_secs", self.body_timeout_secs),
            ("analytics_refresh_secs", self.analytics_refresh_secs),
            (
                "notification_retention_days",
                u64::from(self.notification_retention_days),
            ),
            ("notification_queue", self.notification_queue as u64),
            ("notification_coalesce_ms", self.notification_coalesce_ms),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ConfigError(format!("{name} must be at least 1")));
            }
        }
        // A joiner's mailbox gets the history at once, and its writer sends
        // it before reading the ring, where a commit may append a whole
        // batch meanwhile: a healthy joiner must not count as lagging.
        let burst = self.history_size + MAX_CHAT_BATCH;
        if self.outbound_queue <= burst {
            return Err(ConfigError(format!(
                "outbound_queue must exceed history_size + {} (= {burst})",
                MAX_CHAT_BATCH
            )));
        }
        if self
            .metrics_token
            .as_deref()
            .is_some_and(|t| t.len() < 16 || !t.is_ascii() || t.contains(char::is_whitespace))
        {
            return Err(ConfigError(
                "metrics_token must be at least 16 printable ASCII characters".into(),
            ));
        }
        for origin in &self.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "allowed origin {origin:?} must start with http:// or https://"
                )));
            }
        }
        Ok(())
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    pub fn login_failure_window(&self) -> Duration {
        Duration::from_secs(self.login_failure_window_secs)
    }

    pub fn held_expiry(&self) -> Duration {
        Duration::from_secs(self.held_expiry_secs)
    }

    /// The Redis of `--redis-url` or `--redis-cluster-urls`; `None`: single node.
    pub fn redis_target(
        &self,
    ) -> Result<Option<crate::redis_conn::RedisTarget>, crate::redis_conn::RedisUrlError> {
        crate::redis_conn::RedisTarget::from_flags(
            self.redis_url.as_deref(),
            &self.redis_cluster_urls,
        )
    }

    pub fn chat_rate_period(&self) -> Duration {
        Duration::from_secs(self.chat_rate_period_secs)
    }

    pub fn global_limit_timeout(&self) -> Duration {
        Duration::from_millis(self.global_limit_timeout_ms)
    }

    pub fn reaction_tick(&self) -> Duration {
        Duration::from_millis(self.reaction_tick_ms)
    }

    pub fn reaction_flush(&self) -> Duration {
        Duration::from_millis(self.reaction_flush_ms)
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs)
    }

    pub fn notification_coalesce(&self) -> Duration {
        Duration::from_millis(self.notification_coalesce_ms)
    }

    pub fn room_idle(&self) -> Duration {
        Duration::from_secs(self.room_idle_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_flags_and_are_valid() {
        let config = ServeConfig::default();
        assert_eq!(config.bind, SocketAddr::from(([127, 0, 0, 1], 8000)));
        assert_eq!(config.max_message_chars, 500);
        assert_eq!(config.login_failures_per_user, 5);
        assert_eq!(config.max_connections_per_ip, 1000);
        assert_eq!(config.max_concurrent_hashes, cores());
        assert!(config.redis_url.is_none() && config.trusted_proxies.is_empty());
        assert_eq!(config.wording.ban, "{user} has been banned");
        assert_eq!(config.notification_retention_days, 90);
        config.validate().expect("defaults are valid");
    }
}
