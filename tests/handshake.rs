//! WebSocket handshake checks: Origin, session, room.

mod common;

use common::{handshake_body, handshake_status, TestApp};
use stampede::auth::Role;

const HOST: &str = "acme.localhost";

#[tokio::test]
async fn refusals_come_with_the_right_status_and_code() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    app.user(&tenant, "alice", Role::Viewer).await;
    let stream = app.stream(&tenant, "Live").await;
    let cookie = app.login(HOST, "alice").await;
    let origin = app.origin(HOST);

    // (cookie, origin, stream, status, code)
    type Case<'a> = (Option<&'a str>, Option<&'a str>, i32, u16, &'a str);
    let cases: Vec<Case> = vec![
        (None, Some(&origin), stream, 401, "unauthorized"),
        (
            Some("sessionid=forged"),
            Some(&origin),
            stream,
            401,
            "unauthorized",
        ),
        (
            Some(&cookie),
            Some("http://evil.localhost"),
            stream,
            403,
            "bad_origin",
        ),
        (
            Some(&cookie),
            Some("http://acme.localhost:1"),
            stream,
            403,
            "bad_origin",
        ),
        (Some(&cookie), None, stream, 403, "bad_origin"),
        (Some(&cookie), Some(&origin), 999, 404, "not_found"),
    ];
    for (cookie, origin, stream, status, code) in cases {
        let err = app
            .ws_raw(HOST, stream, cookie, origin)
            .await
            .err()
            .unwrap_or_else(|| panic!("handshake should fail: {cookie:?} {origin:?}"));
        assert_eq!(
            handshake_status(&err),
            status,
            "{cookie:?} {origin:?} {stream}"
        );
        assert_eq!(handshake_body(&err)["error"], code);
    }

    // The control case: everything right, handshake accepted.
    assert!(app
        .ws_raw(HOST, stream, Some(&cookie), Some(&origin))
        .await
        .is_ok());
}

#[tokio::test]
async fn an_ended_stream_has_no_room() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    app.user(&tenant, "alice", Role::Viewer).await;
    let stream = app.stream(&tenant, "Live").await;
    sqlx::query(&format!(
        "UPDATE {}.streaming_stream SET status = 'ended', ended_at = now() WHERE id = $1",
        tenant.schema
    ))
    .bind(stream)
    .execute(app.pool())
    .await
    .unwrap();
    let cookie = app.login(HOST, "alice").await;
    let err = app
        .ws_raw(HOST, stream, Some(&cookie), Some(&app.origin(HOST)))
        .await
        .err()
        .expect("refused");
    assert_eq!(handshake_status(&err), 404);
}

#[tokio::test]
async fn an_allow_listed_origin_is_accepted() {
    let mut config = common::test_config();
    config.allowed_origins = vec!["https://embed.example.com".into()];
    let app = TestApp::spawn_with(config).await;
    let tenant = app.tenant("acme", HOST).await;
    app.user(&tenant, "alice", Role::Viewer).await;
    let stream = app.stream(&tenant, "Live").await;
    let cookie = app.login(HOST, "alice").await;
    assert!(app
        .ws_raw(
            HOST,
            stream,
            Some(&cookie),
            Some("https://embed.example.com")
        )
        .await
        .is_ok());
}
