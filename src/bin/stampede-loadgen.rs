//! `stampede-loadgen`: drives a running Stampede over real WebSockets on
//! loopback and reports throughput, latency, loss and server cost.
//!
//! Prepare users and cookies with `stampede bench-setup`, start the server,
//! then e.g. `stampede-loadgen reactions --cookies cookies.txt --stream 2
//! --viewers 1000 --rate 5 --duration 30 --server-pid $(pgrep -f 'stampede serve')`.
//! Every run is bounded in connections and duration and only targets loopback.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt, TryStreamExt};
use memchr::memmem;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const MAX_CONNECTIONS: usize = 60_000;
const MAX_DURATION_SECS: u64 = 600;

#[derive(Parser)]
#[command(
    name = "stampede-loadgen",
    about = "Load generator for Stampede (loopback only)"
)]
struct Args {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// Server address; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Host header (the tenant's domain).
    #[arg(long, default_value = "demo.localhost")]
    host: String,
    /// Stream id(s) to join, comma-separated; viewer `i` joins the
    /// `i mod n`-th (as `stampede bench-setup --streams n` prints them).
    #[arg(long, value_delimiter = ',', required = true)]
    stream: Vec<i32>,
    /// File with one `sessionid=…` cookie per line (from `stampede bench-setup`).
    #[arg(long)]
    cookies: std::path::PathBuf,
    /// Connections to open (cookies are reused round-robin if fewer).
    #[arg(long, default_value_t = 1000)]
    viewers: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Server process to sample CPU time and memory from.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Postgres URL, to count stored rows after the run.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Tenant schema for the row count.
    #[arg(long, default_value = "demo")]
    schema: String,
    /// Handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Scenario {
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
    /// `--senders` of the viewers chat at `--rate` messages per second each.
    Fanout {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 10)]
        senders: usize,
        /// Messages per sender per second.
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
    },
}

#[derive(clap::Args, Clone)]
struct LoginFlood {
    /// Server address; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Host header (the tenant's domain).
    #[arg(long, default_value = "demo.localhost")]
    host: String,
    /// Failed logins sent at once.
    #[arg(long, default_value_t = 1000)]
    attempts: usize,
    /// The valid login made during the flood.
    #[arg(long, default_value = "alice")]
    username: String,
    #[arg(long, default_value = "stampede")]
    password: String,
    /// Server process to sample memory from.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// Counters shared by all clients, for the progress line.
#[derive(Default)]
struct Live {
    sent: AtomicU64,
    frames: AtomicU64,
    errors: AtomicU64,
}

/// Receipt counts per (sender, seq); both are small dense integers.
#[derive(Default)]
struct Seen {
    by_sender: Vec<Vec<u8>>,
}

impl Seen {
    fn record(&mut self, sender: u32, seq: u64) {
        let sender = sender as usize;
        if self.by_sender.len() <= sender {
            self.by_sender.resize_with(sender + 1, Vec::new);
        }
        let seqs = &mut self.by_sender[sender];
        let seq = seq as usize;
        if seqs.len() <= seq {
            seqs.resize(seq + 1, 0);
        }
        seqs[seq] = seqs[seq].saturating_add(1);
    }

    fn unique(&self) -> u64 {
        self.by_sender.iter().flatten().filter(|&&n| n > 0).count() as u64
    }

    fn duplicates(&self) -> u64 {
        self.by_sender
            .iter()
            .flatten()
            .map(|&n| u64::from(n.saturating_sub(1)))
            .sum()
    }
}

/// What one client saw.
#[derive(Default)]
struct ClientStats {
    sent: u64,
    errors: HashMap<String, u64>,
    frames: u64,
    carried: u64,
    latencies_us: Vec<u32>,
    /// Fan-out: how often each (sender, seq) arrived.
    seen: Seen,
    /// Index into `--stream` of the room this client joined.
    room: usize,
    closed_early: bool,
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    connections: usize,
    handshake_per_sec: f64,
    /// From the first connect to the last socket open: how long a reconnect
    /// storm of this size takes to be back.
    handshake_secs: f64,
    /// Server CPU while connecting, per handshake.
    handshake_server_cpu_us: Option<f64>,
    /// Postgres CPU (all its processes) while connecting, per handshake.
    handshake_postgres_cpu_us: Option<f64>,
    duration_secs: f64,
    sent: u64,
    accepted: u64,
    accepted_per_sec: f64,
    errors: HashMap<String, u64>,
    frames_delivered: u64,
    frames_per_sec: f64,
    payload_delivered: u64,
    lost: Option<u64>,
    duplicated: Option<u64>,
    rows_stored: Option<i64>,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_p999_ms: f64,
    server_cpu_secs: Option<f64>,
    deliveries_per_cpu_sec: Option<f64>,
    server_rss_mib: Option<f64>,
    server_rss_per_conn_kib: Option<f64>,
    server_rss_added_per_conn_kib: Option<f64>,
    disconnected_early: usize,
}

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (common, kind) = match &args.scenario {
        Scenario::LoginFlood(flood) => return login_flood(flood.clone()).await,
        Scenario::Reactions { common, .. } => (common.clone(), "reactions"),
        Scenario::Fanout { common, .. } => (common.clone(), "fanout"),
        Scenario::Idle { common } => (common.clone(), "idle"),
    };
    if !common.addr.ip().is_loopback() {
        bail!("refusing to load a non-loopback address");
    }
    if common.viewers == 0 || common.viewers > MAX_CONNECTIONS {
        bail!("--viewers must be 1..={MAX_CONNECTIONS}");
    }
    if common.duration == 0 || common.duration > MAX_DURATION_SECS {
        bail!("--duration must be 1..={MAX_DURATION_SECS}");
    }
    // One file per client socket, plus a margin for the process's own.
    let files = stampede::fd_limit::raise().context("raising the open-file limit")?;
    if common.viewers as u64 + 64 > files {
        bail!(
            "--viewers {} needs more open files than this process may have ({files}); \
             split the load over several generators",
            common.viewers
        );
    }
    let cookies: Vec<String> = std::fs::read_to_string(&common.cookies)
        .with_context(|| format!("reading {}", common.cookies.display()))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if cookies.is_empty() {
        bail!("no cookies in {}", common.cookies.display());
    }

    let rows_before = count_rows(&common, kind).await?;
    let rss_before = common.server_pid.and_then(rss_kib);
    eprintln!("connecting {} sockets…", common.viewers);
    let connect_cpu_before = common.server_pid.and_then(cpu_secs);
    let pg_cpu_before = postgres_cpu_secs();
    let started = Instant::now();
    // A window of handshakes in flight, refilled as each completes (waiting
    // for whole chunks would measure the slowest handshake of each chunk).
    let mut opened: Vec<(usize, Ws)> = futures_util::stream::iter(0..common.viewers)
        .map(|i| {
            let (common, cookie) = (&common, &cookies[i % cookies.len()]);
            async move { connect(common, cookie, i).await.map(|ws| (i, ws)) }
        })
        .buffer_unordered(common.connect_concurrency.max(1))
        .try_collect()
        .await?;
    opened.sort_unstable_by_key(|(i, _)| *i);
    let sockets: Vec<Ws> = opened.into_iter().map(|(_, ws)| ws).collect();
    let handshake_secs = started.elapsed().as_secs_f64();
    let per_handshake_us = |before: Option<f64>, after: Option<f64>| {
        Some((after? - before?) * 1e6 / common.viewers as f64)
    };
    let handshake_server_cpu_us =
        per_handshake_us(connect_cpu_before, common.server_pid.and_then(cpu_secs));
    let handshake_postgres_cpu_us = per_handshake_us(pg_cpu_before, postgres_cpu_secs());
    eprintln!(
        "connected in {handshake_secs:.2}s; running {kind} for {}s",
        common.duration
    );

    let cpu_before = common.server_pid.and_then(cpu_secs);
    let live = Arc::new(Live::default());
    let run_for = Duration::from_secs(common.duration);
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(sockets.len());
    for (i, ws) in sockets.into_iter().enumerate() {
        let live = live.clone();
        let plan = match &args.scenario {
            Scenario::Reactions { rate, .. } => Plan::React { rate: *rate },
            Scenario::Fanout { senders, rate, .. } if i < *senders => Plan::Chat {
                rate: *rate,
                sender: i as u32,
            },
            Scenario::Fanout { .. } | Scenario::Idle { .. } | Scenario::LoginFlood(_) => {
                Plan::Listen
            }
        };
        let room = i % common.stream.len();
        tasks.push(tokio::spawn(client(ws, plan, room, run_for, live)));
    }
    let progress = tokio::spawn(progress(live.clone(), run_for));
    // Memory while every connection is open (read mid-run, not after they close).
    tokio::time::sleep(run_for / 2).await;
    let rss_mid = common.server_pid.and_then(rss_kib);
    let mut stats = Vec::with_capacity(tasks.len());
    for t in tasks {
        stats.push(t.await?);
    }
    progress.abort();
    eprintln!();
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu_after = common.server_pid.and_then(cpu_secs);
    let rss_kib = rss_mid.or(common.server_pid.and_then(rss_kib));
    let rows_after = count_rows(&common, kind).await?;

    let mut report = summarize(
        kind,
        &common,
        &args.scenario,
        &stats,
        handshake_secs,
        elapsed,
        rows_before,
        rows_after,
        cpu_before,
        cpu_after,
        rss_kib,
    );
    report.handshake_server_cpu_us = handshake_server_cpu_us;
    report.handshake_postgres_cpu_us = handshake_postgres_cpu_us;
    // Memory the connections added, without the process's baseline.
    if let (Some(before), Some(after)) = (rss_before, rss_kib) {
        report.server_rss_added_per_conn_kib = Some((after - before) / stats.len().max(1) as f64);
    }
    if common.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

enum Plan {
    React { rate: f64 },
    Chat { rate: f64, sender: u32 },
    Listen,
}

async fn connect(common: &Common, cookie: &str, i: usize) -> anyhow::Result<Ws> {
    // Spread client sockets over 127.0.0.1-8 to get past one address's ephemeral ports.
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % 8) as u8));
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let tcp = socket.connect(common.addr).await.context("tcp connect")?;
    tcp.set_nodelay(true)?;
    let url = format!(
        "ws://{}:{}/ws/chat/stream_{}/",
        common.host,
        common.addr.port(),
        common.stream[i % common.stream.len()]
    );
    let mut req = url.into_client_request()?;
    req.headers_mut().insert("cookie", cookie.parse()?);
    req.headers_mut().insert(
        "origin",
        format!("http://{}:{}", common.host, common.addr.port()).parse()?,
    );
    // tungstenite zero-fills its read buffer before every read; at the default
    // 128 KiB that memset was a third of the generator's CPU.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(req, MaybeTlsStream::Plain(tcp), Some(config))
            .await
            .context("websocket handshake")?;
    Ok(ws)
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

async fn client(
    mut ws: Ws,
    plan: Plan,
    room: usize,
    run_for: Duration,
    live: Arc<Live>,
) -> ClientStats {
    let mut stats = ClientStats {
        room,
        ..ClientStats::default()
    };
    let end = tokio::time::Instant::now() + run_for;
    // Send times of reactions not yet carried by a frame.
    let pending: Arc<Mutex<VecDeque<Instant>>> = Arc::default();
    if matches!(plan, Plan::Listen) {
        // Most clients only listen: reading the socket whole, not split,
        // spares every frame the lock the two halves share.
        receive(&mut ws, end, &mut stats, &pending, &live).await;
        let _ = ws.close(None).await;
        return stats;
    }
    let (sink, mut stream) = ws.split();
    // Sending has its own task so that a busy receiver does not delay sends.
    let sender = tokio::spawn(send_loop(sink, plan, end, pending.clone(), live.clone()));
    receive(&mut stream, end, &mut stats, &pending, &live).await;
    let (sent, sink) = match sender.await {
        Ok(done) => done,
        Err(_) => return stats,
    };
    stats.sent = sent;
    if let Some(sink) = sink {
        if let Ok(mut ws) = sink.reunite(stream) {
            let _ = ws.close(None).await;
        }
    }
    stats
}

/// Reads frames until the run's end plus a grace period for frames still
/// in flight, or until the server closes the socket.
async fn receive<S>(
    stream: &mut S,
    end: tokio::time::Instant,
    stats: &mut ClientStats,
    pending: &Mutex<VecDeque<Instant>>,
    live: &Live,
) where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut frames_unreported = 0u64;
    // One timer for the whole run: a fresh `sleep_until` per frame registered
    // and cancelled a timer entry for every delivery.
    let drain = tokio::time::sleep_until(end + Duration::from_secs(2));
    tokio::pin!(drain);
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(Ok(msg)) = msg else {
                    stats.closed_early = tokio::time::Instant::now() < end;
                    break;
                };
                if let Message::Text(text) = msg {
                    on_frame(text.as_str(), stats, pending, live);
                }
                // The shared counter is updated in steps: it is only for the progress line.
                if stats.frames - frames_unreported >= 32 {
                    live.frames.fetch_add(stats.frames - frames_unreported, Ordering::Relaxed);
                    frames_unreported = stats.frames;
                }
            }
            _ = &mut drain => break,
        }
    }
    live.frames
        .fetch_add(stats.frames - frames_unreported, Ordering::Relaxed);
}

type WsSink = futures_util::stream::SplitSink<Ws, Message>;

/// Sends at the plan's rate until `end`; returns how many were sent, and the
/// sink unless sending failed.
async fn send_loop(
    mut sink: WsSink,
    plan: Plan,
    end: tokio::time::Instant,
    pending: Arc<Mutex<VecDeque<Instant>>>,
    live: Arc<Live>,
) -> (u64, Option<WsSink>) {
    let rate = match plan {
        Plan::React { rate } | Plan::Chat { rate, .. } => rate,
        Plan::Listen => return (0, Some(sink)),
    };
    let mut rng = rand::rngs::SmallRng::from_os_rng();
    let period = Duration::from_secs_f64(1.0 / rate);
    // Random phase so clients don't all fire on the same millisecond.
    let first = tokio::time::Instant::now() + period.mul_f64(rng.random::<f64>());
    let mut tick = tokio::time::interval_at(first, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut sent, mut seq) = (0u64, 0u64);
    loop {
        tick.tick().await;
        if tokio::time::Instant::now() >= end {
            return (sent, Some(sink));
        }
        let frame = match plan {
            Plan::React { .. } => {
                json!({"type": "reaction", "stamp_id": rng.random_range(1..=6)}).to_string()
            }
            Plan::Chat { sender, .. } => {
                seq += 1;
                json!({"message": format!("lg {sender} {seq} {}", now_nanos())}).to_string()
            }
            Plan::Listen => unreachable!(),
        };
        if matches!(plan, Plan::React { .. }) {
            lock(&pending).push_back(Instant::now());
        }
        if sink.send(Message::Text(frame.into())).await.is_err() {
            return (sent, None);
        }
        sent += 1;
        live.sent.fetch_add(1, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn on_frame(text: &str, stats: &mut ClientStats, pending: &Mutex<VecDeque<Instant>>, live: &Live) {
    // Chat dominates fan-out runs: read it without building a JSON tree, so
    // the generator spends its share of the two cores on sockets, not parsing.
    if let Some((sender, seq, ts)) = load_message(text) {
        stats.frames += 1;
        stats.seen.record(sender, seq);
        let latency = now_nanos().saturating_sub(ts) / 1000;
        stats
            .latencies_us
            .push(latency.min(u64::from(u32::MAX)) as u32);
        return;
    }
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    match v["type"].as_str() {
        Some("reaction") | Some("reaction.burst") => {
            stats.frames += 1;
            stats.carried += if v["type"] == "reaction" {
                1
            } else {
                v["counts"]
                    .as_object()
                    .map_or(0, |c| c.values().filter_map(Value::as_u64).sum())
            };
            // Latency to the carrying event: every reaction sent before this
            // frame arrived is taken as carried by it (an upper bound of one tick).
            let now = Instant::now();
            for sent in lock(pending).drain(..) {
                stats
                    .latencies_us
                    .push(now.duration_since(sent).as_micros() as u32);
            }
        }
        Some("error") => {
            let code = v["code"].as_str().unwrap_or("?").to_owned();
            *stats.errors.entry(code).or_insert(0) += 1;
            live.errors.fetch_add(1, Ordering::Relaxed);
            lock(pending).pop_front();
        }
        _ => {}
    }
}

/// `(sender, seq, sent_at_nanos)` of a live load-test chat line
/// (`"message":"lg SENDER SEQ NANOS"`); history replays are not deliveries.
fn load_message(text: &str) -> Option<(u32, u64, u64)> {
    static MARK: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new("\"message\":\"lg "));
    static HISTORY: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new("\"history\""));
    let start = MARK.find(text.as_bytes())? + MARK.needle().len();
    if HISTORY.find(text.as_bytes()).is_some() {
        return None;
    }
    let rest = &text[start..];
    let body = &rest[..memchr::memchr(b'"', rest.as_bytes())?];
    let mut it = body.split(' ');
    let sender = it.next()?.parse().ok()?;
    let seq = it.next()?.parse().ok()?;
    let ts = it.next()?.parse().ok()?;
    Some((sender, seq, ts))
}

async fn progress(live: Arc<Live>, run_for: Duration) {
    let t0 = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let done = t0.elapsed().as_secs_f64().min(run_for.as_secs_f64());
        let width = 30;
        let filled = ((done / run_for.as_secs_f64()) * width as f64) as usize;
        eprint!(
            "\r[{}{}] {:>4.0}s sent {:>9} frames {:>10} errors {:>6}",
            "#".repeat(filled),
            " ".repeat(width - filled.min(width)),
            done,
            live.sent.load(Ordering::Relaxed),
            live.frames.load(Ordering::Relaxed),
            live.errors.load(Ordering::Relaxed)
        );
    }
}

/// One `POST /api/session` over its own connection: (status, Retry-After).
async fn login_once(
    addr: SocketAddr,
    host: &str,
    from: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<(u16, Option<u64>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = serde_json::json!({ "username": username, "password": password }).to_string();
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {from}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let retry_after = text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("retry-after")
            .then(|| value.trim().parse().ok())?
    });
    Ok((status, retry_after))
}

/// See [`Scenario::LoginFlood`].
async fn login_flood(args: LoginFlood) -> anyhow::Result<()> {
    if !args.addr.ip().is_loopback() {
        bail!("refusing to load a non-loopback address");
    }
    if args.attempts == 0 || args.attempts > 20_000 {
        bail!("--attempts must be 1..=20000");
    }
    stampede::fd_limit::raise().context("raising the open-file limit")?;
    let rss_before = args.server_pid.and_then(rss_kib);
    // Peak memory, sampled while the flood runs.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        let pid = args.server_pid;
        tokio::spawn(async move {
            let mut peak = 0.0f64;
            while sampling.load(Ordering::Relaxed) {
                if let Some(rss) = pid.and_then(rss_kib) {
                    peak = peak.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    let flood: Vec<_> = (0..args.attempts)
        .map(|i| {
            let (addr, host) = (args.addr, args.host.clone());
            // 10.a.b.c: one address per attempt, so no address is throttled.
            let from = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
            tokio::spawn(async move {
                login_once(addr, &host, &from, &format!("nobody{i}"), "wrong").await
            })
        })
        .collect();
    // The valid login, made while the flood is in flight; it retries as
    // Retry-After says, as a client would.
    let valid_started = Instant::now();
    let mut tries = 0;
    let valid_status = loop {
        tries += 1;
        let (status, retry) = login_once(
            args.addr,
            &args.host,
            "192.0.2.1",
            &args.username,
            &args.password,
        )
        .await?;
        if status != 503 || valid_started.elapsed() > Duration::from_secs(30) {
            break status;
        }
        tokio::time::sleep(Duration::from_secs(retry.unwrap_or(1))).await;
    };
    let valid_secs = valid_started.elapsed().as_secs_f64();
    let mut statuses: std::collections::BTreeMap<u16, usize> = Default::default();
    for attempt in flood {
        let status = match attempt.await? {
            Ok((status, _)) => status,
            Err(_) => 0,
        };
        *statuses.entry(status).or_default() += 1;
    }
    let flood_secs = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let peak = sampler.await?;
    let summary = serde_json::json!({
        "scenario": "login-flood",
        "attempts": args.attempts,
        "statuses": statuses,
        "flood_secs": flood_secs,
        "valid_login_status": valid_status,
        "valid_login_secs": valid_secs,
        "valid_login_tries": tries,
        "server_rss_before_mib": rss_before.map(|k| k / 1024.0),
        "server_rss_peak_mib": args.server_pid.map(|_| peak / 1024.0),
        "server_rss_growth_mib": rss_before.map(|k| (peak - k).max(0.0) / 1024.0),
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// utime + stime of `pid`, in seconds.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0) // USER_HZ is 100 on Linux
}

/// CPU time of every local process named `postgres`, in seconds (the
/// server's backends do the session and room lookups of each handshake).
fn postgres_cpu_secs() -> Option<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let is_postgres = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == "postgres");
        if is_postgres {
            total += cpu_secs(pid).unwrap_or(0.0);
        }
    }
    Some(total)
}

fn rss_kib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn count_rows(common: &Common, kind: &str) -> anyhow::Result<Option<i64>> {
    let Some(url) = &common.database_url else {
        return Ok(None);
    };
    let schema = stampede::tenant::SchemaName::parse(&common.schema)?;
    let pool = stampede::store::connect(url, 1).await?;
    let sql = match kind {
        "reactions" => format!("SELECT count(*) FROM {schema}.streaming_streamreaction WHERE stream_id = ANY($1)"),
        _ => format!(
            "SELECT count(*) FROM {schema}.chat_chatmessage m JOIN {schema}.chat_chatroom r ON r.id = m.room_id
             WHERE r.stream_id = ANY($1) AND m.content LIKE 'lg %'"
        ),
    };
    // Rows trail the load by up to one flush; wait until the count is stable.
    let mut last = -1i64;
    for _ in 0..40 {
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(&common.stream)
            .fetch_one(&pool)
            .await?;
        if n == last {
            return Ok(Some(n));
        }
        last = n;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(Some(last))
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx]) / 1000.0
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    kind: &'static str,
    common: &Common,
    scenario: &Scenario,
    stats: &[ClientStats],
    handshake_secs: f64,
    elapsed: f64,
    rows_before: Option<i64>,
    rows_after: Option<i64>,
    cpu_before: Option<f64>,
    cpu_after: Option<f64>,
    rss_kib: Option<f64>,
) -> Report {
    let sent: u64 = stats.iter().map(|s| s.sent).sum();
    let mut errors: HashMap<String, u64> = HashMap::new();
    for s in stats {
        for (k, v) in &s.errors {
            *errors.entry(k.clone()).or_insert(0) += v;
        }
    }
    let refused: u64 = errors.values().sum();
    let accepted = sent.saturating_sub(refused);
    let frames: u64 = stats.iter().map(|s| s.frames).sum();
    let carried: u64 = stats.iter().map(|s| s.carried).sum();
    let mut lat: Vec<u32> = stats
        .iter()
        .flat_map(|s| s.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let (lost, duplicated, payload) = match scenario {
        Scenario::Fanout { .. } => {
            // Every viewer should see every message accepted in its room exactly once.
            let mut accepted_in = vec![0u64; common.stream.len()];
            for s in stats {
                let refused: u64 = s.errors.values().sum();
                accepted_in[s.room] += s.sent.saturating_sub(refused);
            }
            let mut lost = 0u64;
            let mut dup = 0u64;
            for s in stats {
                lost += accepted_in[s.room].saturating_sub(s.seen.unique());
                dup += s.seen.duplicates();
            }
            (Some(lost), Some(dup), frames)
        }
        Scenario::Reactions { .. } | Scenario::Idle { .. } | Scenario::LoginFlood(_) => {
            (None, None, carried)
        }
    };
    let cpu = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let duration = common.duration as f64;
    Report {
        scenario: kind,
        connections: stats.len(),
        handshake_per_sec: stats.len() as f64 / handshake_secs.max(1e-9),
        handshake_secs,
        handshake_server_cpu_us: None,
        handshake_postgres_cpu_us: None,
        duration_secs: elapsed,
        sent,
        accepted,
        accepted_per_sec: accepted as f64 / duration,
        errors,
        frames_delivered: frames,
        frames_per_sec: frames as f64 / duration,
        payload_delivered: payload,
        lost,
        duplicated,
        rows_stored: match (rows_before, rows_after) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        },
        latency_p50_ms: percentile(&lat, 0.50),
        latency_p99_ms: percentile(&lat, 0.99),
        latency_p999_ms: percentile(&lat, 0.999),
        server_cpu_secs: cpu,
        deliveries_per_cpu_sec: cpu.filter(|c| *c > 0.0).map(|c| frames as f64 / c),
        server_rss_mib: rss_kib.map(|k| k / 1024.0),
        server_rss_per_conn_kib: rss_kib.map(|k| k / stats.len().max(1) as f64),
        server_rss_added_per_conn_kib: None,
        disconnected_early: stats.iter().filter(|s| s.closed_early).count(),
    }
}

fn print_table(r: &Report) {
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    let rows: Vec<(&str, String)> = vec![
        ("scenario", r.scenario.to_owned()),
        ("connections", r.connections.to_string()),
        ("handshakes/s", format!("{:.0}", r.handshake_per_sec)),
        ("all connected after", format!("{:.2} s", r.handshake_secs)),
        ("handshake srv CPU us", opt(r.handshake_server_cpu_us)),
        ("handshake pg CPU us", opt(r.handshake_postgres_cpu_us)),
        ("sent", r.sent.to_string()),
        ("accepted", r.accepted.to_string()),
        ("accepted/s", format!("{:.0}", r.accepted_per_sec)),
        ("errors", format!("{:?}", r.errors)),
        (
            "rows stored",
            r.rows_stored.map_or("-".into(), |n| n.to_string()),
        ),
        ("frames delivered", r.frames_delivered.to_string()),
        ("frames/s", format!("{:.0}", r.frames_per_sec)),
        ("payload delivered", r.payload_delivered.to_string()),
        ("lost", r.lost.map_or("-".into(), |n| n.to_string())),
        (
            "duplicated",
            r.duplicated.map_or("-".into(), |n| n.to_string()),
        ),
        ("latency p50 ms", format!("{:.2}", r.latency_p50_ms)),
        ("latency p99 ms", format!("{:.2}", r.latency_p99_ms)),
        ("latency p99.9 ms", format!("{:.2}", r.latency_p999_ms)),
        ("server CPU s", opt(r.server_cpu_secs)),
        ("deliveries / CPU s", opt(r.deliveries_per_cpu_sec)),
        ("server RSS MiB", opt(r.server_rss_mib)),
        ("RSS per conn KiB", opt(r.server_rss_per_conn_kib)),
        ("RSS added / conn KiB", opt(r.server_rss_added_per_conn_kib)),
        ("disconnected early", r.disconnected_early.to_string()),
    ];
    println!("+--------------------+------------------------------+");
    for (k, v) in rows {
        println!("| {k:<18} | {v:<28} |");
    }
    println!("+--------------------+------------------------------+");
}
