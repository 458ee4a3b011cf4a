//! The summary of a socket run: what was measured, as JSON (`--json`) or as
//! a table.

use std::collections::HashMap;

use serde::Serialize;

use crate::client::ClientStats;
use crate::latency::Latencies;

/// Everything a socket run measured, for [`summarize`].
pub struct Measured<'a> {
    pub kind: &'static str,
    /// `--duration`: the rates are per second of it.
    pub duration: u64,
    /// Seconds from the first send to the last client done.
    pub elapsed: f64,
    pub stats: &'a [ClientStats],
    pub delivery: Delivery,
    pub latencies: &'a Latencies,
    pub handshakes: Handshakes,
    /// Rows the run added (with `--database-url`).
    pub rows_stored: Option<i64>,
    pub server: ServerCost,
}

/// How the clients' receipts compare with what was sent.
pub struct Delivery {
    /// Fan-out only: accepted messages a viewer of the room never received.
    pub lost: Option<u64>,
    /// Fan-out only: messages a viewer received more than once.
    pub duplicated: Option<u64>,
    /// What the frames delivered: chat lines, or reactions carried.
    pub payload: u64,
}

impl Delivery {
    /// Reactions and idle: no per-message accounting; the payload is the
    /// reactions the frames carried (a burst carries only counts).
    pub fn carried(stats: &[ClientStats]) -> Self {
        Delivery {
            lost: None,
            duplicated: None,
            payload: stats.iter().map(|s| s.carried).sum(),
        }
    }
}

/// The connecting phase.
pub struct Handshakes {
    /// From the first connect to the last socket open.
    pub secs: f64,
    /// Server CPU per handshake (with `--server-pid`).
    pub server_cpu_us: Option<f64>,
    /// CPU of every Postgres process per handshake.
    pub postgres_cpu_us: Option<f64>,
}

/// The server process's cost (with `--server-pid`).
pub struct ServerCost {
    /// CPU seconds during the load.
    pub cpu_secs: Option<f64>,
    /// RSS before connecting.
    pub rss_before_kib: Option<f64>,
    /// RSS with every connection open.
    pub rss_kib: Option<f64>,
}

/// The printed summary; its field names are the `--json` keys that
/// `scripts/bench` and docs/benchmarks.md rely on.
#[derive(Serialize)]
pub struct Report {
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

pub fn summarize(m: Measured<'_>) -> Report {
    let stats = m.stats;
    let connections = stats.len();
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
    let duration = m.duration as f64;
    let per_conn = |kib: f64| kib / connections.max(1) as f64;
    let cpu = m.server.cpu_secs;
    let rss_kib = m.server.rss_kib;
    Report {
        scenario: m.kind,
        connections,
        handshake_per_sec: connections as f64 / m.handshakes.secs.max(1e-9),
        handshake_secs: m.handshakes.secs,
        handshake_server_cpu_us: m.handshakes.server_cpu_us,
        handshake_postgres_cpu_us: m.handshakes.postgres_cpu_us,
        duration_secs: m.elapsed,
        sent,
        accepted,
        accepted_per_sec: accepted as f64 / duration,
        errors,
        frames_delivered: frames,
        frames_per_sec: frames as f64 / duration,
        payload_delivered: m.delivery.payload,
        lost: m.delivery.lost,
        duplicated: m.delivery.duplicated,
        rows_stored: m.rows_stored,
        latency_p50_ms: m.latencies.quantile_ms(0.50),
        latency_p99_ms: m.latencies.quantile_ms(0.99),
        latency_p999_ms: m.latencies.quantile_ms(0.999),
        server_cpu_secs: cpu,
        deliveries_per_cpu_sec: cpu.filter(|c| *c > 0.0).map(|c| frames as f64 / c),
        server_rss_mib: rss_kib.map(|k| k / 1024.0),
        server_rss_per_conn_kib: rss_kib.map(per_conn),
        // Memory the connections added, without the process's baseline.
        server_rss_added_per_conn_kib: m
            .server
            .rss_before_kib
            .zip(rss_kib)
            .map(|(before, after)| per_conn(after - before)),
        disconnected_early: stats.iter().filter(|s| s.closed_early).count(),
    }
}

pub fn print_table(r: &Report) {
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
