//! What each client frame does: chat is validated and handed to the room,
//! reactions are checked against the tenant's stamps and the rate limit
//! (both limits, and slow mode, across nodes when Redis is configured),
//! moderation commands go to the moderation service. A refusal is an error
//! frame to this socket only; the socket and the room carry on.

use axum::extract::ws::Utf8Bytes;

use super::context::ConnCtx;
use crate::chat::{Mention, ReplyTo};
use crate::editing;
use crate::error::AppError;
use crate::moderation::actions::BanRequest;
use crate::moderation::global_limit::SlowMode;
use crate::moderation::vet::{vet, Vetted};
use crate::room::outbox::Outbox;
use crate::room::{ChatLine, Membership};
use crate::store::replies;
use crate::wire::{error_json, parse_client, with_client_id, ClientFrame, ErrorCode, ModCommand};

/// Handles one text frame; `Err` only when the room is gone.
pub(crate) async fn handle_text(
    text: &str,
    ctx: &ConnCtx,
    membership: &Membership,
    out: &Outbox,
) -> Result<(), crate::room::handle::RoomClosed> {
    let frame = match parse_client(text) {
        Ok(frame) => frame,
        Err(err) => {
            reply(out, None, err.code(), &err.to_string(), None);
            return Ok(());
        }
    };
    if ctx.read_only {
        let client_id = match &frame {
            ClientFrame::Chat { client_id, .. } => client_id.as_deref(),
            _ => None,
        };
        let text = "this socket is read-only";
        reply(out, client_id, ErrorCode::ReadOnly, text, None);
        return Ok(());
    }
    match frame {
        ClientFrame::Chat {
            message,
            client_id,
            reply_to,
        } => {
            let cid = client_id.as_deref();
            // Slow mode is checked across nodes here, before the line
            // reaches the room, so the room actor never waits on Redis.
            let window = membership.slow_mode();
            let slow = (!ctx.is_moderator && !window.is_zero()).then_some(SlowMode {
                room_id: ctx.room_id,
                window,
            });
            let vetted = vet(&ctx.state, &ctx.tenant, ctx.user.user_id, &message, slow).await;
            let Vetted {
                raw,
                clean,
                slow_mode,
            } = match vetted {
                Ok(vetted) => vetted,
                Err(refused) => {
                    let retry = refused.retry_after_ms;
                    reply(out, cid, refused.code, &refused.message, retry);
                    return Ok(());
                }
            };
            let Some((mentions, reply_to)) = Box::pin(thread(ctx, raw, reply_to, cid, out)).await
            else {
                return Ok(());
            };
            let held = Box::pin(held_for_review(ctx, raw, &clean)).await;
            metrics::counter!("stampede_messages_received_total").increment(1);
            let line = ChatLine {
                text: clean,
                client_id,
                mentions,
                reply_to,
                held,
                slow_mode,
            };
            membership.chat(line).await
        }
        ClientFrame::Reaction { stamp_id } => {
            let stamp = match ctx.state.stamps.get(&ctx.tenant, stamp_id).await {
                Ok(Some(stamp)) => stamp,
                Ok(None) => {
                    reply(out, None, ErrorCode::UnknownStamp, "no such stamp", None);
                    return Ok(());
                }
                Err(err) => {
                    tracing::error!(error = %err, "stamp lookup failed");
                    reply(
                        out,
                        None,
                        ErrorCode::Unavailable,
                        "reactions are unavailable",
                        None,
                    );
                    return Ok(());
                }
            };
            let limits = &ctx.state.limits;
            if let Err(wait) = limits.reaction(&ctx.tenant, ctx.user.user_id).await {
                let ms = wait.as_millis().max(1) as u64;
                reply(
                    out,
                    None,
                    ErrorCode::RateLimited,
                    "too many reactions",
                    Some(ms),
                );
                return Ok(());
            }
            membership.react(stamp).await
        }
        ClientFrame::Edit { id, message } => {
            // Its effect reaches everyone (this socket included) as
            // `chat.edited`; only a refusal is answered here.
            let edited = editing::edit(&ctx.state, &ctx.tenant, &ctx.user, id, &message);
            if let Err(err) = Box::pin(edited).await {
                let retry = match &err {
                    AppError::Refused { retry_after_ms, .. } => *retry_after_ms,
                    _ => None,
                };
                reply(out, None, err.code(), &err.public_message(), retry);
            }
            Ok(())
        }
        ClientFrame::Moderate(command) => {
            // Boxed: moderation awaits several queries, and an inline future
            // that size would be carried by every idle socket's task.
            if let Err(err) = Box::pin(moderate(ctx, command)).await {
                let code = err.code();
                metrics::counter!("stampede_rejected_total", "code" => code.as_str()).increment(1);
                let frame = error_json(code, &err.public_message(), None);
                out.send(Utf8Bytes::from(frame));
            }
            Ok(())
        }
    }
}

/// The users `raw` mentions and the line it answers (`reply_to`: a visible
/// message of this room); `None` after refusing the line.
async fn thread(
    ctx: &ConnCtx,
    raw: &str,
    reply_to: Option<i64>,
    cid: Option<&str>,
    out: &Outbox,
) -> Option<(Vec<Mention>, Option<ReplyTo>)> {
    let unavailable = |err: &dyn std::fmt::Display| {
        tracing::error!(error = %err, "mentions or reply lookup failed");
        let text = "chat is unavailable right now; nothing was sent";
        reply(out, cid, ErrorCode::Unavailable, text, None);
    };
    let mentions = match ctx.state.mentions.resolve(&ctx.tenant, raw).await {
        Ok(mentions) => mentions,
        Err(err) => {
            unavailable(&err);
            return None;
        }
    };
    let reply_to = match reply_to {
        None => None,
        Some(id) => {
            let (pool, schema) = (&ctx.state.pool, &ctx.tenant.schema);
            match replies::target(pool, schema, ctx.room_id, id).await {
                Ok(Some(target)) => Some(target),
                Ok(None) => {
                    let text = "the message you reply to is not in this chat";
                    reply(out, cid, ErrorCode::NotFound, text, None);
                    return None;
                }
                Err(err) => {
                    unavailable(&err);
                    return None;
                }
            }
        }
    };
    Some((mentions, reply_to))
}

/// Auto-moderation's reasons to hold the line for review, `None` to let
/// it through. Moderators are never held. If the rules cannot be read the
/// line goes through: holding every line while the database is slow would
/// silence the chat for nothing (blocked terms, which refuse, fail closed).
async fn held_for_review(ctx: &ConnCtx, raw: &str, clean: &str) -> Option<Vec<String>> {
    if ctx.is_moderator {
        return None;
    }
    let automod = &ctx.state.moderation.automod;
    match automod
        .check(&ctx.tenant, ctx.user.user_id, raw, clean)
        .await
    {
        Ok(reasons) => reasons.map(|r| r.iter().map(|r| r.as_str().to_owned()).collect()),
        Err(err) => {
            tracing::warn!(error = %err, "auto-moderation unavailable; line not checked");
            None
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
        ModCommand::Approve { id } => m.approve(tenant, user, stream, id).await.map(drop),
        ModCommand::Deny { id } => m.deny(tenant, user, stream, id).await,
    }
}

/// Sends this socket an error; `client_id` names the chat line it refused.
pub(super) fn reply(
    out: &Outbox,
    client_id: Option<&str>,
    code: ErrorCode,
    message: &str,
    retry_after_ms: Option<u64>,
) {
    metrics::counter!("stampede_rejected_total", "code" => code.as_str()).increment(1);
    let json = with_client_id(&error_json(code, message, retry_after_ms), client_id);
    // A full mailbox means the socket is about to be dropped anyway.
    out.send(Utf8Bytes::from(json));
}
