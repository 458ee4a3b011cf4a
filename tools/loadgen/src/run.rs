//! One socket scenario (reactions, fan-out, idle) from the first handshake
//! to the printed report: connect every viewer, run the load for
//! `--duration`, sample the server around it, summarize.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{StreamExt, TryStreamExt};

use crate::cli::Common;
use crate::client::{self, ClientStats, Live, Plan, Ws};
use crate::latency::Latencies;
use crate::report::{self, Delivery, Handshakes, Measured, ServerCost};
use crate::{fanout, idle, reactions, server};

/// What the clients of a socket scenario do.
pub enum Load {
    Reactions { rate: f64 },
    Fanout { senders: usize, rate: f64 },
    Idle,
}

impl Load {
    /// The scenario's name in the report.
    fn kind(&self) -> &'static str {
        match self {
            Load::Reactions { .. } => "reactions",
            Load::Fanout { .. } => "fanout",
            Load::Idle => "idle",
        }
    }

    /// What client `i` does.
    fn plan(&self, i: usize) -> Plan {
        match *self {
            Load::Reactions { rate } => reactions::plan(rate),
            Load::Fanout { senders, rate } => fanout::plan(i, senders, rate),
            Load::Idle => idle::plan(),
        }
    }

    /// How what the clients received compares with what was sent.
    fn delivery(&self, stats: &[ClientStats], rooms: usize) -> Delivery {
        match self {
            Load::Fanout { .. } => fanout::delivery(stats, rooms),
            Load::Reactions { .. } | Load::Idle => Delivery::carried(stats),
        }
    }
}

pub async fn run(common: Common, load: Load) -> anyhow::Result<()> {
    common.validate()?;
    let kind = load.kind();
    // One file per client socket, plus a margin for the process's own.
    let files = stampede::fd_limit::raise().context("raising the open-file limit")?;
    if common.viewers as u64 + 64 > files {
        bail!(
            "--viewers {} needs more open files than this process may have ({files}); \
             split the load over several generators",
            common.viewers
        );
    }
    let cookies = read_cookies(&common.cookies)?;

    let rows_before = server::count_rows(&common, kind).await?;
    let rss_before = common.server_pid.and_then(server::rss_kib);
    eprintln!("connecting {} sockets…", common.viewers);
    let (sockets, handshakes) = connect_all(&common, &cookies).await?;
    eprintln!(
        "connected in {:.2}s; running {kind} for {}s",
        handshakes.secs, common.duration
    );

    let cpu_before = common.server_pid.and_then(server::cpu_secs);
    let live = Arc::new(Live::default());
    let latencies = Latencies::new();
    let run_for = Duration::from_secs(common.duration);
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(sockets.len());
    for (i, ws) in sockets.into_iter().enumerate() {
        let stats = ClientStats::new(i % common.stream.len(), latencies.batch());
        let plan = load.plan(i);
        tasks.push(tokio::spawn(client::run(
            ws,
            plan,
            stats,
            run_for,
            live.clone(),
        )));
    }
    let progress = tokio::spawn(client::progress(live.clone(), run_for));
    // Memory while every connection is open (read mid-run, not after they close).
    tokio::time::sleep(run_for / 2).await;
    let rss_mid = common.server_pid.and_then(server::rss_kib);
    let mut stats = Vec::with_capacity(tasks.len());
    for t in tasks {
        stats.push(t.await?);
    }
    progress.abort();
    eprintln!();
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu_after = common.server_pid.and_then(server::cpu_secs);
    let rss_kib = rss_mid.or(common.server_pid.and_then(server::rss_kib));
    let rows_after = server::count_rows(&common, kind).await?;

    let report = report::summarize(Measured {
        kind,
        duration: common.duration,
        elapsed,
        stats: &stats,
        delivery: load.delivery(&stats, common.stream.len()),
        latencies: &latencies,
        handshakes,
        rows_stored: rows_before.zip(rows_after).map(|(a, b)| b - a),
        server: ServerCost {
            cpu_secs: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
            rss_before_kib: rss_before,
            rss_kib,
        },
    });
    if common.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report::print_table(&report);
    }
    Ok(())
}

/// The `sessionid=…` cookies, one a line.
fn read_cookies(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let cookies: Vec<String> = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if cookies.is_empty() {
        bail!("no cookies in {}", path.display());
    }
    Ok(cookies)
}

/// Opens every viewer's socket, in viewer order, and measures the handshakes.
async fn connect_all(common: &Common, cookies: &[String]) -> anyhow::Result<(Vec<Ws>, Handshakes)> {
    let server_cpu_before = common.server_pid.and_then(server::cpu_secs);
    let pg_cpu_before = server::postgres_cpu_secs();
    let started = Instant::now();
    // A window of handshakes in flight, refilled as each completes (waiting
    // for whole chunks would measure the slowest handshake of each chunk).
    let mut opened: Vec<(usize, Ws)> = futures_util::stream::iter(0..common.viewers)
        .map(|i| {
            let cookie = &cookies[i % cookies.len()];
            async move { client::connect(common, cookie, i).await.map(|ws| (i, ws)) }
        })
        .buffer_unordered(common.connect_concurrency.max(1))
        .try_collect()
        .await?;
    opened.sort_unstable_by_key(|(i, _)| *i);
    let secs = started.elapsed().as_secs_f64();
    let per_handshake_us = |before: Option<f64>, after: Option<f64>| {
        Some((after? - before?) * 1e6 / common.viewers as f64)
    };
    let handshakes = Handshakes {
        secs,
        server_cpu_us: per_handshake_us(
            server_cpu_before,
            common.server_pid.and_then(server::cpu_secs),
        ),
        postgres_cpu_us: per_handshake_us(pg_cpu_before, server::postgres_cpu_secs()),
    };
    Ok((opened.into_iter().map(|(_, ws)| ws).collect(), handshakes))
}
