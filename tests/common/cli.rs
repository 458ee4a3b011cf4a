//! The real `stampede` binary: as operators type it (`cli("user deactivate
//! --tenant acme --username bob")`), and as a serving process of its own.

use std::net::SocketAddr;
use std::process::{Child, ExitStatus, Stdio};

use super::api::login_at;
use super::app::TestApp;
use super::db::TestDb;
use super::ws::{chat_path, ws_connect, ws_resume_at, WsClient};
use super::{eventually, EVENT_TIMEOUT};

const BINARY: &str = env!("CARGO_BIN_EXE_stampede");

/// How a run of the binary ended and what it printed.
#[derive(Debug)]
pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn succeeded(&self) -> bool {
        self.status.success()
    }

    /// Asserts the run succeeded (showing stderr if not); returns stdout.
    pub fn ok(&self) -> &str {
        assert!(self.succeeded(), "{}", self.stderr);
        &self.stdout
    }

    /// A failure prints exactly one line, starting with `error:`, and exits non-zero.
    pub fn assert_one_line_error(&self, needle: &str) {
        assert!(!self.succeeded(), "should fail: {}", self.stdout);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {:?}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{:?}", self.stderr);
        assert!(
            lines[0].contains(needle),
            "{:?} should mention {needle:?}",
            self.stderr
        );
    }
}

/// Splits a command line on whitespace; a span in "double" or 'single'
/// quotes is one argument (`--name "Acme TV"`).
pub fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => args.extend(current.take()),
            (None, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(quote.is_none(), "unbalanced quote in {line:?}");
    args.extend(current);
    args
}

/// Runs `stampede {args}` with `DATABASE_URL` set to `database_url`, or
/// unset when it is `None`.
pub async fn run_cli(database_url: Option<&str>, args: &str) -> CliOutput {
    let mut command = tokio::process::Command::new(BINARY);
    command.args(split_args(args)).env_remove("STAMPEDE_LOG");
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    let out = command.output().await.expect("run stampede");
    CliOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl TestDb {
    /// Runs `stampede {args}` against this database.
    pub async fn cli(&self, args: &str) -> CliOutput {
        run_cli(Some(&self.url), args).await
    }
}

impl TestApp {
    /// Runs `stampede {args}` against this server's database.
    pub async fn cli(&self, args: &str) -> CliOutput {
        self.db.cli(args).await
    }
}

/// A `stampede serve` process of its own on `127.0.0.1:{port}`, killed with
/// SIGKILL (a crash) on drop.
pub struct NodeProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl NodeProcess {
    /// Starts it on `db_url` (and `redis_url`, or none) and waits until
    /// /health answers.
    pub async fn start(db_url: &str, port: u16, redis_url: Option<&str>) -> Self {
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut command = std::process::Command::new(BINARY);
        command
            .args(["serve", "--bind", &addr.to_string()])
            .args(["--chat-rate-limit", "100000"])
            .env("DATABASE_URL", db_url)
            .env("STAMPEDE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match redis_url {
            Some(url) => command.env("REDIS_URL", url),
            None => command.env_remove("REDIS_URL"),
        };
        let child = command.spawn().expect("start stampede serve");
        let node = NodeProcess { child, addr };
        let client = reqwest::Client::new();
        let health = format!("http://{addr}/health");
        eventually(EVENT_TIMEOUT * 3, "the node never came up", || async {
            let res = client.get(&health).send().await;
            res.is_ok_and(|r| r.status() == 200).then_some(())
        })
        .await;
        node
    }

    pub fn origin(&self, host: &str) -> String {
        format!("http://{host}:{}", self.addr.port())
    }

    /// Logs `username` in on `host`; returns the session cookie.
    pub async fn login(&self, host: &str, username: &str) -> String {
        login_at(self.addr, host, username).await
    }

    /// A socket to `stream_id` on `host` with `cookie` and the right Origin.
    pub async fn ws_with_cookie(&self, host: &str, stream_id: i32, cookie: &str) -> WsClient {
        let origin = self.origin(host);
        ws_connect(
            self.addr,
            host,
            &chat_path(stream_id),
            Some(cookie),
            Some(&origin),
        )
        .await
        .expect("websocket handshake")
    }

    /// Reconnects with `?since_offset=N&epoch=E`, asking for what was missed.
    pub async fn ws_resume(
        &self,
        host: &str,
        stream_id: i32,
        cookie: &str,
        at: (u64, &str),
    ) -> WsClient {
        let origin = self.origin(host);
        ws_resume_at(self.addr, host, &origin, stream_id, cookie, at).await
    }

    /// SIGKILL: no shutdown, no flushing, no goodbyes.
    pub fn crash(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
