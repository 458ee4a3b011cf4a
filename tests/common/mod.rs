//! The one test harness every integration test shares: a real server on an
//! ephemeral port, backed by a fresh Postgres database that is dropped
//! afterwards, driven by real HTTP and WebSocket clients and by the real
//! `stampede` binary.
//!
//! - [`db`]: the per-test database and what is stored in it.
//! - [`app`]: a server in this process ([`TestApp`]) and its configuration.
//! - [`fixtures`]: tenants, users with roles, streams, and the usual [`stage`].
//! - [`api`]: `TestApp::api(method, path, as_user, body)` and cookies.
//! - [`ws`]: WebSocket clients and handshakes.
//! - [`cli`]: the `stampede` binary, as a command line or a serving process.
//! - [`redis`], [`postgres`]: servers of the test's own, to stage outages.
//! - [`pg_proxy`], [`tcp_proxy`]: proxies that lose replies or connections.
// Each test binary uses only part of the harness.
#![allow(dead_code, unused_imports)]

pub mod api;
pub mod app;
pub mod cli;
pub mod db;
pub mod fixtures;
pub mod pg_proxy;
pub mod postgres;
pub mod redis;
pub mod redis_cluster;
pub mod tcp_proxy;
pub mod ws;

use std::future::Future;
use std::time::Duration;

pub use self::redis::TestRedis;
pub use api::{csrf_cookie, csrf_from, session_cookie, strings, As, Reply};
pub use app::{test_config, TestApp};
pub use cli::{run_cli, CliOutput, NodeProcess};
pub use db::{stored_messages, stored_texts, TestDb};
pub use fixtures::{stage, viewers};
pub use postgres::PrivatePostgres;
pub use redis_cluster::TestRedisCluster;
pub use ws::{handshake_body, handshake_status, Event, WsClient};

/// The host of the tenant most tests use (`acme`).
pub const HOST: &str = "acme.localhost";

/// Upper bound on waiting for an event that should come. Tests wait for
/// events, never for time; this only turns a hang into a failure.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Polls `check` until it yields a value, failing with `what` once `within`
/// has passed. Only for states another task or process reaches on its own
/// clock (a flush, a process coming up, a ban running out), where there is
/// no event to wait for.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
