//! Two real nodes sharing one Postgres database and a Redis of the test's own.

mod common;

use common::{free_port, stored_messages, test_config, As, NodeProcess, TestApp, TestRedis, HOST};
use serde_json::json;
use stampede::auth::Role::{Moderator, Viewer};
use stampede::tenant::Tenant;

struct Cluster {
    redis: TestRedis,
    a: TestApp,
    b: TestApp,
    tenant: Tenant,
    stream: i32,
}

async fn cluster() -> Cluster {
    let (redis, a, b) = TestApp::two_nodes(test_config()).await;
    let tenant = a
        .acme(&[
            ("alice", Viewer),
            ("bob", Viewer),
            ("carol", Viewer),
            ("mo", Moderator),
        ])
        .await;
    let stream = a.stream(&tenant, "Big show").await;
    Cluster {
        redis,
        a,
        b,
        tenant,
        stream,
    }
}

/// A resend that reaches another node than the line did: that node's room
/// never broadcast the line, so the database recognises the `client_id`;
/// the sender gets the original line (same id and timestamp, no offset),
/// nobody else gets anything, and it is stored once.
#[tokio::test]
async fn a_resend_through_another_node_is_recognised_by_the_database() {
    let c = cluster().await;
    let mut bob = c.a.ws(HOST, c.stream, "bob").await;
    let mut alice = c.a.ws(HOST, c.stream, "alice").await;
    let line = json!({"message": "only once", "client_id": "k-1"});
    alice.send_json(line.clone()).await;
    let original = bob.next_message().await;
    assert_eq!(original["client_id"], "k-1");
    alice.close().await;

    let mut again = c.b.ws(HOST, c.stream, "alice").await;
    again.send_json(line).await;
    let echo = again.next_message().await;
    for key in ["id", "timestamp", "message", "client_id", "username"] {
        assert_eq!(echo[key], original[key], "{key} of the echo");
    }
    assert!(
        echo.get("offset").is_none(),
        "node B never logged it: {echo}"
    );
    again.say("next").await;
    assert_eq!(
        bob.next_message().await["message"],
        "next",
        "no second broadcast"
    );
    let rows = stored_messages(c.a.pool(), &c.tenant, c.stream).await;
    assert_eq!(rows.len(), 2, "stored once");
}

#[tokio::test]
async fn a_message_through_one_node_reaches_the_other_exactly_once() {
    let c = cluster().await;
    let mut alice = c.a.ws(HOST, c.stream, "alice").await;
    let mut bob = c.b.ws(HOST, c.stream, "bob").await;
    // bob's join, announced by node B, reaches alice on node A.
    alice
        .next_where(|v| v["message_type"] == "join" && v["username"] == "bob")
        .await;

    alice.say("hello from A").await;
    let got = bob.next_message().await;
    assert_eq!(got["message"], "hello from A");
    assert_eq!(got["username"], "alice");
    bob.say("hello from B").await;
    assert_eq!(alice.next_message().await["message"], "hello from A");
    assert_eq!(
        alice.next_message().await["message"],
        "hello from B",
        "no duplicate in between"
    );
    alice.say("marker").await;
    assert_eq!(bob.next_message().await["message"], "hello from B");
    assert_eq!(
        bob.next_message().await["message"],
        "marker",
        "exactly once on B too"
    );

    let rows = stored_messages(c.a.pool(), &c.tenant, c.stream).await;
    assert_eq!(rows.len(), 3, "stored once each");

    // Reactions cross too (each node coalesces its own viewers' reactions).
    bob.send_json(json!({"type": "reaction", "stamp_id": 2}))
        .await;
    let r = alice.next_type("reaction").await;
    assert_eq!(
        (r["stamp_id"].as_i64(), r["username"].as_str()),
        (Some(2), Some("bob"))
    );
}

#[tokio::test]
async fn a_ban_on_one_node_closes_the_socket_on_the_other() {
    let c = cluster().await;
    let mut mo = c.a.ws(HOST, c.stream, "mo").await;
    let mut bob = c.b.ws(HOST, c.stream, "bob").await;
    mo.next_where(|v| v["message_type"] == "join" && v["username"] == "bob")
        .await;
    mo.send_json(json!({"type": "ban", "username": "bob", "duration_secs": 300}))
        .await;
    let err = bob.next_error().await;
    assert_eq!(err["code"], "banned");
    assert_eq!(bob.close_code().await, 4403);

    // Deletes and pins made on A show up on B.
    let mut carol = c.b.ws(HOST, c.stream, "carol").await;
    carol.say("pin this").await;
    let id = carol.next_message().await["id"].as_i64().unwrap();
    mo.send_json(json!({"type": "chat.pin", "id": id})).await;
    assert_eq!(carol.next_type("chat.pin").await["id"], id);
    mo.send_json(json!({"type": "chat.delete", "id": id})).await;
    assert_eq!(carol.next_type("chat.delete").await["id"], id);
}

#[tokio::test]
async fn nodes_serve_locally_through_a_redis_outage_and_reconnect_after() {
    let mut c = cluster().await;
    let mut alice = c.a.ws(HOST, c.stream, "alice").await;
    let mut bob = c.b.ws(HOST, c.stream, "bob").await;
    alice
        .next_where(|v| v["message_type"] == "join" && v["username"] == "bob")
        .await;

    c.redis.kill();
    c.a.wait_for_layer("degraded").await;
    c.b.wait_for_layer("degraded").await;
    let health = c.a.health().await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["database"], "ok");

    // Each node still serves its own viewers, and stores what they say.
    alice.say("A during outage").await;
    assert_eq!(alice.next_message().await["message"], "A during outage");
    bob.say("B during outage").await;
    assert_eq!(bob.next_message().await["message"], "B during outage");
    let rows = stored_messages(c.a.pool(), &c.tenant, c.stream).await;
    assert_eq!(rows.len(), 2, "nothing stored is lost");

    c.redis.restart().await;
    c.a.wait_for_layer("connected").await;
    c.b.wait_for_layer("connected").await;
    alice.say("A after outage").await;
    // bob missed A's outage message (it never crossed), but gets new ones.
    let next = bob.next_message().await;
    assert_eq!(next["message"], "A after outage");
    bob.say("B after outage").await;
    let seen = alice
        .next_where(|v| v["type"] == "chat.message" && v["message"] == "B after outage")
        .await;
    assert_eq!(seen["username"], "bob");
}

#[tokio::test]
async fn presence_adds_up_across_nodes_and_a_crashed_node_drops_out() {
    let c = cluster().await;
    let mut alice = c.a.ws(HOST, c.stream, "alice").await;
    let _bob = c.b.ws(HOST, c.stream, "bob").await;
    let redis = c.redis.url();
    let mut node = NodeProcess::start(&c.a.db.url, free_port(), Some(&redis)).await;
    // carol on a third node, a separate process.
    let cookie = c.a.login(HOST, "carol").await;
    let _carol = node.ws_with_cookie(HOST, c.stream, &cookie).await;

    let p = alice
        .next_where(|v| v["type"] == "presence" && v["viewers"] == 3)
        .await;
    assert_eq!(p["chatters"], 0);
    let info = format!("/api/streams/{}", c.stream);
    let info = c.b.api("GET", &info, As::Anonymous, None).await.body;
    assert_eq!(info["viewers"], 3);
    assert_eq!(info["title"], "Big show");

    // A chat line makes alice a chatter.
    alice.say("counting").await;
    alice
        .next_where(|v| v["type"] == "presence" && v["chatters"] == 1)
        .await;

    // The third node dies without a word; its viewer disappears within one TTL.
    node.crash();
    let p = alice
        .next_where(|v| v["type"] == "presence" && v["viewers"] == 2)
        .await;
    assert_eq!(p["chatters"], 1);
}

#[tokio::test]
async fn a_client_that_moves_to_another_node_recovers_from_the_redis_log() {
    let c = cluster().await;
    let mut alice = c.a.ws(HOST, c.stream, "alice").await;
    let bob_cookie = c.a.login(HOST, "bob").await;
    let mut bob = c.a.ws_with_cookie(HOST, c.stream, &bob_cookie).await;
    alice.say("first").await;
    alice.next_message().await;
    let seen = bob.next_message().await;
    let (offset, epoch) = (
        seen["offset"].as_u64().unwrap(),
        seen["epoch"].as_str().unwrap().to_owned(),
    );
    bob.close().await;
    for i in 0..10 {
        alice.say(&format!("m{i}")).await;
        alice.next_message().await;
    }
    // bob comes back through node B, which has never run this room.
    let mut back =
        c.b.ws_resume(HOST, c.stream, &bob_cookie, offset, &epoch)
            .await;
    let (frames, recovered) = back.until_recovered().await;
    assert!(recovered);
    let texts: Vec<&str> = frames
        .iter()
        .filter(|v| v["message_type"] == "message")
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);

    // After Redis loses its data the epoch changes: old clients get recovered:false.
    c.redis.flush_all().await;
    alice.say("new epoch").await;
    let fresh = alice.next_where(|v| v["message"] == "new epoch").await;
    assert_ne!(fresh["epoch"].as_str().unwrap(), epoch);
}
