//! Chat replay (issue 18): `GET /api/streams/{id}/replay` returns what the
//! chat showed in a window of stream time, in order, with `t_ms`; pages
//! are cut at `limit` lines and continue by keyset.

mod common;

use std::time::Duration;

use common::{eventually, test_config, As, TestApp, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{Moderator, Viewer};

/// The stream's chat as the test lays it out: the stream started at
/// 10:00:00; lines, a pin and an unpin, and reactions per second.
async fn lay_out(app: &TestApp, stream: i32) -> Vec<i64> {
    let alice = app
        .column::<i32>("SELECT id FROM acme.accounts_user WHERE username = 'alice'")
        .await[0];
    let exec = |sql: String| async move {
        sqlx::query(&sql).execute(app.pool()).await.unwrap();
    };
    let start = "TIMESTAMP '2026-12-01 10:00:00'";
    exec(format!(
        "UPDATE acme.streaming_stream SET started_at = {start} WHERE id = {stream}"
    ))
    .await;
    let mut ids = Vec::new();
    for (secs, text, deleted) in [
        ("1.5", "first", false),
        ("61", "second", false),
        ("61", "third", false),
        ("90", "gone", true),
        ("700", "later", false),
    ] {
        let id: i32 = sqlx::query_scalar(&format!(
            "INSERT INTO acme.chat_chatmessage (room_id, user_id, content, is_deleted, created_at)
             SELECT r.id, $1, $2, $3, {start} + interval '{secs} seconds'
             FROM acme.chat_chatroom r WHERE r.stream_id = $4 RETURNING id"
        ))
        .bind(alice)
        .bind(text)
        .bind(deleted)
        .bind(stream)
        .fetch_one(app.pool())
        .await
        .unwrap();
        ids.push(i64::from(id));
    }
    for (secs, action) in [("62", "pin"), ("80", "unpin")] {
        exec(format!(
            "INSERT INTO acme.chat_moderationaction (stream_id, action, target_message_id, created_at)
             VALUES ({stream}, '{action}', {second}, {start} + interval '{secs} seconds')",
            second = ids[1]
        ))
        .await;
    }
    for (secs, stamp, count) in [(2, 1, 3), (2, 2, 1), (65, 1, 5)] {
        exec(format!(
            "INSERT INTO acme.streaming_reactionsecond (stream_id, stamp_id, second, count)
             VALUES ({stream}, {stamp}, {start} + interval '{secs} seconds', {count})"
        ))
        .await;
    }
    ids
}

/// `(type, t_ms, text or counts)` of each item, for comparing whole pages.
fn outline(page: &Value) -> Vec<(String, i64, Value)> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let what = match item["type"].as_str().unwrap() {
                "chat.message" => item["message"].clone(),
                "chat.pin" => item["message"]["message"].clone(),
                "chat.unpin" => item["id"].clone(),
                _ => item["counts"].clone(),
            };
            (
                item["type"].as_str().unwrap().to_owned(),
                item["t_ms"].as_i64().unwrap(),
                what,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_window_of_stream_time_plays_back_in_order_and_pages_by_keyset() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("alice", Viewer), ("mo", Moderator)]).await;
    let stream = app.stream(&tenant, "Finals").await;
    let ids = lay_out(&app, stream).await;
    let path = |query: &str| format!("/api/streams/{stream}/replay?{query}");

    let page = app
        .api("GET", &path("from_ms=0&to_ms=600000"), "alice", None)
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let t = |s: &str| s.to_owned();
    assert_eq!(
        outline(&page.body),
        vec![
            (t("chat.message"), 1500, json!("first")),
            (t("reactions"), 2000, json!({"1": 3, "2": 1})),
            (t("chat.message"), 61000, json!("second")),
            (t("chat.message"), 61000, json!("third")),
            (t("chat.pin"), 62000, json!("second")),
            (t("reactions"), 65000, json!({"1": 5})),
            (t("chat.unpin"), 80000, json!(ids[1])),
        ],
        "the deleted line and the one after the window are left out"
    );
    assert_eq!(page.body["next"], Value::Null);
    assert_eq!(page.body["started_at"], "2026-12-01T10:00:00Z");
    assert_eq!(page.body["items"][0]["username"], "alice");
    assert_eq!(page.body["items"][0]["id"], ids[0]);

    // Two lines a page: the first ends at its last line, the next goes on
    // from there without repeating it.
    let first = app
        .api(
            "GET",
            &path("from_ms=0&to_ms=600000&limit=2"),
            "alice",
            None,
        )
        .await;
    assert_eq!(
        outline(&first.body),
        vec![
            (t("chat.message"), 1500, json!("first")),
            (t("reactions"), 2000, json!({"1": 3, "2": 1})),
            (t("chat.message"), 61000, json!("second")),
        ]
    );
    assert_eq!(
        first.body["next"],
        json!({"from_ms": 61000, "after": ids[1]})
    );
    let second = app
        .api(
            "GET",
            &path(&format!(
                "from_ms=61000&after={}&to_ms=600000&limit=2",
                ids[1]
            )),
            "alice",
            None,
        )
        .await;
    assert_eq!(
        outline(&second.body),
        vec![
            (t("chat.message"), 61000, json!("third")),
            (t("chat.pin"), 62000, json!("second")),
            (t("reactions"), 65000, json!({"1": 5})),
            (t("chat.unpin"), 80000, json!(ids[1])),
        ]
    );
    assert_eq!(second.body["next"], Value::Null);

    // A player seeking into the middle gets the pin of that moment.
    assert_eq!(page.body["pinned"], Value::Null);
    for (from_ms, pinned) in [
        (62000, Value::Null),
        (62001, json!("second")),
        (79999, json!("second")),
        (80001, Value::Null),
    ] {
        let at = app
            .api(
                "GET",
                &path(&format!("from_ms={from_ms}&to_ms={}", from_ms + 1000)),
                "alice",
                None,
            )
            .await;
        assert_eq!(at.body["pinned"]["message"], pinned, "at {from_ms} ms");
    }

    // A later window.
    let late = app
        .api("GET", &path("from_ms=600000&to_ms=1200000"), "alice", None)
        .await;
    assert_eq!(
        outline(&late.body),
        vec![(t("chat.message"), 700000, json!("later"))]
    );

    // Bad windows, strangers, streams that never started.
    for query in [
        "from_ms=-1&to_ms=10",
        "from_ms=10&to_ms=10",
        "from_ms=0&to_ms=3600001",
        "from_ms=0&to_ms=10&limit=0",
        "from_ms=x",
    ] {
        let r = app.api("GET", &path(query), "alice", None).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (422, Some("invalid")),
            "{query}"
        );
    }
    let r = app
        .api("GET", &path("from_ms=0"), As::Anonymous, None)
        .await;
    assert_eq!(r.status, 401);
    let r = app
        .api("GET", "/api/streams/987654/replay", "alice", None)
        .await;
    assert_eq!(r.status, 404);
    let scheduled = stampede::store::streams::schedule(app.pool(), &tenant.schema, "Soon", None)
        .await
        .unwrap()
        .id;
    let r = app
        .api(
            "GET",
            &format!("/api/streams/{scheduled}/replay"),
            "alice",
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (409, Some("conflict"))
    );
}

/// Reactions sent live are counted per second by the reaction writer, so
/// the replay has them without reading raw rows; what was sent on node A
/// replays from node B.
#[tokio::test]
async fn live_reactions_are_counted_per_second_for_replay() {
    let (_redis, app, other) = TestApp::two_nodes(test_config()).await;
    let tenant = app.acme(&[("alice", Viewer)]).await;
    let stream = app.stream(&tenant, "Live").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let line = alice.chat_id("live and replayed").await;
    for stamp in [1, 1, 2] {
        alice
            .send_json(json!({"type": "reaction", "stamp_id": stamp}))
            .await;
    }
    let path = format!("/api/streams/{stream}/replay?from_ms=0&to_ms=3600000");
    let counts = eventually(Duration::from_secs(10), "reactions stored", || async {
        let page = other.api("GET", &path, "alice", None).await;
        let lines: Vec<&Value> = page.body["items"]
            .as_array()?
            .iter()
            .filter(|i| i["type"] == "chat.message")
            .collect();
        assert_eq!(lines.len(), 1, "{}", page.text);
        assert_eq!(lines[0]["id"], line);
        let mut total: std::collections::BTreeMap<String, i64> = Default::default();
        for item in page.body["items"].as_array()? {
            if item["type"] == "reactions" {
                for (stamp, n) in item["counts"].as_object()? {
                    *total.entry(stamp.clone()).or_default() += n.as_i64()?;
                }
            }
        }
        (total.values().sum::<i64>() == 3).then_some(total)
    })
    .await;
    assert_eq!(counts, [("1".to_owned(), 2), ("2".to_owned(), 1)].into());
}
