//! One socket: a reader (this task) and a writer task. The reader parses and
//! validates frames and hands chat to the room; the writer obeys close
//! requests, then drains the socket's own queue, then the room's broadcast
//! ring, each in batches of up to [`WRITE_BATCH`] frames per flush.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;

use super::protocol::{
    error_json, error_json_code, parse_client, ClientFrame, ErrorCode, ModCommand,
};
use crate::auth::SessionUser;
use crate::error::AppError;
use crate::moderation::actions::BanRequest;
use crate::moderation::blocked_terms::contains_blocked;
use crate::moderation::{sanitize, validate_length, TextError};
use crate::room::fanout::Cursor;
use crate::room::outbox::{Outbox, Work};
use crate::room::{Attach, Close, Member, Membership, Resume, CLOSE_GOING_AWAY, CLOSE_TOO_BIG};
use crate::shutdown::Shutdown;
use crate::state::AppState;
use crate::tenant::Tenant;

/// Frames written before one flush, so a burst costs one syscall, not many.
const WRITE_BATCH: usize = 64;

/// What a socket knows after the handshake.
pub struct ConnCtx {
    pub state: AppState,
    pub tenant: Arc<Tenant>,
    pub user: SessionUser,
    pub stream_id: i32,
    pub room_id: i32,
    /// Computed at the handshake; exempts from slow mode.
    pub is_moderator: bool,
    /// `(epoch, since_offset)` from a reconnecting client's query string.
    pub resume: Option<(String, u64)>,
}

/// Runs a socket until either side closes it.
pub async fn serve(socket: WebSocket, ctx: ConnCtx) {
    metrics::gauge!("stampede_connections").increment(1.0);
    run(socket, ctx).await;
    metrics::gauge!("stampede_connections").decrement(1.0);
}

async fn run(socket: WebSocket, ctx: ConnCtx) {
    let (mut sink, stream) = socket.split();
    let outbox = Arc::new(Outbox::new(ctx.state.config.outbound_queue));
    let attach = Attach {
        member: Member {
            user_id: ctx.user.user_id,
            username: ctx.user.username.clone(),
        },
        is_moderator: ctx.is_moderator,
        resume: match &ctx.resume {
            Some((epoch, since)) => {
                let group =
                    crate::channel_layer::room_group(ctx.tenant.schema.as_str(), ctx.stream_id);
                let replay = ctx.state.layer.replay(&group, epoch, *since).await;
                Some(Arc::new(Resume {
                    epoch: epoch.clone(),
                    since: *since,
                    replay,
                }))
            }
            None => None,
        },
        outbox: outbox.clone(),
    };
    let ping_every = ctx.state.config.ping_interval();
    let (membership, feed) = match ctx
        .state
        .rooms
        .join(&ctx.tenant, ctx.stream_id, ctx.room_id, attach)
        .await
    {
        Ok(joined) => joined,
        Err(_) => {
            send_close(&mut sink, 1011, "room unavailable").await;
            return;
        }
    };
    // Started after the join, so the history the room queued is written
    // before any broadcast that followed it.
    let mut writer = tokio::spawn(write_loop(
        sink,
        outbox.clone(),
        feed,
        ctx.state.shutdown.clone(),
        ping_every,
    ));
    let writer_done = tokio::select! {
        _ = read_loop(stream, &ctx, &membership, &outbox, ping_every * 2) => false,
        _ = &mut writer => true,
    };
    membership.leave().await;
    outbox.finish();
    // The writer ends once the room and we dropped its queue, or after sending
    // a close frame; don't let a stuck peer keep the task alive.
    if !writer_done && timeout(Duration::from_secs(2), &mut writer).await.is_err() {
        writer.abort();
    }
}

async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    ctx: &ConnCtx,
    membership: &Membership,
    out: &Outbox,
    idle_limit: Duration,
) {
    loop {
        let msg = match timeout(idle_limit, stream.next()).await {
            Err(_) => {
                tracing::debug!("closing a silent socket");
                out.close(Close {
                    code: CLOSE_GOING_AWAY,
                    reason: "no pong",
                    frame: None,
                });
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(err))) => {
                if is_too_big(err) {
                    out.close(Close {
                        code: CLOSE_TOO_BIG,
                        reason: "frame too large",
                        frame: None,
                    });
                }
                return;
            }
            Ok(Some(Ok(msg))) => msg,
        };
        match msg {
            Message::Text(text) => {
                if handle_text(text.as_str(), ctx, membership, out)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Message::Binary(_) => reply(
                out,
                ErrorCode::BadJson,
                "binary frames are not supported",
                None,
            ),
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// Handles one text frame; `Err` only when the room is gone.
async fn handle_text(
    text: &str,
    ctx: &ConnCtx,
    membership: &Membership,
    out: &Outbox,
) -> Result<(), crate::room::handle::RoomClosed> {
    let frame = match parse_client(text) {
        Ok(frame) => frame,
        Err(err) => {
            reply(out, err.code(), &err.to_string(), None);
            return Ok(());
        }
    };
    match frame {
        ClientFrame::Chat { message } => {
            let config = &ctx.state.config;
            let (raw, clean) = match validate_length(&message, config.max_message_chars)
                .and_then(|raw| sanitize(raw).map(|clean| (raw, clean)))
            {
                Ok(pair) => pair,
                Err(err) => {
                    let code = match err {
                        TextError::Empty => ErrorCode::Empty,
                        TextError::TooLong(_) => ErrorCode::TooLong,
                    };
                    reply(out, code, &err.to_string(), None);
                    return Ok(());
                }
            };
            match ctx.state.moderation.blocked.terms(&ctx.tenant).await {
                // Both forms: markup can split a word that sanitising joins again.
                Ok(terms) if contains_blocked(raw, &terms) || contains_blocked(&clean, &terms) => {
                    // The term is not echoed back, so the list cannot be probed for it.
                    reply(
                        out,
                        ErrorCode::BlockedTerm,
                        "your message contains a blocked term",
                        None,
                    );
                    return Ok(());
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::error!(error = %err, "blocked terms unavailable");
                    reply(
                        out,
                        ErrorCode::Internal,
                        "chat is unavailable right now",
                        None,
                    );
                    return Ok(());
                }
            }
            if let Err(wait) = ctx
                .state
                .chat_limiter
                .check(ctx.tenant.id, ctx.user.user_id)
            {
                let ms = wait.as_millis().max(1) as u64;
                reply(out, ErrorCode::RateLimited, "slow down", Some(ms));
                return Ok(());
            }
            metrics::counter!("stampede_messages_received_total").increment(1);
            membership.chat(clean).await
        }
        ClientFrame::Reaction { stamp_id } => {
            let stamp = match ctx.state.stamps.get(&ctx.tenant, stamp_id).await {
                Ok(Some(stamp)) => stamp,
                Ok(None) => {
                    reply(out, ErrorCode::UnknownStamp, "no such stamp", None);
                    return Ok(());
                }
                Err(err) => {
                    tracing::error!(error = %err, "stamp lookup failed");
                    reply(out, ErrorCode::Internal, "reactions are unavailable", None);
                    return Ok(());
                }
            };
            if let Err(wait) = ctx
                .state
                .reaction_limiter
                .check(ctx.tenant.id, ctx.user.user_id)
            {
                let ms = wait.as_millis().max(1) as u64;
                reply(out, ErrorCode::RateLimited, "too many reactions", Some(ms));
                return Ok(());
            }
            membership.react(stamp).await
        }
        ClientFrame::Moderate(command) => {
            // Boxed: moderation awaits several queries, and an inline future
            // that size would be carried by every idle socket's task.
            if let Err(err) = Box::pin(moderate(ctx, command)).await {
                metrics::counter!("stampede_rejected_total", "code" => err.code()).increment(1);
                let frame = error_json_code(err.code(), &err.to_string());
                out.send(Utf8Bytes::from(frame));
            }
            Ok(())
        }
    }
}

/// Runs a moderator's command; its effects reach everyone (this socket
/// included) as room events, so success needs no reply.
async fn moderate(ctx: &ConnCtx, command: ModCommand) -> Result<(), AppError> {
    let m = &ctx.state.moderation;
    let (tenant, user, stream) = (&*ctx.tenant, &ctx.user, ctx.stream_id);
    match command {
        ModCommand::Pin { id } => m.pin(tenant, user, stream, id).await.map(drop),
        ModCommand::Unpin => m.unpin(tenant, user, stream).await,
        ModCommand::Delete { id } => m.delete_in_stream(tenant, user, stream, id).await,
        ModCommand::Clear { username } => m
            .clear(tenant, user, stream, username.as_deref())
            .await
            .map(drop),
        ModCommand::Ban {
            username,
            duration_secs,
            reason,
            scope,
        } => {
            let request = BanRequest {
                username,
                duration_secs,
                reason,
                scope,
            };
            m.ban(tenant, user, stream, request).await.map(drop)
        }
        ModCommand::Unban { username, scope } => {
            m.unban(tenant, user, stream, &username, scope).await
        }
        ModCommand::SlowMode { seconds } => m
            .set_slow_mode(tenant, user, stream, seconds)
            .await
            .map(drop),
    }
}

fn reply(out: &Outbox, code: ErrorCode, message: &str, retry_after_ms: Option<u64>) {
    metrics::counter!("stampede_rejected_total", "code" => code.as_str()).increment(1);
    // A full mailbox means the socket is about to be dropped anyway.
    out.send(Utf8Bytes::from(error_json(code, message, retry_after_ms)));
}

fn is_too_big(err: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    err.into_inner()
        .downcast_ref::<WsError>()
        .is_some_and(|e| matches!(e, WsError::Capacity(_)))
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    outbox: Arc<Outbox>,
    mut feed: Cursor,
    shutdown: Shutdown,
    ping_every: Duration,
) {
    let mut ping = tokio::time::interval(ping_every);
    ping.reset();
    // Made once: a fresh shutdown future per wake-up showed in profiles.
    let stop = shutdown.begun();
    tokio::pin!(stop);
    let mut batch: Vec<Utf8Bytes> = Vec::new();
    loop {
        let work = tokio::select! {
            biased;
            _ = &mut stop => Work::Close(Close {
                code: CLOSE_GOING_AWAY,
                reason: "server shutting down",
                frame: None,
            }),
            work = outbox.work(&feed, &mut batch, WRITE_BATCH) => work,
            _ = ping.tick() => {
                if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        match work {
            Work::Close(close) => {
                if let Some(frame) = close.frame {
                    let _ = sink.send(Message::Text(frame)).await;
                }
                send_close(&mut sink, close.code, close.reason).await;
                return;
            }
            Work::Finished => return,
            Work::Own => {}
            Work::Ring => match feed.read(&mut batch, WRITE_BATCH) {
                Ok(0) => {}
                Ok(skipped) => {
                    metrics::counter!("stampede_frames_dropped_total", "reason" => "reaction_behind")
                        .increment(skipped);
                }
                Err(_) => {
                    let close = Close::lagging();
                    send_close(&mut sink, close.code, close.reason).await;
                    return;
                }
            },
        }
        if write_batch(&mut sink, &mut batch).await.is_err() {
            return;
        }
    }
}

/// Writes `batch` (emptying it) with one flush at the end.
async fn write_batch(
    sink: &mut SplitSink<WebSocket, Message>,
    batch: &mut Vec<Utf8Bytes>,
) -> Result<(), axum::Error> {
    for frame in batch.drain(..) {
        sink.feed(Message::Text(frame)).await?;
    }
    sink.flush().await
}

async fn send_close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}
