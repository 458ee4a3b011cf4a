//! The command line: scenarios, their flags and the bounds every run keeps.

use std::net::SocketAddr;

use anyhow::bail;
use clap::{Parser, Subcommand};

const MAX_CONNECTIONS: usize = 60_000;
const MAX_DURATION_SECS: u64 = 600;
const MAX_LOGIN_ATTEMPTS: usize = 20_000;

#[derive(Parser)]
#[command(
    name = "stampede-loadgen",
    about = "Load generator for Stampede (loopback only)"
)]
pub struct Args {
    #[command(subcommand)]
    pub scenario: Scenario,
}

#[derive(clap::Args, Clone)]
pub struct Common {
    /// Server address; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    /// Host header (the tenant's domain).
    #[arg(long, default_value = "demo.localhost")]
    pub host: String,
    /// Stream id(s) to join, comma-separated; viewer `i` joins the
    /// `i mod n`-th (as `stampede bench-setup --streams n` prints them).
    #[arg(long, value_delimiter = ',', required = true)]
    pub stream: Vec<i32>,
    /// File with one `sessionid=…` cookie per line (from `stampede bench-setup`).
    #[arg(long)]
    pub cookies: std::path::PathBuf,
    /// Connections to open (cookies are reused round-robin if fewer).
    #[arg(long, default_value_t = 1000)]
    pub viewers: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Server process to sample CPU time and memory from.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Postgres URL, to count stored rows after the run.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Tenant schema for the row count.
    #[arg(long, default_value = "demo")]
    pub schema: String,
    /// Handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum Scenario {
    /// Every viewer reacts at `--rate` per second.
    Reactions {
        #[command(flatten)]
        common: Common,
        /// Reactions per viewer per second.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
    },
    /// Open `--viewers` connections and hold them: handshake rate and server
    /// memory per connection.
    Idle {
        #[command(flatten)]
        common: Common,
    },
    /// `--attempts` concurrent failed logins, each from its own address (sent
    /// as `X-Forwarded-For`: start the server with `--trusted-proxies
    /// 127.0.0.1/32`), while one valid login is made: server memory and the
    /// valid login's latency.
    LoginFlood(LoginFlood),
    /// Notification sockets, one per user per node: an admin broadcast timed
    /// to every device, then mark-read timed from one device to the other.
    Notify(NotifyArgs),
    /// `--senders` of the viewers chat at `--rate` messages per second each.
    Fanout {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 10)]
        senders: usize,
        /// Messages per sender per second.
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        /// Every message mentions one user `{prefix}{k}` (k in
        /// 1..=`--mention-users`, varying per message), as `bench-setup`
        /// names them: the cost of mentions on the chat path.
        #[arg(long)]
        mention_prefix: Option<String>,
        #[arg(long, default_value_t = 1000)]
        mention_users: u32,
    },
}

#[derive(clap::Args, Clone)]
pub struct LoginFlood {
    /// Server address; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    /// Host header (the tenant's domain).
    #[arg(long, default_value = "demo.localhost")]
    pub host: String,
    /// Failed logins sent at once.
    #[arg(long, default_value_t = 1000)]
    pub attempts: usize,
    /// The valid login made during the flood.
    #[arg(long, default_value = "alice")]
    pub username: String,
    #[arg(long, default_value = "stampede")]
    pub password: String,
    /// Server process to sample memory from.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

#[derive(clap::Args, Clone)]
pub struct NotifyArgs {
    /// The nodes, comma-separated loopback addresses: each user gets one
    /// device on each.
    #[arg(long, value_delimiter = ',', required = true)]
    pub addrs: Vec<SocketAddr>,
    /// Host header (the tenant's domain).
    #[arg(long, default_value = "demo.localhost")]
    pub host: String,
    /// File with one `sessionid=…` cookie per line (from `stampede bench-setup`).
    #[arg(long)]
    pub cookies: std::path::PathBuf,
    /// Users this generator connects (devices: users × nodes).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Cookies skipped first, so that generators take distinct users.
    #[arg(long, default_value_t = 0)]
    pub user_offset: usize,
    /// Written once every device of this generator has its sync.
    #[arg(long)]
    pub ready_file: Option<std::path::PathBuf>,
    /// This generator posts the broadcast (as `--admin`), once its devices
    /// and those of every `--wait-ready` generator are synced.
    #[arg(long)]
    pub broadcast: bool,
    #[arg(long, value_delimiter = ',')]
    pub wait_ready: Vec<std::path::PathBuf>,
    #[arg(long, default_value = "admin")]
    pub admin: String,
    #[arg(long, default_value = "stampede")]
    pub admin_password: String,
    /// Where the broadcaster writes when it posted (µs since the epoch);
    /// every generator measures deliveries from it.
    #[arg(long)]
    pub posted_file: std::path::PathBuf,
    /// Users that mark the broadcast read on one device, timed to the other.
    #[arg(long, default_value_t = 500)]
    pub read_samples: usize,
    /// Read marks per second.
    #[arg(long, default_value_t = 100.0)]
    pub read_rate: f64,
    /// Seconds to wait for the others, the broadcast and the read marks.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

impl NotifyArgs {
    /// Bounded and loopback only, like every run.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.addrs.iter().any(|a| !a.ip().is_loopback()) {
            bail!("refusing to load a non-loopback address");
        }
        let devices = self.users.saturating_mul(self.addrs.len());
        if self.users == 0 || devices > MAX_CONNECTIONS {
            bail!("--users × nodes must be 1..={MAX_CONNECTIONS}");
        }
        if self.timeout == 0 || self.timeout > MAX_DURATION_SECS {
            bail!("--timeout must be 1..={MAX_DURATION_SECS}");
        }
        Ok(())
    }
}

impl Common {
    /// Every socket run is bounded in connections and duration and only
    /// targets loopback.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.addr.ip().is_loopback() {
            bail!("refusing to load a non-loopback address");
        }
        if self.viewers == 0 || self.viewers > MAX_CONNECTIONS {
            bail!("--viewers must be 1..={MAX_CONNECTIONS}");
        }
        if self.duration == 0 || self.duration > MAX_DURATION_SECS {
            bail!("--duration must be 1..={MAX_DURATION_SECS}");
        }
        Ok(())
    }
}

impl LoginFlood {
    /// A flood is bounded in attempts and only targets loopback.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.addr.ip().is_loopback() {
            bail!("refusing to load a non-loopback address");
        }
        if self.attempts == 0 || self.attempts > MAX_LOGIN_ATTEMPTS {
            bail!("--attempts must be 1..={MAX_LOGIN_ATTEMPTS}");
        }
        Ok(())
    }
}
