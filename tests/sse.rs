//! Read-only Server-Sent Events (`GET /sse/streams/{id}/chat`, issue 19),
//! read with a real HTTP client: the room's frames as `data:`, logged ones
//! with `id: <offset>`, a reconnect with `Last-Event-ID` resuming on any
//! node, the tenant's rules for anonymous readers, the close reason at the
//! end, and a quiet stream outliving the connection idle timeout.

mod common;

use std::pin::Pin;

use bytes::Bytes;
use common::ws::check_against_schema;
use common::{run_cli, test_config, TestApp, EVENT_TIMEOUT, HOST};
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use stampede::auth::Role::{Admin, Viewer};
use stampede::config::ServeConfig;
use stampede::wire::schema::CHAT_SERVER;

const CAST: &[(&str, stampede::auth::Role)] = &[("alice", Viewer), ("bob", Viewer), ("ann", Admin)];

/// One thing read from an event stream.
#[derive(Debug)]
enum Item {
    Event {
        id: Option<String>,
        event: Option<String>,
        data: Value,
    },
    Comment(String),
    End,
}

/// An open event stream.
struct EventStream {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    buffer: String,
}

impl EventStream {
    /// Opens the stream of `stream_id` on `app` as `cookie` (if any), sending
    /// `last_event_id` (if any); panics unless it is answered 200.
    async fn open(
        app: &TestApp,
        stream_id: i32,
        cookie: Option<&str>,
        last_event_id: Option<&str>,
    ) -> EventStream {
        let response = request(app, stream_id, cookie, last_event_id).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        EventStream {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event or comment (checked against the frame schema), or the end.
    async fn next(&mut self) -> Item {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return parse(&block);
            }
            let chunk = tokio::time::timeout(EVENT_TIMEOUT, self.body.next())
                .await
                .expect("timed out waiting for an event");
            match chunk {
                Some(Ok(bytes)) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                Some(Err(err)) => panic!("event stream failed: {err}"),
                None => {
                    assert!(self.buffer.is_empty(), "cut mid-event: {:?}", self.buffer);
                    return Item::End;
                }
            }
        }
    }

    /// The next event's `(id, data)`, skipping comments; panics on the end.
    async fn next_data(&mut self) -> (Option<String>, Value) {
        loop {
            match self.next().await {
                Item::Event {
                    id, data, event, ..
                } => {
                    assert_eq!(event, None, "{data}");
                    return (id, data);
                }
                Item::Comment(_) => continue,
                Item::End => panic!("the event stream ended"),
            }
        }
    }

    /// The next chat line that is not history.
    async fn next_line(&mut self) -> (Option<String>, Value) {
        loop {
            let (id, data) = self.next_data().await;
            if data["type"] == "chat.message"
                && data["message_type"] == "message"
                && data.get("history").is_none()
            {
                return (id, data);
            }
        }
    }
}

async fn request(
    app: &TestApp,
    stream_id: i32,
    cookie: Option<&str>,
    last_event_id: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http(&[HOST])
        .get(app.url(HOST, &format!("/sse/streams/{stream_id}/chat")));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    request.send().await.expect("request")
}

fn parse(block: &str) -> Item {
    let (mut id, mut event, mut data, mut comment) = (None, None, Vec::new(), None);
    for line in block.lines() {
        if let Some(text) = line.strip_prefix(':') {
            comment = Some(text.trim().to_owned());
        } else if let Some((field, value)) = line.split_once(": ") {
            match field {
                "id" => id = Some(value.to_owned()),
                "event" => event = Some(value.to_owned()),
                "data" => data.push(value),
                other => panic!("unexpected field {other:?} in {block:?}"),
            }
        }
    }
    if data.is_empty() {
        return Item::Comment(comment.unwrap_or_default());
    }
    let data: Value = serde_json::from_str(&data.join("\n")).expect("data is JSON");
    if event.is_none() {
        check_against_schema(CHAT_SERVER, &data);
    }
    Item::Event { id, event, data }
}

/// A reader on node B follows lines sent on node A, each with its offset as
/// the event id; after a reconnect to node A with `Last-Event-ID` it gets
/// exactly what it missed and `recovered:true`; with an id the log does
/// not cover, `recovered:false` and the history.
#[tokio::test]
async fn a_reader_resumes_from_its_last_event_id_on_another_node() {
    let (_redis, a, b) = TestApp::two_nodes(test_config()).await;
    let tenant = a.acme(CAST).await;
    let stream = a.stream(&tenant, "Events").await;
    let cookie = a.login(HOST, "alice").await;
    let mut bob = a.ws(HOST, stream, "bob").await;

    let mut reader = EventStream::open(&b, stream, Some(&cookie), None).await;
    bob.say("one").await;
    bob.next_message().await;
    let (id, line) = reader.next_line().await;
    assert_eq!(line["message"], "one");
    assert_eq!(id.as_deref(), Some(line["offset"].to_string().as_str()));
    drop(reader);

    bob.say("two").await;
    bob.next_message().await;
    let three = bob.chat_id("three").await;
    bob.send_json(serde_json::json!({"type": "chat.delete", "id": three}))
        .await;
    let mut resumed = EventStream::open(&a, stream, Some(&cookie), id.as_deref()).await;
    let (_, two) = resumed.next_data().await;
    assert_eq!(
        (two["message"].clone(), two.get("history")),
        ("two".into(), None)
    );
    let (_, three) = resumed.next_data().await;
    assert_eq!(three["message"], "three");
    let (last_id, recovered) = resumed.next_data().await;
    assert_eq!(recovered["type"], "recovered");
    assert_eq!(recovered["recovered"], true);
    assert_eq!(last_id, None, "not a logged event");

    // An offset the log never had: the history instead.
    let mut fresh = EventStream::open(&b, stream, Some(&cookie), Some("999999")).await;
    let (_, recovered) = fresh.next_data().await;
    assert_eq!(recovered["recovered"], false);
    let (_, first) = fresh.next_data().await;
    assert_eq!(
        (first["message"].clone(), first["history"].clone()),
        ("one".into(), true.into())
    );
}

/// Without a login only where the tenant allows anonymous reading; unknown
/// streams and hosts get their errors.
#[tokio::test]
async fn anonymous_readers_need_the_tenants_permission() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Open").await;

    let refused = request(&app, stream, None, None).await;
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");

    let set = run_cli(
        Some(&app.db.url),
        "tenant embed --schema acme --anonymous-read true",
    )
    .await;
    assert!(set.succeeded(), "{}", set.stderr);
    let mut reader = EventStream::open(&app, stream, None, None).await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("hello readers").await;
    let (_, line) = reader.next_line().await;
    assert_eq!(line["message"], "hello readers");

    let missing = request(&app, stream + 1000, None, None).await;
    assert_eq!(missing.status(), 404);
    let elsewhere = app
        .http(&["nobody.localhost"])
        .get(app.url("nobody.localhost", &format!("/sse/streams/{stream}/chat")))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
    let body: Value = elsewhere.json().await.unwrap();
    assert_eq!(body["error"], "unknown_host");
}

/// The end of the stream: `stream.ended`, then the close reason (1000),
/// then the response ends.
#[tokio::test]
async fn the_end_of_the_stream_ends_the_events_with_its_reason() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Finale").await;
    let cookie = app.login(HOST, "alice").await;
    let mut reader = EventStream::open(&app, stream, Some(&cookie), None).await;
    let ended = app
        .api("POST", &format!("/api/streams/{stream}/end"), "ann", None)
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text);
    loop {
        let (_, data) = reader.next_data().await;
        if data["type"] == "stream.ended" {
            break;
        }
    }
    match reader.next().await {
        Item::Event { event, data, .. } => {
            assert_eq!(event.as_deref(), Some("close"));
            assert_eq!(data["code"], 1000);
        }
        other => panic!("expected the close event, got {other:?}"),
    }
    assert!(matches!(reader.next().await, Item::End));
}

/// An event stream is one long answer: with nothing to say for longer than
/// the idle timeout it stays open (keep-alive comments) and still delivers.
#[tokio::test]
async fn a_quiet_stream_outlives_the_idle_timeout() {
    let config = ServeConfig {
        idle_timeout_secs: 1,
        ping_interval_secs: 1,
        ..test_config()
    };
    let app = TestApp::spawn_with(config).await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Quiet").await;
    let cookie = app.login(HOST, "alice").await;
    let mut reader = EventStream::open(&app, stream, Some(&cookie), None).await;
    let mut keep_alives = 0;
    while keep_alives < 4 {
        match reader.next().await {
            Item::Comment(text) => {
                assert_eq!(text, "keep-alive");
                keep_alives += 1;
            }
            Item::Event { .. } => {}
            Item::End => panic!("closed after {keep_alives} keep-alives"),
        }
    }
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("still there?").await;
    let (_, line) = reader.next_line().await;
    assert_eq!(line["message"], "still there?");
}
