//! The server's listening socket.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Connections the kernel holds for the server before it accepts them
/// (capped by `net.core.somaxconn`). Tokio's default of 1,024 overflowed when
/// 10,000 viewers reconnected at once after a restart, and a dropped SYN is
/// only retried after the client's one-second retransmission timeout.
pub const BACKLOG: u32 = 4096;

/// Binds `addr` with a [`BACKLOG`]-deep accept queue; with `reuse_port`,
/// other processes may bind it too and the kernel shares connections out.
pub fn bind(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // A restarted server must not wait for the old one's sockets to time out.
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::future::join_all;
    use tokio::net::TcpStream;

    use super::*;

    #[tokio::test]
    async fn queues_a_burst_larger_than_tokios_default_backlog() {
        let listener = bind("127.0.0.1:0".parse().expect("addr"), false).expect("bind");
        let addr = listener.local_addr().expect("local addr");
        // Nothing accepts, so each connection must complete from the queue.
        // Above tokio's 1,024 and below Debian's default somaxconn of 4,096;
        // a dropped SYN would not be retried within the timeout.
        let burst = 1500;
        let connects = (0..burst)
            .map(|_| tokio::time::timeout(Duration::from_millis(900), TcpStream::connect(addr)));
        let connected = join_all(connects)
            .await
            .into_iter()
            .filter(|r| matches!(r, Ok(Ok(_))))
            .count();
        assert_eq!(connected, burst);
    }

    #[tokio::test]
    async fn only_reuse_port_lets_a_second_process_bind_the_address() {
        let first = bind("127.0.0.1:0".parse().expect("addr"), true).expect("bind");
        let addr = first.local_addr().expect("local addr");
        assert!(
            bind(addr, true).is_ok(),
            "a second node binds beside the first"
        );
        let plain = bind("127.0.0.1:0".parse().expect("addr"), false).expect("bind");
        let taken = plain.local_addr().expect("local addr");
        assert!(
            bind(taken, false).is_err(),
            "without it the address is taken"
        );
    }
}
