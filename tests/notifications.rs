//! Personal notifications (issue 17): the personal socket, delivery to every
//! device on every node, unread state, follows, blocks, admins' messages,
//! coalescing and retention. Real servers, real sockets, real Redis.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ws::ws_connect;
use common::{
    free_port, handshake_body, handshake_status, run_cli, test_config, As, NodeProcess, TestApp,
    TestRedis, WsClient, HOST,
};
use serde_json::{json, Value};
use stampede::auth::Role::{Admin, Moderator, Viewer};
use stampede::channel_layer::{ChannelLayer, RedisLayer};
use stampede::notifications::{Kind, NewNotification, NotificationType, Notifier};
use stampede::shutdown::Shutdown;
use stampede::store::notifications::{self as store, NewRow};
use stampede::store::streams;
use stampede::tenant::Tenant;

const PATH: &str = "/ws/notifications/";

/// Opens `username`'s notification socket on `app` with the page's Origin.
async fn device(app: &TestApp, username: &str) -> WsClient {
    let cookie = app.session_of(HOST, username).await;
    device_with(app, &cookie).await
}

async fn device_with(app: &TestApp, cookie: &str) -> WsClient {
    ws_connect(app.addr, HOST, PATH, Some(cookie), Some(&app.origin(HOST)))
        .await
        .expect("notification socket handshake")
}

/// The first frame of every connection.
async fn sync(ws: &mut WsClient) -> Value {
    let v = ws.next_json().await;
    assert_eq!(v["type"], "notification.sync", "sync comes first: {v}");
    v
}

/// An admin's `system` notification to `username`.
async fn send_to(app: &TestApp, username: &str, title: &str) {
    let body = json!({"username": username, "title": title, "type": "success"});
    let reply = app.api("POST", "/api/notifications", "root", body).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
}

fn cast() -> Vec<(&'static str, stampede::auth::Role)> {
    vec![
        ("root", Admin),
        ("alice", Viewer),
        ("bob", Viewer),
        ("carol", Viewer),
        ("mo", Moderator),
    ]
}

async fn single() -> (TestApp, Tenant) {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&cast()).await;
    (app, tenant)
}

struct Cluster {
    redis: TestRedis,
    a: TestApp,
    b: TestApp,
    tenant: Tenant,
}

async fn cluster() -> Cluster {
    let (redis, a, b) = TestApp::two_nodes(test_config()).await;
    let tenant = a.acme(&cast()).await;
    Cluster {
        redis,
        a,
        b,
        tenant,
    }
}

#[tokio::test]
async fn two_devices_on_two_nodes_hear_new_notifications_and_read_marks() {
    let c = cluster().await;
    let mut phone = device(&c.a, "alice").await;
    let mut laptop = device(&c.b, "alice").await;
    assert_eq!(sync(&mut phone).await["unread"], 0);
    assert_eq!(sync(&mut laptop).await["unread"], 0);

    send_to(&c.a, "alice", "Welcome").await;
    let on_a = phone.next_type("notification.new").await;
    let on_b = laptop.next_type("notification.new").await;
    assert_eq!(on_a, on_b, "the same frame on both nodes");
    assert_eq!(on_a["unread"], 1);
    assert_eq!(on_a["coalesced"], 0);
    let n = &on_a["notification"];
    assert_eq!(
        (n["kind"].as_str(), n["type"].as_str()),
        (Some("system"), Some("success"))
    );
    assert_eq!(n["title"], "Welcome");
    assert!(n["read_at"].is_null());
    let id = n["id"].as_i64().unwrap();

    // Marked read over REST on node B: both devices hear it.
    let path = format!("/api/notifications/{id}/read");
    let reply = c.b.api("POST", &path, "alice", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body, json!({"ids": [id], "unread": 0}));
    let want = json!({"type": "notification.read", "ids": [id], "unread": 0});
    assert_eq!(phone.next_type("notification.read").await, want);
    assert_eq!(laptop.next_type("notification.read").await, want);

    // Marked read by a frame on node A's device: the laptop on B hears it.
    send_to(&c.b, "alice", "Second").await;
    let second = laptop.next_type("notification.new").await["notification"]["id"]
        .as_i64()
        .unwrap();
    phone.next_type("notification.new").await;
    phone
        .send_json(json!({"type": "notification.read", "id": second}))
        .await;
    let want = json!({"type": "notification.read", "ids": [second], "unread": 0});
    assert_eq!(laptop.next_type("notification.read").await, want);
    assert_eq!(phone.next_type("notification.read").await, want);

    // Someone else's devices heard nothing: bob's first frame after his
    // sync is his own notification.
    let mut bob = device(&c.b, "bob").await;
    sync(&mut bob).await;
    send_to(&c.a, "bob", "Only bob").await;
    assert_eq!(bob.next_json().await["notification"]["title"], "Only bob");
    drop(c.redis);
}

/// Notifications stored on one node while Redis was down never crossed to
/// the other; once Redis is back, that node's devices are told to
/// reconnect, and their sync brings what they missed.
#[tokio::test]
async fn devices_cut_off_by_a_redis_outage_resync_when_it_is_back() {
    let mut c = cluster().await;
    let mut laptop = device(&c.b, "alice").await;
    sync(&mut laptop).await;
    c.redis.kill();
    c.a.wait_for_layer("degraded").await;
    c.b.wait_for_layer("degraded").await;
    send_to(&c.a, "alice", "During the outage").await;
    c.redis.restart().await;
    c.a.wait_for_layer("connected").await;
    c.b.wait_for_layer("connected").await;
    assert_eq!(laptop.close_code().await, 4408);
    let mut laptop = device(&c.b, "alice").await;
    let synced = sync(&mut laptop).await;
    assert_eq!(synced["unread"], 1);
    assert_eq!(synced["latest"][0]["title"], "During the outage");
}

/// A notification produced by another process (e.g. chat code on another
/// node) through the library's `Notifier`, over the same Redis: mentions
/// skip recipients who blocked the sender, and the sender themself.
#[tokio::test]
async fn users_who_blocked_the_sender_never_get_its_mentions() {
    let c = cluster().await;
    let reply = c.a.api("POST", "/api/users/alice/block", "bob", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let blocks = c.a.api("GET", "/api/blocks", "bob", None).await.body;
    assert_eq!(blocks["blocks"][0]["username"], "alice");
    let itself = c.a.api("POST", "/api/users/bob/block", "bob", None).await;
    assert_eq!(itself.error(), (422, Some("invalid")));
    let nobody =
        c.a.api("POST", "/api/users/nobody/block", "bob", None)
            .await;
    assert_eq!(nobody.error(), (404, Some("not_found")));

    let mut bob = device(&c.a, "bob").await;
    let mut carol = device(&c.b, "carol").await;
    sync(&mut bob).await;
    sync(&mut carol).await;

    let redis =
        RedisLayer::start(stampede::redis_conn::RedisTarget::single(&c.redis.url()).unwrap());
    common::eventually(
        common::EVENT_TIMEOUT,
        "the producer's layer connects",
        || {
            let up = redis.is_connected();
            async move { up.then_some(()) }
        },
    )
    .await;
    let layer: Arc<dyn ChannelLayer> = Arc::new(redis);
    let notifier = Notifier::start(c.a.pool().clone(), layer, 64, &Shutdown::new());
    let alice = c.a.user_id(&c.tenant, "alice").await;
    let (bob_id, carol_id) = (
        c.a.user_id(&c.tenant, "bob").await,
        c.a.user_id(&c.tenant, "carol").await,
    );
    let mention = NewNotification::new(
        Kind::Mention,
        NotificationType::Info,
        "alice mentioned you",
        "hey @bob @carol",
        Some("/streams/1"),
    )
    .unwrap()
    .sent_by(alice);
    notifier
        .notify(&c.tenant, &[bob_id, carol_id, alice], mention)
        .unwrap();
    let got = carol.next_type("notification.new").await;
    assert_eq!(got["notification"]["kind"], "mention");

    // bob's next frame is the admin's, not the mention.
    send_to(&c.b, "bob", "After the mention").await;
    let next = bob.next_json().await;
    assert_eq!(next["notification"]["title"], "After the mention", "{next}");
    assert_eq!(next["unread"], 1);
    let stored: Vec<String> =
        c.a.column(&format!(
            "SELECT u.username FROM {s}.notifications_notification n
             JOIN {s}.accounts_user u ON u.id = n.user_id
             WHERE n.kind = 'mention' ORDER BY u.username",
            s = c.tenant.schema
        ))
        .await;
    assert_eq!(
        stored,
        vec!["carol"],
        "not bob (blocked), not alice (sender)"
    );

    // Unblocked, bob hears alice again.
    let reply =
        c.a.api("DELETE", "/api/users/alice/block", "bob", None)
            .await;
    assert_eq!(reply.body["blocked"], false);
    let again = NewNotification::new(
        Kind::Reply,
        NotificationType::Info,
        "alice replied",
        "",
        None,
    )
    .unwrap()
    .sent_by(alice);
    notifier.notify(&c.tenant, &[bob_id], again).unwrap();
    assert_eq!(bob.next_json().await["notification"]["kind"], "reply");
}

/// The start comes from the CLI, another process without any channel
/// layer: the servers learn of it through Postgres. A follower online gets
/// it live, one offline gets it in the sync when they connect, and each
/// exactly once.
#[tokio::test]
async fn followers_hear_of_a_stream_going_live_online_or_on_their_next_connect() {
    let (app, tenant) = single().await;
    let stream = streams::schedule(app.pool(), &tenant.schema, "Late show", None)
        .await
        .unwrap()
        .id;
    let follow = format!("/api/streams/{stream}/follow");
    for user in ["alice", "bob"] {
        let reply = app.api("POST", &follow, user, None).await;
        assert_eq!(reply.body, json!({"stream_id": stream, "following": true}));
    }
    let missing = app
        .api("POST", "/api/streams/9999/follow", "alice", None)
        .await;
    assert_eq!(missing.error(), (404, Some("not_found")));
    let follows = app.api("GET", "/api/follows", "alice", None).await.body;
    assert_eq!(follows["follows"][0]["stream_id"], stream);
    assert_eq!(follows["follows"][0]["title"], "Late show");

    let mut alice = device(&app, "alice").await;
    sync(&mut alice).await;
    let started = run_cli(
        Some(&app.db.url),
        &format!("stream start --tenant acme --id {stream}"),
    )
    .await;
    started.ok();

    let live = alice.next_type("notification.new").await;
    let n = &live["notification"];
    assert_eq!(n["kind"], "stream.live");
    assert_eq!(n["title"], "Late show is live");
    assert_eq!(n["link"], format!("/streams/{stream}"));
    assert_eq!(live["unread"], 1);

    // bob was offline: his first connect brings it.
    let mut bob = device(&app, "bob").await;
    let caught_up = sync(&mut bob).await;
    assert_eq!(caught_up["unread"], 1);
    assert_eq!(caught_up["latest"][0]["kind"], "stream.live");
    // Once each: a second start is refused, and the rows are two.
    let again = app
        .api(
            "POST",
            &format!("/api/streams/{stream}/start"),
            "root",
            None,
        )
        .await;
    assert_eq!(again.error(), (409, Some("conflict")));
    let rows: Vec<i64> = app
        .column(&format!(
            "SELECT count(*) FROM {}.notifications_notification WHERE kind = 'stream.live'",
            tenant.schema
        ))
        .await;
    assert_eq!(rows, vec![2]);
    let unfollow = app.api("DELETE", &follow, "alice", None).await;
    assert_eq!(unfollow.body["following"], false);
}

/// Delivery of a start on a second node, a separate process: the node that
/// holds the follower's device delivers it.
#[tokio::test]
async fn a_stream_start_through_one_node_reaches_a_device_on_another_process() {
    let (app, tenant) = single().await;
    let stream = streams::schedule(app.pool(), &tenant.schema, "Relay", None)
        .await
        .unwrap()
        .id;
    app.api(
        "POST",
        &format!("/api/streams/{stream}/follow"),
        "carol",
        None,
    )
    .await;
    let node = NodeProcess::start(&app.db.url, free_port(), None).await;
    let cookie = app.login(HOST, "carol").await;
    let mut carol = ws_connect(
        node.addr,
        HOST,
        PATH,
        Some(&cookie),
        Some(&node.origin(HOST)),
    )
    .await
    .expect("handshake on the second process");
    sync(&mut carol).await;
    let reply = app
        .api(
            "POST",
            &format!("/api/streams/{stream}/start"),
            "root",
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let live = carol.next_type("notification.new").await;
    assert_eq!(live["notification"]["title"], "Relay is live");
}

#[tokio::test]
async fn pages_walk_back_by_id_and_filter_unread() {
    let (app, tenant) = single().await;
    let alice = app.user_id(&tenant, "alice").await;
    let rows: Vec<NewRow> = (1..=7)
        .map(|n| NewRow {
            user_id: alice,
            kind_type: NotificationType::Info,
            kind: Kind::System,
            title: format!("n{n}"),
            title_key: None,
            title_args: Default::default(),
            body: String::new(),
            link: None,
            sender_id: None,
        })
        .collect();
    let stored = store::insert_rows(app.pool(), &tenant.schema, &rows)
        .await
        .unwrap();
    let ids: Vec<i64> = stored.iter().map(|(_, n)| n.id).collect();

    let page = app
        .api("GET", "/api/notifications?limit=3", "alice", None)
        .await
        .body;
    let titles = |page: &Value| common::strings(&page["notifications"], "title").join(",");
    assert_eq!(titles(&page), "n7,n6,n5");
    assert_eq!(page["unread"], 7);
    let before = page["next_before"].as_i64().unwrap();
    assert_eq!(before, ids[4]);
    let page = app
        .api(
            "GET",
            &format!("/api/notifications?limit=3&before={before}"),
            "alice",
            None,
        )
        .await
        .body;
    assert_eq!(titles(&page), "n4,n3,n2");
    let before = page["next_before"].as_i64().unwrap();
    let last = app
        .api(
            "GET",
            &format!("/api/notifications?limit=3&before={before}"),
            "alice",
            None,
        )
        .await
        .body;
    assert_eq!(titles(&last), "n1");
    assert!(last["next_before"].is_null());

    // Read two; unread-only pages skip them.
    for id in [ids[6], ids[5]] {
        let path = format!("/api/notifications/{id}/read");
        assert_eq!(app.api("POST", &path, "alice", None).await.status, 200);
    }
    let again = format!("/api/notifications/{}/read", ids[6]);
    let twice = app.api("POST", &again, "alice", None).await;
    assert_eq!(twice.body, json!({"ids": [], "unread": 5}), "already read");
    let unread = app
        .api(
            "GET",
            "/api/notifications?unread=true&limit=2",
            "alice",
            None,
        )
        .await
        .body;
    assert_eq!(titles(&unread), "n5,n4");
    let count = app
        .api("GET", "/api/notifications/unread-count", "alice", None)
        .await;
    assert_eq!(count.body, json!({"unread": 5}));

    // Someone else's notification, or none: 404. Bad limits: 422.
    let theirs = app.api("POST", &again, "bob", None).await;
    assert_eq!(theirs.error(), (404, Some("not_found")));
    for bad in ["limit=0", "limit=101", "before=x"] {
        let path = format!("/api/notifications?{bad}");
        let reply = app.api("GET", &path, "alice", None).await;
        assert_eq!(reply.error(), (422, Some("invalid")), "{bad}");
    }
    assert_eq!(
        app.api("GET", "/api/notifications", As::Anonymous, None)
            .await
            .error(),
        (401, Some("unauthorized"))
    );

    // A device connecting now is synced to the same state: the newest
    // first, read ones marked, at most 20.
    let mut ws = device(&app, "alice").await;
    let synced = sync(&mut ws).await;
    assert_eq!(synced["unread"], 5);
    assert_eq!(
        titles(&json!({"notifications": synced["latest"]})),
        "n7,n6,n5,n4,n3,n2,n1"
    );
    assert!(synced["latest"][0]["read_at"].is_string());
    assert!(synced["latest"][2]["read_at"].is_null());
    let many: Vec<NewRow> = rows.iter().cycle().take(23).cloned().collect();
    store::insert_rows(app.pool(), &tenant.schema, &many)
        .await
        .unwrap();
    let mut ws = device(&app, "alice").await;
    let synced = sync(&mut ws).await;
    assert_eq!(synced["unread"], 28);
    assert_eq!(synced["latest"].as_array().unwrap().len(), 20);

    let all = app
        .api("POST", "/api/notifications/read-all", "alice", None)
        .await
        .body;
    assert_eq!(all["unread"], 0);
    assert_eq!(all["ids"].as_array().unwrap().len(), 28);
    let read = ws.next_type("notification.read").await;
    assert_eq!(
        (
            read["ids"].as_array().unwrap().len(),
            read["unread"].as_i64()
        ),
        (28, Some(0))
    );
}

#[tokio::test]
async fn only_admins_send_and_what_they_send_is_checked() {
    let (app, _tenant) = single().await;
    let mut bob = device(&app, "bob").await;
    sync(&mut bob).await;
    let send = |user: &'static str, body: Value| {
        let app = &app;
        async move { app.api("POST", "/api/notifications", user, body).await }
    };
    let ok = json!({"username": "bob", "title": "Hi"});
    assert_eq!(
        send("bob", ok.clone()).await.error(),
        (403, Some("forbidden"))
    );
    assert_eq!(
        send("mo", ok.clone()).await.error(),
        (403, Some("forbidden"))
    );
    let cases = [
        (json!({"username": "bob", "title": ""}), 422),
        (json!({"username": "bob", "title": "t".repeat(201)}), 422),
        (
            json!({"username": "bob", "title": "t", "body": "b".repeat(2001)}),
            422,
        ),
        (
            json!({"username": "bob", "title": "t", "type": "fatal"}),
            422,
        ),
        (
            json!({"username": "bob", "title": "t", "link": "javascript:alert(1)"}),
            422,
        ),
        (
            json!({"username": "bob", "title": "t", "link": "//evil.example"}),
            422,
        ),
        (json!({"title": "t"}), 422),
        (json!({"username": "bob", "all": true, "title": "t"}), 422),
        (json!({"username": "nobody", "title": "t"}), 404),
        (json!({"username": "bob"}), 400),
    ];
    for (body, status) in cases {
        assert_eq!(send("root", body.clone()).await.status, status, "{body}");
    }
    let reply = send(
        "root",
        json!({"username": "bob", "title": "Maintenance", "body": "at 3am",
               "type": "warning", "link": "https://status.example.com/x"}),
    )
    .await;
    assert_eq!(reply.status, 202);
    let got = bob.next_type("notification.new").await;
    let n = &got["notification"];
    assert_eq!(
        (n["type"].as_str(), n["body"].as_str(), n["link"].as_str()),
        (
            Some("warning"),
            Some("at 3am"),
            Some("https://status.example.com/x")
        )
    );

    // To the whole tenant: every user, bob's device included.
    let reply = send("root", json!({"all": true, "title": "Hello everyone"})).await;
    assert_eq!(reply.body, json!({"queued": true, "to": "all"}));
    let got = bob.next_type("notification.new").await;
    assert_eq!(got["notification"]["title"], "Hello everyone");
    let counts: Vec<i64> = app
        .column(
            "SELECT count(*) FROM acme.notifications_notification WHERE title = 'Hello everyone'",
        )
        .await;
    assert_eq!(counts, vec![cast().len() as i64]);
}

#[tokio::test]
async fn timeouts_bans_and_unbans_tell_the_user_why() {
    let (app, tenant) = single().await;
    let stream = app.stream(&tenant, "Live").await;
    let mut bob = device(&app, "bob").await;
    sync(&mut bob).await;
    let bans = format!("/api/streams/{stream}/bans");
    let body = json!({"username": "bob", "duration_secs": 600, "reason": "spam <3"});
    assert_eq!(app.api("POST", &bans, "mo", body).await.status, 201);
    let got = bob.next_type("notification.new").await;
    let n = &got["notification"];
    assert_eq!(n["kind"], "moderation");
    assert_eq!(n["type"], "warning");
    assert_eq!(n["title"], "You were timed out for 10 minutes");
    assert_eq!(n["body"], "spam <3", "plain text, as typed");
    assert_eq!(n["link"], format!("/streams/{stream}"));

    let unban = format!("/api/streams/{stream}/bans/bob");
    assert_eq!(app.api("DELETE", &unban, "mo", None).await.status, 204);
    let got = bob.next_type("notification.new").await;
    assert_eq!(got["notification"]["type"], "success");
    assert_eq!(
        got["notification"]["title"],
        "Your ban on this stream was lifted"
    );
}

/// Titles the server writes are stored as a key and arguments and worded
/// in each reader's language: bob's Japanese phone and English laptop read
/// the same timeout in their own words, live, in the sync and over REST.
#[tokio::test]
async fn server_written_titles_are_worded_in_each_devices_language() {
    let (app, tenant) = single().await;
    let stream = app.stream(&tenant, "Live").await;
    let cookie = app.session_of(HOST, "bob").await;
    let japanese = format!("{cookie}; lang=ja");
    let mut laptop = device_with(&app, &cookie).await;
    sync(&mut laptop).await;
    let mut phone = device_with(&app, &japanese).await;
    sync(&mut phone).await;

    let bans = format!("/api/streams/{stream}/bans");
    let body = json!({"username": "bob", "duration_secs": 600, "scope": "tenant"});
    assert_eq!(app.api("POST", &bans, "root", body).await.status, 201);
    let en = laptop.next_type("notification.new").await;
    let ja = phone.next_type("notification.new").await;
    assert_eq!(
        en["notification"]["title"],
        "You were timed out for 10 minutes on every stream"
    );
    assert_eq!(
        ja["notification"]["title"],
        "すべての配信で10分のタイムアウトを受けました"
    );
    for n in [&en["notification"], &ja["notification"]] {
        assert_eq!(n["title_key"], "timeout");
        assert_eq!(n["title_args"], json!({"secs": "600", "scope": "tenant"}));
    }

    // A reconnecting Japanese device's sync, and the REST page by cookie.
    let mut again = device_with(&app, &japanese).await;
    let synced = sync(&mut again).await;
    assert_eq!(synced["latest"][0]["title"], ja["notification"]["title"]);
    let page = app
        .api("GET", "/api/notifications", As::Cookie(&japanese), None)
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        page.body["notifications"][0]["title"],
        ja["notification"]["title"]
    );
    // Stored in English, so that clients ignoring the key and old readers
    // of the table read a sentence.
    let stored: Vec<String> = app
        .column("SELECT title FROM acme.notifications_notification WHERE title_key = 'timeout'")
        .await;
    assert_eq!(stored, vec![en["notification"]["title"].as_str().unwrap()]);
}

/// Reads `notification.new` frames until they account for `burst`
/// notifications; returns how many frames that took. Consecutive frames
/// must be about the coalescing interval (1 s) apart: at least half of it,
/// so that scheduling jitter on a loaded machine (a frame read late, the
/// next on time) cannot fail the test, while frames sent without pacing
/// (milliseconds apart) do.
async fn read_burst(ws: &mut WsClient, burst: u64, last_title: &str) -> u64 {
    let (mut total, mut frames) = (0, 0);
    let mut last_at: Option<tokio::time::Instant> = None;
    while total < burst {
        let frame = ws.next_type("notification.new").await;
        let now = tokio::time::Instant::now();
        if let Some(prev) = last_at {
            let gap = now - prev;
            assert!(gap >= Duration::from_millis(500), "frames {gap:?} apart");
        }
        last_at = Some(now);
        frames += 1;
        total += 1 + frame["coalesced"].as_u64().expect("coalesced count");
        if total == burst {
            assert_eq!(frame["notification"]["title"], last_title, "the latest");
            assert_eq!(frame["unread"], burst);
        }
    }
    assert_eq!(total, burst, "every notification counted once");
    frames
}

/// A burst of mentions: each device gets at most one `notification.new` a
/// second, the latest each time, and the counts add up.
#[tokio::test]
async fn a_burst_reaches_each_device_as_at_most_one_frame_a_second() {
    let (app, tenant) = single().await;
    let alice = app.user_id(&tenant, "alice").await;
    let mut phone = device(&app, "alice").await;
    let mut laptop = device(&app, "alice").await;
    sync(&mut phone).await;
    sync(&mut laptop).await;
    const BURST: u64 = 40;
    let last_title = format!("burst {}", BURST - 1);
    // Both devices are read while the burst is sent, so each frame's
    // arrival is seen when it comes.
    let send = async {
        for n in 0..BURST {
            send_to(&app, "alice", &format!("burst {n}")).await;
        }
    };
    let ((), on_phone, on_laptop) = tokio::join!(
        send,
        read_burst(&mut phone, BURST, &last_title),
        read_burst(&mut laptop, BURST, &last_title)
    );
    assert!(
        on_phone < BURST && on_laptop < BURST,
        "coalesced: {on_phone}, {on_laptop} frames"
    );
    let stored: Vec<i64> = app
        .column(&format!(
            "SELECT count(*) FROM {}.notifications_notification WHERE user_id = {alice}",
            tenant.schema
        ))
        .await;
    assert_eq!(stored, vec![BURST as i64]);
}

#[tokio::test]
async fn the_socket_checks_origin_and_session_and_survives_bad_frames() {
    let (app, _tenant) = single().await;
    let cookie = app.session_of(HOST, "alice").await;
    let foreign = ws_connect(
        app.addr,
        HOST,
        PATH,
        Some(&cookie),
        Some("http://evil.example"),
    )
    .await
    .map(|_| ())
    .expect_err("a foreign origin is refused");
    assert_eq!(handshake_status(&foreign), 403);
    assert_eq!(handshake_body(&foreign)["error"], "bad_origin");
    let none = ws_connect(app.addr, HOST, PATH, Some(&cookie), None)
        .await
        .map(|_| ())
        .expect_err("no origin is refused");
    assert_eq!(handshake_status(&none), 403);
    let anonymous = ws_connect(app.addr, HOST, PATH, None, Some(&app.origin(HOST)))
        .await
        .map(|_| ())
        .expect_err("no session is refused");
    assert_eq!(handshake_status(&anonymous), 401);

    let mut ws = device_with(&app, &cookie).await;
    sync(&mut ws).await;
    ws.send_text("not json").await;
    assert_eq!(ws.next_error().await["code"], "bad_json");
    ws.send_json(json!({"type": "notification.read"})).await;
    assert_eq!(ws.next_error().await["code"], "bad_json");
    ws.send_json(json!({"type": "chat.message", "id": 1})).await;
    assert_eq!(ws.next_error().await["code"], "unknown_type");
    ws.send_json(json!({"type": "notification.read", "id": 424242}))
        .await;
    assert_eq!(ws.next_error().await["code"], "not_found");
    // Still open: it receives what comes next.
    send_to(&app, "alice", "still here").await;
    let got = ws.next_type("notification.new").await;
    assert_eq!(got["notification"]["title"], "still here");

    // Logout closes it, as it closes chat sockets.
    app.logout(&cookie).await;
    assert_eq!(ws.close_code().await, 4401);
}

/// Tenants share nothing: user ids repeat across schemas, and a cookie of
/// one tenant is no session on another.
#[tokio::test]
async fn a_tenants_notifications_stay_in_that_tenant() {
    const GLOBEX: &str = "globex.localhost";
    let (app, acme) = single().await;
    let globex = app.tenant("globex", GLOBEX).await;
    app.users(&globex, &cast()).await;
    assert_eq!(
        app.user_id(&acme, "alice").await,
        app.user_id(&globex, "alice").await,
        "the same id in both schemas"
    );
    let cookie = app.session_of(GLOBEX, "alice").await;
    let origin = app.origin(GLOBEX);
    let mut theirs = ws_connect(app.addr, GLOBEX, PATH, Some(&cookie), Some(&origin))
        .await
        .expect("globex handshake");
    sync(&mut theirs).await;
    let acme_cookie = app.session_of(HOST, "alice").await;
    let wrong = ws_connect(app.addr, GLOBEX, PATH, Some(&acme_cookie), Some(&origin))
        .await
        .map(|_| ())
        .expect_err("acme's cookie on globex");
    assert_eq!(handshake_status(&wrong), 401);

    send_to(&app, "alice", "For acme's alice").await;
    let body = json!({"username": "alice", "title": "For globex's alice"});
    let reply = app
        .api_on(GLOBEX, "POST", "/api/notifications", "root", body)
        .await;
    assert_eq!(reply.status, 202);
    let got = theirs.next_type("notification.new").await;
    assert_eq!(got["notification"]["title"], "For globex's alice");
    assert_eq!(got["unread"], 1);
}

#[tokio::test]
async fn the_sweep_deletes_only_old_read_notifications() {
    let (app, tenant) = single().await;
    let alice = app.user_id(&tenant, "alice").await;
    let s = &tenant.schema;
    app.exec(&format!(
        "INSERT INTO {s}.notifications_notification (user_id, kind, title, read_at, created_at) VALUES
         ({alice}, 'system', 'old read', now() - interval '91 days', now() - interval '100 days'),
         ({alice}, 'system', 'old unread', NULL, now() - interval '100 days'),
         ({alice}, 'system', 'recent read', now(), now() - interval '89 days'),
         ({alice}, 'system', 'new', NULL, now())"
    ))
    .await;
    let deleted = stampede::notifications::retention::sweep(app.pool(), 90)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    let left: Vec<String> = app
        .column(&format!(
            "SELECT title FROM {s}.notifications_notification ORDER BY id"
        ))
        .await;
    assert_eq!(left, vec!["old unread", "recent read", "new"]);
    // A shorter retention reaches further.
    assert_eq!(
        stampede::notifications::retention::sweep(app.pool(), 30)
            .await
            .unwrap(),
        1
    );
}
