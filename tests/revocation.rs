//! Revocation that revokes: deactivation and logout close open sockets (on
//! every node) with `session_revoked` + 4401, old cookies get 401, and a
//! deleted message is never sent again by a resume.

mod common;

use common::{stage, test_config, viewers, Event, TestApp, WsClient, HOST};
use serde_json::json;
use stampede::auth::Role::{Admin, Moderator, Viewer};

/// Reads until the socket closes; the frames before the close must include
/// `session_revoked`, and the close must be 4401.
async fn expect_revoked(ws: &mut WsClient) {
    let mut saw_error = false;
    loop {
        match ws.next_event().await {
            Event::Json(v) => {
                if v["type"] == "error" && v["code"] == "session_revoked" {
                    saw_error = true;
                }
            }
            Event::Closed(frame) => {
                let frame = frame.expect("a close frame");
                assert_eq!(u16::from(frame.code), 4401, "{frame:?}");
                assert!(saw_error, "session_revoked frame before the close");
                return;
            }
        }
    }
}

/// The socket is alive: a message it sends comes back (after whatever
/// others said meanwhile).
async fn assert_alive(ws: &mut WsClient, text: &str) {
    ws.say(text).await;
    ws.next_where(|v| v["type"] == "chat.message" && v["message"] == text)
        .await;
}

/// The status of a login with the right password.
async fn login_status(app: &TestApp, username: &str) -> u16 {
    let password = format!("pw-{username}");
    let res = app.login_request(HOST, username, &password).send().await;
    res.expect("login").status().as_u16()
}

#[tokio::test]
async fn deactivation_closes_every_socket_of_the_user_and_kills_the_cookie() {
    let cast = [
        ("alice", Viewer),
        ("bob", Viewer),
        ("root", Admin),
        ("mo", Moderator),
    ];
    let (app, _, stream) = stage(test_config(), &cast).await;
    let alice_cookie = app.login(HOST, "alice").await;
    let mut alice1 = app.ws_with_cookie(HOST, stream, &alice_cookie).await;
    let mut alice2 = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    // Only admins may deactivate.
    let res = app
        .api("POST", "/api/users/alice/deactivate", "mo", None)
        .await;
    assert_eq!(res.error(), (403, Some("forbidden")));
    assert_alive(&mut alice1, "still here").await;

    let res = app
        .api("POST", "/api/users/alice/deactivate", "root", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["is_active"], false);
    assert_eq!(res.body["sessions_deleted"], 2);
    expect_revoked(&mut alice1).await;
    expect_revoked(&mut alice2).await;
    assert_alive(&mut bob, "bob is untouched").await;

    // The old cookie is dead on REST and on the handshake; so is the password.
    assert_eq!(app.whoami(&alice_cookie).await.status, 401);
    let (status, _) = app.ws_refusal(HOST, stream, &alice_cookie).await;
    assert_eq!(status, 401);
    assert_eq!(login_status(&app, "alice").await, 401);

    // Activated again: a new login works, the old cookie stays dead.
    let res = app
        .api("POST", "/api/users/alice/activate", "root", None)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(login_status(&app, "alice").await, 200);
    assert_eq!(app.whoami(&alice_cookie).await.status, 401);
    let mut back = app.ws(HOST, stream, "alice").await;
    assert_alive(&mut back, "back again").await;

    // Unknown users are 404, not 500.
    let res = app
        .api("POST", "/api/users/nobody/deactivate", "root", None)
        .await;
    assert_eq!(res.error(), (404, Some("not_found")));
}

#[tokio::test]
async fn logout_closes_that_sessions_sockets_only() {
    let (app, _, stream) = stage(test_config(), &viewers(["alice"])).await;
    let phone = app.login(HOST, "alice").await;
    let laptop = app.login(HOST, "alice").await;
    let mut on_phone = app.ws_with_cookie(HOST, stream, &phone).await;
    let mut on_laptop = app.ws_with_cookie(HOST, stream, &laptop).await;

    let res = app.logout(&phone).await;
    assert_eq!(res.status, 204);
    expect_revoked(&mut on_phone).await;
    assert_alive(&mut on_laptop, "the laptop stays").await;
    assert_eq!(app.whoami(&phone).await.status, 401);
}

#[tokio::test]
async fn the_cli_deactivates_across_nodes() {
    // Two nodes on one database, no Redis: revocations travel through Postgres.
    let first = TestApp::spawn().await;
    let second = TestApp::serve(first.db.clone(), test_config()).await;
    let tenant = first.acme(&viewers(["alice"])).await;
    let stream = first.stream(&tenant, "Live").await;
    let cookie = first.login(HOST, "alice").await;
    let mut on_first = first.ws_with_cookie(HOST, stream, &cookie).await;
    let mut on_second = second.ws_with_cookie(HOST, stream, &cookie).await;
    assert_alive(&mut on_second, "hello from node two").await;

    let out = first
        .cli("user deactivate --tenant acme --username alice")
        .await;
    assert!(out.ok().contains("deactivated user alice"));
    expect_revoked(&mut on_first).await;
    expect_revoked(&mut on_second).await;

    first
        .cli("user activate --tenant acme --username alice")
        .await
        .ok();
    assert_eq!(login_status(&first, "alice").await, 200);
}

#[tokio::test]
async fn the_session_reports_the_role_as_it_is_now_and_a_deleted_user_is_logged_out() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    let alice_id = app.user(&tenant, "alice", Viewer).await;
    let stream = app.stream(&tenant, "Live").await;
    let cookie = app.login(HOST, "alice").await;
    sqlx::query(&format!(
        "UPDATE {}.accounts_user SET role = 'moderator' WHERE id = $1",
        tenant.schema
    ))
    .bind(alice_id)
    .execute(app.pool())
    .await
    .expect("promote alice");
    let res = app.whoami(&cookie).await;
    assert_eq!(
        (res.status, res.body["role"].as_str()),
        (200, Some("moderator"))
    );

    sqlx::query(&format!(
        "DELETE FROM {}.accounts_user WHERE id = $1",
        tenant.schema
    ))
    .bind(alice_id)
    .execute(app.pool())
    .await
    .expect("delete alice");
    let res = app.whoami(&cookie).await;
    assert_eq!(res.error(), (401, Some("unauthorized")));
    let (status, _) = app.ws_refusal(HOST, stream, &cookie).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_resume_from_zero_never_sends_deleted_or_cleared_lines_again() {
    let cast = [("alice", Viewer), ("eve", Viewer), ("mo", Moderator)];
    let (app, _, stream) = stage(test_config(), &cast).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut eve = app.ws(HOST, stream, "eve").await;
    let mut mo = app.ws(HOST, stream, "mo").await;

    alice.say("keep me").await;
    let kept = alice.next_message().await;
    let epoch = kept["epoch"].as_str().expect("epoch").to_owned();
    alice.say("secret phone number").await;
    let secret = alice.next_message().await["id"].as_i64().unwrap();
    eve.say("spam one").await;
    eve.say("spam two").await;
    // Both stored before the clear (eve also reads alice's lines first).
    eve.next_where(|v| v["message"] == "spam two").await;
    mo.send_json(json!({"type": "chat.delete", "id": secret}))
        .await;
    mo.next_type("chat.delete").await;
    mo.send_json(json!({"type": "chat.clear", "username": "eve"}))
        .await;
    mo.next_type("chat.clear").await;

    let cookie = app.login(HOST, "alice").await;
    let mut back = app.ws_resume(HOST, stream, &cookie, 0, &epoch).await;
    let (frames, recovered) = back.until_recovered().await;
    assert!(recovered);
    let texts: Vec<&str> = frames
        .iter()
        .filter(|f| f["type"] == "chat.message" && f["message_type"] == "message")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(texts, ["keep me"], "only the line still standing");
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "chat.delete" && f["id"] == secret),
        "the delete still follows"
    );
    assert!(frames
        .iter()
        .any(|f| f["type"] == "chat.clear" && f["username"] == "eve"));
}
