//! Two nodes on a real Redis Cluster (three masters, a replica each, on
//! loopback ports): rooms spread over the shards with sharded pub/sub, chat
//! and bans cross nodes, resumes read the room's log from its shard, limits
//! and presence are global, and a master failing over keeps chat going.

mod common;

use serde_json::{json, Value};
use stampede::chat::Role::{Admin, Moderator, Viewer};
use stampede::config::ServeConfig;
use stampede::tenant::Tenant;

use common::*;

const CAST: &[(&str, stampede::chat::Role)] = &[
    ("alice", Viewer),
    ("bob", Viewer),
    ("carol", Viewer),
    ("mo", Moderator),
    ("boss", Admin),
];

/// Two nodes on `cluster`, both connected to it.
async fn two_nodes_on(cluster: &TestRedisCluster, mut config: ServeConfig) -> (TestApp, TestApp) {
    config.redis_cluster_urls = cluster.urls();
    let a = TestApp::spawn_with(config.clone()).await;
    let b = TestApp::serve(a.db.clone(), config).await;
    a.wait_for_layer("connected").await;
    b.wait_for_layer("connected").await;
    (a, b)
}

fn room_key(tenant: &Tenant, stream: i32) -> String {
    format!("stampede:{{{}:{stream}}}:room", tenant.schema.as_str())
}

/// Streams until two of them live on different masters.
async fn streams_on_two_shards(
    app: &TestApp,
    cluster: &TestRedisCluster,
    tenant: &Tenant,
) -> [(i32, u16); 2] {
    let first = app.stream(tenant, "Show 0").await;
    let first_master = cluster.master_of(&room_key(tenant, first)).await.port;
    for i in 1..50 {
        let stream = app.stream(tenant, &format!("Show {i}")).await;
        let master = cluster.master_of(&room_key(tenant, stream)).await.port;
        if master != first_master {
            return [(first, first_master), (stream, master)];
        }
    }
    panic!("50 rooms on one shard: rooms are not spread");
}

/// A chatter that, like a real client, follows the room when it sends its
/// sockets away to resume (4408, after a failover moved the room's
/// subscription): it reconnects from the last offset it saw, and sends a
/// line again with the same `client_id` until the line is echoed.
struct Peer<'a> {
    node: &'a TestApp,
    ws: WsClient,
    stream: i32,
    cookie: String,
    at: (u64, String),
    resyncs: usize,
}

impl<'a> Peer<'a> {
    async fn join(node: &'a TestApp, stream: i32, username: &str, at: (u64, String)) -> Self {
        let cookie = node.login(HOST, username).await;
        let ws = node.ws_with_cookie(HOST, stream, &cookie).await;
        Peer {
            node,
            ws,
            stream,
            cookie,
            at,
            resyncs: 0,
        }
    }

    /// The next frame, reconnecting (resuming) when sent away with 4408.
    async fn next(&mut self) -> Option<Value> {
        match self.ws.next_event().await {
            Event::Json(v) => {
                if let (Some(o), Some(e)) = (v["offset"].as_u64(), v["epoch"].as_str()) {
                    self.at = (o, e.to_owned());
                }
                Some(v)
            }
            Event::Closed(frame) => {
                let code = frame.map(|f| u16::from(f.code));
                assert_eq!(code, Some(4408), "only a resync may close the socket");
                self.resyncs += 1;
                let (offset, epoch) = self.at.clone();
                self.ws = self
                    .node
                    .ws_resume(HOST, self.stream, &self.cookie, offset, &epoch)
                    .await;
                None
            }
        }
    }

    /// Waits for the line `text`, live or replayed.
    async fn hear(&mut self, text: &str) -> Value {
        loop {
            if let Some(v) = self.next().await {
                if v["type"] == "chat.message" && v["message"] == text {
                    return v;
                }
            }
        }
    }

    /// Says `text` until it is echoed (stored once whatever the resends).
    async fn say(&mut self, text: &str) -> Value {
        let frame = json!({"message": text, "client_id": format!("c{}", self.at.0)});
        self.ws.send_json(frame.clone()).await;
        loop {
            match self.next().await {
                Some(v) if v["type"] == "chat.message" && v["client_id"] == frame["client_id"] => {
                    return v;
                }
                Some(_) => {}
                None => self.ws.send_json(frame.clone()).await,
            }
        }
    }
}

#[tokio::test]
async fn rooms_spread_over_shards_and_chat_crosses_nodes_through_a_failover() {
    let cluster = TestRedisCluster::start().await;
    let (a, b) = two_nodes_on(&cluster, test_config()).await;
    let tenant = a.acme(CAST).await;
    let rooms = streams_on_two_shards(&a, &cluster, &tenant).await;

    for (stream, master) in rooms {
        let mut alice = a.ws(HOST, stream, "alice").await;
        let bob_cookie = b.login(HOST, "bob").await;
        let mut bob = b.ws_with_cookie(HOST, stream, &bob_cookie).await;
        // Bob's socket may still be joining: the line reaches him live or
        // as history.
        let hello = format!("hello room {stream}");
        alice.chat(&hello).await;
        bob.next_where(|v| v["type"] == "chat.message" && v["message"] == hello.as_str())
            .await;
        // Now both rooms run: lines cross live, both ways.
        bob.chat("hi from node b").await;
        assert_eq!(alice.next_message().await["message"], "hi from node b");
        alice.chat("and back").await;
        assert_eq!(bob.next_message().await["message"], "and back");
        // The room's log lives on its own shard.
        let mut shard = cluster.node_conn(master).await;
        let log: i64 = ::redis::cmd("EXISTS")
            .arg(format!("{}:log", room_key(&tenant, stream)))
            .query_async(&mut shard)
            .await
            .unwrap();
        assert_eq!(log, 1, "room {stream}'s log is on master {master}");
    }

    // A tenant-wide ban made on node A reaches a socket on node B.
    let (stream, _) = rooms[0];
    let mut carol = b.ws(HOST, rooms[1].0, "carol").await;
    let mut boss = a.ws(HOST, stream, "boss").await;
    boss.send_json(json!({"type": "ban", "username": "carol", "scope": "tenant"}))
        .await;
    assert_eq!(carol.next_error().await["code"], "banned");
    assert_eq!(carol.close_code().await, 4403);

    // Fail over the master of the first room: chat goes on, and a socket
    // that missed lines resumes them from the log the replica kept.
    let mut alice = Peer::join(&a, stream, "alice", (0, String::new())).await;
    let start = alice.say("before the failover").await;
    let at = (
        start["offset"].as_u64().unwrap(),
        start["epoch"].as_str().unwrap().to_owned(),
    );
    let mut bob = Peer::join(&b, stream, "bob", at.clone()).await;
    let mut left_at = None;
    let new_master = cluster.fail_over(&room_key(&tenant, stream)).await;
    assert_eq!(
        cluster.master_of(&room_key(&tenant, stream)).await.port,
        new_master
    );
    for i in 0..3 {
        let text = format!("after the failover {i}");
        alice.say(&text).await;
        bob.hear(&text).await;
        if i == 0 {
            // A device of bob's that leaves after the first line resumes later.
            left_at = Some((bob.cookie.clone(), bob.at.clone()));
        }
    }
    // Without a resync (the room's subscription made again where the slot
    // now lives) neither would have heard the other: the failover was real.
    assert!(alice.resyncs >= 1 && bob.resyncs >= 1);
    let (cookie, (offset, epoch)) = left_at.unwrap();
    let (missed, recovered) = resume_missed(&b, stream, &cookie, (offset, &epoch)).await;
    assert!(recovered, "the log survived the failover");
    let texts: Vec<&str> = missed
        .iter()
        .filter(|f| f["type"] == "chat.message" && f["message_type"] == "message")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["after the failover 1", "after the failover 2"]);
    let stored = stored_texts(&a.db.pool, &tenant, stream).await;
    let after: Vec<&String> = stored.iter().filter(|t| t.starts_with("after")).collect();
    assert_eq!(after.len(), 3, "each line stored once: {stored:?}");
    // And new lines still cross nodes both ways.
    alice.say("still here").await;
    bob.hear("still here").await;
    bob.say("me too").await;
    alice.hear("me too").await;
}

/// What a socket that left at `at` missed: the frames replayed before the
/// `recovered` answer, and that answer. A resync of the room meanwhile
/// (4408) is followed by resuming from the same place again.
async fn resume_missed(
    node: &TestApp,
    stream: i32,
    cookie: &str,
    (offset, epoch): (u64, &str),
) -> (Vec<Value>, bool) {
    'again: loop {
        let mut ws = node.ws_resume(HOST, stream, cookie, offset, epoch).await;
        let mut frames = Vec::new();
        loop {
            match ws.next_event().await {
                Event::Json(v) if v["type"] == "recovered" => {
                    return (frames, v["recovered"].as_bool().expect("recovered flag"));
                }
                Event::Json(v) => frames.push(v),
                Event::Closed(frame) => {
                    assert_eq!(frame.map(|f| u16::from(f.code)), Some(4408));
                    continue 'again;
                }
            }
        }
    }
}

#[tokio::test]
async fn limits_and_presence_are_global_on_a_cluster() {
    let cluster = TestRedisCluster::start().await;
    let mut config = test_config();
    config.chat_rate_limit = 3;
    config.chat_rate_period_secs = 30;
    let (a, b) = two_nodes_on(&cluster, config).await;
    assert_eq!(a.health().await["limits"], "global");
    let tenant = a.acme(CAST).await;
    let stream = a.stream(&tenant, "Limits").await;

    let mut on_a = a.ws(HOST, stream, "alice").await;
    let mut on_b = b.ws(HOST, stream, "alice").await;
    let _bob = b.ws(HOST, stream, "bob").await;
    // One user on two nodes plus bob: two viewers, on both nodes.
    let presence = |v: &Value| v["type"] == "presence" && v["viewers"] == 2;
    on_a.next_where(presence).await;
    on_b.next_where(presence).await;

    on_a.chat("one").await;
    on_b.chat("two").await;
    on_a.chat("three").await;
    on_b.say("four").await;
    assert_eq!(on_b.next_error().await["code"], "rate_limited");
}
