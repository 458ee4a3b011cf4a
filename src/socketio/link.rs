//! One Socket.IO connection inside one room: a task that, like the chat
//! socket's (`ws::connection`), handles the client's frames in order and
//! writes the room's frames (its mailbox, then the broadcast ring) as
//! events, until the room lets it go, the client leaves, or it disconnects.

use serde_json::{json, Value};
use socketioxide::extract::SocketRef;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::room::outbox::Work;
use crate::room::Close;
use crate::ws::admit::Entered;
use crate::ws::context::ConnCtx;
use crate::ws::frames::handle_text;
use crate::ws::socket_quota::SocketSlot;

/// Frames written per turn of the loop.
const WRITE_BATCH: usize = 64;
/// Client frames waiting for the room's task; a client that outpaces it
/// waits (as a socket's unread frames would).
const INBOX: usize = 16;
/// Close code of a revoked session: the whole connection ends.
const CLOSE_REVOKED: u16 = 4401;

/// The handle the connection's event handlers keep.
#[derive(Clone)]
pub struct Link {
    frames: mpsc::Sender<String>,
    stop: CancellationToken,
}

impl Link {
    /// Hands a client frame (JSON text) to the room's task.
    pub async fn send(&self, text: String) {
        // Fails only once the task ended; the frame has no room to go to.
        let _ = self.frames.send(text).await;
    }

    /// Leaves the room.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// Starts the room's task for `socket`.
pub fn spawn(socket: SocketRef, ctx: ConnCtx, entered: Entered, slot: SocketSlot) -> Link {
    let (frames, inbox) = mpsc::channel(INBOX);
    let stop = CancellationToken::new();
    let link = Link {
        frames,
        stop: stop.clone(),
    };
    let tracker = ctx.state.shutdown.sockets().clone();
    tracker.spawn(async move {
        metrics::gauge!("stampede_socketio_members").increment(1.0);
        run(socket, ctx, entered, inbox, stop).await;
        metrics::gauge!("stampede_socketio_members").decrement(1.0);
        drop(slot);
    });
    link
}

async fn run(
    socket: SocketRef,
    ctx: ConnCtx,
    entered: Entered,
    mut inbox: mpsc::Receiver<String>,
    stop: CancellationToken,
) {
    let Entered {
        membership,
        mut feed,
        outbox,
        revocable: _revocable,
    } = entered;
    let mut batch = Vec::new();
    loop {
        let work = tokio::select! {
            _ = stop.cancelled() => break,
            text = inbox.recv() => {
                let Some(text) = text else { break };
                if handle_text(&text, &ctx, &membership, &outbox).await.is_err() {
                    break;
                }
                continue;
            }
            work = outbox.work(|| feed.has_unread(), &mut batch, WRITE_BATCH) => work,
        };
        match work {
            Work::Close(close) => {
                if let Some(frame) = &close.frame {
                    emit_frame(&socket, frame);
                }
                let _ = socket.emit(
                    "close",
                    &json!({"code": close.code, "reason": close.reason}),
                );
                if close.code == CLOSE_REVOKED {
                    let _ = socket.clone().disconnect();
                }
                break;
            }
            Work::Direct => {}
            Work::Ring => {
                if feed.read_counted(&mut batch, WRITE_BATCH).is_err() {
                    outbox.close(Close::lagging());
                }
            }
        }
        for frame in batch.drain(..) {
            if !emit_frame(&socket, &frame) {
                // Its buffer is full: too slow, as a socket behind the ring.
                outbox.close(Close::lagging());
                break;
            }
        }
    }
    membership.leave().await;
}

/// Emits a frame (JSON text) as the event its `type` names; `false` when
/// the connection cannot take it.
pub fn emit_frame(socket: &SocketRef, frame: &str) -> bool {
    let Ok(value) = serde_json::from_str::<Value>(frame) else {
        return true;
    };
    let event = value["type"].as_str().unwrap_or("message").to_owned();
    socket.emit(event, &value).is_ok()
}
