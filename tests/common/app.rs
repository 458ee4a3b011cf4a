//! A server in this process, on an ephemeral port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use stampede::ServeConfig;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::api::{login_at, Reply};
use super::db::TestDb;
use super::redis::TestRedis;
use super::{eventually, EVENT_TIMEOUT};

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Shared by every node of a multi-node test; dropped with the last one.
    pub db: Arc<TestDb>,
    /// Session cookies `api` logged in for, by (host, username).
    pub(super) sessions: Mutex<HashMap<(String, String), String>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), stampede::ServeError>>>,
}

pub fn test_config() -> ServeConfig {
    ServeConfig {
        // Generous by default so tests that are not about rate limits never hit them.
        chat_rate_limit: 1000,
        // Searches find everything however busy the machine: the budget
        // is for big tenants, tested on its own.
        search_budget_ms: 60_000,
        ..ServeConfig::default()
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(test_config()).await
    }

    pub async fn spawn_with(config: ServeConfig) -> Self {
        let db = Arc::new(TestDb::create().await);
        Self::serve(db, config).await
    }

    /// Starts a server on `db`, which other servers may share (several nodes).
    pub async fn serve(db: Arc<TestDb>, config: ServeConfig) -> Self {
        let pool = db.pool.clone();
        Self::serve_on(db, pool, config).await
    }

    /// Starts a server reaching `db` through `pool` (e.g. through a proxy);
    /// the test's own queries still use `db.pool`.
    pub async fn serve_on(db: Arc<TestDb>, pool: PgPool, config: ServeConfig) -> Self {
        config.validate().expect("valid config");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(stampede::run(config, pool, listener, async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            db,
            sessions: Mutex::default(),
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    /// Stops the server gracefully and waits until it has flushed everything.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(20), server)
                .await
                .expect("server stops in time")
                .expect("server task")
                .expect("server result");
        }
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub fn origin(&self, host: &str) -> String {
        format!("http://{host}:{}", self.addr.port())
    }

    /// `path` on the server's address itself, with no host name.
    pub fn bare_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An HTTP client that resolves `hosts` to this server and keeps no cookies.
    pub fn http(&self, hosts: &[&str]) -> reqwest::Client {
        let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        for host in hosts {
            builder = builder.resolve(host, self.addr);
        }
        builder.build().expect("client")
    }

    /// Logs in over the JSON API and returns the `sessionid=…` cookie pair:
    /// a new session on every call.
    pub async fn login(&self, host: &str, username: &str) -> String {
        login_at(self.addr, host, username).await
    }

    /// GET `path` on the server's address, whatever the host.
    pub async fn get_bare(&self, path: &str) -> Reply {
        Reply::read(self.http(&[]).get(self.bare_url(path))).await
    }

    /// GET /health as JSON.
    pub async fn health(&self) -> Value {
        self.get_bare("/health").await.body
    }

    /// The status /health answers with.
    pub async fn health_status(&self) -> u16 {
        self.get_bare("/health").await.status
    }

    /// Waits until /health reports the channel layer in `state`.
    pub async fn wait_for_layer(&self, state: &str) {
        let what = format!("channel layer never became {state}");
        eventually(EVENT_TIMEOUT * 2, &what, || async {
            (self.health().await["channel_layer"] == state).then_some(())
        })
        .await;
    }

    /// Two nodes on one database sharing a fresh Redis (kept alive by the
    /// returned handle), both with `config`, both connected to it.
    pub async fn two_nodes(mut config: ServeConfig) -> (TestRedis, TestApp, TestApp) {
        let redis = TestRedis::start().await;
        config.redis_url = Some(redis.url());
        let a = TestApp::spawn_with(config.clone()).await;
        let b = TestApp::serve(a.db.clone(), config).await;
        a.wait_for_layer("connected").await;
        b.wait_for_layer("connected").await;
        (redis, a, b)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
