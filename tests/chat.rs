//! Chatting over real WebSockets against a real server and database.

mod common;

use common::{stage, stored_messages, stored_texts, test_config, viewers, TestApp, HOST};
use futures_util::SinkExt;
use serde_json::json;
use stampede::tenant::Tenant;

/// A server, tenant acme with viewers alice, bob and carol, and one stream.
async fn app_with_room(config: stampede::ServeConfig) -> (TestApp, Tenant, i32) {
    stage(config, &viewers(["alice", "bob", "carol"])).await
}

#[tokio::test]
async fn message_reaches_everyone_including_sender_and_is_stored() {
    let (app, tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;

    alice.say("こんにちは！").await;
    let to_bob = bob.next_message().await;
    let to_alice = alice.next_message().await;
    assert_eq!(to_bob, to_alice, "everyone gets the same event");

    // The seed's keys, plus id, type and a real timestamp.
    assert_eq!(to_bob["type"], "chat.message");
    assert_eq!(to_bob["username"], "alice");
    assert_eq!(to_bob["message"], "こんにちは！");
    assert_eq!(to_bob["message_type"], "message");
    assert!(to_bob["id"].as_i64().unwrap() > 0);
    let ts = to_bob["timestamp"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok(),
        "timestamp {ts} is RFC 3339"
    );
    assert!(to_bob.get("history").is_none());

    let rows = stored_messages(app.pool(), &tenant, stream).await;
    assert_eq!(
        rows,
        vec![("alice".into(), "こんにちは！".into(), "message".into())]
    );
}

#[tokio::test]
async fn joiner_gets_last_50_messages_oldest_first_then_live() {
    let (app, _tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for i in 0..55 {
        alice.say(&format!("m{i}")).await;
    }
    // Wait until the last one was stored and broadcast.
    alice.next_where(|v| v["message"] == "m54").await;

    let mut bob = app.ws(HOST, stream, "bob").await;
    let history = bob.history(50).await;
    let texts: Vec<&str> = history
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (5..55).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
    assert!(history
        .windows(2)
        .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64()));

    alice.say("live").await;
    let live = bob.next_message().await;
    assert_eq!(live["message"], "live");
    assert!(live.get("history").is_none());
}

#[tokio::test]
async fn history_survives_the_room_actor_and_comes_from_the_database() {
    let mut config = test_config();
    config.room_idle_secs = 0;
    let (app, _tenant, stream) = app_with_room(config).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice.say("before").await;
    alice.next_message().await;
    alice.close().await;
    // With idle 0 the actor stops once empty; a new one must load history.
    let mut bob = app.ws(HOST, stream, "bob").await;
    let history = bob.history(1).await;
    assert_eq!(history[0]["message"], "before");
    assert_eq!(history[0]["username"], "alice");
}

/// What a `textContent` client does with the field: decode the five
/// entities the server escapes (`&amp;` last, so `&amp;lt;` stays `&lt;`).
fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn markup_is_stored_and_delivered_inert() {
    let (app, tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let typed = [
        "<script>alert('x')</script>hello",
        "look <img src=x onerror=alert(1)> here",
        "1 < 2 & 3 > 2",
        "wrap it in <div> tags",
        r#"<a href="javascript:x">&amp;</a>"#,
        "<b></b>",
    ];
    let escaped = [
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;hello",
        "look &lt;img src=x onerror=alert(1)&gt; here",
        "1 &lt; 2 &amp; 3 &gt; 2",
        "wrap it in &lt;div&gt; tags",
        "&lt;a href=&quot;javascript:x&quot;&gt;&amp;amp;&lt;/a&gt;",
        "&lt;b&gt;&lt;/b&gt;",
    ];
    for text in typed {
        alice.say(text).await;
    }
    for (text, expected) in typed.iter().zip(escaped) {
        let to_bob = bob.next_message().await;
        assert_eq!(to_bob["message"], expected, "typed {text:?}");
        assert_eq!(alice.next_message().await, to_bob);
        let shown = decode_entities(to_bob["message"].as_str().unwrap());
        assert_eq!(shown, *text, "shown as typed");
    }

    let stored = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(stored, escaped, "stored escaped, exactly as delivered");
    for (content, text) in stored.iter().zip(typed) {
        assert!(
            !content.contains('<') && !content.contains('>'),
            "stored {content:?}"
        );
        assert_eq!(decode_entities(content), text, "round trip");
    }
}

#[tokio::test]
async fn bad_input_gets_specific_errors_and_the_connection_survives() {
    let (app, tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;

    alice.send_text("{not json").await;
    assert_eq!(alice.next_error().await["code"], "bad_json");
    alice.send_text("[1,2]").await;
    assert_eq!(alice.next_error().await["code"], "bad_json");
    alice.send_json(json!({"type": "dance"})).await;
    assert_eq!(alice.next_error().await["code"], "unknown_type");
    alice.say("   ").await;
    assert_eq!(alice.next_error().await["code"], "empty");
    // Invisible characters only: blank however it is rendered. (Markup
    // alone, like `<img src=x>`, is not empty: it is shown as typed.)
    alice.say(" \u{200B}\u{FEFF}\u{202E} ").await;
    assert_eq!(alice.next_error().await["code"], "empty");
    alice.say(&"x".repeat(501)).await;
    let too_long = alice.next_error().await;
    assert_eq!(too_long["code"], "too_long");
    assert!(too_long["message"].as_str().unwrap().contains("500"));
    alice
        .ws
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            vec![1, 2, 3].into(),
        ))
        .await
        .unwrap();
    assert_eq!(alice.next_error().await["code"], "bad_json");

    // Still connected, still chatting; exactly 500 characters is fine.
    alice.say(&"y".repeat(500)).await;
    assert_eq!(
        alice.next_message().await["message"]
            .as_str()
            .unwrap()
            .len(),
        500
    );
    assert_eq!(stored_messages(app.pool(), &tenant, stream).await.len(), 1);
}

#[tokio::test]
async fn oversize_frame_closes_with_1009_and_the_room_lives_on() {
    let (app, tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("accepted before").await;
    bob.next_message().await;

    let huge = json!({ "message": "z".repeat(70 * 1024) }).to_string();
    alice.send_text(&huge).await;
    let close = alice.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1009);

    bob.say("still here").await;
    assert_eq!(bob.next_message().await["message"], "still here");
    let texts = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(texts, vec!["accepted before", "still here"]);
}

#[tokio::test]
async fn rate_limit_refuses_with_retry_after_and_stores_nothing() {
    let mut config = test_config();
    config.chat_rate_limit = 3;
    config.chat_rate_period_secs = 30;
    let (app, tenant, stream) = app_with_room(config).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for i in 0..3 {
        alice.say(&format!("ok {i}")).await;
    }
    alice.next_where(|v| v["message"] == "ok 2").await;
    alice.say("one too many").await;
    let err = alice.next_error().await;
    assert_eq!(err["code"], "rate_limited");
    let retry = err["retry_after_ms"].as_u64().unwrap();
    assert!(retry > 0 && retry <= 10_000, "retry_after_ms {retry}");

    // The limit is per user, across sockets: a second socket of alice is limited too…
    let mut alice2 = app.ws(HOST, stream, "alice").await;
    alice2.say("again").await;
    assert_eq!(alice2.next_error().await["code"], "rate_limited");
    // …but bob is not.
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("bob here").await;
    assert_eq!(bob.next_message().await["message"], "bob here");

    let texts = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(texts, vec!["ok 0", "ok 1", "ok 2", "bob here"]);
}

#[tokio::test]
async fn join_and_leave_are_announced_once_per_user() {
    let (app, _tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    // Chat lines only: presence frames may arrive at any time.
    let chat = |v: &serde_json::Value| v["type"] == "chat.message";
    let own = alice.next_where(chat).await;
    assert_eq!(
        (own["message_type"].as_str(), own["username"].as_str()),
        (Some("join"), Some("alice"))
    );
    assert!(own.get("id").is_none(), "join notices are not stored");

    let bob_cookie = app.login(HOST, "bob").await;
    let mut bob1 = app.ws_with_cookie(HOST, stream, &bob_cookie).await;
    let join = alice.next_where(chat).await;
    assert_eq!(join["message_type"], "join");
    assert_eq!(join["username"], "bob");

    // A second socket of bob: no second join. Closing one socket: no leave.
    let mut bob2 = app.ws_with_cookie(HOST, stream, &bob_cookie).await;
    // Make sure bob2 is in the room before bob1 leaves.
    alice.say("sync").await;
    bob2.next_where(|v| v["message"] == "sync").await;
    bob1.next_where(|v| v["message"] == "sync").await;
    alice.next_where(|v| v["message"] == "sync").await;
    bob1.close().await;
    // Prove nothing was announced in between by sending a marker.
    alice.say("marker").await;
    let next = alice.next_where(chat).await;
    assert_eq!(
        next["message"], "marker",
        "no join/leave for bob's extra socket: {next}"
    );

    bob2.close().await;
    let leave = alice.next_where(chat).await;
    assert_eq!(leave["message_type"], "leave");
    assert_eq!(leave["username"], "bob");
}

#[tokio::test]
async fn graceful_shutdown_closes_sockets_with_1001_and_keeps_accepted_messages() {
    let (mut app, tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for i in 0..20 {
        alice.say(&format!("m{i}")).await;
    }
    alice.next_where(|v| v["message"] == "m19").await;
    app.stop().await;
    let close = alice.expect_close().await.expect("close frame");
    assert_eq!(u16::from(close.code), 1001);
    assert_eq!(stored_messages(app.pool(), &tenant, stream).await.len(), 20);
}

#[tokio::test]
async fn presence_is_announced_when_the_audience_changes() {
    let (app, _tenant, stream) = app_with_room(test_config()).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let p = alice
        .next_where(|v| v["type"] == "presence" && v["viewers"] == 1)
        .await;
    assert_eq!(p["chatters"], 0);
    let bob = app.ws(HOST, stream, "bob").await;
    alice
        .next_where(|v| v["type"] == "presence" && v["viewers"] == 2)
        .await;
    bob.close().await;
    alice
        .next_where(|v| v["type"] == "presence" && v["viewers"] == 1)
        .await;
}

#[tokio::test]
async fn big_rooms_skip_join_and_leave_notices() {
    let mut config = test_config();
    config.announce_joins_up_to = 1;
    let (app, _tenant, stream) = app_with_room(config).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let own = alice.next_type("chat.message").await;
    assert_eq!(own["message_type"], "join", "a small room announces");
    let _bob = app.ws(HOST, stream, "bob").await;
    alice.say("marker").await;
    let next = alice.next_type("chat.message").await;
    assert_eq!(
        next["message"], "marker",
        "bob's join in a room over the limit is not announced: {next}"
    );
}

/// Chat from many rooms of two tenants at once goes through the node-wide
/// committer, which merges rooms into shared statements; every room must
/// still get exactly its own messages, in the order they were sent, and its
/// per-minute count and chatter row.
#[tokio::test]
async fn concurrent_rooms_of_two_tenants_each_keep_their_own_messages_in_order() {
    const PER_ROOM: usize = 40;
    let app = TestApp::spawn_with(test_config()).await;
    let mut rooms = Vec::new();
    for (schema, host) in [("acme", HOST), ("globex", "globex.localhost")] {
        let tenant = app.tenant(schema, host).await;
        for r in 0..3 {
            let user = format!("u{r}");
            app.user(&tenant, &user, stampede::auth::Role::Viewer).await;
            let stream = app.stream(&tenant, &format!("{schema} {r}")).await;
            let ws = app.ws(host, stream, &user).await;
            rooms.push((tenant.clone(), stream, user, ws));
        }
    }
    // Every room's sender writes all its messages before anyone reads, so
    // the rooms' batches are in the committer at the same time.
    for (_, stream, _, ws) in rooms.iter_mut() {
        for i in 0..PER_ROOM {
            ws.say(&format!("s{stream} m{i}")).await;
        }
    }
    for (tenant, stream, user, ws) in rooms.iter_mut() {
        let mut last_id = 0;
        for i in 0..PER_ROOM {
            let m = ws.next_message().await;
            assert_eq!(m["message"], format!("s{stream} m{i}"), "room order kept");
            assert_eq!(m["username"], user.as_str());
            let id = m["id"].as_i64().unwrap();
            assert!(id > last_id, "ids ascend within a room");
            last_id = id;
        }
        let stored = stored_messages(app.pool(), tenant, *stream).await;
        let expected: Vec<_> = (0..PER_ROOM)
            .map(|i| {
                (
                    user.clone(),
                    format!("s{stream} m{i}"),
                    "message".to_string(),
                )
            })
            .collect();
        assert_eq!(
            stored, expected,
            "stored once each, in order, in its own room"
        );
        let (minutes, chatters): (i64, i64) = sqlx::query_as(&format!(
            "SELECT (SELECT COALESCE(sum(count), 0)::int8 FROM {s}.chat_messageminute WHERE stream_id = $1),
                    (SELECT count(*) FROM {s}.chat_chatter WHERE stream_id = $1)",
            s = tenant.schema
        ))
        .bind(*stream)
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!(minutes, PER_ROOM as i64, "per-minute count");
        assert_eq!(chatters, 1, "one chatter");
    }
}

/// The multi-room statement maps its rows back to the right room.
#[tokio::test]
async fn one_statement_stores_several_rooms_and_returns_each_rooms_rows() {
    use stampede::chat::MessageType;
    use stampede::store::messages::{insert_rooms, NewMessage, Stored};
    let (app, tenant, first) = app_with_room(test_config()).await;
    let second = app.stream(&tenant, "Second").await;
    let room = |stream| {
        let pool = app.pool().clone();
        let schema = tenant.schema.clone();
        async move {
            stampede::store::streams::room(&pool, &schema, stream)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let (a, b) = (room(first).await, room(second).await);
    let m = |text: &str| NewMessage {
        user_id: None,
        username: String::new(),
        content: text.into(),
        message_type: MessageType::System,
        client_id: None,
        badge: None,
        mentions: Vec::new(),
        reply_to: None,
        held: None,
    };
    let in_a = [m("a1"), m("a2")];
    let in_b = [m("b1"), m("b2"), m("b3")];
    let (batch_a, batch_b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let batches = [(batch_a, a, &in_a[..]), (batch_b, b, &in_b[..])];
    let stored = insert_rooms(app.pool(), &tenant.schema, &batches, &[])
        .await
        .unwrap();
    let new = |line: &Stored| match line {
        Stored::New(message) => message.clone(),
        other => panic!("not stored: {other:?}"),
    };
    let texts: Vec<Vec<String>> = stored
        .iter()
        .map(|room| room.iter().map(|c| new(c).message).collect())
        .collect();
    assert_eq!(texts, vec![vec!["a1", "a2"], vec!["b1", "b2", "b3"]]);
    for (stream, want) in [
        (first, ["a1", "a2"].as_slice()),
        (second, &["b1", "b2", "b3"]),
    ] {
        let got = stored_texts(app.pool(), &tenant, stream).await;
        assert_eq!(got, want);
    }
    // The ids handed back are the ids stored.
    let ids: Vec<i64> = stored.iter().flatten().filter_map(|c| new(c).id).collect();
    let (found,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM {}.chat_chatmessage WHERE id = ANY($1::int8[]::int4[])",
        tenant.schema
    ))
    .bind(&ids)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(found, 5);

    // The same batches again (a retry after a lost reply): nothing new is
    // stored, and what the first attempt stored comes back.
    let again = insert_rooms(app.pool(), &tenant.schema, &batches, &[])
        .await
        .unwrap();
    assert_eq!(again, stored);
    let got = stored_texts(app.pool(), &tenant, second).await;
    assert_eq!(got, ["b1", "b2", "b3"]);
}

/// A line whose `client_id` its sender already used in the room is not
/// stored; the line that used it comes back as a resend: from an earlier
/// batch, from the same batch, and on a retry of a batch that had both.
#[tokio::test]
async fn a_client_id_used_before_by_the_same_user_stores_nothing_and_returns_the_original() {
    use stampede::chat::MessageType;
    use stampede::store::messages::{insert_rooms, NewMessage, Stored};
    let (app, tenant, stream) = app_with_room(test_config()).await;
    let (alice, bob) = (
        app.user_id(&tenant, "alice").await,
        app.user_id(&tenant, "bob").await,
    );
    let room = stampede::store::streams::room(app.pool(), &tenant.schema, stream)
        .await
        .unwrap()
        .unwrap()
        .id;
    let m = |user: i32, text: &str, client_id: Option<&str>| NewMessage {
        user_id: Some(user),
        username: if user == alice { "alice" } else { "bob" }.into(),
        content: text.into(),
        message_type: MessageType::Message,
        client_id: client_id.map(str::to_owned),
        badge: None,
        mentions: Vec::new(),
        reply_to: None,
        held: None,
    };
    let store = |rows: Vec<NewMessage>| {
        let (pool, schema) = (app.pool().clone(), tenant.schema.clone());
        async move {
            let batch = [(uuid::Uuid::now_v7(), room, &rows[..])];
            let mut out = insert_rooms(&pool, &schema, &batch, &[]).await.unwrap();
            out.remove(0)
        }
    };
    let first = store(vec![m(alice, "hello", Some("c1"))]).await;
    let Stored::New(original) = &first[0] else {
        panic!("first use not stored: {first:?}")
    };
    assert_eq!(original.client_id.as_deref(), Some("c1"));
    // The same id again from alice (even with other text) is a resend; the
    // same id from bob, and a line without one, are new lines.
    let second = store(vec![
        m(alice, "hello again", Some("c1")),
        m(bob, "hi", Some("c1")),
        m(alice, "plain", None),
        m(alice, "twice", Some("c2")),
        m(alice, "twice", Some("c2")),
    ])
    .await;
    let resent = |line: &Stored| match line {
        Stored::Resent { original, deleted } => (original.clone(), *deleted),
        other => panic!("not a resend: {other:?}"),
    };
    let (again, deleted) = resent(&second[0]);
    assert!(!deleted);
    assert_eq!(again.id, original.id);
    assert_eq!(again.timestamp, original.timestamp);
    assert_eq!(
        again.message, "hello",
        "the original text, not the resend's"
    );
    assert!(matches!(&second[1], Stored::New(m) if m.username == "bob"));
    assert!(matches!(&second[2], Stored::New(m) if m.message == "plain"));
    let Stored::New(twice) = &second[3] else {
        panic!("first line with c2 not stored")
    };
    assert_eq!(resent(&second[4]).0.id, twice.id, "same batch, same id");
    let got = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(got, ["hello", "hi", "plain", "twice"]);

    // A retry of a batch that stored one line and found one resend returns
    // the same again and stores nothing.
    let rows = [m(bob, "b-new", Some("b9")), m(alice, "dup", Some("c1"))];
    let batch = [(uuid::Uuid::now_v7(), room, &rows[..])];
    let once = insert_rooms(app.pool(), &tenant.schema, &batch, &[])
        .await
        .unwrap();
    let twice = insert_rooms(app.pool(), &tenant.schema, &batch, &[])
        .await
        .unwrap();
    assert_eq!(once, twice);
    assert_eq!(resent(&twice[0][1]).0.id, original.id);
    let got = stored_texts(app.pool(), &tenant, stream).await;
    assert_eq!(got, ["hello", "hi", "plain", "twice", "b-new"]);

    // A deleted original still answers the resend, marked deleted; a claim
    // older than 24 hours no longer does.
    let original_id = original.id.unwrap();
    sqlx::query(&format!(
        "UPDATE {}.chat_chatmessage SET is_deleted = true WHERE id = $1",
        tenant.schema
    ))
    .bind(original_id as i32)
    .execute(app.pool())
    .await
    .unwrap();
    let (_, deleted) = resent(&store(vec![m(alice, "x", Some("c1"))]).await[0]);
    assert!(deleted);
    sqlx::query(&format!(
        "UPDATE {}.chat_clientmessage SET created_at = now() - interval '25 hours'",
        tenant.schema
    ))
    .execute(app.pool())
    .await
    .unwrap();
    let reused = store(vec![m(alice, "new day", Some("c1"))]).await;
    assert!(matches!(&reused[0], Stored::New(m) if m.message == "new day"));
    let (claims,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM {}.chat_clientmessage",
        tenant.schema
    ))
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(
        claims, 1,
        "expired claims are pruned; the reused one is fresh"
    );
}

/// The silence deadline: a socket that never answers a ping is closed, and
/// one that reads (and so answers) stays open across several intervals.
#[tokio::test]
async fn a_socket_that_never_answers_pings_is_closed_1001_and_a_reading_one_stays() {
    let mut config = test_config();
    config.ping_interval_secs = 1;
    let (app, _tenant, stream) = app_with_room(config).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let chat = |v: &serde_json::Value| v["type"] == "chat.message";
    let join = alice
        .next_where(|v| chat(v) && v["username"] == "bob")
        .await;
    assert_eq!(join["message_type"], "join");
    // Bob reads nothing from here on, so his pings go unanswered; Alice
    // keeps reading, which answers hers.
    let leave = alice
        .next_where(|v| chat(v) && v["username"] == "bob")
        .await;
    assert_eq!(leave["message_type"], "leave");
    alice.say("still here").await;
    assert_eq!(alice.next_message().await["message"], "still here");
    // Bob's socket has ended. Reading it answers the pings still buffered,
    // and the server may have dropped the connection already, so a write
    // error can come before the close frame; a close frame that arrives
    // says 1001 "no pong".
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let next = tokio::time::timeout(common::EVENT_TIMEOUT, bob.ws.next())
            .await
            .expect("bob's socket ends");
        match next {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1001);
                assert_eq!(frame.reason.as_str(), "no pong");
                break;
            }
            Some(Ok(Message::Close(None))) | Some(Err(_)) | None => break,
            Some(Ok(_)) => continue,
        }
    }
}

/// A refusal of a line sent with a `client_id` names it, so the sender
/// knows which line to give back; a malformed `client_id` is refused and the
/// line not stored.
#[tokio::test]
async fn refusals_name_the_client_id_of_the_line_they_refuse() {
    let mut config = test_config();
    config.max_message_chars = 10;
    let (app, tenant, stream) = app_with_room(config).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice
        .send_json(json!({"message": "   ", "client_id": "e-1"}))
        .await;
    let empty = alice.next_error().await;
    assert_eq!(
        (empty["code"].as_str(), empty["client_id"].as_str()),
        (Some("empty"), Some("e-1"))
    );
    alice
        .send_json(json!({"message": "far too long for this", "client_id": "e-2"}))
        .await;
    let long = alice.next_error().await;
    assert_eq!(
        (long["code"].as_str(), long["client_id"].as_str()),
        (Some("too_long"), Some("e-2"))
    );
    alice
        .send_json(json!({"message": "hi", "client_id": "no spaces"}))
        .await;
    let bad = alice.next_error().await;
    assert_eq!(bad["code"], "bad_request");
    assert!(bad.get("client_id").is_none());
    // Seed frames' refusals are as before; the connection still works.
    alice.say("").await;
    assert!(alice.next_error().await.get("client_id").is_none());
    alice
        .send_json(json!({"message": "ok", "client_id": "e-3"}))
        .await;
    assert_eq!(alice.next_message().await["client_id"], "e-3");
    assert_eq!(stored_texts(app.pool(), &tenant, stream).await, ["ok"]);
}
