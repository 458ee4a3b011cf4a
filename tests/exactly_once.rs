//! Stored exactly once: a reaction batch whose commit reply is lost is
//! retried without storing anything twice, and the rollups agree with the
//! raw rows.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::pg_proxy::{upstream_of, PgProxy};
use common::{eventually, viewers, Reply, TestApp, TestDb, EVENT_TIMEOUT, HOST};
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

#[tokio::test]
async fn a_reaction_batch_whose_commit_reply_is_lost_is_stored_once() {
    let db = Arc::new(TestDb::create().await);
    let proxy = PgProxy::start(upstream_of(&db.url)).await;
    let pool = stampede::store::connect(&proxy.url_for(&db.url), 10)
        .await
        .expect("connect through the proxy");
    let config = ServeConfig {
        reaction_rate_per_sec: 10_000,
        reaction_burst: 10_000,
        metrics_token: Some(TOKEN.into()),
        ..common::test_config()
    };
    let mut app = TestApp::serve_on(db.clone(), pool, config).await;
    let tenant = app.acme(&viewers(["alice"])).await;
    let stream = app.stream(&tenant, "Live").await;
    let mut alice = app.ws(HOST, stream, "alice").await;

    // From here, the replies of the next three committed INSERTs are lost:
    // the reaction writer's flushes (nothing else inserts meanwhile).
    proxy.lose_next_commits(3);
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
    let metrics = eventually(EVENT_TIMEOUT, "a flush was retried", || async {
        let metrics = Reply::read(
            app.http(&[])
                .get(app.bare_url("/metrics"))
                .header("authorization", format!("Bearer {TOKEN}")),
        )
        .await;
        (counter(&metrics.text, "stampede_reaction_flush_retries_total") >= 1.0).then_some(metrics)
    })
    .await;
    assert!(proxy.lost() >= 1, "the proxy lost no commit reply");
    // A graceful stop waits for every writer, retries included.
    app.stop().await;
    let stored: Vec<i64> = app.column(&raw).await;
    let rolled: Vec<i64> = app.column(&rollup).await;
    assert_eq!(stored[0], REACTIONS as i64, "raw rows = reactions sent");
    assert_eq!(rolled[0], REACTIONS as i64, "rollup total = raw rows");
    let accepted = counter(&metrics.text, "stampede_reactions_received_total");
    assert_eq!(accepted as usize, REACTIONS, "every reaction was accepted");
}
