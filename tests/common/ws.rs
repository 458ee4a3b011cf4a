//! WebSocket clients: handshakes (accepted or refused) and reading frames.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use stampede::wire::schema;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::app::TestApp;
use super::{eventually, EVENT_TIMEOUT};

/// `/ws/chat/stream_{id}/`.
pub fn chat_path(stream_id: i32) -> String {
    format!("/ws/chat/stream_{stream_id}/")
}

/// Opens `ws://{host}:{port}{path}` on the server at `addr`, with the given
/// cookie and Origin.
pub async fn ws_connect(
    addr: SocketAddr,
    host: &str,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<WsClient, tungstenite::Error> {
    let mut request = format!("ws://{host}:{}{path}", addr.port()).into_client_request()?;
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().expect("cookie header"));
    }
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("origin header"));
    }
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(tungstenite::Error::Io)?;
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await?;
    let frames = match path.starts_with("/ws/notifications") {
        true => schema::NOTIFICATION_SERVER,
        false => schema::CHAT_SERVER,
    };
    Ok(WsClient { ws, frames })
}

/// Every frame a test socket reads is checked against the published JSON
/// Schema (`/api/schema/events.json`): a frame the server can send but the
/// schema does not describe fails the test that received it.
pub fn check_against_schema(kind: &'static str, frame: &Value) {
    static VALIDATORS: OnceLock<Vec<(&'static str, jsonschema::Validator)>> = OnceLock::new();
    let validators = VALIDATORS.get_or_init(|| {
        [schema::CHAT_SERVER, schema::NOTIFICATION_SERVER]
            .into_iter()
            .map(|name| {
                let validator = jsonschema::validator_for(&schema::schema_of(name))
                    .expect("the frame schema compiles");
                (name, validator)
            })
            .collect()
    });
    if let Some((_, validator)) = validators.iter().find(|(name, _)| *name == kind) {
        if let Err(error) = validator.validate(frame) {
            panic!("a {kind} does not match /api/schema/events.json: {error}\nframe: {frame}");
        }
    }
}

impl TestApp {
    /// Opens `/ws/chat/stream_{id}/` on `host` with the given cookie and Origin.
    pub async fn ws_raw(
        &self,
        host: &str,
        stream_id: i32,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<WsClient, tungstenite::Error> {
        ws_connect(self.addr, host, &chat_path(stream_id), cookie, origin).await
    }

    /// A handshake with `cookie` and the page's own Origin, which the server
    /// may refuse.
    pub async fn try_ws(
        &self,
        host: &str,
        stream_id: i32,
        cookie: &str,
    ) -> Result<WsClient, tungstenite::Error> {
        self.ws_raw(host, stream_id, Some(cookie), Some(&self.origin(host)))
            .await
    }

    /// A handshake the server must refuse: its status and JSON body.
    pub async fn ws_refusal(&self, host: &str, stream_id: i32, cookie: &str) -> (u16, Value) {
        match self.try_ws(host, stream_id, cookie).await {
            Ok(_) => panic!("the handshake to stream {stream_id} on {host} was accepted"),
            Err(err) => (handshake_status(&err), handshake_body(&err)),
        }
    }

    /// Retries the handshake until the server admits it, for a refusal that
    /// ends on its own (a timeout running out, a slot freed, the database
    /// back); until then every refusal must be `refusal`. Fails with `what`
    /// after `within`.
    pub async fn ws_once_admitted(
        &self,
        host: &str,
        stream_id: i32,
        cookie: &str,
        refusal: u16,
        what: &str,
        within: Duration,
    ) -> WsClient {
        eventually(within, what, || async {
            match self.try_ws(host, stream_id, cookie).await {
                Ok(ws) => Some(ws),
                Err(err) => {
                    assert_eq!(handshake_status(&err), refusal, "{what}");
                    None
                }
            }
        })
        .await
    }

    /// Reconnects with `?since_offset=N&epoch=E`, asking for what was missed.
    pub async fn ws_resume(
        &self,
        host: &str,
        stream_id: i32,
        cookie: &str,
        offset: u64,
        epoch: &str,
    ) -> WsClient {
        let origin = self.origin(host);
        ws_resume_at(self.addr, host, &origin, stream_id, cookie, (offset, epoch)).await
    }

    /// Logs `username` in and opens a socket with the right Origin.
    pub async fn ws(&self, host: &str, stream_id: i32, username: &str) -> WsClient {
        let cookie = self.login(host, username).await;
        self.ws_with_cookie(host, stream_id, &cookie).await
    }

    pub async fn ws_with_cookie(&self, host: &str, stream_id: i32, cookie: &str) -> WsClient {
        self.try_ws(host, stream_id, cookie)
            .await
            .expect("websocket handshake")
    }

    /// Opens `username`'s personal notification socket (a new session)
    /// with the page's Origin, and reads its first frame, the sync.
    pub async fn notification_device(&self, host: &str, username: &str) -> (WsClient, Value) {
        let cookie = self.session_of(host, username).await;
        let mut ws = ws_connect(
            self.addr,
            host,
            "/ws/notifications/",
            Some(&cookie),
            Some(&self.origin(host)),
        )
        .await
        .expect("notification socket handshake");
        let sync = ws.next_json().await;
        assert_eq!(
            sync["type"], "notification.sync",
            "sync comes first: {sync}"
        );
        (ws, sync)
    }
}

/// The HTTP status a refused handshake got.
/// Opens a resuming socket (`?since_offset=N&epoch=E`) on the server at `addr`.
pub async fn ws_resume_at(
    addr: SocketAddr,
    host: &str,
    origin: &str,
    stream_id: i32,
    cookie: &str,
    (offset, epoch): (u64, &str),
) -> WsClient {
    let path = format!(
        "{}?since_offset={offset}&epoch={epoch}",
        chat_path(stream_id)
    );
    ws_connect(addr, host, &path, Some(cookie), Some(origin))
        .await
        .expect("resume handshake")
}

pub fn handshake_status(err: &tungstenite::Error) -> u16 {
    match err {
        tungstenite::Error::Http(res) => res.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

/// The JSON body of a refused handshake.
pub fn handshake_body(err: &tungstenite::Error) -> Value {
    match err {
        tungstenite::Error::Http(res) => res
            .body()
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

/// A test WebSocket client.
pub struct WsClient {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The schema (`$defs` name) the server's frames on this socket follow.
    frames: &'static str,
}

/// What a socket yielded next.
#[derive(Debug)]
pub enum Event {
    Json(Value),
    Closed(Option<CloseFrame>),
}

impl WsClient {
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send frame");
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends the seed's chat frame.
    pub async fn say(&mut self, text: &str) {
        self.send_json(serde_json::json!({ "message": text })).await;
    }

    /// Says `text` and waits for its live echo (skipping other frames).
    pub async fn chat(&mut self, text: &str) -> Value {
        self.say(text).await;
        self.next_where(|v| {
            v["type"] == "chat.message" && v["message"] == text && v.get("history").is_none()
        })
        .await
    }

    /// Says `text`; the id it was stored under, once it is broadcast.
    pub async fn chat_id(&mut self, text: &str) -> i64 {
        self.chat(text).await["id"]
            .as_i64()
            .expect("a stored line has an id")
    }

    /// The next JSON frame or the close, skipping pings and pongs.
    pub async fn next_event(&mut self) -> Event {
        loop {
            let msg = tokio::time::timeout(EVENT_TIMEOUT, self.ws.next())
                .await
                .expect("timed out waiting for a frame");
            match msg {
                None => return Event::Closed(None),
                Some(Err(tungstenite::Error::ConnectionClosed)) => return Event::Closed(None),
                Some(Err(e)) => panic!("socket error: {e}"),
                Some(Ok(Message::Text(t))) => {
                    let frame = serde_json::from_str(t.as_str()).expect("server sent JSON");
                    check_against_schema(self.frames, &frame);
                    return Event::Json(frame);
                }
                Some(Ok(Message::Close(frame))) => return Event::Closed(frame),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next JSON frame; panics on close.
    pub async fn next_json(&mut self) -> Value {
        match self.next_event().await {
            Event::Json(v) => v,
            Event::Closed(f) => panic!("socket closed ({f:?}) while waiting for a frame"),
        }
    }

    /// The next frame satisfying `pred`, skipping others (e.g. join notices).
    pub async fn next_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.next_json().await;
            if pred(&v) {
                return v;
            }
        }
    }

    /// The next frame whose `type` is `kind`.
    pub async fn next_type(&mut self, kind: &str) -> Value {
        self.next_where(|v| v["type"] == kind).await
    }

    /// The next live chat line of type `message` (skips history replay,
    /// join/leave and errors).
    pub async fn next_message(&mut self) -> Value {
        self.next_where(|v| {
            v["type"] == "chat.message"
                && v["message_type"] == "message"
                && v.get("history").is_none()
        })
        .await
    }

    /// The next error frame.
    pub async fn next_error(&mut self) -> Value {
        self.next_type("error").await
    }

    /// Frames up to the `recovered` frame of a resume, and what it said.
    pub async fn until_recovered(&mut self) -> (Vec<Value>, bool) {
        let mut frames = Vec::new();
        loop {
            let v = self.next_json().await;
            if v["type"] == "recovered" {
                return (frames, v["recovered"].as_bool().expect("recovered flag"));
            }
            frames.push(v);
        }
    }

    /// Reads until the server closes the socket; returns the close frame.
    pub async fn expect_close(&mut self) -> Option<CloseFrame> {
        loop {
            if let Event::Closed(frame) = self.next_event().await {
                return frame;
            }
        }
    }

    /// Reads until the server closes the socket; returns the close code.
    pub async fn close_code(&mut self) -> u16 {
        u16::from(self.expect_close().await.expect("a close frame").code)
    }

    /// Reads the `count` history frames sent on join.
    pub async fn history(&mut self, count: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let v = self.next_json().await;
            assert_eq!(v["history"], true, "expected a history frame, got {v}");
            out.push(v);
        }
        out
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Drain until the server acknowledges, so its leave is processed.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(EVENT_TIMEOUT, self.ws.next()).await {}
    }
}
