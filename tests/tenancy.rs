//! Host-based tenancy: isolation between tenants sharing stream ids,
//! unknown hosts, and sessions bound to the tenant they were created on.

mod common;

use common::{handshake_body, handshake_status, stored_messages, TestApp};
use stampede::auth::Role;

const ACME: &str = "acme.localhost";
const GLOBEX: &str = "globex.localhost";

#[tokio::test]
async fn tenants_with_the_same_stream_id_are_isolated() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme", ACME).await;
    let globex = app.tenant("globex", GLOBEX).await;
    app.user(&acme, "alice", Role::Viewer).await;
    app.user(&globex, "alice", Role::Viewer).await;
    app.user(&globex, "gina", Role::Viewer).await;
    let acme_stream = app.stream(&acme, "Acme live").await;
    let globex_stream = app.stream(&globex, "Globex live").await;
    assert_eq!(
        acme_stream, globex_stream,
        "both schemas start their ids at 1"
    );

    let mut acme_alice = app.ws(ACME, acme_stream, "alice").await;
    let mut globex_alice = app.ws(GLOBEX, globex_stream, "alice").await;
    let mut globex_gina = app.ws(GLOBEX, globex_stream, "gina").await;

    acme_alice.say("acme secret").await;
    assert_eq!(acme_alice.next_message().await["message"], "acme secret");
    globex_gina.say("globex hello").await;
    // If acme's message had leaked, it would arrive first: it was sent first.
    assert_eq!(globex_alice.next_message().await["message"], "globex hello");
    assert_eq!(globex_gina.next_message().await["message"], "globex hello");

    // History, over the socket and the API, holds only the tenant's own lines.
    let mut late = app.ws(GLOBEX, globex_stream, "gina").await;
    let history = late.history(1).await;
    assert_eq!(history[0]["message"], "globex hello");
    let cookie = app.login(GLOBEX, "gina").await;
    let page: serde_json::Value = app
        .http(&[GLOBEX])
        .get(app.url(GLOBEX, &format!("/api/streams/{globex_stream}/messages")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["globex hello"]);

    // Rows live in their own schemas.
    let acme_rows = stored_messages(app.pool(), &acme, acme_stream).await;
    let globex_rows = stored_messages(app.pool(), &globex, globex_stream).await;
    assert_eq!(acme_rows.len(), 1);
    assert_eq!(acme_rows[0].1, "acme secret");
    assert_eq!(globex_rows.len(), 1);
    assert_eq!(globex_rows[0].1, "globex hello");
}

#[tokio::test]
async fn users_belong_to_their_tenant() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme", ACME).await;
    app.tenant("globex", GLOBEX).await;
    app.user(&acme, "alice", Role::Viewer).await;
    let res = app
        .http(&[GLOBEX])
        .post(app.url(GLOBEX, "/api/session"))
        .json(&serde_json::json!({"username": "alice", "password": "pw-alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_credentials");
}

#[tokio::test]
async fn a_session_from_one_tenant_is_refused_on_another() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme", ACME).await;
    let globex = app.tenant("globex", GLOBEX).await;
    app.user(&acme, "alice", Role::Viewer).await;
    app.user(&globex, "alice", Role::Viewer).await;
    let globex_stream = app.stream(&globex, "Globex live").await;
    let acme_cookie = app.login(ACME, "alice").await;

    // Same cookie, same user name, same user id: still not a globex session.
    let res = app
        .http(&[GLOBEX])
        .get(app.url(GLOBEX, "/api/session"))
        .header("cookie", &acme_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let err = app
        .ws_raw(
            GLOBEX,
            globex_stream,
            Some(&acme_cookie),
            Some(&app.origin(GLOBEX)),
        )
        .await
        .err()
        .expect("handshake refused");
    assert_eq!(handshake_status(&err), 401);
    assert_eq!(handshake_body(&err)["error"], "unauthorized");

    // On its own tenant the cookie works.
    let res = app
        .http(&[ACME])
        .get(app.url(ACME, "/api/session"))
        .header("cookie", &acme_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn unknown_hosts_get_404_json_or_html() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme", ACME).await;
    app.user(&acme, "alice", Role::Viewer).await;
    let stream = app.stream(&acme, "Acme live").await;
    let client = app.http(&["nobody.localhost"]);

    for path in [
        "/",
        "/api/streams",
        "/api/session",
        "/streams/1",
        "/ws/chat/stream_1/",
    ] {
        let res = client
            .get(app.url("nobody.localhost", path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unknown_host", "{path}");
    }
    let res = client
        .get(app.url("nobody.localhost", "/"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("404"));

    // A WebSocket handshake to an unknown host is refused before anything else.
    let cookie = app.login(ACME, "alice").await;
    let err = app
        .ws_raw(
            "nobody.localhost",
            stream,
            Some(&cookie),
            Some(&app.origin("nobody.localhost")),
        )
        .await
        .err()
        .expect("refused");
    assert_eq!(handshake_status(&err), 404);
    assert_eq!(handshake_body(&err)["error"], "unknown_host");
}

#[tokio::test]
async fn host_matching_ignores_case_and_port() {
    let app = TestApp::spawn().await;
    app.tenant("acme", ACME).await;
    let res = app
        .http(&[])
        .get(format!("http://{}/api/streams", app.addr))
        .header("host", "ACME.LocalHost:1234")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn health_answers_on_any_host() {
    let app = TestApp::spawn().await;
    let res = app
        .http(&[])
        .get(format!("http://{}/health", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
}
