//! Stream lifecycle: scheduled → live → ended, by the owner and admins over
//! REST or by the operator's CLI; ending closes the chat on every node with
//! `stream.ended` and close 1000, and new handshakes get 404.

mod common;

use common::{run_cli, test_config, TestApp, HOST};
use serde_json::Value;
use stampede::auth::Role::{Admin, Moderator, Streamer, Viewer};

fn is_ended(v: &Value) -> bool {
    v["type"] == "stream.ended"
}

#[tokio::test]
async fn ending_a_stream_closes_its_chat_on_every_node_and_refuses_new_sockets() {
    let a = TestApp::spawn_with(test_config()).await;
    // A second node on the same database, without Redis: the end still
    // reaches it (Postgres carries it).
    let b = TestApp::serve(a.db.clone(), test_config()).await;
    let tenant = a
        .acme(&[
            ("alice", Viewer),
            ("bob", Viewer),
            ("ann", Admin),
            ("mo", Moderator),
        ])
        .await;
    let stream = a.stream(&tenant, "Finale").await;
    let mut alice = a.ws(HOST, stream, "alice").await;
    let mut bob = b.ws(HOST, stream, "bob").await;
    alice.say("before the end").await;
    alice.next_message().await;
    // (Without Redis the nodes share no chat; bob is simply in the room on B.)

    // Neither a viewer nor a moderator may end it.
    for who in ["alice", "mo"] {
        let refused = a
            .api("POST", &format!("/api/streams/{stream}/end"), who, None)
            .await;
        assert_eq!(
            (refused.status, refused.body["error"].as_str()),
            (403, Some("forbidden")),
            "{who}"
        );
    }
    let ended = a
        .api("POST", &format!("/api/streams/{stream}/end"), "ann", None)
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(ended.body["status"], "ended");
    assert!(ended.body["ended_at"].is_string());
    // How long it ran, the length of its replay (it started when created).
    assert!(
        ended.body["duration_ms"].as_i64().is_some_and(|ms| ms >= 0),
        "{}",
        ended.text
    );

    for socket in [&mut alice, &mut bob] {
        socket.next_where(is_ended).await;
        assert_eq!(socket.close_code().await, 1000);
    }
    for node in [&a, &b] {
        let cookie = node.login(HOST, "alice").await;
        let (status, body) = node.ws_refusal(HOST, stream, &cookie).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    }
    let again = a
        .api("POST", &format!("/api/streams/{stream}/end"), "ann", None)
        .await;
    assert_eq!(
        (again.status, again.body["error"].as_str()),
        (409, Some("conflict"))
    );
    let restart = a
        .api("POST", &format!("/api/streams/{stream}/start"), "ann", None)
        .await;
    assert_eq!(restart.status, 409, "an ended stream stays ended");
    // History stays readable.
    let history = a
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages"),
            "alice",
            None,
        )
        .await;
    assert_eq!(history.body["messages"][0]["message"], "before the end");
    let unknown = a.api("POST", "/api/streams/999999/end", "ann", None).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_scheduled_stream_has_open_chat_and_its_owner_makes_it_live_once() {
    let app = TestApp::spawn_with(test_config()).await;
    let tenant = app
        .acme(&[("sam", Streamer), ("alice", Viewer), ("mo", Moderator)])
        .await;
    let sam = app.user_id(&tenant, "sam").await;
    let stream =
        stampede::store::streams::schedule(app.pool(), &tenant.schema, "Premiere", Some(sam))
            .await
            .unwrap();
    assert_eq!(stream.status, "scheduled");
    assert!(stream.started_at.is_none());
    let id = stream.id;
    // The waiting room's chat is open.
    let mut alice = app.ws(HOST, id, "alice").await;
    alice.say("is it starting?").await;
    assert_eq!(alice.next_message().await["message"], "is it starting?");
    // Scheduled streams are listed after live ones on the home page, not in
    // the live list.
    let live = app.api("GET", "/api/streams", "alice", None).await;
    assert!(live.body["streams"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["id"] != id));

    for who in ["alice", "mo"] {
        let refused = app
            .api("POST", &format!("/api/streams/{id}/start"), who, None)
            .await;
        assert_eq!(refused.status, 403, "{who}");
    }
    let started = app
        .api("POST", &format!("/api/streams/{id}/start"), "sam", None)
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    assert_eq!(started.body["status"], "live");
    assert!(started.body["started_at"].is_string());
    let twice = app
        .api("POST", &format!("/api/streams/{id}/start"), "sam", None)
        .await;
    assert_eq!(
        (twice.status, twice.body["error"].as_str()),
        (409, Some("conflict"))
    );
    let live = app.api("GET", "/api/streams", "alice", None).await;
    assert!(live.body["streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == id));
    // Going live does not disturb the chat.
    alice.say("it started").await;
    assert_eq!(alice.next_message().await["message"], "it started");

    // The owner ends it.
    let ended = app
        .api("POST", &format!("/api/streams/{id}/end"), "sam", None)
        .await;
    assert_eq!(ended.status, 200);
    alice.next_where(is_ended).await;
    assert_eq!(alice.close_code().await, 1000);
}

#[tokio::test]
async fn the_cli_starts_and_ends_streams_and_the_end_reaches_a_running_server() {
    let app = TestApp::spawn_with(test_config()).await;
    let tenant = app.acme(&[("alice", Viewer)]).await;
    let url = app.db.url.clone();
    let created = run_cli(
        Some(&url),
        &format!(
            "stream create --tenant {} --title Later --scheduled",
            tenant.schema.as_str()
        ),
    )
    .await;
    assert!(created.succeeded(), "{}", created.stderr);
    let id: i32 = created
        .stdout
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(created.stdout.contains("scheduled"), "{}", created.stdout);
    let args = |verb: &str| {
        format!(
            "stream {verb} --tenant {} --id {id}",
            tenant.schema.as_str()
        )
    };
    let started = run_cli(Some(&url), &args("start")).await;
    assert!(started.succeeded(), "{}", started.stderr);
    let again = run_cli(Some(&url), &args("start")).await;
    assert!(!again.succeeded());
    assert!(again.stderr.contains("already live"), "{}", again.stderr);

    let mut alice = app.ws(HOST, id, "alice").await;
    let ended = run_cli(Some(&url), &args("end")).await;
    assert!(ended.succeeded(), "{}", ended.stderr);
    alice.next_where(is_ended).await;
    assert_eq!(alice.close_code().await, 1000);
    let missing = run_cli(
        Some(&url),
        &format!("stream end --tenant {} --id 999999", tenant.schema.as_str()),
    )
    .await;
    assert!(!missing.succeeded());
}
