//! Exact presence over two nodes sharing a Redis: a room's viewers and
//! chatters are distinct users, wherever their sockets are.
//!
//! Presence frames only come when the count changes, so a count that must
//! *not* appear cannot be awaited. Each step therefore first waits until
//! every node's report in Redis shows that node's current local counts (so
//! the stored user sets are current too); from then on the total is a
//! steady state, which the stream API (merging on request) and the frames
//! must show.

mod common;

use common::{
    eventually, free_port, run_cli, test_config, As, NodeProcess, TestApp, TestRedis, WsClient,
    EVENT_TIMEOUT, HOST,
};
use serde_json::Value;
use stampede::auth::Role::Viewer;

struct Cluster {
    redis: TestRedis,
    a: TestApp,
    b: TestApp,
    stream: i32,
}

async fn cluster() -> Cluster {
    let (redis, a, b) = TestApp::two_nodes(test_config()).await;
    let tenant = a
        .acme(&[("alice", Viewer), ("bob", Viewer), ("carol", Viewer)])
        .await;
    let stream = a.stream(&tenant, "Show").await;
    Cluster {
        redis,
        a,
        b,
        stream,
    }
}

impl Cluster {
    /// The live nodes' local `(viewers, chatters)` for the stream, sorted.
    async fn reports(&self) -> Vec<(u64, u64)> {
        let client = redis::Client::open(self.redis.url()).expect("redis url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to redis");
        let prefix = format!("stampede:{{acme:{}}}:presence", self.stream);
        let nodes: Vec<String> = redis::cmd("SMEMBERS")
            .arg(format!("{prefix}:nodes"))
            .query_async(&mut conn)
            .await
            .expect("nodes");
        let mut reports = Vec::new();
        for node in nodes {
            let report: Option<String> = redis::cmd("GET")
                .arg(format!("{prefix}:node:{node}"))
                .query_async(&mut conn)
                .await
                .expect("report");
            let Some(report) = report else { continue };
            let mut parts = report.split(' ').map(|p| p.parse::<u64>().ok());
            if let (Some(Some(v)), Some(Some(c))) = (parts.next(), parts.next()) {
                reports.push((v, c));
            }
        }
        reports.sort();
        reports
    }

    /// Waits until the live nodes report exactly `expected` (sorted).
    async fn settle(&self, expected: &[(u64, u64)]) {
        let what = format!("node reports never became {expected:?}");
        eventually(EVENT_TIMEOUT, &what, || async {
            (self.reports().await == expected).then_some(())
        })
        .await;
    }

    /// `(viewers, chatters)` as a node's stream API counts them now.
    async fn counted(&self, node: &TestApp) -> (Value, Value) {
        let path = format!("/api/streams/{}", self.stream);
        let body = node.api("GET", &path, As::Anonymous, None).await.body;
        (body["viewers"].clone(), body["chatters"].clone())
    }

    /// Both nodes' APIs count `(viewers, chatters)`.
    async fn assert_counted(&self, viewers: u64, chatters: u64) {
        let want = (Value::from(viewers), Value::from(chatters));
        assert_eq!(self.counted(&self.a).await, want, "node A's count");
        assert_eq!(self.counted(&self.b).await, want, "node B's count");
    }
}

/// Waits for the presence frame that shows `viewers` and `chatters`.
async fn sees(ws: &mut WsClient, viewers: u64, chatters: u64) {
    ws.next_where(|v| {
        v["type"] == "presence" && v["viewers"] == viewers && v["chatters"] == chatters
    })
    .await;
}

#[tokio::test]
async fn a_user_with_sockets_on_two_nodes_counts_once() {
    let c = cluster().await;
    let mut bob = c.a.ws(HOST, c.stream, "bob").await;
    let mut alice_a = c.a.ws(HOST, c.stream, "alice").await;
    let mut alice_b = c.b.ws(HOST, c.stream, "alice").await;
    // A: bob and alice; B: alice. Summed per node this was 3.
    c.settle(&[(1, 0), (2, 0)]).await;
    c.assert_counted(2, 0).await;
    sees(&mut bob, 2, 0).await;
    sees(&mut alice_b, 2, 0).await;

    // alice chats through both nodes: one chatter.
    alice_a.say("from A").await;
    alice_b.say("from B").await;
    c.settle(&[(1, 1), (2, 1)]).await;
    c.assert_counted(2, 1).await;
    sees(&mut bob, 2, 1).await;

    // Her socket on A closes: she is still there through B.
    alice_a.close().await;
    c.settle(&[(1, 1), (1, 1)]).await;
    c.assert_counted(2, 1).await;

    // Her last socket closes: bob alone (her line still makes her a chatter).
    alice_b.close().await;
    sees(&mut bob, 1, 1).await;
    let (viewers, _) = c.counted(&c.b).await;
    assert_eq!(viewers, 1);
}

#[tokio::test]
async fn anonymous_readers_count_one_each_on_every_node() {
    let c = cluster().await;
    let on = run_cli(
        Some(&c.a.db.url),
        "tenant embed --schema acme --anonymous-read true",
    )
    .await;
    assert!(on.succeeded(), "{}", on.stderr);
    let reader_path = format!("/ws/chat/stream_{}/?read_only=1", c.stream);
    let mut readers = Vec::new();
    for node in [&c.a, &c.a, &c.b] {
        let origin = node.origin(HOST);
        let reader = common::ws::ws_connect(node.addr, HOST, &reader_path, None, Some(&origin))
            .await
            .expect("anonymous read-only handshake");
        readers.push(reader);
    }
    let mut alice_a = c.a.ws(HOST, c.stream, "alice").await;
    let _alice_b = c.b.ws(HOST, c.stream, "alice").await;
    // A: alice and two readers; B: alice and one reader. alice once, three readers.
    c.settle(&[(2, 0), (3, 0)]).await;
    c.assert_counted(4, 0).await;
    sees(&mut alice_a, 4, 0).await;
    sees(&mut readers[2], 4, 0).await;

    // A reader leaves: one fewer.
    if let Some(reader) = readers.pop() {
        reader.close().await;
    }
    sees(&mut alice_a, 3, 0).await;
}

#[tokio::test]
async fn a_killed_nodes_users_drop_out_within_the_ttl() {
    let c = cluster().await;
    let mut bob = c.a.ws(HOST, c.stream, "bob").await;
    let _alice_a = c.a.ws(HOST, c.stream, "alice").await;
    let mut node = NodeProcess::start(&c.a.db.url, free_port(), Some(&c.redis.url())).await;
    let alice = c.a.login(HOST, "alice").await;
    let carol = c.a.login(HOST, "carol").await;
    let _alice_c = node.ws_with_cookie(HOST, c.stream, &alice).await;
    let _carol_c = node.ws_with_cookie(HOST, c.stream, &carol).await;
    // A: bob, alice; B: nobody (no room); the process: alice, carol.
    c.settle(&[(2, 0), (2, 0)]).await;
    c.assert_counted(3, 0).await;
    sees(&mut bob, 3, 0).await;

    // The process dies without a word: carol disappears within one TTL,
    // alice stays (she is on A too).
    node.crash();
    sees(&mut bob, 2, 0).await;
    c.settle(&[(2, 0)]).await;
    c.assert_counted(2, 0).await;
}
