//! Moderation over real WebSockets and REST: every action from an allowed
//! and a forbidden actor, bans that close sockets, slow mode, blocked terms.

mod common;

use common::{stored_messages, As, TestApp, EVENT_TIMEOUT, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{self, Admin, Moderator, Streamer, Viewer};
use stampede::tenant::Tenant;

/// sam (streamer, owns `stream`), ada (admin), mo (tenant moderator), bob,
/// vic, carol (viewers).
const CAST: &[(&str, Role)] = &[
    ("sam", Streamer),
    ("ada", Admin),
    ("mo", Moderator),
    ("bob", Viewer),
    ("vic", Viewer),
    ("carol", Viewer),
];

struct Fixture {
    app: TestApp,
    tenant: Tenant,
    stream: i32,
    other_stream: i32,
}

/// The fixture is the server it runs: `f.api(…)`, `f.ws(…)`.
impl std::ops::Deref for Fixture {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// Tenant acme with the [`CAST`]; `other_stream` has no owner.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    let ids = app.users(&tenant, CAST).await;
    let stream = app.owned_stream(&tenant, "Main", ids[0]).await;
    let other_stream = app.stream(&tenant, "Other").await;
    Fixture {
        app,
        tenant,
        stream,
        other_stream,
    }
}

#[tokio::test]
async fn viewers_cannot_moderate_and_nothing_changes() {
    let f = fixture().await;
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let mut vic = f.ws(HOST, f.stream, "vic").await;
    let id = bob.chat_id("hello").await;

    for cmd in [
        json!({"type": "chat.pin", "id": id}),
        json!({"type": "chat.delete", "id": id}),
        json!({"type": "chat.unpin"}),
        json!({"type": "chat.clear"}),
        json!({"type": "chat.clear", "username": "bob"}),
        json!({"type": "ban", "username": "bob"}),
        json!({"type": "ban", "username": "bob", "duration_secs": 600}),
        json!({"type": "unban", "username": "bob"}),
        json!({"type": "slow_mode", "seconds": 10}),
    ] {
        vic.send_json(cmd.clone()).await;
        let err = vic.next_error().await;
        assert_eq!(err["code"], "forbidden", "{cmd}");
    }
    let stream = f.stream;
    for (method, path, body) in [
        (
            "POST",
            format!("/api/streams/{stream}/pin"),
            Some(json!({"message_id": id})),
        ),
        ("DELETE", format!("/api/messages/{id}"), None),
        (
            "POST",
            format!("/api/streams/{stream}/bans"),
            Some(json!({"username": "bob"})),
        ),
        (
            "PUT",
            format!("/api/streams/{stream}/settings"),
            Some(json!({"slow_mode_seconds": 10})),
        ),
        ("GET", format!("/api/streams/{stream}/moderation-log"), None),
        (
            "POST",
            "/api/blocked-terms".to_owned(),
            Some(json!({"term": "x"})),
        ),
        (
            "POST",
            format!("/api/streams/{stream}/moderators"),
            Some(json!({"username": "vic"})),
        ),
    ] {
        let res = f.api(method, &path, "vic", body).await;
        assert_eq!(res.status, 403, "{method} {path}");
        assert_eq!(res.body["error"], "forbidden");
    }
    // Unauthenticated: 401.
    let res = f
        .api(
            "DELETE",
            &format!("/api/messages/{id}"),
            As::Anonymous,
            None,
        )
        .await;
    assert_eq!(res.status, 401);

    // Nothing changed: the message is there, unpinned, and bob still chats.
    let rows = stored_messages(f.pool(), &f.tenant, f.stream).await;
    assert_eq!(rows, vec![("bob".into(), "hello".into(), "message".into())]);
    bob.chat("still here").await;
}

#[tokio::test]
async fn pin_reaches_everyone_and_late_joiners_and_is_unique() {
    let f = fixture().await;
    let pin = format!("/api/streams/{}/pin", f.stream);
    let mut mo = f.ws(HOST, f.stream, "mo").await;
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let first = bob.chat_id("first").await;
    let second = bob.chat_id("second").await;

    mo.send_json(json!({"type": "chat.pin", "id": first})).await;
    let pinned = bob.next_type("chat.pin").await;
    assert_eq!(pinned["id"], first);
    assert_eq!(pinned["message"]["message"], "first");
    assert_eq!(pinned["message"]["username"], "bob");
    let notice = bob.next_where(|v| v["message_type"] == "moderation").await;
    assert_eq!(notice["message"], "A message was pinned");
    assert_eq!(notice["username"], "");

    // Pinning another replaces the first.
    let res = f
        .api("POST", &pin, "sam", json!({"message_id": second}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["pinned"]["id"], second);
    assert_eq!(bob.next_type("chat.unpin").await["id"], first);
    assert_eq!(bob.next_type("chat.pin").await["id"], second);
    let pinned = format!(
        "SELECT id FROM {}.chat_chatmessage WHERE is_pinned",
        f.tenant.schema
    );
    assert_eq!(f.column::<i32>(&pinned).await, vec![second as i32]);

    // A late joiner gets history, then the pin.
    let mut vic = f.ws(HOST, f.stream, "vic").await;
    let mut saw_history = 0;
    let pinned = loop {
        let v = vic.next_json().await;
        if v["history"] == true {
            saw_history += 1;
        } else {
            break v;
        }
    };
    assert!(saw_history >= 2);
    assert_eq!(pinned["type"], "chat.pin");
    assert_eq!(pinned["id"], second);

    mo.send_json(json!({"type": "chat.unpin"})).await;
    assert_eq!(vic.next_type("chat.unpin").await["id"], second);
    let res = f.api("DELETE", &pin, "mo", None).await;
    assert_eq!(res.status, 404, "nothing is pinned any more");
}

#[tokio::test]
async fn deleted_messages_vanish_everywhere() {
    let f = fixture().await;
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let mut vic = f.ws(HOST, f.stream, "vic").await;
    let keep = bob.chat_id("keep me").await;
    let gone = bob.chat_id("delete me").await;

    let delete = format!("/api/messages/{gone}");
    assert_eq!(f.api("DELETE", &delete, "mo", None).await.status, 204);
    assert_eq!(vic.next_type("chat.delete").await["id"], gone);
    assert_eq!(bob.next_type("chat.delete").await["id"], gone);
    assert_eq!(f.api("DELETE", &delete, "mo", None).await.status, 404);

    let page = f
        .api(
            "GET",
            &format!("/api/streams/{}/messages", f.stream),
            "vic",
            None,
        )
        .await
        .body;
    let ids: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message_type"] == "message")
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![keep]);
    let mut carol = f.ws(HOST, f.stream, "carol").await;
    let mut replay = Vec::new();
    loop {
        let v = carol.next_json().await;
        if v["history"] != true {
            break;
        }
        replay.push(v);
    }
    assert!(replay.iter().all(|v| v["id"] != gone));
    assert!(replay.iter().any(|v| v["id"] == keep));
    assert!(
        replay.iter().any(|v| v["message_type"] == "moderation"),
        "the notice is part of history"
    );

    // Over the socket too.
    let third = bob.chat_id("third").await;
    let mut sam = f.ws(HOST, f.stream, "sam").await;
    sam.send_json(json!({"type": "chat.delete", "id": third}))
        .await;
    assert_eq!(vic.next_type("chat.delete").await["id"], third);
}

#[tokio::test]
async fn clearing_a_user_and_the_whole_chat() {
    let f = fixture().await;
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let mut vic = f.ws(HOST, f.stream, "vic").await;
    bob.chat("bob 1").await;
    bob.chat("bob 2").await;
    vic.chat("vic 1").await;

    let mut mo = f.ws(HOST, f.stream, "mo").await;
    mo.send_json(json!({"type": "chat.clear", "username": "bob"}))
        .await;
    let clear = vic.next_type("chat.clear").await;
    assert_eq!(clear["username"], "bob");
    let standing = format!(
        "SELECT content FROM {}.chat_chatmessage WHERE NOT is_deleted AND message_type = 'message' ORDER BY id",
        f.tenant.schema
    );
    assert_eq!(f.column::<String>(&standing).await, vec!["vic 1"]);

    let res = f
        .api(
            "POST",
            &format!("/api/streams/{}/messages/clear", f.stream),
            "ada",
            json!({}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["removed"], 1);
    let clear = bob
        .next_where(|v| v["type"] == "chat.clear" && v.get("username").is_none())
        .await;
    assert!(clear.get("username").is_none());
    assert_eq!(f.column::<String>(&standing).await.len(), 0);
}

#[tokio::test]
async fn a_ban_closes_the_users_sockets_and_refuses_them_until_lifted() {
    let f = fixture().await;
    let bans = format!("/api/streams/{}/bans", f.stream);
    let bob_cookie = f.login(HOST, "bob").await;
    let mut bob1 = f.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let mut bob2 = f.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let mut bob_elsewhere = f.ws_with_cookie(HOST, f.other_stream, &bob_cookie).await;
    let mut vic = f.ws(HOST, f.stream, "vic").await;
    let mut mo = f.ws(HOST, f.stream, "mo").await;

    mo.send_json(json!({"type": "ban", "username": "bob", "reason": "spam"}))
        .await;
    for bob in [&mut bob1, &mut bob2] {
        let err = bob.next_error().await;
        assert_eq!(err["code"], "banned");
        assert!(err["until"].is_null(), "permanent: {err}");
        assert_eq!(bob.close_code().await, 4403);
    }
    let notice = vic.next_where(|v| v["message_type"] == "moderation").await;
    assert_eq!(notice["message"], "bob has been banned");
    assert!(
        !notice["message"].as_str().unwrap().contains("spam"),
        "the reason stays in the audit log"
    );

    let (status, body) = f.ws_refusal(HOST, f.stream, &bob_cookie).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "banned");

    // A stream ban leaves bob's other stream alone.
    bob_elsewhere.say("I can still talk here").await;
    bob_elsewhere.next_message().await;

    let res = f.api("GET", &bans, "mo", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["bans"][0]["username"], "bob");
    assert_eq!(res.body["bans"][0]["reason"], "spam");
    assert_eq!(res.body["bans"][0]["created_by"], "mo");

    let unban = format!("{bans}/bob");
    assert_eq!(f.api("DELETE", &unban, "mo", None).await.status, 204);
    assert_eq!(f.api("DELETE", &unban, "mo", None).await.status, 404);
    let mut back = f.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    back.say("I'm back").await;
    back.next_message().await;
}

#[tokio::test]
async fn a_timeout_expires_on_its_own() {
    let f = fixture().await;
    let bob_cookie = f.login(HOST, "bob").await;
    let mut bob = f.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let res = f
        .api(
            "POST",
            &format!("/api/streams/{}/bans", f.stream),
            "sam",
            json!({"username": "bob", "duration_secs": 1}),
        )
        .await;
    assert_eq!(res.status, 201);
    let until = res.body["expires_at"]
        .as_str()
        .expect("a timeout has an end")
        .to_owned();
    let err = bob.next_error().await;
    assert_eq!(err["code"], "banned");
    assert_eq!(err["until"], until.as_str());
    assert_eq!(bob.close_code().await, 4403);

    let (status, _) = f.ws_refusal(HOST, f.stream, &bob_cookie).await;
    assert_eq!(status, 403, "refused during the timeout");

    // The timeout ends by itself: the handshake is accepted again once it has passed.
    let what = "timeout never expired";
    let mut back = f
        .ws_once_admitted(HOST, f.stream, &bob_cookie, 403, what, EVENT_TIMEOUT)
        .await;
    back.say("free again").await;
    assert_eq!(back.next_message().await["message"], "free again");
}

#[tokio::test]
async fn moderators_cannot_ban_upwards_or_sideways() {
    let f = fixture().await;
    let path = format!("/api/streams/{}/bans", f.stream);
    let ban = |who: &'static str, body: Value| {
        let path = path.clone();
        let app = &f.app;
        async move { app.api("POST", &path, who, body).await }
    };
    let appoint = format!("/api/streams/{}/moderators", f.stream);
    let res = f
        .api("POST", &appoint, "sam", json!({"username": "carol"}))
        .await;
    assert_eq!(res.status, 201);
    for target in ["sam", "ada", "carol"] {
        let res = ban("mo", json!({"username": target})).await;
        assert_eq!(res.status, 403, "mo banning {target}: {}", res.body);
    }
    // The owner can time out a moderator but not an admin; an admin can time out the owner.
    let res = ban("sam", json!({"username": "mo", "duration_secs": 60})).await;
    assert_eq!(res.status, 201);
    assert_eq!(ban("sam", json!({"username": "ada"})).await.status, 403);
    let res = ban("ada", json!({"username": "sam", "duration_secs": 60})).await;
    assert_eq!(res.status, 201);
    // Bad input.
    for (body, expected) in [
        (json!({"username": "bob", "duration_secs": 0}), 422),
        (
            json!({"username": "bob", "duration_secs": 14 * 24 * 3600 + 1}),
            422,
        ),
        (json!({"username": "bob", "reason": "x".repeat(501)}), 422),
        (json!({"username": "nobody"}), 404),
        (json!({"username": "ada", "scope": "tenant"}), 403),
    ] {
        let res = ban("mo", body.clone()).await;
        assert_eq!(res.status, expected, "{body} → {}", res.body);
    }
    let res = ban("mo", json!({"username": "mo"})).await;
    assert_eq!(
        res.error(),
        (422, Some("invalid")),
        "banning oneself is never allowed"
    );
}

#[tokio::test]
async fn tenant_wide_bans_are_for_admins_and_reach_every_stream() {
    let f = fixture().await;
    let bob_cookie = f.login(HOST, "bob").await;
    let mut bob_main = f.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let mut bob_other = f.ws_with_cookie(HOST, f.other_stream, &bob_cookie).await;
    let path = format!("/api/streams/{}/bans", f.stream);
    let tenant_ban = json!({"username": "bob", "scope": "tenant"});
    let res = f.api("POST", &path, "mo", tenant_ban.clone()).await;
    assert_eq!(res.status, 403);
    let res = f.api("POST", &path, "ada", tenant_ban).await;
    assert_eq!(res.status, 201);
    assert!(res.body["stream_id"].is_null());
    for ws in [&mut bob_main, &mut bob_other] {
        assert_eq!(ws.next_error().await["code"], "banned");
        assert_eq!(ws.close_code().await, 4403);
    }
    let (status, _) = f.ws_refusal(HOST, f.other_stream, &bob_cookie).await;
    assert_eq!(status, 403);
    // A stream-scoped unban does not lift it; a tenant-scoped one does.
    let res = f.api("DELETE", &format!("{path}/bob"), "ada", None).await;
    assert_eq!(res.status, 404);
    let res = f
        .api("DELETE", &format!("{path}/bob?scope=tenant"), "ada", None)
        .await;
    assert_eq!(res.status, 204);
    f.ws_with_cookie(HOST, f.other_stream, &bob_cookie).await;
}

#[tokio::test]
async fn slow_mode_spaces_out_viewers_but_not_moderators() {
    let f = fixture().await;
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let mut mo = f.ws(HOST, f.stream, "mo").await;
    let settings = format!("/api/streams/{}/settings", f.stream);
    for bad in [1, 2, 121, -1] {
        let res = f
            .api("PUT", &settings, "mo", json!({"slow_mode_seconds": bad}))
            .await;
        assert_eq!(res.status, 422, "{bad}");
    }
    let res = f
        .api("PUT", &settings, "mo", json!({"slow_mode_seconds": 30}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["slow_mode_seconds"], 30);
    assert_eq!(
        bob.next_type("chat.settings").await["slow_mode_seconds"],
        30
    );

    bob.chat("one").await;
    bob.say("two").await;
    let err = bob.next_error().await;
    assert_eq!(err["code"], "slow_mode");
    let retry = err["retry_after_ms"].as_u64().unwrap();
    assert!(retry > 25_000 && retry <= 30_000, "{retry}");
    mo.chat("mod one").await;
    mo.chat("mod two").await;
    let texts: Vec<String> = stored_messages(f.pool(), &f.tenant, f.stream)
        .await
        .into_iter()
        .filter(|r| r.2 == "message")
        .map(|r| r.1)
        .collect();
    assert_eq!(texts, ["one", "mod one", "mod two"]);

    // Turning it off over the socket applies at once.
    mo.send_json(json!({"type": "slow_mode", "seconds": 0}))
        .await;
    assert_eq!(bob.next_type("chat.settings").await["slow_mode_seconds"], 0);
    bob.chat("three").await;
}

#[tokio::test]
async fn blocked_terms_catch_look_alikes_without_echoing_them() {
    let f = fixture().await;
    let terms = "/api/blocked-terms";
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let res = f
        .api("POST", terms, "bob", json!({"term": "spoiler"}))
        .await;
    assert_eq!(res.status, 403);
    let term = f
        .api("POST", terms, "ada", json!({"term": "Spoiler"}))
        .await;
    assert_eq!(term.status, 201);
    let res = f
        .api("POST", terms, "mo", json!({"term": "ＳＰＯＩＬＥＲ"}))
        .await;
    assert_eq!(res.status, 409, "same term once normalised");
    let res = f.api("POST", terms, "mo", json!({"term": "  "})).await;
    assert_eq!(res.status, 422);

    for text in [
        "big spoiler ahead",
        "ＳＰＯＩＬＥＲ",
        "spo\u{200B}iler",
        "spo<b></b>iler",
    ] {
        bob.say(text).await;
        let err = bob.next_error().await;
        assert_eq!(err["code"], "blocked_term", "{text}");
        assert!(!err["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("spoiler"));
    }
    assert!(stored_messages(f.pool(), &f.tenant, f.stream)
        .await
        .is_empty());

    let list = f.api("GET", terms, "mo", None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["terms"][0]["term"], "Spoiler");
    let id = term.body["id"].as_i64().unwrap();
    let res = f.api("DELETE", &format!("{terms}/{id}"), "ada", None).await;
    assert_eq!(res.status, 204);
    bob.chat("no spoiler now").await;
}

#[tokio::test]
async fn appointed_moderators_act_on_their_stream_only_and_everything_is_audited() {
    let f = fixture().await;
    let appoint = format!("/api/streams/{}/moderators", f.stream);
    let carol = json!({"username": "carol"});
    let res = f.api("POST", &appoint, "mo", carol.clone()).await;
    assert_eq!(res.status, 403, "only the owner or an admin appoints");
    let res = f.api("POST", &appoint, "sam", carol.clone()).await;
    assert_eq!(res.status, 201);
    let res = f.api("POST", &appoint, "sam", carol).await;
    assert_eq!(res.status, 409);

    let delete = |id: i64| format!("/api/messages/{id}");
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let id = bob.chat_id("to be removed").await;
    let res = f.api("DELETE", &delete(id), "carol", None).await;
    assert_eq!(res.status, 204);
    let mut bob_other = f.ws(HOST, f.other_stream, "bob").await;
    let other_id = bob_other.chat_id("elsewhere").await;
    let res = f.api("DELETE", &delete(other_id), "carol", None).await;
    assert_eq!(res.status, 403, "carol moderates one stream only");

    let res = f
        .api(
            "POST",
            &format!("/api/streams/{}/bans", f.stream),
            "carol",
            json!({"username": "vic", "duration_secs": 600, "reason": "rude"}),
        )
        .await;
    assert_eq!(res.status, 201);
    let log = f
        .api(
            "GET",
            &format!("/api/streams/{}/moderation-log", f.stream),
            "sam",
            None,
        )
        .await;
    assert_eq!(log.status, 200);
    let log = log.body;
    let actions: Vec<(String, String)> = log["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("timeout".to_owned(), "carol".to_owned()),
            ("delete".to_owned(), "carol".to_owned()),
            ("add_moderator".to_owned(), "sam".to_owned()),
        ]
    );
    let timeout = &log["actions"][0];
    assert_eq!(timeout["target_user"], "vic");
    assert_eq!(timeout["details"]["reason"], "rude");
    assert_eq!(timeout["details"]["duration_secs"], 600);

    let res = f
        .api("DELETE", &format!("{appoint}/carol"), "ada", None)
        .await;
    assert_eq!(res.status, 204);
    let id = bob.chat_id("safe now").await;
    let res = f.api("DELETE", &delete(id), "carol", None).await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn a_moderator_of_one_tenant_has_no_rights_on_another() {
    const GLOBEX: &str = "globex.localhost";
    let f = fixture().await;
    let globex = f.tenant("globex", GLOBEX).await;
    f.users(&globex, &common::viewers(["mo", "gus"])).await;
    let g_stream = f.stream(&globex, "Globex").await;
    let mut gus = f.ws(GLOBEX, g_stream, "gus").await;
    gus.say("globex line").await;
    let id = gus.next_message().await["id"].as_i64().unwrap();
    let delete = format!("/api/messages/{id}");

    // acme's moderator session is not a globex session at all…
    let acme_mo = f.session_of(HOST, "mo").await;
    let res = f
        .api_on(GLOBEX, "DELETE", &delete, As::Cookie(&acme_mo), None)
        .await;
    assert_eq!(res.status, 401);
    // …and globex's own "mo" is a viewer there.
    let res = f.api_on(GLOBEX, "DELETE", &delete, "mo", None).await;
    assert_eq!(res.status, 403);
    assert_eq!(stored_messages(f.pool(), &globex, g_stream).await.len(), 1);
}

/// A banned or timed-out viewer may still read, on a read-only socket
/// (`?read_only=1`): history and live lines reach it, anything it sends is
/// refused with `read_only`, nobody is told it joined, a new ban does not
/// close it, and lifting the ban tells it so (`ban.lifted`).
#[tokio::test]
async fn a_banned_viewer_reads_on_a_read_only_socket_until_the_ban_is_lifted() {
    let f = fixture().await;
    let mut mo = f.ws(HOST, f.stream, "mo").await;
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    let mut carol = f.ws(HOST, f.stream, "carol").await;
    mo.send_json(
        json!({"type": "ban", "username": "bob", "duration_secs": 600, "reason": "spam <links>"}),
    )
    .await;
    let banned = bob.next_error().await;
    assert_eq!(banned["code"], "banned");
    assert!(banned["until"].is_string());
    assert_eq!(
        banned["reason"], "spam &lt;links&gt;",
        "escaped like chat text"
    );
    assert_eq!(bob.close_code().await, 4403);

    // A normal handshake is refused with the same facts.
    let cookie = f.login(HOST, "bob").await;
    let (status, body) = f.ws_refusal(HOST, f.stream, &cookie).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("banned")));
    assert_eq!(body["until"], banned["until"]);
    assert_eq!(body["reason"], "spam &lt;links&gt;");

    // A read-only one is admitted, silently.
    let path = format!("/ws/chat/stream_{}/?read_only=1", f.stream);
    let mut reader =
        common::ws::ws_connect(f.addr, HOST, &path, Some(&cookie), Some(&f.origin(HOST)))
            .await
            .expect("read-only handshake");
    carol.say("you can still read this").await;
    assert_eq!(
        reader.next_message().await["message"],
        "you can still read this"
    );
    reader
        .send_json(json!({"message": "let me talk", "client_id": "ro-1"}))
        .await;
    let refused = reader.next_error().await;
    assert_eq!(
        (refused["code"].as_str(), refused["client_id"].as_str()),
        (Some("read_only"), Some("ro-1"))
    );
    reader
        .send_json(json!({"type": "reaction", "stamp_id": 1}))
        .await;
    assert_eq!(reader.next_error().await["code"], "read_only");
    // Carol saw no join for bob's reader and no line from it.
    carol.say("marker").await;
    let mut seen = Vec::new();
    loop {
        let v = carol.next_json().await;
        if v["type"] == "chat.message" && v["message"] == "marker" {
            break;
        }
        seen.push(v);
    }
    assert!(
        seen.iter().all(|v| {
            let bob_joined = v["message_type"] == "join" && v["username"] == "bob";
            !bob_joined && v["message"] != "let me talk"
        }),
        "{seen:?}"
    );
    assert!(seen
        .iter()
        .any(|v| v["message"] == "you can still read this"));

    // Banning again does not close the reader; lifting the ban tells it.
    mo.send_json(json!({"type": "ban", "username": "bob"}))
        .await;
    mo.send_json(json!({"type": "unban", "username": "bob"}))
        .await;
    reader.next_type("ban.lifted").await;
    carol.say("after").await;
    assert_eq!(reader.next_message().await["message"], "after");
    // And bob may chat again on a normal socket.
    let mut back = f.ws_with_cookie(HOST, f.stream, &cookie).await;
    back.say("thanks").await;
    assert_eq!(back.next_message().await["message"], "thanks");
}

/// Lines carry the author's badge (streamer, moderator, admin) live and in
/// history, and moderators get a user card for any name.
#[tokio::test]
async fn badges_mark_who_speaks_with_authority_and_moderators_get_user_cards() {
    let f = fixture().await;
    let mut bob = f.ws(HOST, f.stream, "bob").await;
    for who in ["sam", "mo", "ada", "bob"] {
        let mut socket = f.ws(HOST, f.stream, who).await;
        socket.say(&format!("hi from {who}")).await;
        let line = bob
            .next_where(|v| v["message"] == format!("hi from {who}"))
            .await;
        let want = match who {
            "sam" => json!("streamer"),
            "mo" => json!("moderator"),
            "ada" => json!("admin"),
            _ => Value::Null,
        };
        assert_eq!(line["badge"], want, "{who}: {line}");
    }
    let mut late = f.ws(HOST, f.stream, "carol").await;
    let history = late.history(4).await;
    let badges: Vec<&Value> = history.iter().map(|v| &v["badge"]).collect();
    assert_eq!(
        badges,
        [
            &json!("streamer"),
            &json!("moderator"),
            &json!("admin"),
            &Value::Null
        ]
    );

    let line = bob.chat_id("second thought").await;
    let mut mo = f.ws(HOST, f.stream, "mo").await;
    mo.send_json(json!({"type": "chat.delete", "id": line}))
        .await;
    mo.next_type("chat.delete").await;
    mo.send_json(
        json!({"type": "ban", "username": "bob", "duration_secs": 60, "reason": "calm down"}),
    )
    .await;
    mo.next_where(|v| v["message_type"] == "moderation").await;

    let card = f
        .api(
            "GET",
            &format!("/api/streams/{}/users/BOB", f.stream),
            "mo",
            None,
        )
        .await;
    assert_eq!(card.status, 200, "{}", card.text);
    let c = &card.body;
    assert_eq!(
        (c["username"].as_str(), c["role"].as_str()),
        (Some("bob"), Some("viewer"))
    );
    assert_eq!(c["badge"], Value::Null);
    assert!(c["joined_at"].is_string());
    assert_eq!(c["can_ban"], true);
    assert_eq!(c["bans"][0]["reason"], "calm down");
    let lines = c["recent_messages"].as_array().unwrap();
    assert_eq!(lines[0]["message"], "second thought");
    assert_eq!(lines[0]["deleted"], true, "removed lines are shown, marked");
    assert_eq!(lines[1]["message"], "hi from bob");
    assert_eq!(lines[1]["deleted"], false);

    let owner = f
        .api(
            "GET",
            &format!("/api/streams/{}/users/sam", f.stream),
            "mo",
            None,
        )
        .await;
    assert_eq!(
        (
            owner.body["badge"].as_str(),
            owner.body["can_ban"].as_bool()
        ),
        (Some("streamer"), Some(false))
    );
    let viewer = f
        .api(
            "GET",
            &format!("/api/streams/{}/users/mo", f.stream),
            "carol",
            None,
        )
        .await;
    assert_eq!(viewer.error(), (403, Some("forbidden")));
    let unknown = f
        .api(
            "GET",
            &format!("/api/streams/{}/users/nobody", f.stream),
            "mo",
            None,
        )
        .await;
    assert_eq!(unknown.error(), (404, Some("not_found")));
}

/// Moderation lines carry what they report as a key and arguments (for pages
/// that word them in the viewer's language), live and in history, besides
/// the operator's wording in `message`.
#[tokio::test]
async fn moderation_lines_carry_their_notice_key_and_arguments() {
    let f = fixture().await;
    let mut mo = f.ws(HOST, f.stream, "mo").await;
    mo.send_json(json!({"type": "ban", "username": "bob", "duration_secs": 600}))
        .await;
    let line = mo.next_where(|v| v["message_type"] == "moderation").await;
    assert_eq!(line["message"], "bob has been timed out for 10 minutes");
    assert_eq!(
        line["notice"],
        json!({"key": "timeout", "args": {"user": "bob", "duration_secs": 600}})
    );
    mo.send_json(json!({"type": "slow_mode", "seconds": 30}))
        .await;
    let slow = mo
        .next_where(|v| v["message_type"] == "moderation" && v["id"] != line["id"])
        .await;
    assert_eq!(
        slow["notice"],
        json!({"key": "slow_on", "args": {"seconds": 30}})
    );
    let mut late = f.ws(HOST, f.stream, "carol").await;
    let history = late.history(2).await;
    assert_eq!(history[0]["notice"], line["notice"], "history keeps it");
    assert_eq!(history[1]["notice"]["key"], "slow_on");
}
