//! A TCP forwarder in front of a server, to stage network trouble between a
//! client (a browser) and the server: hold the server's bytes back, cut
//! every open connection, refuse new ones.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, Default)]
struct Control {
    /// Bytes from the server wait in the proxy until this is off again.
    hold_replies: bool,
    /// New connections are closed at once.
    refuse: bool,
    /// Connections opened under an older cut are closed.
    cut: u64,
}

pub struct TcpProxy {
    port: u16,
    control: watch::Sender<Control>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let (control, _) = watch::channel(Control::default());
        let watcher = control.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let now = *watcher.borrow();
                if now.refuse {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(
                    client_read,
                    server_write,
                    watcher.subscribe(),
                    now.cut,
                    false,
                ));
                tokio::spawn(pump(
                    server_read,
                    client_write,
                    watcher.subscribe(),
                    now.cut,
                    true,
                ));
            }
        });
        TcpProxy {
            port,
            control,
            accept,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Holds what the server sends (or lets it through again).
    pub fn hold_replies(&self, on: bool) {
        self.control.send_modify(|c| c.hold_replies = on);
    }

    /// Closes new connections at once (or accepts them again).
    pub fn refuse(&self, on: bool) {
        self.control.send_modify(|c| c.refuse = on);
    }

    /// Closes every open connection (bytes held back are dropped).
    pub fn cut(&self) {
        self.control.send_modify(|c| c.cut += 1);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Copies one direction until either side closes or the connection is cut;
/// with `holdable`, each chunk waits while replies are held.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut control: watch::Receiver<Control>,
    cut: u64,
    holdable: bool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = control.wait_for(|c| c.cut != cut) => return,
        };
        if holdable {
            let free = control.wait_for(|c| !c.hold_replies || c.cut != cut).await;
            if !free.is_ok_and(|c| c.cut == cut) {
                return;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
