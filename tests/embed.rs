//! The chat overlay (`/embed/streams/{id}/chat`) and anonymous read-only
//! sockets: a login unless the tenant allows reading without one, framing
//! only by the tenant's embed origins, settings that apply at once.

mod common;

use common::ws::ws_connect;
use common::{handshake_status, run_cli, test_config, viewers, TestApp, HOST};
use serde_json::json;

async fn embed_settings(app: &TestApp, args: &str) -> common::CliOutput {
    run_cli(
        Some(&app.db.url),
        &format!("tenant embed --schema acme {args}"),
    )
    .await
}

#[tokio::test]
async fn the_overlay_and_anonymous_reading_follow_the_tenants_settings() {
    let app = TestApp::spawn_with(test_config()).await;
    let tenant = app.acme(&viewers(["alice"])).await;
    let stream = app.stream(&tenant, "On air").await;
    let overlay = format!("/embed/streams/{stream}/chat");
    let reader_path = format!("/ws/chat/stream_{stream}/?read_only=1");
    let origin = app.origin(HOST);

    // By default the overlay needs a login, and so does reading.
    let page = app.api("GET", &overlay, common::As::Anonymous, None).await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.header("location"),
        format!("/accounts/login?next={overlay}")
    );
    let refused = ws_connect(app.addr, HOST, &reader_path, None, Some(&origin)).await;
    assert_eq!(handshake_status(&refused.err().expect("refused")), 401);
    // A logged-in viewer gets it, framable by nobody else.
    let page = app.api("GET", &overlay, "alice", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"data-embed="true""#));
    assert!(page
        .header("content-security-policy")
        .contains("frame-ancestors 'self';"));

    // Origins are checked before they reach a header.
    let bad = embed_settings(&app, "--embed-origin '*'").await;
    assert!(!bad.succeeded());
    assert!(bad.stderr.contains("invalid origin"), "{}", bad.stderr);
    let bad = embed_settings(&app, "--embed-origin https://a.example;script-src").await;
    assert!(!bad.succeeded());
    let set = embed_settings(
        &app,
        "--anonymous-read true --embed-origin https://obs.example --embed-origin HTTPS://Site.Example:8443/",
    )
    .await;
    assert!(set.succeeded(), "{}", set.stderr);
    assert!(
        set.stdout.contains(
            "anonymous read on; embed origins: https://obs.example https://site.example:8443"
        ),
        "{}",
        set.stdout
    );

    // Applies at once: no login needed, framable by those origins only.
    let page = app
        .api(
            "GET",
            &format!("{overlay}?fade=30"),
            common::As::Anonymous,
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(r#"data-fade="30""#));
    assert!(page
        .header("content-security-policy")
        .contains("frame-ancestors 'self' https://obs.example https://site.example:8443;"));
    let home = app.api("GET", "/", common::As::Anonymous, None).await;
    assert!(home
        .header("content-security-policy")
        .contains("frame-ancestors 'none'"));
    // Bad parameters and unknown streams get pages, not JSON.
    let bad_fade = app
        .api(
            "GET",
            &format!("{overlay}?fade=soon"),
            common::As::Anonymous,
            None,
        )
        .await;
    assert_eq!(bad_fade.status, 400);
    assert!(bad_fade.text.contains("fade must be"), "{}", bad_fade.text);
    let unknown = app
        .api(
            "GET",
            "/embed/streams/999999/chat",
            common::As::Anonymous,
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.header("content-type").starts_with("text/html"));

    // An anonymous reader reads, sends nothing, and is not announced.
    let mut reader = ws_connect(app.addr, HOST, &reader_path, None, Some(&origin))
        .await
        .expect("anonymous read-only handshake");
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice.say("hello overlay").await;
    assert_eq!(reader.next_message().await["message"], "hello overlay");
    reader.send_json(json!({"message": "anonymous spam"})).await;
    assert_eq!(reader.next_error().await["code"], "read_only");
    // Without read_only an anonymous handshake is still refused.
    let chat_path = format!("/ws/chat/stream_{stream}/");
    let refused = ws_connect(app.addr, HOST, &chat_path, None, Some(&origin)).await;
    assert_eq!(handshake_status(&refused.err().expect("refused")), 401);
    assert_eq!(
        common::stored_texts(app.pool(), &tenant, stream).await,
        ["hello overlay"]
    );

    // Turned off again: refused at once.
    let off = embed_settings(&app, "--anonymous-read false --clear-origins").await;
    assert!(
        off.stdout
            .contains("anonymous read off; embed origins: none"),
        "{}",
        off.stdout
    );
    let refused = ws_connect(app.addr, HOST, &reader_path, None, Some(&origin)).await;
    assert_eq!(handshake_status(&refused.err().expect("refused")), 401);
}
