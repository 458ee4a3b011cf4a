//! Login flood: `--attempts` concurrent failed logins, each from its own
//! address, while one valid login is made; reports the server's memory
//! growth and how long the valid login took. Plain HTTP/1.1, one connection
//! per login.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::LoginFlood;
use crate::server::rss_kib;

/// See [`crate::cli::Scenario::LoginFlood`].
pub async fn run(args: LoginFlood) -> anyhow::Result<()> {
    args.validate()?;
    stampede::fd_limit::raise().context("raising the open-file limit")?;
    let rss_before = args.server_pid.and_then(rss_kib);
    // Peak memory, sampled while the flood runs.
    let sampling = Arc::new(AtomicBool::new(true));
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
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
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

/// One `POST /api/session` over its own connection: (status, Retry-After).
async fn login_once(
    addr: SocketAddr,
    host: &str,
    from: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<(u16, Option<u64>)> {
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
