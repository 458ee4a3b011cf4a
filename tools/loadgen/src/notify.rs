//! Notifications: `--users` users, each with one notification socket per
//! node (`--addrs`), so every user's devices sit on different nodes. Once
//! every device has its sync, an admin's broadcast to the whole tenant is
//! timed to each device (from the moment it was posted to its
//! `notification.new`), then `--read-samples` users mark it read on one
//! device and the time until their device on the other node hears the
//! `notification.read` is measured.
//!
//! One process may hold 20,000 files here, so a run over 20,000 devices
//! takes two generators, each with its own slice of the cookies
//! (`--user-offset`): one posts (`--broadcast`) once the others are ready
//! (`--wait-ready`), and writes the moment it posted to `--posted-file`,
//! from which every generator measures (one machine, one wall clock).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

use crate::cli::NotifyArgs;
use crate::latency::Latencies;
use crate::lock;

/// Read marks in flight: notification id → (sent, sending device).
type Pending = Mutex<HashMap<i64, (Instant, usize)>>;

/// What every device task shares.
struct Shared {
    /// Per device: the broadcast's notification id and when it arrived.
    received: Mutex<Vec<Option<(i64, SystemTime)>>>,
    all_received: Notify,
    count: Mutex<usize>,
    devices: usize,
    pending: Pending,
    read_latency: Latencies,
    read_done: Notify,
}

/// See [`crate::cli::Scenario::Notify`].
pub async fn run(args: NotifyArgs) -> anyhow::Result<()> {
    args.validate()?;
    let files = stampede::fd_limit::raise().context("raising the open-file limit")?;
    let devices = args.users * args.addrs.len();
    if devices as u64 + 64 > files {
        bail!("{devices} devices need more open files than this process may have ({files})");
    }
    let cookies: Vec<String> = std::fs::read_to_string(&args.cookies)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .skip(args.user_offset)
        .take(args.users)
        .map(str::to_owned)
        .collect();
    if cookies.len() < args.users {
        bail!(
            "{} cookies after --user-offset, {} wanted",
            cookies.len(),
            args.users
        );
    }
    let shared = Arc::new(Shared {
        received: Mutex::new(vec![None; devices]),
        all_received: Notify::new(),
        count: Mutex::new(0),
        devices,
        pending: Mutex::new(HashMap::new()),
        read_latency: Latencies::new(),
        read_done: Notify::new(),
    });

    eprintln!("connecting {devices} notification sockets…");
    let started = Instant::now();
    let senders: Vec<mpsc::UnboundedSender<String>> = futures_util::stream::iter(0..devices)
        .map(|d| {
            let (cookie, addr) = (
                &cookies[d / args.addrs.len()],
                args.addrs[d % args.addrs.len()],
            );
            let shared = shared.clone();
            let host = args.host.clone();
            async move { open(addr, &host, cookie, d, shared).await }
        })
        .buffer_unordered(200)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .fold(vec![None; devices], |mut all, (d, tx)| {
            all[d] = Some(tx);
            all
        })
        .into_iter()
        .flatten()
        .collect();
    eprintln!(
        "{devices} devices synced in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(ready) = &args.ready_file {
        std::fs::write(ready, b"ready")?;
    }
    if args.broadcast {
        for other in &args.wait_ready {
            wait_for_file(other, Duration::from_secs(args.timeout)).await?;
        }
        let cookie = login(&args).await?;
        let posted = SystemTime::now();
        std::fs::write(&args.posted_file, unix_us(posted).to_string())?;
        post_broadcast(&args, &cookie).await?;
        eprintln!("broadcast posted");
    }
    let timeout = Duration::from_secs(args.timeout);
    let _ = tokio::time::timeout(timeout, shared.all_received.notified()).await;
    let posted_us: u64 = wait_for_file(&args.posted_file, timeout)
        .await?
        .trim()
        .parse()
        .context("--posted-file holds microseconds since the epoch")?;
    let deliveries = Latencies::new();
    let mut batch = deliveries.batch();
    let (mut got, mut last_us) = (0usize, 0u64);
    let ids: Vec<Option<i64>> = {
        let received = lock(&shared.received);
        for (_, at) in received.iter().flatten() {
            let us = unix_us(*at).saturating_sub(posted_us);
            batch.record(us);
            last_us = last_us.max(us);
            got += 1;
        }
        received.iter().map(|r| r.map(|(id, _)| id)).collect()
    };
    batch.flush();

    // Mark-read: user u reads on its first device; its second must hear it.
    let samples = args.read_samples.min(args.users);
    let gap = Duration::from_secs_f64(1.0 / args.read_rate.max(0.1));
    let mut sent = 0usize;
    for u in 0..samples {
        let first = u * args.addrs.len();
        let Some(id) = ids[first] else { continue };
        lock(&shared.pending).insert(id, (Instant::now(), first));
        let frame = json!({"type": "notification.read", "id": id}).to_string();
        if senders[first].send(frame).is_ok() {
            sent += 1;
        }
        tokio::time::sleep(gap).await;
    }
    let wait_reads = async {
        while !lock(&shared.pending).is_empty() {
            shared.read_done.notified().await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), wait_reads).await;
    let unheard = lock(&shared.pending).len();

    let summary = json!({
        "scenario": "notify",
        "devices": devices,
        "nodes": args.addrs.len(),
        "broadcast": {
            "delivered": got,
            "missing": devices - got,
            "p50_ms": deliveries.quantile_ms(0.5),
            "p99_ms": deliveries.quantile_ms(0.99),
            "last_ms": last_us as f64 / 1000.0,
        },
        "mark_read": {
            "samples": sent,
            "unheard": unheard,
            "p50_ms": shared.read_latency.quantile_ms(0.5),
            "p99_ms": shared.read_latency.quantile_ms(0.99),
            "max_ms": shared.read_latency.quantile_ms(1.0),
        },
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// Opens device `d`'s socket, waits for its sync and leaves a task reading
/// it; returns the channel its read marks are sent through.
async fn open(
    addr: SocketAddr,
    host: &str,
    cookie: &str,
    d: usize,
    shared: Arc<Shared>,
) -> anyhow::Result<(usize, mpsc::UnboundedSender<String>)> {
    // Spread over 127.0.0.1-8 to get past one address's ephemeral ports.
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (d % 8) as u8));
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let tcp = socket.connect(addr).await.context("tcp connect")?;
    tcp.set_nodelay(true)?;
    let mut req = format!("ws://{host}:{}/ws/notifications/", addr.port()).into_client_request()?;
    req.headers_mut().insert("cookie", cookie.parse()?);
    req.headers_mut()
        .insert("origin", format!("http://{host}:{}", addr.port()).parse()?);
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(req, MaybeTlsStream::Plain(tcp), Some(config))
            .await
            .context("notification socket handshake")?;
    let (mut sink, mut stream) = ws.split();
    let first = stream.next().await.context("closed before its sync")??;
    let sync: Value = serde_json::from_str(first.to_text()?)?;
    if sync["type"] != "notification.sync" {
        bail!("device {d}: first frame was {sync}");
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(text) => { let _ = sink.send(Message::text(text)).await; }
                    None => break,
                },
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => heard(&shared, d, text.as_str()),
                    Some(Ok(_)) => {}
                    _ => break,
                },
            }
        }
    });
    Ok((d, tx))
}

/// One frame device `d` received.
fn heard(shared: &Shared, d: usize, text: &str) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return;
    };
    match frame["type"].as_str() {
        Some("notification.new") => {
            let Some(id) = frame["notification"]["id"].as_i64() else {
                return;
            };
            let first = {
                let mut received = lock(&shared.received);
                let slot = &mut received[d];
                let first = slot.is_none();
                slot.get_or_insert((id, SystemTime::now()));
                first
            };
            if first {
                let mut count = lock(&shared.count);
                *count += 1;
                if *count == shared.devices {
                    shared.all_received.notify_one();
                }
            }
        }
        Some("notification.read") => {
            let ids = frame["ids"].as_array().cloned().unwrap_or_default();
            for id in ids.iter().filter_map(Value::as_i64) {
                let mut pending = lock(&shared.pending);
                // The reading device hears its own mark too: only the other counts.
                if let Some(&(sent, from)) = pending.get(&id) {
                    if from != d {
                        pending.remove(&id);
                        let mut batch = shared.read_latency.batch();
                        batch.record(sent.elapsed().as_micros() as u64);
                        batch.flush();
                        shared.read_done.notify_one();
                    }
                }
            }
        }
        _ => {}
    }
}

fn unix_us(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Waits until `path` exists and returns what it holds.
async fn wait_for_file(path: &Path, timeout: Duration) -> anyhow::Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.is_empty() {
                return Ok(text);
            }
        }
        if Instant::now() > deadline {
            bail!("{} did not appear within {timeout:?}", path.display());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One HTTP/1.1 exchange on its own connection: (status, head, body).
async fn exchange(addr: SocketAddr, request: String) -> anyhow::Result<(u16, String, String)> {
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    Ok((status, head.to_owned(), body.to_owned()))
}

/// Logs the admin in; returns its `sessionid=…` cookie.
async fn login(args: &NotifyArgs) -> anyhow::Result<String> {
    let body = json!({"username": args.admin, "password": args.admin_password}).to_string();
    let site = format!("{}:{}", args.host, args.addrs[0].port());
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: {site}\r\nOrigin: http://{site}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, head, text) = exchange(args.addrs[0], request).await?;
    if status != 200 {
        bail!("admin login: HTTP {status} {text}");
    }
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| {
            let pair = value.trim().split(';').next()?;
            pair.starts_with("sessionid=").then(|| pair.to_owned())
        })
        .context("admin login set no sessionid cookie")
}

/// `POST /api/notifications {"all": true}` as the admin.
async fn post_broadcast(args: &NotifyArgs, cookie: &str) -> anyhow::Result<()> {
    let body = json!({"all": true, "title": "Bench broadcast", "type": "info"}).to_string();
    let site = format!("{}:{}", args.host, args.addrs[0].port());
    let request = format!(
        "POST /api/notifications HTTP/1.1\r\nHost: {site}\r\nOrigin: http://{site}\r\n\
         Cookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, _, text) = exchange(args.addrs[0], request).await?;
    if status != 202 {
        bail!("broadcast: HTTP {status} {text}");
    }
    Ok(())
}
