//! Test harness: a real server on an ephemeral port, backed by a fresh
//! Postgres database that is dropped afterwards, and real HTTP/WebSocket clients.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sqlx::{Connection, PgConnection, PgPool};
use stampede::auth::{password, Role};
use stampede::store::{streams, tenants, users};
use stampede::tenant::{SchemaName, Tenant};
use stampede::ServeConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Upper bound on waiting for an event that should come. Tests wait for
/// events, never for time; this only turns a hang into a failure.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn admin_url() -> String {
    std::env::var("STAMPEDE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://stampede:stampede@127.0.0.1:5432/stampede".into())
}

/// `admin_url` with its database replaced by `db`.
pub fn database_url(db: &str) -> String {
    let base = admin_url();
    let (without_query, query) = match base.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let (prefix, _) = without_query
        .rsplit_once('/')
        .expect("database URL has a path");
    format!("{prefix}/{db}{query}")
}

/// A database of its own, dropped (with its connections) on drop.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn create() -> Self {
        let name = format!("stampede_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("connect to the test Postgres (STAMPEDE_TEST_DATABASE_URL)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = database_url(&name);
        let pool = stampede::store::connect(&url, 10)
            .await
            .expect("connect test db");
        stampede::cli::migrate_all(&pool).await.expect("migrate");
        TestDb { name, url, pool }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a runtime that is shutting down, so use a thread of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Shared by every node of a multi-node test; dropped with the last one.
    pub db: Arc<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), stampede::ServeError>>>,
}

pub fn test_config() -> ServeConfig {
    ServeConfig {
        // Generous by default so tests that are not about rate limits never hit them.
        chat_rate_limit: 1000,
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
        config.validate().expect("valid config");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let pool = db.pool.clone();
        let server = tokio::spawn(stampede::run(config, pool, listener, async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            db,
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

    pub async fn tenant(&self, schema: &str, domain: &str) -> Tenant {
        let schema = SchemaName::parse(schema).expect("schema");
        tenants::create(self.pool(), &schema, schema.as_str(), domain)
            .await
            .expect("create tenant")
    }

    /// Creates a user whose password is `pw-{username}`.
    pub async fn user(&self, tenant: &Tenant, username: &str, role: Role) -> i32 {
        let hash = password::hash(format!("pw-{username}"))
            .await
            .expect("hash");
        users::create(self.pool(), &tenant.schema, username, &hash, role)
            .await
            .expect("create user")
            .id
    }

    pub async fn stream(&self, tenant: &Tenant, title: &str) -> i32 {
        streams::create(self.pool(), &tenant.schema, title, None)
            .await
            .expect("create stream")
            .id
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub fn origin(&self, host: &str) -> String {
        format!("http://{host}:{}", self.addr.port())
    }

    /// An HTTP client that resolves `hosts` to this server and keeps no cookies.
    pub fn http(&self, hosts: &[&str]) -> reqwest::Client {
        let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        for host in hosts {
            builder = builder.resolve(host, self.addr);
        }
        builder.build().expect("client")
    }

    /// Logs in over the JSON API and returns the `sessionid=…` cookie pair.
    pub async fn login(&self, host: &str, username: &str) -> String {
        let res = self
            .http(&[host])
            .post(self.url(host, "/api/session"))
            .json(&serde_json::json!({"username": username, "password": format!("pw-{username}")}))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), 200, "login of {username} on {host}");
        session_cookie(&res).expect("sessionid cookie")
    }

    /// Opens `/ws/chat/stream_{id}/` on `host` with the given cookie and Origin.
    pub async fn ws_raw(
        &self,
        host: &str,
        stream_id: i32,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<WsClient, tungstenite::Error> {
        let url = format!(
            "ws://{host}:{}/ws/chat/stream_{stream_id}/",
            self.addr.port()
        );
        let mut request = url.into_client_request()?;
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().expect("cookie header"));
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("origin header"));
        }
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(tungstenite::Error::Io)?;
        let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await?;
        Ok(WsClient { ws })
    }

    /// Reconnects with `?since_offset=N&epoch=E`, asking for what was missed.
    pub async fn ws_resume(
        &self,
        host: &str,
        stream_id: i32,
        cookie: &str,
        offset: u64,
        epoch: &str,
    ) -> WsClient {
        let url = format!(
            "ws://{host}:{}/ws/chat/stream_{stream_id}/?since_offset={offset}&epoch={epoch}",
            self.addr.port()
        );
        let mut request = url.into_client_request().expect("request");
        request
            .headers_mut()
            .insert("cookie", cookie.parse().expect("cookie header"));
        request
            .headers_mut()
            .insert("origin", self.origin(host).parse().expect("origin header"));
        let tcp = TcpStream::connect(self.addr).await.expect("connect");
        let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
            .await
            .expect("resume handshake");
        WsClient { ws }
    }

    /// Logs `username` in and opens a socket with the right Origin.
    pub async fn ws(&self, host: &str, stream_id: i32, username: &str) -> WsClient {
        let cookie = self.login(host, username).await;
        self.ws_with_cookie(host, stream_id, &cookie).await
    }

    pub async fn ws_with_cookie(&self, host: &str, stream_id: i32, cookie: &str) -> WsClient {
        self.ws_raw(host, stream_id, Some(cookie), Some(&self.origin(host)))
            .await
            .expect("websocket handshake")
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

/// The `sessionid=…` pair from a response's Set-Cookie headers.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sessionid="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The `csrftoken=…` pair from a response's Set-Cookie headers.
pub fn csrf_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("csrftoken="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The HTTP status a refused handshake got.
pub fn handshake_status(err: &tungstenite::Error) -> u16 {
    match err {
        tungstenite::Error::Http(res) => res.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

/// The JSON body of a refused handshake.
pub fn handshake_body(err: &tungstenite::Error) -> Value {
    match err {
        tungstenite::Error::Http(res) => res
            .body()
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

/// A test WebSocket client.
pub struct WsClient {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What a socket yielded next.
#[derive(Debug)]
pub enum Event {
    Json(Value),
    Closed(Option<CloseFrame>),
}

impl WsClient {
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send frame");
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends the seed's chat frame.
    pub async fn say(&mut self, text: &str) {
        self.send_json(serde_json::json!({ "message": text })).await;
    }

    /// The next JSON frame or the close, skipping pings and pongs.
    pub async fn next_event(&mut self) -> Event {
        loop {
            let msg = tokio::time::timeout(EVENT_TIMEOUT, self.ws.next())
                .await
                .expect("timed out waiting for a frame");
            match msg {
                None => return Event::Closed(None),
                Some(Err(tungstenite::Error::ConnectionClosed)) => return Event::Closed(None),
                Some(Err(e)) => panic!("socket error: {e}"),
                Some(Ok(Message::Text(t))) => {
                    return Event::Json(serde_json::from_str(t.as_str()).expect("server sent JSON"))
                }
                Some(Ok(Message::Close(frame))) => return Event::Closed(frame),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next JSON frame; panics on close.
    pub async fn next_json(&mut self) -> Value {
        match self.next_event().await {
            Event::Json(v) => v,
            Event::Closed(f) => panic!("socket closed ({f:?}) while waiting for a frame"),
        }
    }

    /// The next frame satisfying `pred`, skipping others (e.g. join notices).
    pub async fn next_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.next_json().await;
            if pred(&v) {
                return v;
            }
        }
    }

    /// The next live chat line of type `message` (skips history replay,
    /// join/leave and errors).
    pub async fn next_message(&mut self) -> Value {
        self.next_where(|v| {
            v["type"] == "chat.message"
                && v["message_type"] == "message"
                && v.get("history").is_none()
        })
        .await
    }

    /// The next error frame.
    pub async fn next_error(&mut self) -> Value {
        self.next_where(|v| v["type"] == "error").await
    }

    /// Reads until the server closes the socket; returns the close frame.
    pub async fn expect_close(&mut self) -> Option<CloseFrame> {
        loop {
            if let Event::Closed(frame) = self.next_event().await {
                return frame;
            }
        }
    }

    /// Reads the `count` history frames sent on join.
    pub async fn history(&mut self, count: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let v = self.next_json().await;
            assert_eq!(v["history"], true, "expected a history frame, got {v}");
            out.push(v);
        }
        out
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Drain until the server acknowledges, so its leave is processed.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(EVENT_TIMEOUT, self.ws.next()).await {}
    }
}

/// Stored chat rows of a stream: (username, content, message_type), oldest first.
pub async fn stored_messages(
    pool: &PgPool,
    tenant: &Tenant,
    stream_id: i32,
) -> Vec<(String, String, String)> {
    sqlx::query_as(&format!(
        "SELECT COALESCE(u.username, ''), m.content, m.message_type
         FROM {s}.chat_chatmessage m
         JOIN {s}.chat_chatroom r ON r.id = m.room_id
         LEFT JOIN {s}.accounts_user u ON u.id = m.user_id
         WHERE r.stream_id = $1 ORDER BY m.id",
        s = tenant.schema
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await
    .expect("read stored messages")
}

/// A Redis server of the test's own, on a free port, killed on drop.
pub struct TestRedis {
    pub port: u16,
    child: Option<Child>,
}

impl TestRedis {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut redis = TestRedis { port, child: None };
        redis.launch().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) {
        let child = Command::new(
            std::env::var("STAMPEDE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into()),
        )
        .args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server (install redis-server, or run scripts/test)");
        self.child = Some(child);
        // Wait until it answers PING.
        let client = redis::Client::open(self.url()).expect("redis url");
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server (an outage).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await;
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

impl TestApp {
    /// GET /health as JSON.
    pub async fn health(&self) -> Value {
        self.http(&[])
            .get(format!("http://{}/health", self.addr))
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("health json")
    }

    /// The status /health answers with.
    pub async fn health_status(&self) -> u16 {
        self.http(&[])
            .get(format!("http://{}/health", self.addr))
            .send()
            .await
            .expect("health")
            .status()
            .as_u16()
    }

    /// Waits until /health reports the channel layer in `state`.
    pub async fn wait_for_layer(&self, state: &str) {
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT * 2;
        loop {
            if self.health().await["channel_layer"] == state {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "channel layer never became {state}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A Postgres cluster of the test's own (initdb + pg_ctl from the Debian
/// package), on a free port, so an outage can be staged without touching
/// the machine's own server. Removed on drop.
pub struct PrivatePostgres {
    pub port: u16,
    dir: String,
    bin: std::path::PathBuf,
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("postgresql server package (scripts/test installs it)")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists())
            .max()
            .expect("a pg_ctl under /usr/lib/postgresql");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = format!("/tmp/stampede-pg-{}", uuid::Uuid::new_v4().simple());
        let pg = PrivatePostgres { port, dir, bin };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.dir,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.up();
        pg
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            self.port, self.dir
        );
        let log = format!("{}/server.log", self.dir);
        self.run(
            "pg_ctl",
            &["-D", &self.dir, "-l", &log, "-w", "-o", &options, "start"],
        );
    }

    /// Stops the server (an outage): sessions are terminated.
    pub fn down(&self) {
        self.run("pg_ctl", &["-D", &self.dir, "-m", "fast", "-w", "stop"]);
    }

    /// Runs a server binary, as the postgres user when we are root
    /// (initdb and postgres refuse to run as root).
    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let as_root = unsafe { libc::geteuid() } == 0;
        let mut command = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let args = ["-D", &self.dir, "-m", "immediate", "-w", "stop"];
        let _ = if unsafe { libc::geteuid() } == 0 {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
