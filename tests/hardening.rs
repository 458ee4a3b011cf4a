//! Hardening, proved through a real server: control characters refused
//! before SQL, invisible and bidi characters, blocked terms through
//! confusables, 1007 on invalid UTF-8 with a close handshake that waits for
//! the reply, `/metrics` behind a token or a private bind, `Cache-Control:
//! no-store` on the API, login throttling, bounded hashing and the per-user
//! socket cap.

mod common;

use std::time::Duration;

use common::{
    csrf_cookie, csrf_from, session_cookie, stage, stored_messages, stored_texts, test_config, As,
    Reply, TestApp, EVENT_TIMEOUT, HOST,
};
use futures_util::SinkExt;
use serde_json::{json, Value};
use stampede::auth::Role::{self, Admin, Analyst, Moderator, Viewer};
use stampede::ServeConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

const METRICS_TOKEN: &str = "0123456789abcdef-token";

/// The usual cast.
const CAST: &[(&str, Role)] = &[
    ("alice", Viewer),
    ("bob", Viewer),
    ("mo", Moderator),
    ("ada", Admin),
    ("ann", Analyst),
];

/// `POST /api/session`, optionally with an `X-Forwarded-For`.
async fn login_attempt(
    app: &TestApp,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = app.login_request(HOST, username, password);
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.expect("login request")
}

/// The `Retry-After` of a response, in whole seconds.
fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .expect("ASCII Retry-After")
        .parse()
        .expect("Retry-After in whole seconds")
}

/// POSTs the HTML login form with a valid CSRF token.
async fn submit_login_form(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let page = app
        .http(&[HOST])
        .get(app.url(HOST, "/accounts/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = csrf_cookie(&page).expect("csrf cookie for the token");
    let token = csrf_from(&page.text().await.unwrap());
    app.http(&[HOST])
        .post(app.url(HOST, "/accounts/login"))
        .header("cookie", &cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &token),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

// 1. Control characters.

#[tokio::test]
async fn control_characters_over_http_are_refused_with_422_before_any_sql() {
    let (app, _tenant, stream) = stage(test_config(), CAST).await;

    // A NUL in a JSON body: 422 invalid, not the 500 Postgres would cause.
    let res = Reply::read(app.login_request(HOST, "al\u{0}ice", "x")).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.header("content-type"), "application/json");
    let body = res.body;
    assert_eq!(body["error"], "invalid", "{body}");
    assert!(body["message"].is_string(), "{body}");

    // A control character in a path segment (otherwise a 404: not a number).
    let res = app
        .api("GET", "/api/streams/%00", As::Anonymous, None)
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["error"], "invalid");

    // In a path segment that reaches SQL as text (otherwise a 500 or a 404).
    let unban = format!("/api/streams/{stream}/bans/bo%00b");
    let res = app.api("DELETE", &unban, "ada", None).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["error"], "invalid");

    // In a query parameter (otherwise ignored: 200).
    let res = app.api("GET", "/api/streams?x=a%07b", "ada", None).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["error"], "invalid");
    // The same request without the control character is fine.
    let res = app.api("GET", "/api/streams?x=ab", "ada", None).await;
    assert_eq!(res.status, 200);

    // The HTML login form, with a valid CSRF token and a NUL username.
    let res = submit_login_form(&app, "al\u{0}ice", "pw-alice").await;
    assert_eq!(res.status(), 422);

    // Nothing was broken along the way: alice logs in normally.
    app.login(HOST, "alice").await;
}

#[tokio::test]
async fn control_characters_over_the_socket_answer_bad_request_and_store_nothing() {
    let (app, tenant, stream) = stage(test_config(), CAST).await;
    let mut mo = app.ws(HOST, stream, "mo").await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    mo.send_json(json!({"type": "ban", "username": "bo\u{0}b"}))
        .await;
    let err = mo.next_error().await;
    assert_eq!(err["code"], "bad_request", "{err}");
    // The socket stays usable.
    mo.say("still here").await;
    assert_eq!(mo.next_message().await["message"], "still here");

    bob.say("ring\u{7}ring").await;
    let err = bob.next_error().await;
    assert_eq!(err["code"], "bad_request", "{err}");
    // Bob was neither banned nor disconnected.
    bob.say("bob too").await;
    assert_eq!(bob.next_message().await["message"], "bob too");

    let texts = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(texts, vec!["still here", "bob too"]);

    // No ban was recorded.
    let bans = app
        .api("GET", &format!("/api/streams/{stream}/bans"), "mo", None)
        .await
        .body;
    assert_eq!(bans["bans"], json!([]), "{bans}");
}

// 2. Invisible characters and bidi controls.

#[tokio::test]
async fn invisible_only_messages_are_empty_and_bidi_controls_are_stripped() {
    let (app, tenant, stream) = stage(test_config(), CAST).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    alice.say("\u{200B}\u{200C}\u{FEFF}").await;
    let err = alice.next_error().await;
    assert_eq!(err["code"], "empty", "{err}");

    alice.say("abc\u{202E}def").await;
    assert_eq!(alice.next_message().await["message"], "abcdef");
    assert_eq!(bob.next_message().await["message"], "abcdef");

    let rows = stored_messages(app.pool(), &tenant, stream).await;
    assert_eq!(
        rows,
        vec![("alice".into(), "abcdef".into(), "message".into())]
    );
}

// 3. Blocked terms through confusables.

#[tokio::test]
async fn blocked_terms_are_caught_through_confusables_and_spacing() {
    let (app, tenant, stream) = stage(test_config(), CAST).await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    let term = json!({"term": "badword"});
    let res = app.api("POST", "/api/blocked-terms", "ada", term).await;
    assert_eq!(res.status, 201);

    for text in ["b\u{0430}dword", "b a d w o r d"] {
        bob.say(text).await;
        let err = bob.next_error().await;
        assert_eq!(err["code"], "blocked_term", "{text:?}: {err}");
    }
    bob.say("a bad word").await;
    assert_eq!(bob.next_message().await["message"], "a bad word");

    let texts = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(texts, vec!["a bad word"]);
}

// 4. Invalid UTF-8.

#[tokio::test]
async fn invalid_utf8_text_closes_with_1007_and_the_room_lives_on() {
    let (app, tenant, stream) = stage(test_config(), CAST).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    alice
        .ws
        .send(Message::Frame(Frame::message(
            vec![0xff, 0xfe],
            OpCode::Data(Data::Text),
            true,
        )))
        .await
        .expect("send raw frame");
    let close = alice.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1007, "{close:?}");

    bob.say("still fine").await;
    assert_eq!(bob.next_message().await["message"], "still fine");
    let texts = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(texts, vec!["still fine"]);
}

/// A WebSocket client written by hand over TCP, so the close handshake can
/// be observed byte by byte.
struct RawWs {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    async fn connect(app: &TestApp, stream: i32, cookie: &str) -> Self {
        let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
        let port = app.addr.port();
        let request = format!(
            "GET /ws/chat/stream_{stream}/ HTTP/1.1\r\n\
             Host: {HOST}:{port}\r\n\
             Cookie: {cookie}\r\n\
             Origin: http://{HOST}:{port}\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut raw = RawWs {
            tcp,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(i) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            raw.read_more().await;
        };
        let head: Vec<u8> = raw.buf.drain(..end).collect();
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "handshake: {head}");
        assert!(
            head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "Sec-WebSocket-Accept: {head}"
        );
        raw
    }

    async fn read_more(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(EVENT_TIMEOUT, self.tcp.read(&mut chunk))
            .await
            .expect("timed out reading")
            .expect("read");
        assert!(n > 0, "connection closed early");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.read_more().await;
        }
        self.buf.drain(..n).collect()
    }

    /// The next frame from the server: (first header byte, payload).
    async fn read_frame(&mut self) -> (u8, Vec<u8>) {
        let head = self.take(2).await;
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7f {
            126 => u16::from_be_bytes(self.take(2).await.try_into().unwrap()) as usize,
            127 => u64::from_be_bytes(self.take(8).await.try_into().unwrap()) as usize,
            n => usize::from(n),
        };
        (head[0], self.take(len).await)
    }

    /// Writes one final, masked frame (clients must mask).
    async fn write_frame(&mut self, opcode: u8, payload: &[u8]) {
        assert!(payload.len() < 126);
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tcp.write_all(&frame).await.expect("write frame");
    }
}

#[tokio::test]
async fn the_1007_close_waits_for_the_clients_close_reply() {
    let (app, _tenant, stream) = stage(test_config(), CAST).await;
    let cookie = app.login(HOST, "alice").await;
    let mut raw = RawWs::connect(&app, stream, &cookie).await;

    raw.write_frame(0x1, &[0xff, 0xfe]).await;
    // Skip whatever came before (join notices); the close frame follows.
    let payload = loop {
        let (first, payload) = raw.read_frame().await;
        if first == 0x88 {
            break payload;
        }
        assert!(
            first == 0x81 || first == 0x89,
            "unexpected frame {first:#x}"
        );
    };
    assert!(payload.len() >= 2, "close frame carries a status");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1007);
    assert!(raw.buf.is_empty(), "nothing after the close frame");

    // The server has not dropped the connection: it waits for our reply.
    let mut chunk = [0u8; 64];
    match tokio::time::timeout(Duration::from_millis(300), raw.tcp.read(&mut chunk)).await {
        Err(_) => {}
        Ok(Ok(0)) => panic!("the server closed TCP without waiting for the close reply"),
        Ok(other) => panic!("unexpected read after the close frame: {other:?}"),
    }

    // After a frame it could not read, the server cannot read our reply
    // either (the stream ends at the error), so it holds the connection for
    // its whole wait and then drops it; our unread reply may turn that into
    // a reset, long after we read the close frame.
    raw.write_frame(0x8, &1007u16.to_be_bytes()).await;
    let end = tokio::time::timeout(EVENT_TIMEOUT, raw.tcp.read(&mut chunk))
        .await
        .expect("the server drops the connection after its wait");
    assert!(
        matches!(end, Ok(0) | Err(_)),
        "nothing but the end: {end:?}"
    );
}

#[tokio::test]
async fn a_server_close_waits_for_the_reply_and_ends_cleanly() {
    let (app, _tenant, stream) = stage(test_config(), CAST).await;
    let cookie = app.login(HOST, "alice").await;
    let mut raw = RawWs::connect(&app, stream, &cookie).await;
    // Logging out closes the session's sockets (4401).
    let res = app.logout(&cookie).await;
    assert_eq!(res.status, 204);
    let payload = loop {
        let (first, payload) = raw.read_frame().await;
        if first == 0x88 {
            break payload;
        }
    };
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 4401);

    let mut chunk = [0u8; 64];
    match tokio::time::timeout(Duration::from_millis(300), raw.tcp.read(&mut chunk)).await {
        Err(_) => {}
        Ok(other) => panic!("the server did not wait for the close reply: {other:?}"),
    }
    raw.write_frame(0x8, &4401u16.to_be_bytes()).await;
    let n = tokio::time::timeout(EVENT_TIMEOUT, raw.tcp.read(&mut chunk))
        .await
        .expect("the server closes after the reply")
        .expect("a clean end, not a reset");
    assert_eq!(n, 0, "EOF after the close handshake");
}

// 5. /metrics.

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = TestApp::spawn_with(test_config()).await;
    let res = app.get_bare("/metrics").await;
    assert_eq!(res.status, 404);
    assert!(!res.text.contains("stampede_"), "{}", res.text);
}

#[tokio::test]
async fn metrics_need_the_bearer_token() {
    let app = TestApp::spawn_with(ServeConfig {
        metrics_token: Some(METRICS_TOKEN.into()),
        ..test_config()
    })
    .await;
    let metrics = app.http(&[]).get(app.bare_url("/metrics"));
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some("Bearer 0123456789abcdef-toke"),
        Some("0123456789abcdef-token"),
        Some("Basic 0123456789abcdef-token"),
    ] {
        let mut req = metrics.try_clone().unwrap();
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = Reply::read(req).await;
        assert_eq!(res.status, 401, "{auth:?}");
        assert!(!res.text.contains("stampede_"), "{}", res.text);
    }
    let res = metrics.header("authorization", format!("Bearer {METRICS_TOKEN}"));
    let res = Reply::read(res).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").starts_with("text/plain"));
}

#[tokio::test]
async fn metrics_can_be_served_on_a_private_address_only() {
    let port = common::free_port();
    let (app, _tenant, stream) = stage(
        ServeConfig {
            metrics_bind: Some(([127, 0, 0, 1], port).into()),
            ..test_config()
        },
        CAST,
    )
    .await;
    // Something to count. Answering at all also means the server is past
    // binding the metrics address.
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice.say("counted").await;
    alice.next_message().await;

    let res = app.get_bare("/metrics").await;
    assert_eq!(res.status, 404, "not on the public listener");

    let private = |path: &str| {
        let req = app.http(&[]).get(format!("http://127.0.0.1:{port}{path}"));
        Reply::read(req)
    };
    let res = private("/metrics").await;
    assert_eq!(res.status, 200);
    let text = res.text;
    assert!(text.contains("stampede_messages_received_total"), "{text}");
    // Only /metrics lives there.
    assert_eq!(private("/health").await.status, 404);
}

// 6. Cache-Control.

#[tokio::test]
async fn api_answers_are_not_cached() {
    let (app, _tenant, stream) = stage(test_config(), CAST).await;
    let no_store = |res: &Reply| {
        res.headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
    };

    let res = app.api("GET", "/api/session", "alice", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(no_store(&res).as_deref(), Some("no-store"));

    // Errors too.
    let res = app.api("GET", "/api/session", As::Anonymous, None).await;
    assert_eq!(res.status, 401);
    assert_eq!(no_store(&res).as_deref(), Some("no-store"));

    for path in [
        format!("/api/analytics/streams/{stream}/summary?format=csv"),
        "/api/analytics/reactions?format=csv".to_owned(),
    ] {
        let res = app.api("GET", &path, "ann", None).await;
        assert_eq!(res.status, 200, "{path}");
        assert!(res.header("content-type").starts_with("text/csv"));
        assert_eq!(no_store(&res).as_deref(), Some("no-store"), "{path}");
    }
}

// 7. Login throttling.

#[tokio::test]
async fn five_failures_lock_that_user_from_that_address_even_with_the_right_password() {
    let (app, _tenant, _stream) = stage(test_config(), CAST).await;
    for i in 0..5 {
        let res = login_attempt(&app, "alice", "wrong", None).await;
        assert_eq!(res.status(), 401, "failure {i}");
    }
    let res = login_attempt(&app, "alice", "pw-alice", None).await;
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..]),
        "a refused client's connection is not kept alive"
    );
    let wait = retry_after(&res);
    assert!(wait > 0 && wait <= 900, "Retry-After {wait}");
    assert!(session_cookie(&res).is_none(), "no session on a refusal");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");

    // The budget is per username regardless of case.
    let res = login_attempt(&app, "ALICE", "whatever", None).await;
    assert_eq!(res.status(), 429);

    // Another user from the same address is not locked out.
    let res = login_attempt(&app, "bob", "pw-bob", None).await;
    assert_eq!(res.status(), 200);

    // The HTML form refuses in words.
    let res = submit_login_form(&app, "alice", "pw-alice").await;
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) > 0);
    let html = res.text().await.unwrap();
    assert!(html.contains("Too many failed logins"), "{html}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled() {
    let (app, _tenant, _stream) = stage(
        ServeConfig {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..test_config()
        },
        CAST,
    )
    .await;
    for i in 0..5 {
        let res = login_attempt(&app, "alice", "wrong", Some("203.0.113.8")).await;
        assert_eq!(res.status(), 401, "failure {i}");
    }
    let res = login_attempt(&app, "alice", "pw-alice", Some("203.0.113.8")).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "rate_limited");

    // Another client behind the same proxy is not.
    let res = login_attempt(&app, "alice", "pw-alice", Some("203.0.113.7")).await;
    assert_eq!(res.status(), 200);
    // Nor is the proxy itself.
    let res = login_attempt(&app, "alice", "pw-alice", None).await;
    assert_eq!(res.status(), 200);
    // The rightmost untrusted address counts: a client cannot prepend its way out.
    let res = login_attempt(&app, "alice", "pw-alice", Some("198.51.100.1, 203.0.113.8")).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_headers_are_ignored() {
    let (app, _tenant, _stream) = stage(test_config(), CAST).await;
    for i in 0..5 {
        let xff = format!("198.51.100.{}", i + 1);
        let res = login_attempt(&app, "alice", "wrong", Some(&xff)).await;
        assert_eq!(res.status(), 401, "failure {i}");
    }
    // All five counted against 127.0.0.1, whatever the header said.
    let res = login_attempt(&app, "alice", "pw-alice", Some("198.51.100.99")).await;
    assert_eq!(res.status(), 429);
    let res = login_attempt(&app, "alice", "pw-alice", None).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn successful_logins_never_count() {
    let (app, _tenant, _stream) = stage(test_config(), CAST).await;
    for i in 0..10 {
        let res = login_attempt(&app, "alice", "pw-alice", None).await;
        assert_eq!(res.status(), 200, "success {i}");
    }
    for i in 0..4 {
        let res = login_attempt(&app, "alice", "wrong", None).await;
        assert_eq!(res.status(), 401, "failure {i}");
    }
    // Four failures and ten successes: still allowed.
    let res = login_attempt(&app, "alice", "pw-alice", None).await;
    assert_eq!(res.status(), 200);
    // The fifth failure is what locks.
    let res = login_attempt(&app, "alice", "wrong", None).await;
    assert_eq!(res.status(), 401);
    let res = login_attempt(&app, "alice", "pw-alice", None).await;
    assert_eq!(res.status(), 429);
}

// 8. Bounded hashing.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_past_the_hashing_queue_answers_503() {
    let (app, _tenant, _stream) = stage(
        ServeConfig {
            max_concurrent_hashes: 1,
            max_queued_hashes: 0,
            ..test_config()
        },
        CAST,
    )
    .await;
    let client = app.http(&[HOST]);
    let url = app.url(HOST, "/api/session");
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let res = client
                    .post(url)
                    .json(&json!({"username": "alice", "password": "pw-alice"}))
                    .send()
                    .await
                    .expect("login request");
                let status = res.status().as_u16();
                let header = |name| {
                    res.headers()
                        .get(name)
                        .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
                };
                let (retry, connection) = (header("retry-after"), header("connection"));
                let body: Value = res.json().await.unwrap_or(Value::Null);
                (status, retry, connection, body)
            })
        })
        .collect();
    let mut busy = 0;
    let mut answered = 0;
    for attempt in attempts {
        let (status, retry, connection, body) = attempt.await.expect("task");
        match status {
            503 => {
                busy += 1;
                let secs: u64 = retry.expect("Retry-After on 503").parse().unwrap();
                assert!(secs > 0);
                assert_eq!(connection.as_deref(), Some("close"), "shed, not kept alive");
                assert_eq!(body["error"], "unavailable", "{body}");
            }
            200 | 401 => answered += 1,
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert!(busy >= 1, "no login was refused as busy");
    assert!(answered >= 1, "no login was answered");

    // Once the flood is over, logins work again.
    let res = login_attempt(&app, "alice", "pw-alice", None).await;
    assert_eq!(res.status(), 200);
}

// 9. Sockets per user.

#[tokio::test]
async fn sockets_per_user_are_capped_and_come_back_when_closed() {
    let (app, _tenant, stream) = stage(
        ServeConfig {
            max_sockets_per_user: 2,
            ..test_config()
        },
        CAST,
    )
    .await;
    let cookie = app.login(HOST, "alice").await;
    let first = app.ws_with_cookie(HOST, stream, &cookie).await;
    let mut second = app.ws_with_cookie(HOST, stream, &cookie).await;

    // The third socket is refused.
    let (status, body) = app.ws_refusal(HOST, stream, &cookie).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"], "too_many_connections");
    // A fresh session is the same user: still refused.
    let other_session = app.login(HOST, "alice").await;
    let (status, _) = app.ws_refusal(HOST, stream, &other_session).await;
    assert_eq!(status, 429, "refused for the user, not the session");

    // Another user is unaffected.
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("hi").await;
    assert_eq!(bob.next_message().await["message"], "hi");
    // The open sockets still work.
    assert_eq!(second.next_message().await["message"], "hi");

    first.close().await;
    // The slot is released when the socket's task ends, just after the close.
    let what = "the closed socket's slot never came back";
    let mut third = app
        .ws_once_admitted(HOST, stream, &cookie, 429, what, EVENT_TIMEOUT)
        .await;
    third.say("back").await;
    assert_eq!(third.next_message().await["message"], "back");
}
