//! Postgres going away and coming back, on a private cluster: chat answers
//! `unavailable` (never an echo), handshakes and /health answer 503, and
//! once the database is back the same node serves again, with nothing
//! acknowledged before the outage lost.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{handshake_body, handshake_status, test_config, PrivatePostgres, TestApp, TestDb};
use serde_json::Value;
use sqlx::{Connection, PgConnection};
use stampede::auth::Role;

const HOST: &str = "acme.localhost";

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
    let mut admin = PgConnection::connect(&pg.url("postgres")).await.unwrap();
    sqlx::query("CREATE DATABASE stampede_outage")
        .execute(&mut admin)
        .await
        .unwrap();
    drop(admin);
    let url = pg.url("stampede_outage");
    let pool = stampede::store::connect(&url, 10).await.unwrap();
    stampede::cli::migrate_all(&pool).await.unwrap();
    // Its Drop only tries to drop a database of this name on the shared
    // cluster, where there is none; the private cluster goes with `pg`.
    let db = Arc::new(TestDb {
        name: "stampede_outage".into(),
        url,
        pool,
    });
    let app = TestApp::serve(db, test_config()).await;
    let tenant = app.tenant("acme", HOST).await;
    app.user(&tenant, "alice", Role::Viewer).await;
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
    let err = app
        .ws_raw(HOST, stream, Some(&cookie), Some(&app.origin(HOST)))
        .await
        .err()
        .expect("no handshake without the database");
    assert_eq!(handshake_status(&err), 503);
    assert_eq!(handshake_body(&err)["error"], "unavailable");
    assert_eq!(app.health_status().await, 503);

    blocking(PrivatePostgres::up).await;
    // The same node serves again without a restart.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut back = loop {
        match app
            .ws_raw(HOST, stream, Some(&cookie), Some(&app.origin(HOST)))
            .await
        {
            Ok(ws) => break ws,
            Err(err) => {
                assert_eq!(handshake_status(&err), 503, "only 503 while recovering");
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the node did not recover"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
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

    let stored: Vec<String> = common::stored_messages(app.pool(), &tenant, stream)
        .await
        .into_iter()
        .filter(|(_, _, kind)| kind == "message")
        .map(|(_, text, _)| text)
        .collect();
    assert_eq!(stored, ["before the outage", "after the outage"]);
}
