//! Mentions (`@name`) and replies (`reply_to`) in chat, over real sockets
//! against a real server and database (issue 17).

mod common;

use common::{stage, test_config, viewers, TestApp, HOST};
use serde_json::json;
use stampede::chat::Role::{Moderator, Viewer};

/// `@names` of users of the tenant become the line's `mentions`, spelled as
/// the accounts spell them, in order, at most 10; names nobody has, e-mail
/// addresses and a user named twice do not count. History carries them;
/// a line without any has no `mentions` key (seed clients see no change).
#[tokio::test]
async fn mentions_name_the_tenants_users_as_they_spell_themselves() {
    let (app, tenant, stream) = stage(test_config(), &viewers(["alice", "Bob", "carol"])).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "Bob").await;

    let line = alice
        .chat("hi @bob and @CAROL, not @nobody nor x@carol.test, @Bob again.")
        .await;
    assert_eq!(line["mentions"], json!(["Bob", "carol"]));
    assert_eq!(
        bob.next_message().await["mentions"],
        json!(["Bob", "carol"])
    );
    let plain = alice.chat("nobody here").await;
    assert!(plain.get("mentions").is_none(), "{plain}");
    assert!(plain.get("reply_to").is_none(), "{plain}");

    let many: Vec<String> = (0..12).map(|i| format!("u{i}")).collect();
    app.users(&tenant, &viewers(many.iter().map(String::as_str)))
        .await;
    let text: String = many.iter().map(|u| format!("@{u} ")).collect();
    let line = alice.chat(text.trim()).await;
    let expected: Vec<&str> = many.iter().take(10).map(String::as_str).collect();
    assert_eq!(line["mentions"], json!(expected));

    let mut carol = app.ws(HOST, stream, "carol").await;
    let history = carol.history(3).await;
    assert_eq!(history[0]["mentions"], json!(["Bob", "carol"]));
    assert!(history[1].get("mentions").is_none());
    assert_eq!(history[2]["mentions"], json!(expected));
}

/// A reply carries the line it answers (id, author, the first 100
/// characters); history too. Once the answered line is deleted, the quote
/// is gone from history (`deleted: true`), and it can no longer be answered.
#[tokio::test]
async fn a_reply_quotes_the_line_it_answers_until_that_line_is_deleted() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("alice", Viewer), ("bob", Viewer), ("mo", Moderator)])
        .await;
    let stream = app.stream(&tenant, "Threads").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    let long = format!("{}<b>&", "あ".repeat(98));
    alice.say(&long).await;
    let original = alice.next_message().await["id"].as_i64().unwrap();
    bob.next_message().await;
    bob.send_json(json!({"message": "agreed", "reply_to": original}))
        .await;
    let reply = bob.next_where(|v| v["message"] == "agreed").await;
    let quoted = json!({
        "id": original,
        "username": "alice",
        "message": format!("{}&lt;b…", "あ".repeat(98)),
    });
    assert_eq!(reply["reply_to"], quoted);
    assert_eq!(
        alice.next_where(|v| v["message"] == "agreed").await["reply_to"],
        quoted
    );

    let mut mo = app.ws(HOST, stream, "mo").await;
    let history = mo.history(2).await;
    assert_eq!(history[1]["reply_to"], quoted);

    mo.send_json(json!({"type": "chat.delete", "id": original}))
        .await;
    assert_eq!(alice.next_type("chat.delete").await["id"], original);
    let mut carol_view = app.ws(HOST, stream, "alice").await;
    let history = carol_view.history(1).await;
    assert_eq!(
        history[0]["reply_to"],
        json!({"id": original, "username": "alice", "message": "", "deleted": true})
    );

    // Answering it now is refused, named by the client's id; the socket
    // carries on.
    bob.send_json(json!({"message": "late", "reply_to": original, "client_id": "late-1"}))
        .await;
    let err = bob.next_error().await;
    assert_eq!(err["code"], "not_found");
    assert_eq!(err["client_id"], "late-1");
    assert_eq!(bob.chat("still here").await["message"], "still here");
}

/// Only a visible chat line of the same room can be answered: another
/// room's line, an unknown id or a moderation line is `not_found`, a
/// `reply_to` that is not an integer `bad_json`; nothing is stored.
#[tokio::test]
async fn a_reply_to_anything_but_a_line_of_this_room_is_refused() {
    let (app, tenant, stream) = stage(test_config(), &viewers(["alice", "bob"])).await;
    let other = app.stream(&tenant, "Elsewhere").await;
    let mut elsewhere = app.ws(HOST, other, "alice").await;
    let foreign = elsewhere.chat_id("over there").await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    for (reply_to, code) in [
        (json!(foreign), "not_found"),
        (json!(i64::from(i32::MAX) + 1), "not_found"),
        (json!(987_654), "not_found"),
        (json!("12"), "bad_json"),
        (json!(1.5), "bad_json"),
    ] {
        bob.send_json(json!({"message": "answer", "reply_to": reply_to}))
            .await;
        assert_eq!(bob.next_error().await["code"], code, "{reply_to}");
    }
    let texts = common::stored_texts(app.pool(), &tenant, stream).await;
    assert!(!texts.iter().any(|t| t == "answer"), "{texts:?}");
    assert_eq!(bob.chat("fine").await["message"], "fine");
}

/// A stored line notifies whom it mentions (`mention`) and the author of
/// the line it answers (`reply`, not also `mention`), on their personal
/// socket, with the text as typed; never its own author, nor anyone who
/// blocked the author.
#[tokio::test]
async fn mentions_and_replies_notify_but_not_who_blocked_the_author() {
    let (app, tenant, stream) =
        stage(test_config(), &viewers(["alice", "bob", "carol", "dave"])).await;
    let blocked = app
        .api("POST", "/api/users/alice/block", "dave", None)
        .await;
    assert_eq!(blocked.status, 200, "{}", blocked.text);
    let mut devices = Vec::new();
    for who in ["bob", "carol", "dave"] {
        devices.push(app.notification_device(HOST, who).await.0);
    }
    let mut bob_chat = app.ws(HOST, stream, "bob").await;
    let bobs = bob_chat.chat_id("what do you think?").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice
        .send_json(json!({"message": "@bob @carol @dave @alice a < b", "reply_to": bobs}))
        .await;
    alice
        .next_where(|v| v["type"] == "chat.message" && v["reply_to"]["id"] == bobs)
        .await;

    let bob = devices[0].next_type("notification.new").await;
    assert_eq!(bob["notification"]["kind"], "reply", "{bob}");
    assert_eq!(bob["notification"]["title"], "alice replied to you");
    assert_eq!(
        bob["notification"]["body"],
        "@bob @carol @dave @alice a < b"
    );
    assert_eq!(bob["notification"]["link"], format!("/streams/{stream}"));
    let carol = devices[1].next_type("notification.new").await;
    assert_eq!(carol["notification"]["kind"], "mention", "{carol}");
    assert_eq!(carol["notification"]["title"], "alice mentioned you");

    // Then only what comes after: bob got no mention as well, dave (who
    // blocked alice) nothing; alice is not notified of her own line.
    let kinds: Vec<String> = app
        .column(&format!(
            "SELECT u.username || ':' || n.kind FROM {s}.notifications_notification n
             JOIN {s}.accounts_user u ON u.id = n.user_id ORDER BY u.username",
            s = tenant.schema
        ))
        .await;
    assert_eq!(kinds, vec!["bob:reply", "carol:mention"]);
}
