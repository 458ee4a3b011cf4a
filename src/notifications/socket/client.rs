//! What a client's frame does. A refusal is an error frame to this socket;
//! the socket carries on.

use super::NotifyCtx;
use crate::error::AppError;
use crate::notifications::frames::{self, ClientFrame};
use crate::room::outbox::Outbox;
use crate::store::notifications;
use crate::wire::ErrorCode;

/// Handles one text frame.
pub(super) async fn handle_text(text: &str, ctx: &NotifyCtx, out: &Outbox) {
    match frames::parse(text) {
        Ok(ClientFrame::Read { id }) => {
            // Boxed: the read awaits queries, and an inline future that size
            // would be carried by every idle socket's task.
            if let Err(err) = Box::pin(read(ctx, id)).await {
                let retry_ms = match &err {
                    AppError::RateLimited { retry_after } => {
                        Some(retry_after.as_millis().max(1) as u64)
                    }
                    _ => None,
                };
                refuse(out, err.code(), &err.public_message(), retry_ms);
            }
        }
        Err(err) => refuse(out, err.code(), &err.to_string(), None),
    }
}

/// Marks notification `id` read; every device of the user (this one too)
/// hears of it through the hub, so success needs no reply here.
async fn read(ctx: &NotifyCtx, id: i64) -> Result<(), AppError> {
    let services = &ctx.state.notifications;
    if let Err(wait) = services.read_limiter.check(ctx.tenant.id, ctx.user.user_id) {
        return Err(AppError::RateLimited { retry_after: wait });
    }
    let marked = services
        .notifier
        .mark_read(&ctx.tenant, ctx.user.user_id, Some(&[id]))
        .await?;
    let pool = &ctx.state.pool;
    if marked.ids.is_empty()
        && !notifications::owns(pool, &ctx.tenant.schema, ctx.user.user_id, id).await?
    {
        return Err(AppError::NotFound(format!("no notification {id}")));
    }
    Ok(())
}

fn refuse(out: &Outbox, code: ErrorCode, message: &str, retry_after_ms: Option<u64>) {
    metrics::counter!("stampede_rejected_total", "code" => code.as_str()).increment(1);
    // A full mailbox means the socket is about to be closed anyway.
    out.send(frames::error(code, message, retry_after_ms));
}
