//! Stored exactly once: a reaction or chat batch whose commit reply is lost
//! is retried without storing anything twice, the rollups agree with the
//! raw rows, and every chat message stored is echoed once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::pg_proxy::{upstream_of, PgProxy};
use common::{eventually, stored_texts, viewers, Reply, TestApp, TestDb, EVENT_TIMEOUT, HOST};
use serde_json::json;
use stampede::ServeConfig;

const TOKEN: &str = "0123456789abcdef-metrics";
const REACTIONS: usize = 300;

fn counter(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// A server on a fresh database whose pool goes through a proxy that can
/// lose commit replies.
async fn behind_a_proxy(config: ServeConfig) -> (TestApp, PgProxy) {
    let db = Arc::new(TestDb::create().await);
    let proxy = PgProxy::start(upstream_of(&db.url)).await;
    let pool = stampede::store::connect(&proxy.url_for(&db.url), 10)
        .await
        .expect("connect through the proxy");
    let config = ServeConfig {
        metrics_token: Some(TOKEN.into()),
        ..config
    };
    (TestApp::serve_on(db, pool, config).await, proxy)
}

/// Waits until `/metrics` shows `series` at 1 or more; returns the text.
async fn once_counted(app: &TestApp, series: &str) -> String {
    eventually(EVENT_TIMEOUT, series, || async {
        let metrics = Reply::read(
            app.http(&[])
                .get(app.bare_url("/metrics"))
                .header("authorization", format!("Bearer {TOKEN}")),
        )
        .await;
        (counter(&metrics.text, series) >= 1.0).then_some(metrics.text)
    })
    .await
}

#[tokio::test]
async fn a_chat_batch_whose_commit_reply_is_lost_is_stored_and_echoed_once() {
    const MESSAGES: usize = 120;
    let (mut app, proxy) = behind_a_proxy(common::test_config()).await;
    let tenant = app.acme(&viewers(["alice"])).await;
    let stream = app.stream(&tenant, "Live").await;
    let mut alice = app.ws(HOST, stream, "alice").await;

    proxy.lose_next_commits(1, "chat_batch");
    for i in 0..MESSAGES {
        alice.say(&format!("m{i}")).await;
        if i % 20 == 19 {
            // Several commits, so several can lose their reply.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
    let mut echoed = Vec::new();
    while echoed.len() < MESSAGES {
        let v = alice
            .next_where(|v| v["type"] == "chat.message" || v["type"] == "error")
            .await;
        assert_eq!(v["type"], "chat.message", "refused: {v}");
        if v["username"] == "alice" && v["message_type"] == "message" {
            echoed.push(v["message"].as_str().unwrap().to_owned());
        }
    }
    once_counted(&app, "stampede_chat_commit_retries_total").await;
    assert!(proxy.lost() >= 1, "the proxy lost no commit reply");
    app.stop().await;

    let want: Vec<String> = (0..MESSAGES).map(|i| format!("m{i}")).collect();
    assert_eq!(echoed, want, "each message echoed once, in order");
    let stored = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(stored, want, "each message stored once, in order");
    let minute = format!(
        "SELECT COALESCE(sum(count), 0)::int8 FROM {}.chat_messageminute WHERE stream_id = {stream}",
        tenant.schema
    );
    let counted: Vec<i64> = app.column(&minute).await;
    assert_eq!(counted[0], MESSAGES as i64, "per-minute count = rows");
}

#[tokio::test]
async fn a_reaction_batch_whose_commit_reply_is_lost_is_stored_once() {
    let (mut app, proxy) = behind_a_proxy(ServeConfig {
        reaction_rate_per_sec: 10_000,
        reaction_burst: 10_000,
        ..common::test_config()
    })
    .await;
    let tenant = app.acme(&viewers(["alice"])).await;
    let stream = app.stream(&tenant, "Live").await;
    let mut alice = app.ws(HOST, stream, "alice").await;

    // From here, the replies of the next three reaction flushes are lost.
    proxy.lose_next_commits(3, "streaming_reactionbatch");
    for i in 0..REACTIONS {
        let stamp_id = 1 + (i % 3) as i64;
        alice
            .send_json(json!({"type": "reaction", "stamp_id": stamp_id}))
            .await;
        if i % 30 == 29 {
            // Spread over several flushes (100 ms each by default).
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
    }

    let raw = format!(
        "SELECT count(*) FROM {}.streaming_streamreaction WHERE stream_id = {stream}",
        tenant.schema
    );
    let rollup = format!(
        "SELECT COALESCE(sum(count), 0)::int8 FROM {}.streaming_reactionminute WHERE stream_id = {stream}",
        tenant.schema
    );
    // Retries back off 100, 200, 400 ms; all flushes are done well within this.
    eventually(EVENT_TIMEOUT, "every reaction stored", || async {
        let stored: Vec<i64> = app.column(&raw).await;
        (stored[0] >= REACTIONS as i64).then_some(())
    })
    .await;
    // A lost reply makes its flush retry (counted before the retry runs).
    let metrics = once_counted(&app, "stampede_reaction_flush_retries_total").await;
    assert!(proxy.lost() >= 1, "the proxy lost no commit reply");
    // A graceful stop waits for every writer, retries included.
    app.stop().await;
    let stored: Vec<i64> = app.column(&raw).await;
    let rolled: Vec<i64> = app.column(&rollup).await;
    assert_eq!(stored[0], REACTIONS as i64, "raw rows = reactions sent");
    assert_eq!(rolled[0], REACTIONS as i64, "rollup total = raw rows");
    let accepted = counter(&metrics, "stampede_reactions_received_total");
    assert_eq!(accepted as usize, REACTIONS, "every reaction was accepted");
}

/// The resend the page makes: the server drops the socket after the line
/// was sent but before the sender read its echo (pings unanswered), the
/// sender reconnects and sends the line again with the same `client_id`.
/// One row, one broadcast; the sender's echo is the original event.
#[tokio::test]
async fn a_resend_after_the_server_dropped_the_socket_is_stored_and_broadcast_once() {
    let mut config = common::test_config();
    config.ping_interval_secs = 1;
    let (app, tenant, stream) = common::stage(config, &viewers(["alice", "bob"])).await;
    let cookie = app.login(HOST, "alice").await;
    let mut alice = app.ws_with_cookie(HOST, stream, &cookie).await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    alice
        .next_where(|v| v["message_type"] == "join" && v["username"] == "bob")
        .await;
    let line = json!({"message": "hello once", "client_id": "page-7f3a-1"});
    alice.send_json(line.clone()).await;
    // Alice reads nothing from here on: her echo stays unread and her pings
    // unanswered, until the server drops her (bob sees her leave).
    let seen = bob.next_message().await;
    assert_eq!(seen["message"], "hello once");
    assert_eq!(seen["client_id"], "page-7f3a-1", "live lines carry it");
    bob.next_where(|v| v["message_type"] == "leave" && v["username"] == "alice")
        .await;
    drop(alice);

    let mut again = app.ws_with_cookie(HOST, stream, &cookie).await;
    again.send_json(line).await;
    let echo = again.next_message().await;
    for key in ["id", "offset", "epoch", "timestamp", "message", "client_id"] {
        assert_eq!(echo[key], seen[key], "{key} of the echo");
    }
    // Bob gets nothing new for it: his next line is the one sent after.
    again.say("after").await;
    let next = bob.next_message().await;
    assert_eq!(next["message"], "after", "no second broadcast");
    assert_eq!(
        stored_texts(app.pool(), &tenant, stream).await,
        ["hello once", "after"]
    );

    // A seed client's frame without client_id is stored every time.
    again.say("after").await;
    assert_eq!(bob.next_message().await["message"], "after");
    assert_eq!(stored_texts(app.pool(), &tenant, stream).await.len(), 3);
}
