//! Postgres going away and coming back, on a private cluster: chat answers
//! `unavailable` (never an echo), handshakes and /health answer 503, and
//! once the database is back the same node serves again, with nothing
//! acknowledged before the outage lost.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{stored_messages, test_config, viewers, PrivatePostgres, TestApp, HOST};
use serde_json::Value;

#[tokio::test]
async fn a_postgres_outage_is_answered_unavailable_and_the_node_recovers() {
    let pg = Arc::new(
        tokio::task::spawn_blocking(PrivatePostgres::start)
            .await
            .unwrap(),
    );
    // pg_ctl blocks: off the runtime, which also runs the server.
    let blocking = |f: fn(&PrivatePostgres)| {
        let pg = pg.clone();
        async move { tokio::task::spawn_blocking(move || f(&pg)).await.unwrap() }
    };
    let db = Arc::new(pg.database("stampede_outage").await);
    let app = TestApp::serve(db, test_config()).await;
    let tenant = app.acme(&viewers(["alice"])).await;
    let stream = app.stream(&tenant, "Live").await;
    let cookie = app.login(HOST, "alice").await;
    let mut alice = app.ws_with_cookie(HOST, stream, &cookie).await;
    alice.say("before the outage").await;
    alice.next_message().await;

    blocking(PrivatePostgres::down).await;

    // A message sent now is refused, not echoed.
    alice.say("during the outage").await;
    let reply = alice
        .next_where(|v| v["type"] == "error" || v["message"] == "during the outage")
        .await;
    assert_eq!(
        reply["type"], "error",
        "no echo while nothing is stored: {reply}"
    );
    assert_eq!(reply["code"], "unavailable", "{reply}");
    // The socket survives the outage.
    // No handshake without the database.
    let (status, body) = app.ws_refusal(HOST, stream, &cookie).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "unavailable");
    assert_eq!(app.health_status().await, 503);

    blocking(PrivatePostgres::up).await;
    // The same node serves again without a restart.
    let what = "the node did not recover (only 503 while recovering)";
    let within = Duration::from_secs(15);
    let mut back = app
        .ws_once_admitted(HOST, stream, &cookie, 503, what, within)
        .await;
    back.say("after the outage").await;
    let echo: Value = back
        .next_where(|v| v["type"] == "error" || v["message"] == "after the outage")
        .await;
    assert_eq!(echo["type"], "chat.message", "{echo}");
    // The old socket is still in the room and hears it.
    alice
        .next_where(|v| v["message"] == "after the outage")
        .await;
    assert_eq!(app.health_status().await, 200);

    let stored: Vec<String> = stored_messages(app.pool(), &tenant, stream)
        .await
        .into_iter()
        .filter(|(_, _, kind)| kind == "message")
        .map(|(_, text, _)| text)
        .collect();
    assert_eq!(stored, ["before the outage", "after the outage"]);
}
