//! `GET /metrics`: Prometheus text with bounded labels.

mod common;

use common::{stage, test_config, viewers, Reply, HOST};
use stampede::ServeConfig;
const TOKEN: &str = "0123456789abcdef-metrics";

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn metrics_count_what_happens_without_naming_anyone() {
    let config = ServeConfig {
        metrics_token: Some(TOKEN.into()),
        ..test_config()
    };
    let (app, _, stream) = stage(config, &viewers(["alice"])).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice.say("counted").await;
    alice.next_message().await;
    alice.send_text("{oops").await;
    alice.next_error().await;
    alice
        .send_json(serde_json::json!({"type": "reaction", "stamp_id": 1}))
        .await;
    alice.next_type("reaction").await;

    let req = app.http(&[]).get(app.bare_url("/metrics"));
    let res = Reply::read(req.header("authorization", format!("Bearer {TOKEN}"))).await;
    assert_eq!(res.status, 200);
    let text = res.text;
    assert!(value(&text, "stampede_messages_received_total") >= 1.0);
    assert!(value(&text, "stampede_messages_stored_total") >= 1.0);
    assert!(value(&text, "stampede_reactions_received_total") >= 1.0);
    assert!(value(&text, "stampede_rejected_total{code=\"bad_json\"}") >= 1.0);
    assert!(value(&text, "stampede_frames_delivered_total{kind=\"chat\"}") >= 1.0);
    assert_eq!(value(&text, "stampede_connections"), 1.0);
    assert_eq!(value(&text, "stampede_rooms"), 1.0);
    assert!(text.contains("stampede_chat_commit_seconds_bucket"));
    assert!(text.contains("stampede_broadcast_seconds_bucket"));
    // Bounded labels: no user, tenant or room names.
    for private in ["alice", "acme", "stream_"] {
        assert!(!text.contains(private), "{private} leaked into metrics");
    }
}
