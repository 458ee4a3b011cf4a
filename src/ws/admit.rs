//! What every transport into a chat room shares once the caller is known
//! (the chat WebSocket, Server-Sent Events, Socket.IO): the room and the
//! user's standing in one batched lookup, the ban check, the per-user cap
//! ([`admit`]); then registering for revocations, asking the log for a
//! resume and joining the room ([`enter`]). One path, so a transport cannot
//! skip a check the others make.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::time::Instant;

use super::context::ConnCtx;
use super::revocations::Tracked;
use super::socket_quota::SocketSlot;
use crate::auth::{Role, SessionUser};
use crate::channel_layer::room_group;
use crate::error::AppError;
use crate::moderation::permissions::Rank;
use crate::room::fanout::Cursor;
use crate::room::outbox::Outbox;
use crate::room::{Attach, Member, Membership, Resume, RoomUnavailable};
use crate::state::AppState;
use crate::store::embed;
use crate::tenant::Tenant;

/// A reader without a login: a user id of its own below zero (no account
/// has one), so that the room counts each such socket as one viewer.
fn anonymous(tenant_id: i32) -> SessionUser {
    static READERS: AtomicU32 = AtomicU32::new(0);
    let n = READERS.fetch_add(1, Ordering::Relaxed) % i32::MAX.unsigned_abs();
    // -1, -2, … (n < i32::MAX, so this cannot overflow).
    let user_id = -1 - n as i32;
    SessionUser {
        tenant_id,
        user_id,
        username: String::new(),
        role: Role::Viewer,
    }
}

/// The session's user; without one, an anonymous reader where the tenant
/// allows reading without a login (the overlay's readers) and the
/// connection only reads; else `unauthorized`.
pub async fn user_or_reader(
    state: &AppState,
    tenant_id: i32,
    user: Option<SessionUser>,
    read_only: bool,
) -> Result<SessionUser, AppError> {
    match user {
        Some(user) => Ok(user),
        None if read_only
            && embed::settings(&state.pool, tenant_id)
                .await?
                .anonymous_read =>
        {
            Ok(anonymous(tenant_id))
        }
        None => Err(AppError::Unauthorized),
    }
}

/// Who asks to join which room, and how.
pub struct Request {
    pub tenant: Arc<Tenant>,
    pub user: SessionUser,
    /// The cookie session (revoked by logout); empty for anonymous readers.
    pub session_id: String,
    /// When the caller's checks began (see [`ConnCtx::checked_at`]).
    pub checked_at: Instant,
    pub stream_id: i32,
    pub read_only: bool,
    /// `(epoch, since_offset)` of a reconnect.
    pub resume: Option<(String, u64)>,
}

/// A caller let in: its context, and its place under the per-user cap
/// (held as long as the connection lives).
pub struct Admitted {
    pub ctx: ConnCtx,
    pub slot: SocketSlot,
}

/// The checks after the session: the room exists (else `not_found`), the
/// account is active, a ban refuses all but read-only connections, and the
/// user holds fewer than `--max-sockets-per-user` connections here.
pub async fn admit(state: &AppState, request: Request) -> Result<Admitted, AppError> {
    let Request {
        tenant,
        user,
        session_id,
        checked_at,
        stream_id,
        read_only,
        resume,
    } = request;
    let is_anonymous = user.user_id < 0;
    // The room, the user's rank and any ban: one query shared with the
    // handshakes arriving at the same time.
    let info = state
        .admission
        .lookup(&tenant.schema, stream_id, user.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no active chat room for this stream".into()))?;
    if !info.user_active && !is_anonymous {
        return Err(AppError::Unauthorized);
    }
    if let (Some(ban), false) = (info.ban, read_only) {
        return Err(AppError::Banned {
            until: ban.until,
            reason: ban.reason,
        });
    }
    let slot = state
        .socket_quota
        .acquire((tenant.id, user.user_id), state.config.max_sockets_per_user)
        .ok_or(AppError::TooManyConnections)?;
    super::handshake::open_for_sockets(state)?;
    let rank = Rank::of(&info.standing);
    let ctx = ConnCtx {
        checked_at,
        state: state.clone(),
        tenant,
        session_id,
        user,
        stream_id,
        room_id: info.room_id,
        is_moderator: rank.can_moderate(),
        badge: rank.badge(),
        read_only,
        resume: resume.filter(|(epoch, _)| epoch.len() <= 64),
    };
    Ok(Admitted { ctx, slot })
}

/// A connection inside its room.
pub struct Entered {
    pub membership: Membership,
    /// Its place in the room's broadcast ring.
    pub feed: Cursor,
    /// Frames for it alone, and close requests.
    pub outbox: Arc<Outbox>,
    /// Registered for revocations until dropped.
    pub revocable: Tracked,
}

/// Registers `ctx`'s connection for revocations, fetches what a resume
/// missed from the log, and joins the room.
pub async fn enter(ctx: &ConnCtx) -> Result<Entered, RoomUnavailable> {
    let outbox = Arc::new(Outbox::new(ctx.state.config.outbound_queue));
    // Logout or deactivation anywhere closes the connection through its outbox.
    let revocable = ctx.state.revocations.track(
        ctx.tenant.id,
        ctx.user.user_id,
        ctx.session_id.clone(),
        &outbox,
        ctx.checked_at,
    );
    let resume = match &ctx.resume {
        Some((epoch, since)) => {
            let group = room_group(ctx.tenant.schema.as_str(), ctx.stream_id);
            let replay = ctx.state.layer.replay(&group, epoch, *since).await;
            Some(Arc::new(Resume {
                epoch: epoch.clone(),
                since: *since,
                replay,
            }))
        }
        None => None,
    };
    let attach = Attach {
        member: Member {
            user_id: ctx.user.user_id,
            username: ctx.user.username.clone(),
            badge: ctx.badge,
        },
        is_moderator: ctx.is_moderator,
        read_only: ctx.read_only,
        resume,
        outbox: outbox.clone(),
        position: Arc::default(),
    };
    let (membership, feed) = ctx
        .state
        .rooms
        .join(&ctx.tenant, ctx.stream_id, ctx.room_id, attach)
        .await?;
    Ok(Entered {
        membership,
        feed,
        outbox,
        revocable,
    })
}
