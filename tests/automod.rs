//! Auto-moderation (issue 18): per-tenant rules hold a line for review
//! instead of refusing it; only its author and the room's moderators see
//! it (`chat.held`), on every node; a moderator approves it (shown to the
//! room with its original time) or denies it (its author is told), or it
//! expires unreviewed; every decision is in the moderation log.

mod common;

use common::{eventually, test_config, TestApp, EVENT_TIMEOUT, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{Admin, Moderator, Viewer};
use stampede::config::ServeConfig;

const CAST: &[(&str, stampede::auth::Role)] = &[
    ("alice", Viewer),
    ("bob", Viewer),
    ("mo", Moderator),
    ("ann", Admin),
];

/// Turns the rules on with `extra` merged in.
async fn enable(app: &TestApp, extra: Value) -> Value {
    let mut body = json!({"enabled": true, "held_terms": {"terms": ["spoiler"]}});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let saved = app.api("PUT", "/api/automod", "ann", body).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    saved.body
}

fn is_line(v: &Value) -> bool {
    v["type"] == "chat.message" && v["message_type"] == "message" && v.get("history").is_none()
}

/// Held on node A: the author (A) and a moderator (B) get `chat.held`, a
/// viewer on B gets nothing; the moderator approves over the socket and
/// every node shows the line with its original id and time, in history too.
#[tokio::test]
async fn a_held_line_reaches_only_its_author_and_moderators_until_approved() {
    let (_redis, a, b) = TestApp::two_nodes(test_config()).await;
    let tenant = a.acme(CAST).await;
    let stream = a.stream(&tenant, "Held").await;
    enable(&a, json!({})).await;

    let mut alice = a.ws(HOST, stream, "alice").await;
    let mut bob = b.ws(HOST, stream, "bob").await;
    let mut mo = b.ws(HOST, stream, "mo").await;

    alice
        .send_json(json!({"message": "the SPOILER: he wins", "client_id": "c1"}))
        .await;
    let mine = alice.next_type("chat.held").await;
    assert_eq!(mine["reasons"], json!(["held_term"]));
    assert_eq!(mine["message"]["message"], "the SPOILER: he wins");
    assert_eq!(mine["message"]["username"], "alice");
    assert_eq!(
        mine["message"]["client_id"], "c1",
        "the author's line settles"
    );
    assert!(mine.get("offset").is_none(), "not logged, never replayed");
    let id = mine["message"]["id"].as_i64().unwrap();
    let queued = mo.next_type("chat.held").await;
    assert_eq!(queued["message"]["id"], id);
    assert_eq!(queued["reasons"], json!(["held_term"]));

    // bob's next line is alice's next one: the held line never reached him.
    let next = alice.chat("nothing to see here").await;
    let seen = bob
        .next_where(|v| v["type"] == "chat.held" || is_line(v))
        .await;
    assert_eq!(seen["id"], next["id"], "{seen}");

    // The queue over REST: moderators see it, the author sees their own.
    let path = format!("/api/streams/{stream}/held");
    let for_mo = b.api("GET", &path, "mo", None).await;
    assert_eq!(
        for_mo.body["held"][0]["message"]["id"], id,
        "{}",
        for_mo.text
    );
    assert_eq!(for_mo.body["held"][0]["reasons"], json!(["held_term"]));
    let for_alice = a.api("GET", &path, "alice", None).await;
    assert_eq!(for_alice.body["held"].as_array().unwrap().len(), 1);
    let for_bob = a.api("GET", &path, "bob", None).await;
    assert_eq!(for_bob.body["held"], json!([]));
    let history = a
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages"),
            "bob",
            None,
        )
        .await;
    assert!(!history.text.contains("SPOILER"), "{}", history.text);

    // Search: viewers never find it; moderators find it marked held.
    let found = a
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages/search?q=spoiler"),
            "bob",
            None,
        )
        .await;
    assert_eq!(found.body["results"], json!([]), "{}", found.text);
    let found = a
        .api("GET", "/api/messages/search?q=spoiler", "mo", None)
        .await;
    assert_eq!(found.body["results"][0]["id"], id, "{}", found.text);
    assert_eq!(found.body["results"][0]["status"], "held");

    // A viewer cannot approve.
    bob.send_json(json!({"type": "chat.approve", "id": id}))
        .await;
    assert_eq!(bob.next_error().await["code"], "forbidden");

    mo.send_json(json!({"type": "chat.approve", "id": id}))
        .await;
    for socket in [&mut bob, &mut alice, &mut mo] {
        let shown = socket.next_where(|v| is_line(v) && v["id"] == id).await;
        assert_eq!(shown["message"], "the SPOILER: he wins");
        assert_eq!(
            shown["timestamp"], mine["message"]["timestamp"],
            "its original time"
        );
        assert!(shown["offset"].is_u64(), "logged like any line");
    }
    let history = b
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages"),
            "bob",
            None,
        )
        .await;
    assert!(
        history.text.contains("the SPOILER: he wins"),
        "{}",
        history.text
    );
    assert_eq!(
        b.api("GET", &path, "mo", None).await.body["held"],
        json!([])
    );

    // Decided once: approving again finds nothing held.
    mo.send_json(json!({"type": "chat.approve", "id": id}))
        .await;
    assert_eq!(mo.next_error().await["code"], "not_found");
    let log = a
        .api(
            "GET",
            &format!("/api/streams/{stream}/moderation-log"),
            "mo",
            None,
        )
        .await;
    let entry = &log.body["actions"][0];
    assert_eq!(entry["action"], "approve", "{}", log.text);
    assert_eq!(entry["actor"], "mo");
    assert_eq!(entry["target_message_id"], id);
    assert_eq!(entry["details"]["reasons"], json!(["held_term"]));
}

/// Denied over REST: the author and moderators are told, the line stays
/// out of history, and it cannot be approved afterwards.
#[tokio::test]
async fn a_denied_line_stays_hidden_and_its_author_is_told() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Denied").await;
    enable(&app, json!({})).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut mo = app.ws(HOST, stream, "mo").await;

    alice.say("big spoiler ahead").await;
    let id = alice.next_type("chat.held").await["message"]["id"]
        .as_i64()
        .unwrap();
    mo.next_type("chat.held").await;
    let refused = app
        .api(
            "POST",
            &format!("/api/streams/{stream}/held/{id}/deny"),
            "bob",
            None,
        )
        .await;
    assert_eq!(refused.status, 403);
    let denied = app
        .api(
            "POST",
            &format!("/api/streams/{stream}/held/{id}/deny"),
            "mo",
            None,
        )
        .await;
    assert_eq!(denied.status, 204, "{}", denied.text);
    for socket in [&mut alice, &mut mo] {
        let told = socket.next_type("chat.denied").await;
        assert_eq!(
            (told["id"].as_i64(), told["reason"].as_str()),
            (Some(id), Some("denied"))
        );
    }
    let again = app
        .api(
            "POST",
            &format!("/api/streams/{stream}/held/{id}/approve"),
            "mo",
            None,
        )
        .await;
    assert_eq!(again.status, 404, "{}", again.text);
    let history = app
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages"),
            "alice",
            None,
        )
        .await;
    assert!(!history.text.contains("big spoiler"), "{}", history.text);
    let log = app
        .api(
            "GET",
            &format!("/api/streams/{stream}/moderation-log"),
            "mo",
            None,
        )
        .await;
    assert_eq!(log.body["actions"][0]["action"], "deny");
}

/// Nobody decided within `--held-expiry-secs`: the server denies the line
/// (`reason: expired`) and logs it without an actor.
#[tokio::test]
async fn a_held_line_nobody_decides_on_expires() {
    let app = TestApp::spawn_with(ServeConfig {
        held_expiry_secs: 1,
        ..test_config()
    })
    .await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Expiry").await;
    enable(&app, json!({})).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice.say("spoiler alert").await;
    let id = alice.next_type("chat.held").await["message"]["id"].clone();
    let told = alice.next_type("chat.denied").await;
    assert_eq!(told["id"], id);
    assert_eq!(told["reason"], "expired");
    let log = app
        .api(
            "GET",
            &format!("/api/streams/{stream}/moderation-log"),
            "mo",
            None,
        )
        .await;
    let entry = &log.body["actions"][0];
    assert_eq!(entry["action"], "deny", "{}", log.text);
    assert_eq!(entry["actor"], Value::Null);
    assert_eq!(entry["details"]["expired"], true);
}

/// Each rule holds through the socket; weights add up; moderators are
/// never held; a tenant with the rules off holds nothing.
#[tokio::test]
async fn each_rule_holds_and_moderators_never_are() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Rules").await;
    let mut alice = app.ws(HOST, stream, "alice").await;

    // Off by default.
    assert_eq!(
        alice.chat("THIS IS VERY LOUD INDEED").await["message"],
        "THIS IS VERY LOUD INDEED"
    );

    enable(&app, json!({})).await;
    let held =
        |reasons: Value| move |v: &Value| v["type"] == "chat.held" && v["reasons"] == reasons;
    for (text, reason) in [
        ("WHY IS NOBODY ANSWERING", "caps"),
        ("nooooooooooooooo", "repeated_chars"),
        ("free stuff at www.example.test", "young_account_link"),
    ] {
        alice.say(text).await;
        let frame = alice
            .next_where(|v| v["type"] == "chat.held" || is_line(v))
            .await;
        assert_eq!(frame["type"], "chat.held", "{text}: {frame}");
        assert_eq!(frame["reasons"], json!([reason]), "{text}");
    }
    // Repeating one's previous line (case aside).
    alice.chat("same thing again").await;
    alice.say("Same thing again").await;
    alice.next_where(held(json!(["repeat"]))).await;

    // Weights: caps alone no longer holds; caps and a scored term do.
    enable(
        &app,
        json!({"caps": {"weight": 60}, "scored_terms": [{"term": "giveaway", "weight": 40}]}),
    )
    .await;
    assert_eq!(
        alice.chat("ANOTHER LOUD LINE HERE").await["message"],
        "ANOTHER LOUD LINE HERE"
    );
    alice.say("HUGE GIVEAWAY TODAY FOLKS").await;
    alice
        .next_where(held(json!(["caps", "scored_terms"])))
        .await;

    let mut mo = app.ws(HOST, stream, "mo").await;
    assert_eq!(
        mo.chat("MODERATORS MAY SHOUT SPOILER").await["message"],
        "MODERATORS MAY SHOUT SPOILER"
    );
}

/// The rules over REST: defaults when never saved, validation (422),
/// unknown keys refused, only admins and moderators, and the change logged.
#[tokio::test]
async fn rules_are_validated_and_kept_by_admins_and_moderators() {
    let app = TestApp::spawn().await;
    app.acme(CAST).await;
    let defaults = app.api("GET", "/api/automod", "mo", None).await;
    assert_eq!(defaults.status, 200, "{}", defaults.text);
    assert_eq!(defaults.body["enabled"], false);
    assert_eq!(defaults.body["hold_score"], 100);
    assert_eq!(defaults.body["caps"]["min_percent"], 70);
    assert_eq!(defaults.body["young_account_links"]["min_account_days"], 7);

    for who in ["alice", "bob"] {
        assert_eq!(app.api("GET", "/api/automod", who, None).await.status, 403);
        let put = app
            .api("PUT", "/api/automod", who, json!({"enabled": true}))
            .await;
        assert_eq!(put.status, 403);
    }
    for bad in [
        json!({"hold_score": 0}),
        json!({"caps": {"min_percent": 101}}),
        json!({"repeated_chars": {"max_run": 1}}),
        json!({"held_terms": {"terms": ["   "]}}),
    ] {
        let r = app.api("PUT", "/api/automod", "ann", bad.clone()).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (422, Some("invalid")),
            "{bad}"
        );
    }
    let unknown = app
        .api("PUT", "/api/automod", "ann", json!({"enabeld": true}))
        .await;
    assert!(
        unknown.status == 400 || unknown.status == 422,
        "{}",
        unknown.text
    );

    let saved = app
        .api(
            "PUT",
            "/api/automod",
            "mo",
            json!({"enabled": true, "caps": {"min_percent": 90}}),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let read = app.api("GET", "/api/automod", "ann", None).await;
    assert_eq!(read.body["enabled"], true);
    assert_eq!(read.body["caps"]["min_percent"], 90);
    assert_eq!(read.body["caps"]["min_letters"], 10, "the rest default");
    let logged: Vec<String> = app
        .column("SELECT action FROM acme.chat_moderationaction WHERE action = 'automod'")
        .await;
    assert_eq!(logged.len(), 1);
}

/// The expiry sweep denies a line once even when two nodes sweep.
#[tokio::test]
async fn two_sweeping_nodes_deny_a_line_once() {
    let config = ServeConfig {
        held_expiry_secs: 1,
        ..test_config()
    };
    let (_redis, a, b) = TestApp::two_nodes(config).await;
    let tenant = a.acme(CAST).await;
    let stream = a.stream(&tenant, "Sweeps").await;
    enable(&a, json!({})).await;
    let mut alice = a.ws(HOST, stream, "alice").await;
    let mut mo = b.ws(HOST, stream, "mo").await;
    alice.say("spoiler spoiler").await;
    let id = alice.next_type("chat.held").await["message"]["id"].clone();
    assert_eq!(mo.next_type("chat.held").await["message"]["id"], id);
    assert_eq!(mo.next_type("chat.denied").await["id"], id);
    // Both nodes keep sweeping; the line was denied, and logged, once.
    let denials = eventually(EVENT_TIMEOUT, "the denial is logged", || async {
        let n: Vec<i64> = a
            .column(&format!(
                "SELECT count(*) FROM acme.chat_moderationaction WHERE action = 'deny' AND target_message_id = {id}"
            ))
            .await;
        (n[0] > 0).then_some(n[0])
    })
    .await;
    assert_eq!(denials, 1);
    let status: Vec<String> = a
        .column(&format!(
            "SELECT status FROM acme.chat_chatmessage WHERE id = {id}"
        ))
        .await;
    assert_eq!(status, ["denied"]);
}

/// A held line notifies no one; once approved, its mentions and its reply
/// notify as a new line's would.
#[tokio::test]
async fn an_approved_line_notifies_whom_it_mentions_and_answers() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[
            ("alice", Viewer),
            ("bob", Viewer),
            ("carol", Viewer),
            ("mo", Moderator),
            ("ann", Admin),
        ])
        .await;
    let stream = app.stream(&tenant, "Threads").await;
    enable(&app, json!({})).await;
    let (mut bob_device, _) = app.notification_device(HOST, "bob").await;
    let (mut carol_device, _) = app.notification_device(HOST, "carol").await;
    let mut carol = app.ws(HOST, stream, "carol").await;
    let carols = carol.chat_id("any news yet?").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice
        .send_json(json!({"message": "@bob the spoiler is out", "reply_to": carols}))
        .await;
    let id = alice.next_type("chat.held").await["message"]["id"]
        .as_i64()
        .unwrap();
    // Her next line notifies bob first: the held one notified no one.
    alice.chat("@bob are you there").await;
    let first = bob_device.next_type("notification.new").await;
    assert_eq!(
        first["notification"]["body"], "@bob are you there",
        "{first}"
    );

    let approved = app
        .api(
            "POST",
            &format!("/api/streams/{stream}/held/{id}/approve"),
            "mo",
            None,
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let mention = bob_device.next_type("notification.new").await;
    assert_eq!(mention["notification"]["kind"], "mention");
    assert_eq!(mention["notification"]["body"], "@bob the spoiler is out");
    let reply = carol_device.next_type("notification.new").await;
    assert_eq!(reply["notification"]["kind"], "reply", "{reply}");
}

/// An edit cannot slip a line past the rules: text they would hold is
/// refused with `edit_held` (socket and REST), the line keeps its text
/// for everyone, and moderators' edits are not held.
#[tokio::test]
async fn an_edit_the_rules_would_hold_is_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(CAST).await;
    let stream = app.stream(&tenant, "Edits").await;
    enable(&app, json!({})).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let id = alice.chat_id("he might win").await;
    bob.next_message().await;

    let edit = |id: i64, message: &str| json!({"type": "chat.edit", "id": id, "message": message});
    alice.send_json(edit(id, "SPOILER: he wins")).await;
    let error = alice.next_error().await;
    assert_eq!(error["code"], "edit_held", "{error}");
    assert!(error["message"].as_str().unwrap().contains("held_term"));
    let path = format!("/api/messages/{id}");
    let rest = app
        .api(
            "PATCH",
            &path,
            "alice",
            json!({"message": "WHY IS NOBODY ANSWERING"}),
        )
        .await;
    assert_eq!(rest.status, 422, "{}", rest.text);
    assert_eq!(rest.body["error"], "edit_held");
    // An edit is not compared with the line it replaces (nor held as a repeat).
    alice.send_json(edit(id, "He might win!")).await;
    assert_eq!(
        alice.next_type("chat.edited").await["message"],
        "He might win!"
    );
    // Bob saw only that edit, never the refused texts.
    let seen = bob.next_type("chat.edited").await;
    assert_eq!(seen["message"], "He might win!");
    let text: Vec<String> = app
        .column(&format!(
            "SELECT content FROM acme.chat_chatmessage WHERE id = {id}"
        ))
        .await;
    assert_eq!(text, ["He might win!"]);

    let mut mo = app.ws(HOST, stream, "mo").await;
    let mine = mo.chat_id("quiet for now").await;
    mo.send_json(edit(mine, "SPOILER FOR EVERYONE")).await;
    assert_eq!(
        mo.next_type("chat.edited").await["message"],
        "SPOILER FOR EVERYONE"
    );
}
