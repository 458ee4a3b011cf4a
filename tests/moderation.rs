//! Moderation over real WebSockets and REST: every action from an allowed
//! and a forbidden actor, bans that close sockets, slow mode, blocked terms.

mod common;

use common::{handshake_body, handshake_status, stored_messages, TestApp, WsClient};
use serde_json::{json, Value};
use stampede::auth::Role;
use stampede::tenant::Tenant;

const HOST: &str = "acme.localhost";

struct Fixture {
    app: TestApp,
    tenant: Tenant,
    stream: i32,
    other_stream: i32,
}

/// Tenant acme: sam (streamer, owns `stream`), ada (admin), mo (tenant
/// moderator), bob, vic, carol (viewers). `other_stream` has no owner.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    let sam = app.user(&tenant, "sam", Role::Streamer).await;
    app.user(&tenant, "ada", Role::Admin).await;
    app.user(&tenant, "mo", Role::Moderator).await;
    for v in ["bob", "vic", "carol"] {
        app.user(&tenant, v, Role::Viewer).await;
    }
    let stream = stampede::store::streams::create(app.pool(), &tenant.schema, "Main", Some(sam))
        .await
        .unwrap()
        .id;
    let other_stream = app.stream(&tenant, "Other").await;
    Fixture {
        app,
        tenant,
        stream,
        other_stream,
    }
}

impl Fixture {
    async fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        who: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let cookie = self.app.login(HOST, who).await;
        let mut req = self
            .app
            .http(&[HOST])
            .request(method, self.app.url(HOST, path))
            .header("cookie", cookie);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends a chat line and returns its id once it is broadcast.
    async fn say(&self, ws: &mut WsClient, text: &str) -> i64 {
        ws.say(text).await;
        ws.next_where(|v| {
            v["type"] == "chat.message" && v["message"] == text && v.get("history").is_none()
        })
        .await["id"]
            .as_i64()
            .unwrap()
    }
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v: &Value| v["type"] == kind
}

#[tokio::test]
async fn viewers_cannot_moderate_and_nothing_changes() {
    let f = fixture().await;
    let mut bob = f.app.ws(HOST, f.stream, "bob").await;
    let mut vic = f.app.ws(HOST, f.stream, "vic").await;
    let id = f.say(&mut bob, "hello").await;

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
            reqwest::Method::POST,
            format!("/api/streams/{stream}/pin"),
            Some(json!({"message_id": id})),
        ),
        (reqwest::Method::DELETE, format!("/api/messages/{id}"), None),
        (
            reqwest::Method::POST,
            format!("/api/streams/{stream}/bans"),
            Some(json!({"username": "bob"})),
        ),
        (
            reqwest::Method::PUT,
            format!("/api/streams/{stream}/settings"),
            Some(json!({"slow_mode_seconds": 10})),
        ),
        (
            reqwest::Method::GET,
            format!("/api/streams/{stream}/moderation-log"),
            None,
        ),
        (
            reqwest::Method::POST,
            "/api/blocked-terms".to_owned(),
            Some(json!({"term": "x"})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/streams/{stream}/moderators"),
            Some(json!({"username": "vic"})),
        ),
    ] {
        let (status, body) = f.rest(method.clone(), &path, "vic", body).await;
        assert_eq!(status, 403, "{method} {path}");
        assert_eq!(body["error"], "forbidden");
    }
    // Unauthenticated: 401.
    let res = f
        .app
        .http(&[HOST])
        .delete(f.app.url(HOST, &format!("/api/messages/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Nothing changed: the message is there, unpinned, and bob still chats.
    let rows = stored_messages(f.app.pool(), &f.tenant, f.stream).await;
    assert_eq!(rows, vec![("bob".into(), "hello".into(), "message".into())]);
    f.say(&mut bob, "still here").await;
}

#[tokio::test]
async fn pin_reaches_everyone_and_late_joiners_and_is_unique() {
    let f = fixture().await;
    let mut mo = f.app.ws(HOST, f.stream, "mo").await;
    let mut bob = f.app.ws(HOST, f.stream, "bob").await;
    let first = f.say(&mut bob, "first").await;
    let second = f.say(&mut bob, "second").await;

    mo.send_json(json!({"type": "chat.pin", "id": first})).await;
    let pin = bob.next_where(is("chat.pin")).await;
    assert_eq!(pin["id"], first);
    assert_eq!(pin["message"]["message"], "first");
    assert_eq!(pin["message"]["username"], "bob");
    let notice = bob.next_where(|v| v["message_type"] == "moderation").await;
    assert_eq!(notice["message"], "A message was pinned");
    assert_eq!(notice["username"], "");

    // Pinning another replaces the first.
    let (status, body) = f
        .rest(
            reqwest::Method::POST,
            &format!("/api/streams/{}/pin", f.stream),
            "sam",
            Some(json!({"message_id": second})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["pinned"]["id"], second);
    assert_eq!(bob.next_where(is("chat.unpin")).await["id"], first);
    assert_eq!(bob.next_where(is("chat.pin")).await["id"], second);
    let pinned: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT id FROM {}.chat_chatmessage WHERE is_pinned",
        f.tenant.schema
    ))
    .fetch_all(f.app.pool())
    .await
    .unwrap();
    assert_eq!(pinned, vec![second as i32]);

    // A late joiner gets history, then the pin.
    let mut vic = f.app.ws(HOST, f.stream, "vic").await;
    let mut saw_history = 0;
    let pin = loop {
        let v = vic.next_json().await;
        if v["history"] == true {
            saw_history += 1;
        } else {
            break v;
        }
    };
    assert!(saw_history >= 2);
    assert_eq!(pin["type"], "chat.pin");
    assert_eq!(pin["id"], second);

    mo.send_json(json!({"type": "chat.unpin"})).await;
    assert_eq!(vic.next_where(is("chat.unpin")).await["id"], second);
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/streams/{}/pin", f.stream),
            "mo",
            None,
        )
        .await;
    assert_eq!(status, 404, "nothing is pinned any more");
}

#[tokio::test]
async fn deleted_messages_vanish_everywhere() {
    let f = fixture().await;
    let mut bob = f.app.ws(HOST, f.stream, "bob").await;
    let mut vic = f.app.ws(HOST, f.stream, "vic").await;
    let keep = f.say(&mut bob, "keep me").await;
    let gone = f.say(&mut bob, "delete me").await;

    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/messages/{gone}"),
            "mo",
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(vic.next_where(is("chat.delete")).await["id"], gone);
    assert_eq!(bob.next_where(is("chat.delete")).await["id"], gone);
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/messages/{gone}"),
            "mo",
            None,
        )
        .await;
    assert_eq!(status, 404);

    let (_, page) = f
        .rest(
            reqwest::Method::GET,
            &format!("/api/streams/{}/messages", f.stream),
            "vic",
            None,
        )
        .await;
    let ids: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message_type"] == "message")
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![keep]);
    let mut carol = f.app.ws(HOST, f.stream, "carol").await;
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
    let third = f.say(&mut bob, "third").await;
    let mut sam = f.app.ws(HOST, f.stream, "sam").await;
    sam.send_json(json!({"type": "chat.delete", "id": third}))
        .await;
    assert_eq!(vic.next_where(is("chat.delete")).await["id"], third);
}

#[tokio::test]
async fn clearing_a_user_and_the_whole_chat() {
    let f = fixture().await;
    let mut bob = f.app.ws(HOST, f.stream, "bob").await;
    let mut vic = f.app.ws(HOST, f.stream, "vic").await;
    f.say(&mut bob, "bob 1").await;
    f.say(&mut bob, "bob 2").await;
    f.say(&mut vic, "vic 1").await;

    let mut mo = f.app.ws(HOST, f.stream, "mo").await;
    mo.send_json(json!({"type": "chat.clear", "username": "bob"}))
        .await;
    let clear = vic.next_where(is("chat.clear")).await;
    assert_eq!(clear["username"], "bob");
    let remaining: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT content FROM {}.chat_chatmessage WHERE NOT is_deleted AND message_type = 'message' ORDER BY id",
        f.tenant.schema
    ))
    .fetch_all(f.app.pool())
    .await
    .unwrap();
    assert_eq!(remaining, vec!["vic 1"]);

    let (status, body) = f
        .rest(
            reqwest::Method::POST,
            &format!("/api/streams/{}/messages/clear", f.stream),
            "ada",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["removed"], 1);
    let clear = bob
        .next_where(|v| v["type"] == "chat.clear" && v.get("username").is_none())
        .await;
    assert!(clear.get("username").is_none());
    let remaining: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {}.chat_chatmessage WHERE NOT is_deleted AND message_type = 'message'",
        f.tenant.schema
    ))
    .fetch_one(f.app.pool())
    .await
    .unwrap();
    assert_eq!(remaining, 0);
}

#[tokio::test]
async fn a_ban_closes_the_users_sockets_and_refuses_them_until_lifted() {
    let f = fixture().await;
    let bob_cookie = f.app.login(HOST, "bob").await;
    let mut bob1 = f.app.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let mut bob2 = f.app.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let mut bob_elsewhere = f
        .app
        .ws_with_cookie(HOST, f.other_stream, &bob_cookie)
        .await;
    let mut vic = f.app.ws(HOST, f.stream, "vic").await;
    let mut mo = f.app.ws(HOST, f.stream, "mo").await;

    mo.send_json(json!({"type": "ban", "username": "bob", "reason": "spam"}))
        .await;
    for bob in [&mut bob1, &mut bob2] {
        let err = bob.next_where(|v| v["type"] == "error").await;
        assert_eq!(err["code"], "banned");
        assert!(err["until"].is_null(), "permanent: {err}");
        let close = bob.expect_close().await.expect("close frame");
        assert_eq!(u16::from(close.code), 4403);
    }
    let notice = vic.next_where(|v| v["message_type"] == "moderation").await;
    assert_eq!(notice["message"], "bob has been banned");
    assert!(
        !notice["message"].as_str().unwrap().contains("spam"),
        "the reason stays in the audit log"
    );

    let err = f
        .app
        .ws_raw(HOST, f.stream, Some(&bob_cookie), Some(&f.app.origin(HOST)))
        .await
        .err()
        .expect("reconnect refused");
    assert_eq!(handshake_status(&err), 403);
    assert_eq!(handshake_body(&err)["error"], "banned");

    // A stream ban leaves bob's other stream alone.
    bob_elsewhere.say("I can still talk here").await;
    bob_elsewhere.next_message().await;

    let (status, body) = f
        .rest(
            reqwest::Method::GET,
            &format!("/api/streams/{}/bans", f.stream),
            "mo",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["bans"][0]["username"], "bob");
    assert_eq!(body["bans"][0]["reason"], "spam");
    assert_eq!(body["bans"][0]["created_by"], "mo");

    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/streams/{}/bans/bob", f.stream),
            "mo",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/streams/{}/bans/bob", f.stream),
            "mo",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let mut back = f.app.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    back.say("I'm back").await;
    back.next_message().await;
}

#[tokio::test]
async fn a_timeout_expires_on_its_own() {
    let f = fixture().await;
    let bob_cookie = f.app.login(HOST, "bob").await;
    let mut bob = f.app.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let (status, ban) = f
        .rest(
            reqwest::Method::POST,
            &format!("/api/streams/{}/bans", f.stream),
            "sam",
            Some(json!({"username": "bob", "duration_secs": 1})),
        )
        .await;
    assert_eq!(status, 201);
    let until = ban["expires_at"]
        .as_str()
        .expect("a timeout has an end")
        .to_owned();
    let err = bob.next_where(|v| v["type"] == "error").await;
    assert_eq!(err["code"], "banned");
    assert_eq!(err["until"], until.as_str());
    assert_eq!(u16::from(bob.expect_close().await.unwrap().code), 4403);

    let refused = f
        .app
        .ws_raw(HOST, f.stream, Some(&bob_cookie), Some(&f.app.origin(HOST)))
        .await
        .err()
        .expect("refused during the timeout");
    assert_eq!(handshake_status(&refused), 403);

    // The timeout ends by itself: the handshake is accepted again once it has passed.
    let deadline = tokio::time::Instant::now() + common::EVENT_TIMEOUT;
    let mut back = loop {
        match f
            .app
            .ws_raw(HOST, f.stream, Some(&bob_cookie), Some(&f.app.origin(HOST)))
            .await
        {
            Ok(ws) => break ws,
            Err(e) => {
                assert_eq!(handshake_status(&e), 403);
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "timeout never expired"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    back.say("free again").await;
    assert_eq!(back.next_message().await["message"], "free again");
}

#[tokio::test]
async fn moderators_cannot_ban_upwards_or_sideways() {
    let f = fixture().await;
    let path = format!("/api/streams/{}/bans", f.stream);
    let appoint = format!("/api/streams/{}/moderators", f.stream);
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &appoint,
            "sam",
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(status, 201);
    for target in ["sam", "ada", "carol"] {
        let (status, body) = f
            .rest(
                reqwest::Method::POST,
                &path,
                "mo",
                Some(json!({"username": target})),
            )
            .await;
        assert_eq!(status, 403, "mo banning {target}: {body}");
    }
    // The owner can time out a moderator but not an admin; an admin can time out the owner.
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &path,
            "sam",
            Some(json!({"username": "mo", "duration_secs": 60})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &path,
            "sam",
            Some(json!({"username": "ada"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &path,
            "ada",
            Some(json!({"username": "sam", "duration_secs": 60})),
        )
        .await;
    assert_eq!(status, 201);
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
        let (status, resp) = f
            .rest(reqwest::Method::POST, &path, "mo", Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body} → {resp}");
    }
    let (status, body) = f
        .rest(
            reqwest::Method::POST,
            &path,
            "mo",
            Some(json!({"username": "mo"})),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid")),
        "banning oneself is never allowed"
    );
}

#[tokio::test]
async fn tenant_wide_bans_are_for_admins_and_reach_every_stream() {
    let f = fixture().await;
    let bob_cookie = f.app.login(HOST, "bob").await;
    let mut bob_main = f.app.ws_with_cookie(HOST, f.stream, &bob_cookie).await;
    let mut bob_other = f
        .app
        .ws_with_cookie(HOST, f.other_stream, &bob_cookie)
        .await;
    let path = format!("/api/streams/{}/bans", f.stream);
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &path,
            "mo",
            Some(json!({"username": "bob", "scope": "tenant"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, ban) = f
        .rest(
            reqwest::Method::POST,
            &path,
            "ada",
            Some(json!({"username": "bob", "scope": "tenant"})),
        )
        .await;
    assert_eq!(status, 201);
    assert!(ban["stream_id"].is_null());
    for ws in [&mut bob_main, &mut bob_other] {
        assert_eq!(ws.next_error().await["code"], "banned");
        assert_eq!(u16::from(ws.expect_close().await.unwrap().code), 4403);
    }
    let err = f
        .app
        .ws_raw(
            HOST,
            f.other_stream,
            Some(&bob_cookie),
            Some(&f.app.origin(HOST)),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(handshake_status(&err), 403);
    // A stream-scoped unban does not lift it; a tenant-scoped one does.
    let (status, _) = f
        .rest(reqwest::Method::DELETE, &format!("{path}/bob"), "ada", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("{path}/bob?scope=tenant"),
            "ada",
            None,
        )
        .await;
    assert_eq!(status, 204);
    f.app
        .ws_with_cookie(HOST, f.other_stream, &bob_cookie)
        .await;
}

#[tokio::test]
async fn slow_mode_spaces_out_viewers_but_not_moderators() {
    let f = fixture().await;
    let mut bob = f.app.ws(HOST, f.stream, "bob").await;
    let mut mo = f.app.ws(HOST, f.stream, "mo").await;
    let settings = format!("/api/streams/{}/settings", f.stream);
    for bad in [1, 2, 121, -1] {
        let (status, _) = f
            .rest(
                reqwest::Method::PUT,
                &settings,
                "mo",
                Some(json!({"slow_mode_seconds": bad})),
            )
            .await;
        assert_eq!(status, 422, "{bad}");
    }
    let (status, body) = f
        .rest(
            reqwest::Method::PUT,
            &settings,
            "mo",
            Some(json!({"slow_mode_seconds": 30})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["slow_mode_seconds"], 30);
    assert_eq!(
        bob.next_where(is("chat.settings")).await["slow_mode_seconds"],
        30
    );

    f.say(&mut bob, "one").await;
    bob.say("two").await;
    let err = bob.next_error().await;
    assert_eq!(err["code"], "slow_mode");
    let retry = err["retry_after_ms"].as_u64().unwrap();
    assert!(retry > 25_000 && retry <= 30_000, "{retry}");
    f.say(&mut mo, "mod one").await;
    f.say(&mut mo, "mod two").await;
    let texts: Vec<String> = stored_messages(f.app.pool(), &f.tenant, f.stream)
        .await
        .into_iter()
        .filter(|r| r.2 == "message")
        .map(|r| r.1)
        .collect();
    assert_eq!(texts, ["one", "mod one", "mod two"]);

    // Turning it off over the socket applies at once.
    mo.send_json(json!({"type": "slow_mode", "seconds": 0}))
        .await;
    assert_eq!(
        bob.next_where(is("chat.settings")).await["slow_mode_seconds"],
        0
    );
    f.say(&mut bob, "three").await;
}

#[tokio::test]
async fn blocked_terms_catch_look_alikes_without_echoing_them() {
    let f = fixture().await;
    let mut bob = f.app.ws(HOST, f.stream, "bob").await;
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            "/api/blocked-terms",
            "bob",
            Some(json!({"term": "spoiler"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, term) = f
        .rest(
            reqwest::Method::POST,
            "/api/blocked-terms",
            "ada",
            Some(json!({"term": "Spoiler"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            "/api/blocked-terms",
            "mo",
            Some(json!({"term": "ＳＰＯＩＬＥＲ"})),
        )
        .await;
    assert_eq!(status, 409, "same term once normalised");
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            "/api/blocked-terms",
            "mo",
            Some(json!({"term": "  "})),
        )
        .await;
    assert_eq!(status, 422);

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
    assert!(stored_messages(f.app.pool(), &f.tenant, f.stream)
        .await
        .is_empty());

    let (status, list) = f
        .rest(reqwest::Method::GET, "/api/blocked-terms", "mo", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["terms"][0]["term"], "Spoiler");
    let id = term["id"].as_i64().unwrap();
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/blocked-terms/{id}"),
            "ada",
            None,
        )
        .await;
    assert_eq!(status, 204);
    f.say(&mut bob, "no spoiler now").await;
}

#[tokio::test]
async fn appointed_moderators_act_on_their_stream_only_and_everything_is_audited() {
    let f = fixture().await;
    let appoint = format!("/api/streams/{}/moderators", f.stream);
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &appoint,
            "mo",
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(status, 403, "only the owner or an admin appoints");
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &appoint,
            "sam",
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &appoint,
            "sam",
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(status, 409);

    let mut bob = f.app.ws(HOST, f.stream, "bob").await;
    let id = f.say(&mut bob, "to be removed").await;
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/messages/{id}"),
            "carol",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let mut bob_other = f.app.ws(HOST, f.other_stream, "bob").await;
    let other_id = f.say(&mut bob_other, "elsewhere").await;
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/messages/{other_id}"),
            "carol",
            None,
        )
        .await;
    assert_eq!(status, 403, "carol moderates one stream only");

    let (status, _) = f
        .rest(
            reqwest::Method::POST,
            &format!("/api/streams/{}/bans", f.stream),
            "carol",
            Some(json!({"username": "vic", "duration_secs": 600, "reason": "rude"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, log) = f
        .rest(
            reqwest::Method::GET,
            &format!("/api/streams/{}/moderation-log", f.stream),
            "sam",
            None,
        )
        .await;
    assert_eq!(status, 200);
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

    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/streams/{}/moderators/carol", f.stream),
            "ada",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let id = f.say(&mut bob, "safe now").await;
    let (status, _) = f
        .rest(
            reqwest::Method::DELETE,
            &format!("/api/messages/{id}"),
            "carol",
            None,
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_moderator_of_one_tenant_has_no_rights_on_another() {
    let f = fixture().await;
    let globex = f.app.tenant("globex", "globex.localhost").await;
    f.app.user(&globex, "mo", Role::Viewer).await;
    f.app.user(&globex, "gus", Role::Viewer).await;
    let g_stream = f.app.stream(&globex, "Globex").await;
    let mut gus = f.app.ws("globex.localhost", g_stream, "gus").await;
    gus.say("globex line").await;
    let id = gus.next_message().await["id"].as_i64().unwrap();

    // acme's moderator session is not a globex session at all…
    let acme_mo = f.app.login(HOST, "mo").await;
    let res = f
        .app
        .http(&["globex.localhost"])
        .delete(
            f.app
                .url("globex.localhost", &format!("/api/messages/{id}")),
        )
        .header("cookie", &acme_mo)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // …and globex's own "mo" is a viewer there.
    let globex_mo = f.app.login("globex.localhost", "mo").await;
    let res = f
        .app
        .http(&["globex.localhost"])
        .delete(
            f.app
                .url("globex.localhost", &format!("/api/messages/{id}")),
        )
        .header("cookie", &globex_mo)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        stored_messages(f.app.pool(), &globex, g_stream).await.len(),
        1
    );
}
