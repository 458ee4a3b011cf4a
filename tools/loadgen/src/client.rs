//! One load-test client: a WebSocket on loopback that sends at its plan's
//! rate and reads every frame until the run ends.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::cli::Common;
use crate::fanout::{self, LoadMessage};
use crate::latency;
use crate::{lock, reactions};

pub type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;
type WsSink = futures_util::stream::SplitSink<Ws, Message>;
/// Send times of reactions not yet carried by a frame.
type Pending = Mutex<VecDeque<Instant>>;

/// What a client sends.
pub enum Plan {
    React { rate: f64 },
    Chat { rate: f64, sender: u32 },
    Listen,
}

/// Counters shared by all clients, for the progress line.
#[derive(Default)]
pub struct Live {
    sent: AtomicU64,
    frames: AtomicU64,
    errors: AtomicU64,
}

/// What one client saw.
pub struct ClientStats {
    pub sent: u64,
    pub errors: HashMap<String, u64>,
    pub frames: u64,
    /// Reactions carried by the frames received.
    pub carried: u64,
    pub latencies: latency::Batch,
    /// Fan-out: how often each (sender, seq) arrived.
    pub seen: fanout::Seen,
    /// Index into `--stream` of the room this client joined.
    pub room: usize,
    pub closed_early: bool,
}

impl ClientStats {
    pub fn new(room: usize, latencies: latency::Batch) -> Self {
        ClientStats {
            sent: 0,
            errors: HashMap::new(),
            frames: 0,
            carried: 0,
            latencies,
            seen: fanout::Seen::default(),
            room,
            closed_early: false,
        }
    }

    /// Sent and not refused with an error frame.
    pub fn accepted(&self) -> u64 {
        self.sent.saturating_sub(self.errors.values().sum())
    }
}

/// Opens client `i`'s socket to its room (`--stream` round-robin).
pub async fn connect(common: &Common, cookie: &str, i: usize) -> anyhow::Result<Ws> {
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

/// Runs one client for `run_for`, then closes its socket.
pub async fn run(
    mut ws: Ws,
    plan: Plan,
    mut stats: ClientStats,
    run_for: Duration,
    live: Arc<Live>,
) -> ClientStats {
    let end = tokio::time::Instant::now() + run_for;
    let pending: Arc<Pending> = Arc::default();
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
    pending: &Pending,
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
    stats.latencies.flush();
}

/// Sends at the plan's rate until `end`; returns how many were sent, and the
/// sink unless sending failed.
async fn send_loop(
    mut sink: WsSink,
    plan: Plan,
    end: tokio::time::Instant,
    pending: Arc<Pending>,
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
            Plan::React { .. } => reactions::frame(&mut rng),
            Plan::Chat { sender, .. } => {
                seq += 1;
                fanout::frame(sender, seq)
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

/// The fields of a server event that the generator counts, for every frame
/// but the load's own chat lines.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// `reaction.burst`: reactions per stamp id.
    #[serde(default)]
    counts: HashMap<String, u64>,
    /// `error`: why a frame was refused.
    code: Option<String>,
}

fn on_frame(text: &str, stats: &mut ClientStats, pending: &Pending, live: &Live) {
    // Chat dominates fan-out runs: it is read without a JSON parse (see
    // `LoadMessage::scan`), every other frame with one.
    if let Some(line) = LoadMessage::scan(text) {
        stats.frames += 1;
        stats.seen.record(line.sender, line.seq);
        stats.latencies.record(line.latency_us());
        return;
    }
    let Ok(event) = serde_json::from_str::<Event>(text) else {
        return;
    };
    match event.kind.as_deref() {
        Some(kind @ ("reaction" | "reaction.burst")) => {
            stats.frames += 1;
            stats.carried += if kind == "reaction" {
                1
            } else {
                event.counts.values().sum()
            };
            // Latency to the carrying event: every reaction sent before this
            // frame arrived is taken as carried by it (an upper bound of one tick).
            let now = Instant::now();
            for sent in lock(pending).drain(..) {
                stats
                    .latencies
                    .record(now.duration_since(sent).as_micros() as u64);
            }
        }
        Some("error") => {
            let code = event.code.unwrap_or_else(|| "?".to_owned());
            *stats.errors.entry(code).or_insert(0) += 1;
            live.errors.fetch_add(1, Ordering::Relaxed);
            lock(pending).pop_front();
        }
        _ => {}
    }
}

/// The progress line on stderr, once a second.
pub async fn progress(live: Arc<Live>, run_for: Duration) {
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
