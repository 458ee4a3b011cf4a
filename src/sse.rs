//! `GET /sse/streams/{id}/chat`: a room's events as Server-Sent Events, for
//! overlays, bots and networks that block WebSockets. Read-only: it joins
//! the room like a `?read_only=1` socket and writes each frame the socket
//! would get as one `data:` line, the frame's JSON unchanged.
//!
//! Logged events carry `id: <offset>`, so a reconnecting `EventSource`
//! resumes by itself: its `Last-Event-ID` is served from the room's log in
//! the log's current epoch (or with `?since_offset=&epoch=`, the socket's
//! exact resume), else the client gets `recovered:false` and the history.
//! When the server ends the stream it says why first, in an `event: close`
//! whose data is `{"code", "reason"}` with the socket's close codes.
//!
//! Who may read: a logged-in user of the tenant (a banned one too, as on a
//! read-only socket), or anyone where the tenant allows anonymous reading.
//! No Origin check: a cookie cannot be read cross-origin through it (no
//! CORS headers), and it changes nothing.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::session::user_of;
use crate::channel_layer::room_group;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::AppPath;
use crate::http::openapi::{NotFound, Unauthorized, Unavailable};
use crate::room::fanout::Cursor;
use crate::room::outbox::{Outbox, Work};
use crate::room::Membership;
use crate::state::AppState;
use crate::tenant::CurrentTenant;
use crate::ws::admit::{admit, enter, user_or_reader, Admitted, Entered, Request};

/// Frames gathered into one chunk of the response.
const WRITE_BATCH: usize = 64;
/// Longest `Last-Event-ID` read (an offset has at most 20 digits).
const MAX_EVENT_ID: usize = 24;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(chat_events))
}

/// `?since_offset=N&epoch=E`: an exact resume, as on the socket.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SseQuery {
    /// With `epoch`: resume right after this offset.
    since_offset: Option<u64>,
    /// The log's epoch the offset belongs to.
    epoch: Option<String>,
}

/// The room's events as Server-Sent Events (docs/protocol.md §6).
#[utoipa::path(
    get,
    path = "/sse/streams/{id}/chat",
    tag = "sockets",
    summary = "A stream's chat as Server-Sent Events (read-only)",
    description = "Each frame the chat socket would send is one unnamed event whose \
                   `data:` is the frame's JSON; logged events carry `id: <offset>`, so \
                   `Last-Event-ID` resumes. Ends with `event: close` \
                   (`{\"code\",\"reason\"}`). Without a login only where the tenant \
                   allows anonymous reading.",
    params(
        ("id" = i32, Path, description = "The stream id"),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event id seen: resume after it"),
        SseQuery,
    ),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, description = "`too_many_connections`: the user's connection cap.", body = ErrorBody),
        (status = 503, response = Unavailable),
    ),
    security((), ("session" = []))
)]
pub async fn chat_events(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    AppPath(stream_id): AppPath<i32>,
    query: Result<Query<SseQuery>, QueryRejection>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, AppError> {
    let Query(query) = query?;
    let checked_at = tokio::time::Instant::now();
    let user = user_of(&session, tenant.id).await?;
    let user = user_or_reader(&state, tenant.id, user, true).await?;
    let group = room_group(tenant.schema.as_str(), stream_id);
    let resume = match (query.epoch, query.since_offset, last_event_id(&headers)) {
        (Some(epoch), Some(since), _) => Some((epoch, since)),
        (_, _, Some(since)) => state.layer.epoch(&group).await.map(|e| (e, since)),
        _ => None,
    };
    let Admitted { ctx, slot } = admit(
        &state,
        Request {
            tenant: tenant.0.clone(),
            user,
            session_id: session.id().map(|id| id.to_string()).unwrap_or_default(),
            checked_at,
            stream_id,
            read_only: true,
            resume,
        },
    )
    .await?;
    let Entered {
        membership,
        feed,
        outbox,
        revocable,
    } = enter(&ctx)
        .await
        .map_err(|_| AppError::Unavailable("the chat room is unavailable".into()))?;
    metrics::gauge!("stampede_sse_streams").increment(1.0);
    let reader = Reader {
        membership: Some(membership),
        outbox,
        feed,
        batch: Vec::new(),
        keep_alive: tokio::time::interval(state.config.ping_interval()),
        done: false,
        _held: Box::new((slot, revocable)),
    };
    let body = Body::from_stream(futures_util::stream::unfold(reader, |mut reader| async {
        let chunk = reader.next_chunk().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), reader))
    }));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies that buffer answers (nginx) would hold the events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The offset an `EventSource` reconnects with.
fn last_event_id(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get("last-event-id")?.to_str().ok()?.trim();
    (value.len() <= MAX_EVENT_ID)
        .then(|| value.parse().ok())
        .flatten()
}

/// One reader's place in the room, and what it still has to write.
struct Reader {
    membership: Option<Membership>,
    outbox: Arc<Outbox>,
    feed: Cursor,
    batch: Vec<axum::extract::ws::Utf8Bytes>,
    keep_alive: tokio::time::Interval,
    done: bool,
    /// The per-user slot and the revocation registration, kept as long as
    /// the response is.
    _held: Box<dyn Send + Sync>,
}

impl Reader {
    /// The next piece of the response; `None` once it is over.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        loop {
            let work = tokio::select! {
                work = self.outbox.work(|| self.feed.has_unread(), &mut self.batch, WRITE_BATCH) => work,
                _ = self.keep_alive.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
            };
            let mut chunk = String::new();
            match work {
                Work::Close(close) => {
                    self.done = true;
                    if let Some(frame) = close.frame {
                        self.batch.push(frame);
                    }
                    encode(&mut chunk, &self.batch);
                    chunk.push_str(&format!(
                        "event: close\ndata: {}\n\n",
                        serde_json::json!({"code": close.code, "reason": close.reason})
                    ));
                    self.batch.clear();
                    return Some(Bytes::from(chunk));
                }
                Work::Direct => {}
                Work::Ring => {
                    if self
                        .feed
                        .read_counted(&mut self.batch, WRITE_BATCH)
                        .is_err()
                    {
                        // Behind the ring: end, and let the client resume.
                        self.outbox.close(crate::room::Close::lagging());
                        continue;
                    }
                }
            }
            if self.batch.is_empty() {
                continue;
            }
            encode(&mut chunk, &self.batch);
            self.batch.clear();
            return Some(Bytes::from(chunk));
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        metrics::gauge!("stampede_sse_streams").decrement(1.0);
        if let Some(membership) = self.membership.take() {
            // The client went away (or the stream ended): leave the room
            // without holding up whoever dropped the response.
            tokio::spawn(membership.leave());
        }
    }
}

/// Appends `frames` as SSE events: `id:` from a logged frame's offset.
fn encode(out: &mut String, frames: &[axum::extract::ws::Utf8Bytes]) {
    for frame in frames {
        let frame = frame.as_str();
        if let Some(offset) = offset_of(frame) {
            out.push_str("id: ");
            out.push_str(&offset.to_string());
            out.push('\n');
        }
        // Frames are compact JSON (no raw newlines); split anyway so a
        // line break can never end the event early.
        for line in frame.split('\n') {
            out.push_str("data: ");
            out.push_str(line.trim_end_matches('\r'));
            out.push('\n');
        }
        out.push('\n');
    }
}

/// The `offset` a logged frame starts with (`wire::with_seq` puts it first).
fn offset_of(frame: &str) -> Option<u64> {
    let rest = frame.strip_prefix("{\"offset\":")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_frames_carry_their_offset_as_the_event_id() {
        let frames = [
            axum::extract::ws::Utf8Bytes::from(
                r#"{"offset":42,"epoch":"ab","type":"chat.delete","id":3}"#,
            ),
            axum::extract::ws::Utf8Bytes::from(r#"{"type":"presence","viewers":1,"chatters":0}"#),
        ];
        let mut out = String::new();
        encode(&mut out, &frames);
        assert_eq!(
            out,
            "id: 42\ndata: {\"offset\":42,\"epoch\":\"ab\",\"type\":\"chat.delete\",\"id\":3}\n\n\
             data: {\"type\":\"presence\",\"viewers\":1,\"chatters\":0}\n\n"
        );
    }

    #[test]
    fn only_a_leading_offset_counts() {
        assert_eq!(offset_of(r#"{"offset":7,"x":1}"#), Some(7));
        assert_eq!(offset_of(r#"{"type":"x","offset":7}"#), None);
        assert_eq!(offset_of(r#"{"offset":"7"}"#), None);
    }

    #[test]
    fn last_event_ids_are_offsets() {
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", HeaderValue::from_static(" 17 "));
        assert_eq!(last_event_id(&headers), Some(17));
        headers.insert("last-event-id", HeaderValue::from_static("ab:17"));
        assert_eq!(last_event_id(&headers), None);
        headers.insert(
            "last-event-id",
            HeaderValue::from_static("9999999999999999999999999"),
        );
        assert_eq!(last_event_id(&headers), None);
    }
}
