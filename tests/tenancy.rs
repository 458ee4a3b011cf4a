//! Host-based tenancy: isolation between tenants sharing stream ids,
//! unknown hosts, and sessions bound to the tenant they were created on.

mod common;

use common::{stored_messages, strings, viewers, As, Reply, TestApp};

const ACME: &str = "acme.localhost";
const GLOBEX: &str = "globex.localhost";
const NOBODY: &str = "nobody.localhost";

#[tokio::test]
async fn tenants_with_the_same_stream_id_are_isolated() {
    let app = TestApp::spawn().await;
    let acme = app.acme(&viewers(["alice"])).await;
    let globex = app.tenant("globex", GLOBEX).await;
    app.users(&globex, &viewers(["alice", "gina"])).await;
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
    let messages = format!("/api/streams/{globex_stream}/messages");
    let page = app
        .api_on(GLOBEX, "GET", &messages, "gina", None)
        .await
        .body;
    assert_eq!(strings(&page["messages"], "message"), ["globex hello"]);

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
    app.acme(&viewers(["alice"])).await;
    app.tenant("globex", GLOBEX).await;
    let res = Reply::read(app.login_request(GLOBEX, "alice", "pw-alice")).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.body["error"], "invalid_credentials");
}

#[tokio::test]
async fn a_session_from_one_tenant_is_refused_on_another() {
    let app = TestApp::spawn().await;
    app.acme(&viewers(["alice"])).await;
    let globex = app.tenant("globex", GLOBEX).await;
    app.user(&globex, "alice", stampede::auth::Role::Viewer)
        .await;
    let globex_stream = app.stream(&globex, "Globex live").await;
    let acme_cookie = app.login(ACME, "alice").await;
    let session = As::Cookie(&acme_cookie);

    // Same cookie, same user name, same user id: still not a globex session.
    let res = app
        .api_on(GLOBEX, "GET", "/api/session", session, None)
        .await;
    assert_eq!(res.status, 401);

    let (status, body) = app.ws_refusal(GLOBEX, globex_stream, &acme_cookie).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");

    // On its own tenant the cookie works.
    assert_eq!(app.whoami(&acme_cookie).await.status, 200);
}

#[tokio::test]
async fn unknown_hosts_get_404_json_or_html() {
    let app = TestApp::spawn().await;
    let acme = app.acme(&viewers(["alice"])).await;
    let stream = app.stream(&acme, "Acme live").await;

    for path in [
        "/",
        "/api/streams",
        "/api/session",
        "/streams/1",
        "/ws/chat/stream_1/",
    ] {
        let res = app.api_on(NOBODY, "GET", path, As::Anonymous, None).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.body["error"], "unknown_host", "{path}");
    }
    let page = app.request_on(NOBODY, "GET", "/", As::Anonymous).await;
    let res = Reply::read(page.header("accept", "text/html,application/xhtml+xml")).await;
    assert_eq!(res.status, 404);
    assert!(res.header("content-type").starts_with("text/html"));
    assert!(res.text.contains("404"));

    // A WebSocket handshake to an unknown host is refused before anything else.
    let cookie = app.login(ACME, "alice").await;
    let (status, body) = app.ws_refusal(NOBODY, stream, &cookie).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "unknown_host");
}

#[tokio::test]
async fn host_matching_ignores_case_and_port() {
    let app = TestApp::spawn().await;
    app.tenant("acme", ACME).await;
    let req = app.http(&[]).get(app.bare_url("/api/streams"));
    let res = Reply::read(req.header("host", "ACME.LocalHost:1234")).await;
    assert_eq!(res.status, 200);
}

#[tokio::test]
async fn health_answers_on_any_host() {
    let app = TestApp::spawn().await;
    let res = app.get_bare("/health").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "ok");
    assert_eq!(res.body["database"], "ok");
}
