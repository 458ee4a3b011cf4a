//! One socket, one task. It reads the client's frames (each handled by
//! `frames`); between reads it obeys close requests, then
//! drains the socket's own queue, then the room's broadcast ring, each in
//! batches of up to [`WRITE_BATCH`] frames per flush. A second task per
//! socket would cost memory at tens of thousands of sockets and a lock
//! shared by the two halves on every frame.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Error as WsError;

use super::admit::{enter, Entered};
use super::context::ConnCtx;
use super::frames::{self, reply};
use crate::room::fanout::Cursor;
use crate::room::outbox::{Outbox, Work};
use crate::room::{Close, Membership, CLOSE_GOING_AWAY, CLOSE_TOO_BIG};
use crate::wire::ErrorCode;

/// Frames written before one flush, so a burst costs one syscall, not many.
const WRITE_BATCH: usize = 64;
/// How long a closing socket waits for the client's close reply.
const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(2);
/// RFC 6455: the data in a message is not of its type (invalid UTF-8 text).
const CLOSE_INVALID_DATA: u16 = 1007;

/// Runs a socket until either side closes it.
pub async fn serve(socket: WebSocket, ctx: ConnCtx) {
    metrics::gauge!("stampede_connections").increment(1.0);
    connect(socket, ctx).await;
    metrics::gauge!("stampede_connections").decrement(1.0);
}

/// Joins the room, runs the socket, leaves, closes.
async fn connect(mut socket: WebSocket, ctx: ConnCtx) {
    let Ok(entered) = enter(&ctx).await else {
        close_gracefully(&mut socket, 1011, "room unavailable", Reply::Read).await;
        return;
    };
    let Entered {
        membership,
        mut feed,
        outbox,
        revocable: _revocable,
    } = entered;
    let end = run(&mut socket, &ctx, &membership, &outbox, &mut feed).await;
    // Left first: the room must not wait on this socket's close handshake.
    membership.leave().await;
    let (close, reply) = match end {
        End::Gone => return,
        End::Close(close) => (close, Reply::Read),
        End::Refused(close) => (close, Reply::Unreadable),
    };
    if let Some(frame) = close.frame {
        let _ = socket.send(Message::Text(frame)).await;
    }
    close_gracefully(&mut socket, close.code, close.reason, reply).await;
}

/// Why a socket's loop ended.
enum End {
    /// The peer went away or the socket failed; nothing more can be sent.
    Gone,
    /// Close the socket with this.
    Close(Close),
    /// Close the socket with this after a frame that could not be read
    /// (too big, not UTF-8): the stream reads nothing more after that.
    Refused(Close),
}

/// Whether the peer's close reply can be read.
#[derive(Clone, Copy)]
pub(crate) enum Reply {
    Read,
    /// The stream ended on a read error; only time can tell the reply came.
    Unreadable,
}

/// Reads and writes one socket in a single task until it ends. The history
/// the room queued at the join is in the mailbox before any broadcast that
/// followed it, and own frames are written first, so the order holds.
async fn run(
    socket: &mut WebSocket,
    ctx: &ConnCtx,
    membership: &Membership,
    outbox: &Outbox,
    feed: &mut Cursor,
) -> End {
    let ping_every = ctx.state.config.ping_interval();
    let idle_limit = ping_every * 2;
    let mut ping = tokio::time::interval(ping_every);
    ping.reset();
    // One timer moved forward on each client frame, rather than a fresh
    // timeout around every read.
    let silent = tokio::time::sleep(idle_limit);
    tokio::pin!(silent);
    let mut batch: Vec<Utf8Bytes> = Vec::new();
    let end = loop {
        // Every branch is cancel-safe: the mailbox keeps what it has not
        // handed out, and the socket keeps a partly read frame buffered.
        // Not biased: a busy room must not starve reads, nor a chatty
        // client its deliveries.
        let work = tokio::select! {
            work = outbox.work(|| feed.has_unread(), &mut batch, WRITE_BATCH) => work,
            msg = socket.next() => {
                silent.as_mut().reset(tokio::time::Instant::now() + idle_limit);
                match read(msg, ctx, membership, outbox).await {
                    Some(end) => break end,
                    None => continue,
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    break End::Gone;
                }
                continue;
            }
            _ = &mut silent => {
                tracing::debug!("closing a silent socket");
                break End::Close(Close {
                    code: CLOSE_GOING_AWAY,
                    reason: "no pong",
                    frame: None,
                });
            }
        };
        match work {
            Work::Close(close) => break End::Close(close),
            Work::Direct => {}
            Work::Ring => {
                if feed.read_counted(&mut batch, WRITE_BATCH).is_err() {
                    break End::Close(Close::lagging());
                }
            }
        }
        if write_batch(socket, &mut batch).await.is_err() {
            break End::Gone;
        }
    };
    end
}

/// Handles what the socket read; `Some` when the socket is done.
async fn read(
    msg: Option<Result<Message, axum::Error>>,
    ctx: &ConnCtx,
    membership: &Membership,
    out: &Outbox,
) -> Option<End> {
    let msg = match msg {
        None => return Some(End::Gone),
        Some(Err(err)) => return Some(refusal(&err).map_or(End::Gone, End::Refused)),
        Some(Ok(msg)) => msg,
    };
    match msg {
        Message::Text(text) => {
            if frames::handle_text(text.as_str(), ctx, membership, out)
                .await
                .is_err()
            {
                return Some(End::Gone);
            }
        }
        Message::Binary(_) => reply(
            out,
            None,
            ErrorCode::BadJson,
            "binary frames are not supported",
            None,
        ),
        // The reply to the peer's close is queued by the socket and written
        // by the next read, which then ends the stream.
        Message::Close(_) | Message::Ping(_) | Message::Pong(_) => {}
    }
    None
}

/// The close for a frame that could not be read (too big: 1009; not
/// UTF-8: 1007), after which the stream reads nothing more; `None` when the
/// peer is simply gone.
pub(crate) fn refusal(err: &axum::Error) -> Option<Close> {
    if is_too_big(err) {
        Some(Close {
            code: CLOSE_TOO_BIG,
            reason: "frame too large",
            frame: None,
        })
    } else if is_bad_utf8(err) {
        Some(Close {
            code: CLOSE_INVALID_DATA,
            reason: "text frame is not valid UTF-8",
            frame: None,
        })
    } else {
        None
    }
}

fn is_too_big(err: &axum::Error) -> bool {
    matches!(tungstenite_error(err), Some(WsError::Capacity(_)))
}

fn is_bad_utf8(err: &axum::Error) -> bool {
    matches!(tungstenite_error(err), Some(WsError::Utf8(_)))
}

fn tungstenite_error(err: &axum::Error) -> Option<&WsError> {
    std::error::Error::source(err).and_then(|e| e.downcast_ref::<WsError>())
}

/// Writes `batch` (emptying it) with one flush at the end.
pub(crate) async fn write_batch(
    socket: &mut WebSocket,
    batch: &mut Vec<Utf8Bytes>,
) -> Result<(), axum::Error> {
    for frame in batch.drain(..) {
        socket.feed(Message::Text(frame)).await?;
    }
    socket.flush().await
}

/// Sends a close frame, then reads (and discards) until the peer's close
/// reply or [`CLOSE_REPLY_WAIT`]. Dropping the TCP connection at once would
/// let a client that is still writing get a reset, and a reset can destroy
/// the close frame before the client reads it.
pub(crate) async fn close_gracefully(
    socket: &mut WebSocket,
    code: u16,
    reason: &'static str,
    reply: Reply,
) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    match reply {
        Reply::Read => {
            let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, async {
                while let Some(Ok(msg)) = socket.next().await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
        // The client's reply cannot be seen, so the connection is held for
        // the whole wait. Only a client that sent a broken frame pays this.
        Reply::Unreadable => tokio::time::sleep(CLOSE_REPLY_WAIT).await,
    }
}
