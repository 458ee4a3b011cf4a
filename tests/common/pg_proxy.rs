//! A TCP proxy in front of the test Postgres that can lose the reply to a
//! commit: after forwarding an INSERT to the server untouched, it withholds
//! the server's answer (CommandComplete … ReadyForQuery, by which point the
//! implicit transaction has committed) and drops the connection instead.
//! The client then cannot tell whether its statement was stored: the
//! ambiguous commit that idempotent writers must survive.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct PgProxy {
    pub addr: SocketAddr,
    armed: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl PgProxy {
    /// Listens on an ephemeral port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let armed = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (a, d) = (armed.clone(), dropped.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                tokio::spawn(relay(client, server, a.clone(), d.clone()));
            }
        });
        PgProxy {
            addr,
            armed,
            dropped,
        }
    }

    /// `url` (a database URL of the test Postgres) through this proxy, in
    /// plain text so the proxy can read the replies.
    pub fn url_for(&self, url: &str) -> String {
        let mut url = reqwest::Url::parse(url).expect("database URL");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(self.addr.port())).expect("port");
        url.query_pairs_mut().append_pair("sslmode", "disable");
        url.to_string()
    }

    /// Loses the replies of the next `n` committed INSERTs.
    pub fn lose_next_commits(&self, n: usize) {
        self.armed.store(n, Ordering::SeqCst);
    }

    /// Replies lost so far.
    pub fn lost(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
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

async fn relay(
    client: TcpStream,
    server: TcpStream,
    armed: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let upstream = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_rx, &mut server_tx).await;
    });
    // Server to client, one backend message at a time: type, length, body.
    let mut buf: Vec<u8> = Vec::new();
    let mut held: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    'read: loop {
        let n = match server_rx.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= 5 {
            let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
            if buf.len() < 1 + len {
                break;
            }
            let message: Vec<u8> = buf.drain(..1 + len).collect();
            let kind = message[0];
            let is_insert = kind == b'C' && message[5..].starts_with(b"INSERT");
            if is_insert || !held.is_empty() {
                held.extend_from_slice(&message);
                if kind != b'Z' {
                    continue;
                }
                // The statement and its transaction are over.
                let take = armed
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if take {
                    dropped.fetch_add(1, Ordering::SeqCst);
                    break 'read;
                }
                if client_tx.write_all(&held).await.is_err() {
                    break 'read;
                }
                held.clear();
            } else if client_tx.write_all(&message).await.is_err() {
                break 'read;
            }
        }
    }
    upstream.abort();
}
