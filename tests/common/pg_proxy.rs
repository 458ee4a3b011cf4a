//! A TCP proxy in front of the test Postgres that can lose the reply to a
//! commit: it forwards a chosen statement to the server untouched, then
//! withholds the server's answer from CommandComplete up to ReadyForQuery
//! (by which point the implicit transaction has committed) and drops the
//! connection instead. The client then cannot tell whether its statement
//! was stored: the ambiguous commit that idempotent writers must survive.
//!
//! Statements are recognised by a piece of their SQL text, read from the
//! client's Parse (and Bind, which names the prepared statement it runs) or
//! simple Query messages.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};

/// What to lose: how many more replies, of statements containing which text.
#[derive(Default)]
struct Plan {
    armed: AtomicUsize,
    marker: Mutex<String>,
    lost: AtomicUsize,
}

pub struct PgProxy {
    pub addr: SocketAddr,
    plan: Arc<Plan>,
}

impl PgProxy {
    /// Listens on an ephemeral port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let plan = Arc::new(Plan::default());
        let shared = plan.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                tokio::spawn(relay(client, server, shared.clone()));
            }
        });
        PgProxy { addr, plan }
    }

    /// `url` (a database URL of the test Postgres) through this proxy, in
    /// plain text so the proxy can read the messages.
    pub fn url_for(&self, url: &str) -> String {
        let mut url = reqwest::Url::parse(url).expect("database URL");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(self.addr.port())).expect("port");
        url.query_pairs_mut().append_pair("sslmode", "disable");
        url.to_string()
    }

    /// Loses the replies of the next `n` statements whose SQL contains `marker`.
    pub fn lose_next_commits(&self, n: usize, marker: &str) {
        *self.plan.marker.lock().unwrap() = marker.to_owned();
        self.plan.armed.store(n, Ordering::SeqCst);
    }

    /// Replies lost so far.
    pub fn lost(&self) -> usize {
        self.plan.lost.load(Ordering::SeqCst)
    }
}

/// The upstream address of a database URL.
pub fn upstream_of(url: &str) -> SocketAddr {
    let url = reqwest::Url::parse(url).expect("database URL");
    let host = url.host_str().expect("host");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{}", url.port().unwrap_or(5432))
        .parse()
        .expect("numeric host")
}

/// Reads one message: `typed` ones have a type byte before the length.
async fn read_message(from: &mut OwnedReadHalf, typed: bool) -> Option<Vec<u8>> {
    let head = if typed { 5 } else { 4 };
    let mut message = vec![0u8; head];
    from.read_exact(&mut message).await.ok()?;
    let at = head - 4;
    let len = u32::from_be_bytes(message[at..head].try_into().ok()?) as usize;
    message.resize(at + len, 0);
    from.read_exact(&mut message[head..]).await.ok()?;
    Some(message)
}

/// The NUL-terminated strings at the start of a message body.
fn strings(body: &[u8]) -> Vec<String> {
    body.split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

async fn relay(client: TcpStream, server: TcpStream, plan: Arc<Plan>) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    // The SQL of the statement the client runs now.
    let running = Arc::new(Mutex::new(String::new()));
    let now = running.clone();
    let upstream = tokio::spawn(async move {
        let mut prepared: HashMap<String, String> = HashMap::new();
        let mut typed = false; // the startup message has no type byte
        while let Some(message) = read_message(&mut client_rx, typed).await {
            if typed {
                let parts = strings(&message[5..]);
                match message[0] {
                    b'P' if parts.len() >= 2 => {
                        prepared.insert(parts[0].clone(), parts[1].clone());
                        *now.lock().unwrap() = parts[1].clone();
                    }
                    b'B' if parts.len() >= 2 => {
                        if let Some(sql) = prepared.get(&parts[1]) {
                            *now.lock().unwrap() = sql.clone();
                        }
                    }
                    b'Q' if !parts.is_empty() => *now.lock().unwrap() = parts[0].clone(),
                    _ => {}
                }
            }
            typed = true;
            if server_tx.write_all(&message).await.is_err() {
                break;
            }
        }
    });
    let mut held: Vec<u8> = Vec::new();
    while let Some(message) = read_message(&mut server_rx, true).await {
        let kind = message[0];
        let watched = kind == b'C' && plan.armed.load(Ordering::SeqCst) > 0 && {
            let marker = plan.marker.lock().unwrap().clone();
            running.lock().unwrap().contains(&marker)
        };
        if !watched && held.is_empty() {
            if client_tx.write_all(&message).await.is_err() {
                break;
            }
            continue;
        }
        held.extend_from_slice(&message);
        if kind != b'Z' {
            continue;
        }
        // The statement and its transaction are over: lose the reply?
        let lose = plan
            .armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if lose {
            plan.lost.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if client_tx.write_all(&held).await.is_err() {
            break;
        }
        held.clear();
    }
    upstream.abort();
}
