//! Authors editing their own lines (issue 18): `chat.edit` over the socket
//! and `PATCH /api/messages/{id}`, across two nodes, into history and
//! resumes, with the checks of a new line; earlier texts for moderators.

mod common;

use common::{test_config, As, TestApp, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{Admin, Moderator, Viewer};

const CAST: &[(&str, stampede::auth::Role)] = &[
    ("alice", Viewer),
    ("bob", Viewer),
    ("mo", Moderator),
    ("root", Admin),
];

/// An edit sent on node A reaches a viewer on node B as `chat.edited`; a
/// joiner on B gets the new text in history, a socket resuming from before
/// the line gets the line as it reads now (then the edit event), and the
/// REST history agrees.
#[tokio::test]
async fn an_edit_reaches_every_node_history_and_resumes() {
    let (_redis, a, b) = TestApp::two_nodes(test_config()).await;
    let tenant = a.acme(CAST).await;
    let stream = a.stream(&tenant, "Edits").await;

    let mut alice = a.ws(HOST, stream, "alice").await;
    let bob_cookie = b.login(HOST, "bob").await;
    let mut bob = b.ws_with_cookie(HOST, stream, &bob_cookie).await;
    let line = alice.chat("helo evryone").await;
    let id = line["id"].as_i64().unwrap();
    let (offset, epoch) = (
        line["offset"].as_u64().unwrap(),
        line["epoch"].as_str().unwrap().to_owned(),
    );
    assert_eq!(bob.next_message().await["id"], id);

    alice
        .send_json(json!({"type": "chat.edit", "id": id, "message": "hello everyone <3 @bob"}))
        .await;
    let seen_by_bob = bob.next_type("chat.edited").await;
    let seen_by_alice = alice.next_type("chat.edited").await;
    assert_eq!(seen_by_bob["id"], id);
    assert_eq!(seen_by_bob["message"], "hello everyone &lt;3 @bob");
    assert_eq!(seen_by_bob["mentions"], json!(["bob"]));
    let edited_at = seen_by_bob["edited_at"].as_str().unwrap().to_owned();
    assert!(edited_at.as_str() >= line["timestamp"].as_str().unwrap());
    assert_eq!(seen_by_alice["message"], seen_by_bob["message"]);
    assert!(seen_by_bob["offset"].as_u64().unwrap() > offset, "logged");

    // History on node B, from the room's memory.
    let mut mo = b.ws(HOST, stream, "mo").await;
    let history = mo.history(1).await;
    assert_eq!(history[0]["message"], "hello everyone &lt;3 @bob");
    assert_eq!(history[0]["edited_at"], edited_at.as_str());

    // A socket that left before the line resumes on node B.
    let mut back = b
        .ws_resume(HOST, stream, &bob_cookie, offset - 1, &epoch)
        .await;
    let (missed, recovered) = back.until_recovered().await;
    assert!(recovered);
    let kinds: Vec<&str> = missed.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["chat.message", "chat.edited"]);
    assert_eq!(missed[0]["message"], "hello everyone &lt;3 @bob");
    assert_eq!(missed[0]["edited_at"], edited_at.as_str());
    assert_eq!(missed[0]["offset"], offset, "the line keeps its place");

    // The REST history, read from the database.
    let page = a
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages"),
            "bob",
            None,
        )
        .await;
    let stored = &page.body["messages"][0];
    assert_eq!(stored["message"], "hello everyone &lt;3 @bob");
    assert_eq!(stored["edited_at"], edited_at.as_str());
    assert_eq!(stored["mentions"], json!(["bob"]));
}

/// Edits pass the checks of a new line, only the author edits, only
/// visible lines; a refusal leaves the line and the socket as they were.
/// `PATCH` does the same as the frame, and moderators (nobody else) read
/// the earlier texts.
#[tokio::test]
async fn edits_are_checked_like_new_lines_and_earlier_texts_are_for_moderators() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Checks").await;
    let term = json!({"term": "badword"});
    assert_eq!(
        app.api("POST", "/api/blocked-terms", "root", term)
            .await
            .status,
        201
    );
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let id = alice.chat_id("first text").await;
    bob.next_message().await;

    let edit = |id: i64, message: &str| json!({"type": "chat.edit", "id": id, "message": message});
    bob.send_json(edit(id, "mine now")).await;
    assert_eq!(bob.next_error().await["code"], "forbidden");
    for (text, code) in [
        ("   ".to_owned(), "empty"),
        ("x".repeat(501), "too_long"),
        ("a b\u{0430}dword".to_owned(), "blocked_term"),
        ("bell\u{7}".to_owned(), "bad_request"),
    ] {
        alice.send_json(edit(id, &text)).await;
        assert_eq!(alice.next_error().await["code"], code, "{text:?}");
    }
    alice.send_json(edit(987_654, "nothing there")).await;
    assert_eq!(alice.next_error().await["code"], "not_found");
    alice
        .send_json(json!({"type": "chat.edit", "id": "7", "message": "x"}))
        .await;
    assert_eq!(alice.next_error().await["code"], "bad_json");
    // Nothing was changed by any of that, and the socket still chats.
    let next = alice.chat("still here").await;
    assert_eq!(bob.next_message().await["id"], next["id"]);

    // Over REST.
    let path = format!("/api/messages/{id}");
    let reply = app
        .api("PATCH", &path, "alice", json!({"message": "second <text>"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["message"], "second &lt;text&gt;");
    let pushed = bob.next_type("chat.edited").await;
    assert_eq!(pushed["message"], "second &lt;text&gt;");
    assert_eq!(pushed["edited_at"], reply.body["edited_at"]);
    let refused = app
        .api("PATCH", &path, "bob", json!({"message": "mine"}))
        .await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (403, Some("forbidden"))
    );
    let refused = app
        .api("PATCH", &path, "alice", json!({"message": ""}))
        .await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (422, Some("empty"))
    );
    alice.send_json(edit(id, "third")).await;
    assert_eq!(bob.next_type("chat.edited").await["message"], "third");

    // The earlier texts: moderators only.
    let versions = format!("/api/messages/{id}/versions");
    let denied = app.api("GET", &versions, "bob", None).await;
    assert_eq!(denied.status, 403);
    let seen = app.api("GET", &versions, "mo", None).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["message"], "third");
    let texts: Vec<&str> = seen.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first text", "second &lt;text&gt;"]);
    assert_eq!(
        seen.body["versions"][1]["shown_at"],
        seen.body["versions"][0]["replaced_at"]
    );

    // A deleted line can no longer be edited; moderators still see it.
    let mut mo = app.ws(HOST, stream, "mo").await;
    mo.send_json(json!({"type": "chat.delete", "id": id})).await;
    assert_eq!(alice.next_type("chat.delete").await["id"], id);
    alice.send_json(edit(id, "fourth")).await;
    assert_eq!(alice.next_error().await["code"], "not_found");
    let seen = app.api("GET", &versions, "mo", None).await;
    assert_eq!(seen.body["deleted"], true);
    assert_eq!(seen.body["message"], "third");
}

/// After `--edit-window-secs` (120 by default) a line cannot be edited
/// any more: `edit_window_passed`, 403 over REST. Timed-out authors cannot
/// edit either.
#[tokio::test]
async fn old_lines_and_banned_authors_cannot_be_edited() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Window").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let id = alice.chat_id("typo").await;
    // Sent three minutes ago, as far as the database knows.
    sqlx::query(
        "UPDATE acme.chat_chatmessage SET created_at = created_at - interval '3 minutes'
         WHERE id = $1",
    )
    .bind(id as i32)
    .execute(app.pool())
    .await
    .unwrap();
    alice
        .send_json(json!({"type": "chat.edit", "id": id, "message": "fixed"}))
        .await;
    assert_eq!(alice.next_error().await["code"], "edit_window_passed");
    let reply = app
        .api(
            "PATCH",
            &format!("/api/messages/{id}"),
            "alice",
            json!({"message": "fixed"}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body["error"].as_str()),
        (403, Some("edit_window_passed"))
    );

    let recent = alice.chat_id("spam spam").await;
    let ban = json!({"username": "alice", "duration_secs": 600});
    let bans = format!("/api/streams/{stream}/bans");
    assert_eq!(app.api("POST", &bans, "mo", ban).await.status, 201);
    let reply = app
        .api(
            "PATCH",
            &format!("/api/messages/{recent}"),
            "alice",
            json!({"message": "sorry"}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body["error"].as_str()),
        (403, Some("banned"))
    );
}

/// With `--edit-window-secs 0` editing is off.
#[tokio::test]
async fn a_zero_window_turns_editing_off() {
    let mut config = test_config();
    config.edit_window_secs = 0;
    let app = TestApp::spawn_with(config).await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Off").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let id = alice.chat_id("as sent").await;
    alice
        .send_json(json!({"type": "chat.edit", "id": id, "message": "changed"}))
        .await;
    let err: Value = alice.next_error().await;
    assert_eq!(err["code"], "edit_window_passed");
    let page = app
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages"),
            As::User("alice"),
            None,
        )
        .await;
    assert_eq!(page.body["messages"][0]["message"], "as sent");
}
