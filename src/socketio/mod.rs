//! The Socket.IO v4 transport at `/socket.io/` (seeds 000, 003, 004), for
//! clients built on `socket.io-client`: WebSocket or long-polling, into the
//! same rooms as the chat WebSocket, through the same admission
//! (`ws::admit`), frame handling (`ws::frames`), limits and storage.
//!
//! - Connect: the handshake's HTTP request passed the tenant and session
//!   layers; the Origin must be the tenant's (as for the socket), and the
//!   session must be logged in unless the tenant allows anonymous reading.
//!   A refusal is Socket.IO's `connect_error` whose message is the error
//!   code (`unauthorized`, `bad_origin`).
//! - `join` with `"stream_{id}"` or `{"room": "stream_{id}", "since_offset",
//!   "epoch", "read_only"}`: enters that room (one room per socket; joining
//!   another leaves the first). The acknowledgement, if asked for, is
//!   `{"ok": true}` or `{"ok": false, "error": code, "message", …}`.
//!   `leave` leaves it (acknowledged with `{"ok": true}`).
//! - Client → server: the chat socket's frames as events named by their
//!   `type` (`message`/`chat.message`, `reaction`, `chat.edit`, moderation
//!   commands), the rest of the frame as the data (`"message"` may be just
//!   the text).
//! - Server → client: every frame the chat socket would send, as an event
//!   named by its `type`, the frame as the data; and `close` with
//!   `{"code", "reason"}` when the room lets the socket go (the socket's
//!   close codes; the Socket.IO connection stays open, except after 4401).

mod link;

use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, Event, Extension, SocketRef};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;
use tower_sessions::Session;

use crate::auth::origin::origin_allowed;
use crate::auth::session::user_of;
use crate::auth::SessionUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::tenant::{CurrentTenant, Tenant};
use crate::wire::ErrorCode;
use crate::ws::admit::{admit, enter, user_or_reader, Admitted, Request};
use crate::ws::handler::parse_room_segment;
use crate::ws::MAX_FRAME_BYTES;
use link::Link;

/// Frames a client may send, by event name (`message` is the seed's chat frame).
const CLIENT_EVENTS: &[&str] = &[
    "message",
    "chat.message",
    "reaction",
    "chat.edit",
    "chat.pin",
    "chat.unpin",
    "chat.delete",
    "chat.clear",
    "ban",
    "unban",
    "slow_mode",
    "chat.approve",
    "chat.deny",
];

/// Who a Socket.IO connection is, settled at its connect.
#[derive(Clone)]
struct Caller {
    tenant: Arc<Tenant>,
    /// `None`: an anonymous reader (the tenant allows reading without a login).
    user: Option<SessionUser>,
    session_id: String,
    checked_at: tokio::time::Instant,
    /// The room it is in, if any.
    link: Arc<Mutex<Option<Link>>>,
}

/// The layer serving `/socket.io/`; it goes inside the tenant and session
/// layers so the handshake's request carries both.
pub fn layer(state: &AppState) -> SocketIoLayer {
    let ping = state.config.ping_interval();
    let (layer, io) = SocketIo::builder()
        .ping_interval(ping)
        .ping_timeout(ping)
        .max_payload(MAX_FRAME_BYTES as u64)
        .build_layer();
    let on_connect = {
        let state = state.clone();
        move |socket: SocketRef, Extension(caller): Extension<Caller>| {
            connected(socket, caller, state.clone())
        }
    };
    let check = {
        let state = state.clone();
        move |socket: SocketRef| {
            let state = state.clone();
            async move { authenticate(&socket, &state).await }
        }
    };
    io.ns("/", on_connect.with(check));
    // Rooms close their members at shutdown; the transports close here.
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        shutdown.begun().await;
        io.close().await;
    });
    layer
}

/// Refused connects answer `connect_error` with the error code as message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refusal(&'static str);

impl From<AppError> for Refusal {
    fn from(err: AppError) -> Self {
        Refusal(err.code().as_str())
    }
}

async fn authenticate(socket: &SocketRef, state: &AppState) -> Result<(), Refusal> {
    let checked_at = tokio::time::Instant::now();
    let parts = socket.req_parts();
    let Some(CurrentTenant(tenant)) = parts.extensions.get::<CurrentTenant>().cloned() else {
        return Err(Refusal("unknown_host"));
    };
    if !origin_allowed(&parts.headers, &state.config.allowed_origins) {
        return Err(Refusal("bad_origin"));
    }
    let session = parts.extensions.get::<Session>().cloned();
    let user = match &session {
        Some(session) => user_of(session, tenant.id).await?,
        None => None,
    };
    // Without a login: only where anonymous reading is allowed (each join
    // then gets its own anonymous reader).
    if user.is_none() {
        user_or_reader(state, tenant.id, None, true).await?;
    }
    let session_id = session
        .and_then(|s| s.id().map(|id| id.to_string()))
        .unwrap_or_default();
    socket.extensions.insert(Caller {
        tenant,
        user,
        session_id,
        checked_at,
        link: Arc::default(),
    });
    Ok(())
}

/// What `join` accepts: the room alone, or with a resume.
#[derive(Deserialize)]
#[serde(untagged)]
enum JoinRequest {
    Room(String),
    Full {
        room: String,
        since_offset: Option<u64>,
        epoch: Option<String>,
        #[serde(default)]
        read_only: bool,
    },
}

async fn connected(socket: SocketRef, caller: Caller, state: AppState) {
    let join = {
        let (caller, state) = (caller.clone(), state.clone());
        move |socket: SocketRef, Data(request): Data<Value>, ack: AckSender| {
            let (caller, state) = (caller.clone(), state.clone());
            async move {
                let answer = match join(&socket, &caller, &state, request).await {
                    Ok(()) => json!({"ok": true}),
                    Err(err) => refusal_body(&err),
                };
                let _ = ack.send(&answer);
            }
        }
    };
    socket.on("join", join);
    let leave_room = {
        let caller = caller.clone();
        move |ack: AckSender| {
            let caller = caller.clone();
            async move {
                leave(&caller);
                let _ = ack.send(&json!({"ok": true}));
            }
        }
    };
    socket.on("leave", leave_room);
    let disconnected = {
        let caller = caller.clone();
        move || {
            let caller = caller.clone();
            async move { leave(&caller) }
        }
    };
    let forward = {
        let caller = caller.clone();
        move |socket: SocketRef, Event(event): Event, Data(data): Data<Value>| {
            let caller = caller.clone();
            async move { forward(&socket, &caller, &event, data).await }
        }
    };
    for event in CLIENT_EVENTS {
        socket.on(*event, forward.clone());
    }
    socket.on_disconnect(disconnected);
}

/// The JSON body of a refused join, as the HTTP error bodies.
fn refusal_body(err: &AppError) -> Value {
    let mut body =
        json!({"ok": false, "error": err.code().as_str(), "message": err.public_message()});
    if let AppError::Banned { until, reason } = err {
        body["until"] = json!(until);
        if let Some(reason) = reason {
            body["reason"] = json!(reason);
        }
    }
    body
}

async fn join(
    socket: &SocketRef,
    caller: &Caller,
    state: &AppState,
    request: Value,
) -> Result<(), AppError> {
    let request: JoinRequest = serde_json::from_value(request)
        .map_err(|_| AppError::BadJson("join needs \"stream_{id}\" or {\"room\": …}".into()))?;
    let (room, resume, read_only) = match request {
        JoinRequest::Room(room) => (room, None, false),
        JoinRequest::Full {
            room,
            since_offset,
            epoch,
            read_only,
        } => (room, epoch.zip(since_offset), read_only),
    };
    let stream_id = parse_room_segment(&room)
        .ok_or_else(|| AppError::NotFound("no active chat room for this stream".into()))?;
    leave(caller);
    let read_only = read_only || caller.user.is_none();
    let user = user_or_reader(state, caller.tenant.id, caller.user.clone(), read_only).await?;
    let Admitted { ctx, slot } = admit(
        state,
        Request {
            tenant: caller.tenant.clone(),
            user,
            session_id: caller.session_id.clone(),
            checked_at: caller.checked_at,
            stream_id,
            read_only,
            resume,
        },
    )
    .await?;
    let entered = enter(&ctx)
        .await
        .map_err(|_| AppError::Unavailable("the chat room is unavailable".into()))?;
    let link = link::spawn(socket.clone(), ctx, entered, slot);
    let mut current = caller.link.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(previous) = current.replace(link) {
        previous.stop();
    }
    Ok(())
}

/// Leaves the current room, if any.
fn leave(caller: &Caller) {
    let link = caller.link.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(link) = link {
        link.stop();
    }
}

/// A client frame sent as event `event`: to the room's handling, as the
/// same JSON text the chat socket would have read.
async fn forward(socket: &SocketRef, caller: &Caller, event: &str, data: Value) {
    let mut frame = match data {
        Value::Object(map) => map,
        // `socket.emit("message", "hi")`: the text alone.
        Value::String(text) if matches!(event, "message" | "chat.message") => {
            let mut map = serde_json::Map::new();
            map.insert("message".into(), Value::String(text));
            map
        }
        Value::Null => serde_json::Map::new(),
        _ => {
            refuse(
                socket,
                ErrorCode::BadJson,
                "event data must be a JSON object",
            );
            return;
        }
    };
    frame.insert("type".into(), Value::String(event.to_owned()));
    let text = Value::Object(frame).to_string();
    let link = caller
        .link
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    match link {
        Some(link) => link.send(text).await,
        None => refuse(socket, ErrorCode::NotFound, "join a room first"),
    }
}

/// An `error` event shaped as the chat socket's error frame.
fn refuse(socket: &SocketRef, code: ErrorCode, message: &str) {
    link::emit_frame(socket, &crate::wire::error_json(code, message, None));
}
