//! The accept loop, in place of `axum::serve`, which cannot bound slow or
//! idle clients. Each accepted connection:
//! - counts against `--max-connections-per-ip` for its peer address (trusted
//!   proxies are exempt: their clients share the proxy's address), refused
//!   at accept time past it; the count lasts as long as the TCP connection,
//!   WebSocket included;
//! - must deliver a request's headers within `--header-timeout-secs` of its
//!   first byte (and a new connection its first request within that time);
//! - is closed after `--idle-timeout-secs` between requests.
//!
//! Bodies are bounded in time by a layer of the router (`--body-timeout-secs`).
//! Upgraded WebSockets leave this watch: pings and the silence deadline
//! govern them.

use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::auth::login_throttle::AddrKey;
use crate::http::client_addr::is_trusted_proxy;
use crate::quota::{Quota, Slot};
use crate::shutdown::Shutdown;

/// How the accept loop bounds connections.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub max_per_ip: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Peers exempt from `max_per_ip`.
    pub trusted_proxies: Vec<IpNet>,
}

/// Accepts until `shutdown` begins, then lets open HTTP connections finish
/// their requests (WebSockets are closed by their rooms) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let per_ip: Quota<AddrKey> = Quota::default();
    let connections = TaskTracker::new();
    let limits = Arc::new(limits);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of descriptors, or the peer gave up: keep serving.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.begun() => break,
        };
        let slot = if is_trusted_proxy(&limits.trusted_proxies, peer.ip()) {
            None
        } else {
            match per_ip.acquire(AddrKey::from(peer.ip()), limits.max_per_ip) {
                Some(slot) => Some(slot),
                None => {
                    metrics::counter!("stampede_connections_refused_total", "reason" => "per_ip")
                        .increment(1);
                    drop(tcp);
                    continue;
                }
            }
        };
        // Chat frames are small and must leave at once: with Nagle's
        // algorithm a frame written while the previous one is unacknowledged
        // waits for the peer's delayed ACK (up to 40 ms).
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY not set");
        }
        let watch = Arc::new(Watch::new(slot));
        connections.spawn(connection(
            tcp,
            peer,
            app.clone(),
            watch,
            limits.clone(),
            shutdown.clone(),
        ));
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    watch: Arc<Watch>,
    limits: Arc<ConnLimits>,
    shutdown: Shutdown,
) {
    let io = TokioIo::new(Watched {
        inner: tcp,
        watch: watch.clone(),
    });
    let requests = watch.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        let watch = requests.clone();
        watch.begin();
        let busy = Busy(watch);
        async move {
            let response = app.oneshot(req.map(Body::new)).await;
            // Busy until the body is written, not only its head: a streamed
            // answer (SSE, a CSV export) is not an idle connection.
            response.map(|response| {
                response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &busy;
                        frame
                    }))
                })
            })
        }
    });
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a proxy in
    // front ends, and an HTTP/2 WebSocket would share its connection's
    // header and idle deadlines.
    let mut conn = pin!(http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades());
    let mut draining = false;
    loop {
        let deadline = watch.deadline(&limits);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::trace!(error = %err, "connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(1))) => {
                if watch.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    metrics::counter!("stampede_connections_timed_out_total").increment(1);
                    // Dropping the connection closes the socket.
                    return;
                }
            }
            _ = shutdown.begun(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What the deadline of a connection depends on, shared by its reads and
/// its requests. Times are milliseconds since the connection was accepted.
struct Watch {
    accepted: Instant,
    in_flight: AtomicUsize,
    /// When the connection last became ready for a request.
    ready_since: AtomicU64,
    /// The first byte read since then (`NONE` if none).
    first_byte: AtomicU64,
    /// Requests answered so far (the first request is due within the
    /// header timeout, later ones may idle for the idle timeout).
    answered: AtomicU64,
    /// Counts against the peer's connection limit until the TCP connection
    /// (also after a WebSocket upgrade) is gone.
    _slot: Option<Slot<AddrKey>>,
}

const NONE: u64 = u64::MAX;

/// A request in flight on its connection, from its head until its answer's
/// body is dropped.
struct Busy(Arc<Watch>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

impl Watch {
    fn new(slot: Option<Slot<AddrKey>>) -> Self {
        Self {
            accepted: Instant::now(),
            in_flight: AtomicUsize::new(0),
            ready_since: AtomicU64::new(0),
            first_byte: AtomicU64::new(NONE),
            answered: AtomicU64::new(0),
            _slot: slot,
        }
    }

    fn now(&self) -> u64 {
        self.accepted.elapsed().as_millis() as u64
    }

    fn on_bytes(&self) {
        if self.first_byte.load(Ordering::Relaxed) == NONE {
            let _ = self.first_byte.compare_exchange(
                NONE,
                self.now(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.answered.fetch_add(1, Ordering::Relaxed);
            self.ready_since.store(self.now(), Ordering::Relaxed);
            self.first_byte.store(NONE, Ordering::Relaxed);
        }
    }

    /// When the connection must be closed if nothing changes; `None` while
    /// a request is being handled.
    fn deadline(&self, limits: &ConnLimits) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let at = |ms: u64, limit: Duration| self.accepted + Duration::from_millis(ms) + limit;
        let first_byte = self.first_byte.load(Ordering::Relaxed);
        if first_byte != NONE {
            return Some(at(first_byte, limits.header_timeout));
        }
        let ready = self.ready_since.load(Ordering::Relaxed);
        if self.answered.load(Ordering::Relaxed) == 0 {
            Some(at(ready, limits.header_timeout))
        } else {
            Some(at(ready, limits.idle_timeout))
        }
    }
}

/// The TCP stream, reporting reads to its [`Watch`].
struct Watched {
    inner: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.on_bytes();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnLimits {
        ConnLimits {
            max_per_ip: 10,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            trusted_proxies: vec![],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_the_connections_state() {
        let w = Watch::new(None);
        let l = limits();
        let start = w.accepted;
        // A fresh connection owes its first request within the header timeout.
        assert_eq!(w.deadline(&l), Some(start + l.header_timeout));
        tokio::time::advance(Duration::from_secs(3)).await;
        w.on_bytes();
        assert_eq!(
            w.deadline(&l),
            Some(start + Duration::from_secs(3) + l.header_timeout)
        );
        w.begin();
        assert_eq!(w.deadline(&l), None, "no deadline while a request runs");
        tokio::time::advance(Duration::from_secs(100)).await;
        w.end();
        // Between requests: the idle limit from the answer on.
        assert_eq!(
            w.deadline(&l),
            Some(start + Duration::from_secs(103) + l.idle_timeout)
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        w.on_bytes();
        assert_eq!(
            w.deadline(&l),
            Some(start + Duration::from_secs(108) + l.header_timeout)
        );
    }
}
