//! One notification socket, one task: it registers its device with the
//! hub, sends the sync, then writes what the hub queues (new notifications
//! paced by the device's coalescing timer) and reads the client's frames,
//! with the chat socket's pings, silence limit and closing handshake.
//! An idle socket holds this task, its mailbox and its device: no buffers
//! beyond the socket's own, no second task.

use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{client, NotifyCtx};
use crate::error::AppError;
use crate::notifications::device::Device;
use crate::notifications::hub::wait_ready;
use crate::notifications::{frames, DEVICE_QUEUE};
use crate::room::outbox::{Outbox, Work};
use crate::room::{Close, CLOSE_GOING_AWAY};
use crate::wire::ErrorCode;
use crate::ws::connection::{close_gracefully, refusal, write_batch, Reply};

/// Frames written before one flush.
const WRITE_BATCH: usize = 16;
/// Close code when the sync cannot be read (the database is unreachable).
const CLOSE_INTERNAL: u16 = 1011;

/// Runs a socket until either side closes it.
pub async fn serve(socket: WebSocket, ctx: NotifyCtx) {
    metrics::gauge!("stampede_notification_sockets").increment(1.0);
    connect(socket, ctx).await;
    metrics::gauge!("stampede_notification_sockets").decrement(1.0);
}

/// Why the loop ended.
enum End {
    Gone,
    Close(Close),
    Refused(Close),
}

async fn connect(mut socket: WebSocket, ctx: NotifyCtx) {
    let outbox = Arc::new(Outbox::new(DEVICE_QUEUE));
    // Logout or deactivation anywhere closes this socket, as it does chat's.
    let _revocable = ctx.state.revocations.track(
        ctx.tenant.id,
        ctx.user.user_id,
        ctx.session_id.clone(),
        &outbox,
        ctx.checked_at,
    );
    let interval = ctx.state.config.notification_coalesce();
    let device = Arc::new(Device::new(outbox.clone(), interval, ctx.locale));
    // Registered (and subscribed) before the sync is read: nothing
    // published meanwhile is missed.
    let (registration, mut ready) =
        ctx.state
            .notifications
            .hub
            .register(&ctx.tenant, ctx.user.user_id, device.clone());
    wait_ready(&mut ready).await;
    device.begin_sync();
    match Box::pin(sync(&ctx)).await {
        Ok(frame) => device.finish_sync(frame),
        Err(err) => {
            let frame = frames::error(err.code(), &err.public_message(), None);
            let _ = socket.send(Message::Text(frame)).await;
            close_gracefully(&mut socket, CLOSE_INTERNAL, "unavailable", Reply::Read).await;
            return;
        }
    }
    let end = run(&mut socket, &ctx, &device).await;
    drop(registration);
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

/// The `notification.sync` frame: the unread count and the newest ones.
async fn sync(ctx: &NotifyCtx) -> Result<Utf8Bytes, AppError> {
    let syncs = &ctx.state.notifications.syncs;
    let synced = syncs.read(&ctx.tenant.schema, ctx.user.user_id).await?;
    Ok(frames::sync(synced.unread, &synced.latest, ctx.locale))
}

async fn run(socket: &mut WebSocket, ctx: &NotifyCtx, device: &Device) -> End {
    let outbox = device.outbox();
    let ping_every = ctx.state.config.ping_interval();
    let idle_limit = ping_every * 2;
    let mut ping = tokio::time::interval(ping_every);
    ping.reset();
    let silent = tokio::time::sleep(idle_limit);
    tokio::pin!(silent);
    let mut batch: Vec<Utf8Bytes> = Vec::new();
    loop {
        let due = device.due();
        // Every branch is cancel-safe (see `ws::connection`).
        tokio::select! {
            // "Ring" here means: a notification started waiting; loop to
            // re-read when it is due.
            work = outbox.work(|| device.take_rearm(), &mut batch, WRITE_BATCH) => {
                if let Work::Close(close) = work {
                    return End::Close(close);
                }
            }
            _ = sleep_until(due) => device.flush(tokio::time::Instant::now()),
            msg = socket.next() => {
                silent.as_mut().reset(tokio::time::Instant::now() + idle_limit);
                match msg {
                    None => return End::Gone,
                    Some(Err(err)) => return refusal(&err).map_or(End::Gone, End::Refused),
                    Some(Ok(Message::Text(text))) => {
                        client::handle_text(text.as_str(), ctx, outbox).await;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        outbox.send(frames::error(
                            ErrorCode::BadJson,
                            "binary frames are not supported",
                            None,
                        ));
                    }
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    return End::Gone;
                }
            }
            _ = &mut silent => {
                return End::Close(Close {
                    code: CLOSE_GOING_AWAY,
                    reason: "no pong",
                    frame: None,
                });
            }
        }
        if !batch.is_empty() && write_batch(socket, &mut batch).await.is_err() {
            return End::Gone;
        }
    }
}

/// Sleeps until `due`, or forever when nothing waits.
async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}
