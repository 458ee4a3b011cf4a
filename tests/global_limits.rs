//! Global limits: the chat rate limit, the reaction limit and slow mode are
//! one budget per user over every node sharing a Redis; without Redis (or
//! while it is down) each node limits on its own, and /health says which.

mod common;

use std::time::Duration;

use common::{test_config, TestApp, TestRedis, WsClient, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{Moderator, Viewer};
use stampede::moderation::gcra_script::{rate_key, slow_mode_key, Answer, GcraScript, Rate};
use stampede::redis_conn::RedisTarget;
use stampede::tenant::Tenant;
use stampede::ServeConfig;

/// Two nodes sharing a fresh Redis, with alice, bob and mo, and one stream.
async fn cluster(config: ServeConfig) -> (TestRedis, TestApp, TestApp, Tenant, i32) {
    let (redis, a, b) = TestApp::two_nodes(config).await;
    let tenant = a
        .acme(&[("alice", Viewer), ("bob", Viewer), ("mo", Moderator)])
        .await;
    let stream = a.stream(&tenant, "Big show").await;
    (redis, a, b, tenant, stream)
}

fn small_chat_budget() -> ServeConfig {
    let mut config = test_config();
    config.chat_rate_limit = 3;
    config.chat_rate_period_secs = 30;
    config
}

fn react(stamp_id: i64) -> Value {
    json!({"type": "reaction", "stamp_id": stamp_id})
}

/// Reads until the chat line `marker` arrives; returns the errors before it.
async fn errors_until(ws: &mut WsClient, marker: &str) -> Vec<Value> {
    let mut errors = Vec::new();
    loop {
        let v = ws.next_json().await;
        match v["type"].as_str() {
            Some("error") => errors.push(v),
            Some("chat.message") if v["message"] == marker => return errors,
            _ => {}
        }
    }
}

fn retry_after(err: &Value) -> u64 {
    err["retry_after_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retry_after_ms: {err}"))
}

#[tokio::test]
async fn a_user_with_sockets_on_two_nodes_gets_one_chat_budget() {
    let (_redis, a, b, _tenant, stream) = cluster(small_chat_budget()).await;
    assert_eq!(a.health().await["limits"], "global");
    assert_eq!(b.health().await["limits"], "global");
    let mut on_a = a.ws(HOST, stream, "alice").await;
    let mut on_b = b.ws(HOST, stream, "alice").await;
    // Two lines through A and one through B: each node's own budget (3)
    // has room left, the shared one does not.
    on_a.chat("one").await;
    on_a.chat("two").await;
    on_b.chat("three").await;
    for ws in [&mut on_a, &mut on_b] {
        ws.say("four").await;
        let err = ws.next_error().await;
        assert_eq!(err["code"], "rate_limited", "{err}");
        let retry = retry_after(&err);
        assert!(retry > 0 && retry <= 10_000, "retry_after_ms {retry}");
    }
    // Per user: bob, on either node, is not limited.
    let mut bob = b.ws(HOST, stream, "bob").await;
    bob.chat("bob here").await;
}

#[tokio::test]
async fn a_user_with_sockets_on_two_nodes_gets_one_reaction_budget() {
    let mut config = test_config();
    config.reaction_rate_per_sec = 1;
    config.reaction_burst = 3;
    let (_redis, a, b, _tenant, stream) = cluster(config).await;
    let mut on_a = a.ws(HOST, stream, "alice").await;
    let mut on_b = b.ws(HOST, stream, "alice").await;
    // A socket's frames are handled in order: the marker line comes back
    // after both reactions were checked.
    on_a.send_json(react(1)).await;
    on_a.send_json(react(1)).await;
    on_a.say("a done").await;
    assert!(errors_until(&mut on_a, "a done").await.is_empty());
    // Node B has used none of its own burst (3), yet the second is refused.
    on_b.send_json(react(1)).await;
    on_b.send_json(react(1)).await;
    on_b.say("b done").await;
    let errors = errors_until(&mut on_b, "b done").await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "rate_limited");
    let retry = retry_after(&errors[0]);
    assert!(retry > 0 && retry <= 1_000, "retry_after_ms {retry}");
}

#[tokio::test]
async fn slow_mode_holds_across_nodes_but_not_for_moderators() {
    let (_redis, a, b, _tenant, stream) = cluster(test_config()).await;
    let mut on_a = a.ws(HOST, stream, "alice").await;
    let mut on_b = b.ws(HOST, stream, "alice").await;
    let mut mo = b.ws(HOST, stream, "mo").await;
    let settings = format!("/api/streams/{stream}/settings");
    let res = a
        .api("PUT", &settings, "mo", json!({"slow_mode_seconds": 30}))
        .await;
    assert_eq!(res.status, 200);
    for ws in [&mut on_a, &mut on_b, &mut mo] {
        assert_eq!(ws.next_type("chat.settings").await["slow_mode_seconds"], 30);
    }
    on_a.chat("from A").await;
    on_b.say("from B too soon").await;
    let err = on_b.next_error().await;
    assert_eq!(err["code"], "slow_mode", "{err}");
    let retry = retry_after(&err);
    assert!(retry > 25_000 && retry <= 30_000, "retry_after_ms {retry}");
    // Back on A, the room's own timing agrees.
    on_a.say("from A again").await;
    assert_eq!(on_a.next_error().await["code"], "slow_mode");
    mo.chat("mod one").await;
    mo.chat("mod two").await;
}

#[tokio::test]
async fn a_single_node_limits_on_its_own() {
    let app = TestApp::spawn_with(small_chat_budget()).await;
    let tenant = app.acme(&[("alice", Viewer)]).await;
    let stream = app.stream(&tenant, "Solo").await;
    assert_eq!(app.health().await["limits"], "local");
    let mut alice = app.ws(HOST, stream, "alice").await;
    for i in 0..3 {
        alice.chat(&format!("ok {i}")).await;
    }
    alice.say("one too many").await;
    assert_eq!(alice.next_error().await["code"], "rate_limited");
}

#[tokio::test]
async fn while_redis_is_down_each_node_limits_on_its_own() {
    let (mut redis, a, b, _tenant, stream) = cluster(small_chat_budget()).await;
    let mut on_a = a.ws(HOST, stream, "alice").await;
    let mut on_b = b.ws(HOST, stream, "alice").await;
    redis.kill();
    a.wait_for_layer("degraded").await;
    // Lines still go through, limited by each node's own budget: the
    // fallback counts one budget per node.
    for i in 0..3 {
        on_a.chat(&format!("a{i}")).await;
    }
    on_a.say("a3").await;
    assert_eq!(on_a.next_error().await["code"], "rate_limited");
    for i in 0..3 {
        on_b.chat(&format!("b{i}")).await;
    }
    assert_eq!(a.health().await["limits"], "local");
    assert_eq!(b.health().await["limits"], "local");
}

/// The script's arithmetic, against a Redis of the test's own.
#[tokio::test]
async fn the_script_allows_a_burst_then_spaces_events() {
    let redis = TestRedis::start().await;
    let target = RedisTarget::single(&redis.url()).unwrap();
    let script = GcraScript::new(target, Duration::from_secs(2));
    let rate = Rate {
        interval: Duration::from_secs(10),
        burst: 3,
    };
    let key = rate_key("acme", "chat", 7);
    for _ in 0..3 {
        assert_eq!(
            script.check(&key, rate, None).await.unwrap(),
            Answer::Allowed
        );
    }
    match script.check(&key, rate, None).await.unwrap() {
        Answer::RateLimited(wait) => assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        ),
        other => panic!("{other:?}"),
    }
    let other = rate_key("acme", "chat", 8);
    assert_eq!(
        script.check(&other, rate, None).await.unwrap(),
        Answer::Allowed
    );

    // Slow mode: the first line claims the window, the next waits for it
    // and costs no budget.
    let user = rate_key("acme", "chat", 9);
    let slow = slow_mode_key("acme", 1, 9);
    let window = Some((slow.as_str(), Duration::from_secs(5)));
    assert_eq!(
        script.check(&user, rate, window).await.unwrap(),
        Answer::Allowed
    );
    match script.check(&user, rate, window).await.unwrap() {
        Answer::SlowMode(wait) => assert!(
            wait > Duration::from_secs(4) && wait <= Duration::from_secs(5),
            "{wait:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        script.check(&user, rate, None).await.unwrap(),
        Answer::Allowed
    );
    assert_eq!(
        script.check(&user, rate, None).await.unwrap(),
        Answer::Allowed
    );

    // Keys vanish once the budget is full again.
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 30_000, "{ttl}");
}

/// The added cost, for docs/benchmarks.md (not a check):
/// `cargo test --test global_limits -- --ignored --nocapture script_round_trip`.
#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn script_round_trip() {
    let redis = TestRedis::start().await;
    let target = RedisTarget::single(&redis.url()).unwrap();
    let script = GcraScript::new(target, Duration::from_secs(2));
    let rate = Rate {
        interval: Duration::from_micros(1),
        burst: 1_000_000,
    };
    let local = stampede::moderation::UserRateLimiter::per_second(1_000_000, 1_000_000);
    let n = 20_000;
    let mut script_times = Vec::with_capacity(n);
    let mut local_times = Vec::with_capacity(n);
    for i in 0..n {
        let key = rate_key("acme", "chat", (i % 1000) as i32);
        let started = std::time::Instant::now();
        let _ = local.check(1, (i % 1000) as i32);
        local_times.push(started.elapsed());
        let started = std::time::Instant::now();
        assert_eq!(
            script.check(&key, rate, None).await.unwrap(),
            Answer::Allowed
        );
        script_times.push(started.elapsed());
    }
    for (name, times) in [("local", &mut local_times), ("script", &mut script_times)] {
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        let total: Duration = times.iter().sum();
        println!(
            "{name}: n={n} p50={:?} p99={:?} p99.9={:?} max={:?} checks/s (one at a time)={:.0}",
            at(0.5),
            at(0.99),
            at(0.999),
            times[times.len() - 1],
            n as f64 / total.as_secs_f64()
        );
    }
}
