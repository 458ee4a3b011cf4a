//! Reconnecting with `?since_offset=N&epoch=E` replays exactly what was missed.

mod common;

use common::{stage, test_config, TestApp, WsClient, HOST};
use serde_json::Value;
use stampede::auth::Role::{self, Moderator, Viewer};

const CAST: &[(&str, Role)] = &[("alice", Viewer), ("mo", Moderator)];

async fn resume(app: &TestApp, stream: i32, cookie: &str, offset: u64, epoch: &str) -> WsClient {
    app.ws_resume(HOST, stream, cookie, offset, epoch).await
}

#[tokio::test]
async fn a_reconnect_gets_exactly_the_missed_events_then_a_stale_epoch_gets_history() {
    let (app, _, stream) = stage(test_config(), CAST).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mo_cookie = app.login(HOST, "mo").await;
    let mut mo = app.ws_with_cookie(HOST, stream, &mo_cookie).await;

    alice.say("before").await;
    alice.next_message().await;
    let seen = mo.next_message().await;
    let offset = seen["offset"]
        .as_u64()
        .expect("live chat events carry an offset");
    let epoch = seen["epoch"].as_str().expect("and an epoch").to_owned();
    mo.close().await;

    let mut ids = Vec::new();
    for i in 0..10 {
        alice.say(&format!("missed {i}")).await;
        ids.push(alice.next_message().await["id"].as_i64().unwrap());
    }
    // A moderation change while away is replayed too.
    let mut mo_tool = app.ws(HOST, stream, "mo").await;
    mo_tool
        .send_json(serde_json::json!({"type": "chat.delete", "id": ids[0]}))
        .await;
    alice.next_type("chat.delete").await;
    mo_tool.close().await;

    let mut back = resume(&app, stream, &mo_cookie, offset, &epoch).await;
    let (frames, recovered) = back.until_recovered().await;
    assert!(recovered);
    assert!(
        frames.iter().all(|f| f.get("history").is_none()),
        "no history replay on recovery"
    );
    let messages: Vec<&Value> = frames
        .iter()
        .filter(|f| f["message_type"] == "message")
        .collect();
    let texts: Vec<&str> = messages
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    // "missed 0" was deleted while away: never sent again, only its delete.
    let expected: Vec<String> = (1..10).map(|i| format!("missed {i}")).collect();
    assert_eq!(texts, expected, "exactly the missed messages, in order");
    let offsets: Vec<u64> = frames
        .iter()
        .map(|f| f["offset"].as_u64().unwrap())
        .collect();
    assert!(
        offsets.windows(2).all(|w| w[0] <= w[1]),
        "in offset order: {offsets:?}"
    );
    assert_eq!(
        offsets[0],
        offset + 2,
        "nothing skipped at the start but the deleted line"
    );
    assert!(frames
        .iter()
        .any(|f| f["type"] == "chat.delete" && f["id"] == ids[0]));
    assert!(frames.iter().all(|f| f["epoch"] == epoch.as_str()));

    // Live events continue after the recovered frame.
    alice.say("after").await;
    assert_eq!(back.next_message().await["message"], "after");
    back.close().await;

    // A stale epoch: recovered:false, then the normal history.
    let mut stale = resume(&app, stream, &mo_cookie, offset, "not-an-epoch").await;
    let (frames, recovered) = stale.until_recovered().await;
    assert!(!recovered);
    assert!(frames.is_empty());
    let history = stale.next_json().await;
    assert_eq!(history["history"], true);
    // An offset from the future is not covered either.
    let mut future = resume(&app, stream, &mo_cookie, offset + 10_000, &epoch).await;
    assert!(!future.until_recovered().await.1);
}

#[tokio::test]
async fn a_replay_larger_than_the_socket_may_queue_is_closed_4408_not_cut_short() {
    let mut config = test_config();
    config.history_size = 1;
    config.outbound_queue = 260;
    let (app, _, stream) = stage(config, CAST).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mo_cookie = app.login(HOST, "mo").await;
    let mut mo = app.ws_with_cookie(HOST, stream, &mo_cookie).await;
    alice.say("before").await;
    let seen = mo.next_message().await;
    let offset = seen["offset"].as_u64().unwrap();
    let epoch = seen["epoch"].as_str().unwrap().to_owned();
    mo.close().await;

    alice.next_message().await;
    // More than the 260 frames a socket may have queued.
    for i in 0..270 {
        alice.say(&format!("missed {i}")).await;
        alice.next_message().await;
    }

    let mut back = resume(&app, stream, &mo_cookie, offset, &epoch).await;
    loop {
        match back.next_event().await {
            common::Event::Json(v) => assert_ne!(
                v["type"], "recovered",
                "a cut-short replay must not be reported as recovered"
            ),
            common::Event::Closed(frame) => {
                let frame = frame.expect("a close frame");
                assert_eq!(u16::from(frame.code), 4408);
                break;
            }
        }
    }
}
