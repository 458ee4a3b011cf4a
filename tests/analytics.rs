//! Analytics: exact numbers from known data, rollups equal to raw rows, CSV,
//! validation, roles and tenant isolation.

mod common;

use common::{As, Reply, TestApp, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{Admin, Analyst, Moderator, Viewer};
use stampede::chat::MessageType;
use stampede::store::messages::{self, NewMessage};
use stampede::store::reactions::{self, NewReaction};
use stampede::tenant::Tenant;
use time::macros::datetime;

const GLOBEX: &str = "globex.localhost";

struct Seeded {
    stream: i32,
    users: Vec<i32>,
}

/// Reactions at 10:00 (stamp 1 ×3 by three users, stamp 4 ×1), 10:01
/// (stamp 1 ×2) and 10:07 (stamp 2 ×5), written in two overlapping batches
/// through the reaction writer's insert; three chat lines from two users;
/// viewer samples 5, 9, 7.
async fn seed(app: &TestApp, tenant: &Tenant) -> Seeded {
    let users = app
        .users(tenant, &common::viewers(["v1", "v2", "v3"]))
        .await;
    let stream = app.stream(tenant, "Analysed").await;
    let r = |user: i32, stamp: i32, at| NewReaction {
        stream_id: stream,
        user_id: user,
        stamp_id: stamp,
        created_at: at,
    };
    let (a, b, c) = (users[0], users[1], users[2]);
    let first = vec![
        r(a, 1, datetime!(2026-01-01 10:00:05)),
        r(b, 1, datetime!(2026-01-01 10:00:10)),
        r(a, 4, datetime!(2026-01-01 10:00:59)),
        r(a, 1, datetime!(2026-01-01 10:01:00)),
    ];
    let second = vec![
        r(c, 1, datetime!(2026-01-01 10:00:30)),
        r(a, 1, datetime!(2026-01-01 10:01:30)),
        r(b, 2, datetime!(2026-01-01 10:07:00)),
        r(b, 2, datetime!(2026-01-01 10:07:01)),
        r(b, 2, datetime!(2026-01-01 10:07:02)),
        r(b, 2, datetime!(2026-01-01 10:07:03)),
        r(b, 2, datetime!(2026-01-01 10:07:59)),
    ];
    reactions::insert_batch(app.pool(), &tenant.schema, &first)
        .await
        .unwrap();
    reactions::insert_batch(app.pool(), &tenant.schema, &second)
        .await
        .unwrap();

    let room = stampede::store::streams::room(app.pool(), &tenant.schema, stream)
        .await
        .unwrap()
        .unwrap();
    let m = |user: i32, name: &str| NewMessage {
        user_id: Some(user),
        username: name.into(),
        content: "hi".into(),
        message_type: MessageType::Message,
        client_id: None,
        badge: None,
        mentions: Vec::new(),
        reply_to: None,
        held: None,
    };
    messages::insert_rooms(
        app.pool(),
        &tenant.schema,
        &[(
            uuid::Uuid::now_v7(),
            room.id,
            &[m(a, "v1"), m(a, "v1"), m(b, "v2")],
        )],
        &[(room.id, a), (room.id, b)],
    )
    .await
    .unwrap();
    for (at, viewers) in [("10:00:00", 5), ("10:00:15", 9), ("10:00:30", 7)] {
        sqlx::query(&format!(
            "INSERT INTO {}.streaming_viewersample (stream_id, sampled_at, viewers) VALUES ($1, $2::timestamp, $3)",
            tenant.schema
        ))
        .bind(stream)
        .bind(format!("2026-01-01 {at}"))
        .bind(viewers)
        .execute(app.pool())
        .await
        .unwrap();
    }
    Seeded { stream, users }
}

/// A list of `{stamp_id, count}` as pairs.
fn counts(list: &Value) -> Vec<(i64, i64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["stamp_id"].as_i64().unwrap(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn series_summary_totals_and_csv_are_exact() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("ana", Analyst)]).await;
    let s = seed(&app, &tenant).await;
    let range = "from=2026-01-01T09:00:00Z&to=2026-01-01T12:00:00Z";
    let reactions = format!("/api/analytics/streams/{}/reactions", s.stream);
    let summary = format!("/api/analytics/streams/{}/summary", s.stream);

    let res = app
        .api(
            "GET",
            &format!("{reactions}?{range}&bucket=1m"),
            "ana",
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let series = res.body["series"].as_array().unwrap();
    let starts: Vec<&str> = series
        .iter()
        .map(|b| b["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-01-01T10:00:00Z",
            "2026-01-01T10:01:00Z",
            "2026-01-01T10:07:00Z"
        ]
    );
    assert_eq!(counts(&series[0]["counts"]), [(1, 3), (4, 1)]);
    assert_eq!(counts(&series[1]["counts"]), [(1, 2)]);
    assert_eq!(counts(&series[2]["counts"]), [(2, 5)]);
    assert_eq!(series[0]["counts"][0]["name"], ":smile:");

    let v = app
        .api(
            "GET",
            &format!("{reactions}?{range}&bucket=5m"),
            "ana",
            None,
        )
        .await
        .body;
    let series = v["series"].as_array().unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(counts(&series[0]["counts"]), [(1, 5), (4, 1)]);
    assert_eq!(series[1]["start"], "2026-01-01T10:05:00Z");
    assert_eq!(counts(&series[1]["counts"]), [(2, 5)]);
    let v = app
        .api(
            "GET",
            &format!("{reactions}?{range}&bucket=1h"),
            "ana",
            None,
        )
        .await
        .body;
    assert_eq!(counts(&v["series"][0]["counts"]), [(1, 5), (2, 5), (4, 1)]);
    assert_eq!(v["series"][0]["total"], 11);

    let res = app.api("GET", &summary, "ana", None).await;
    assert_eq!(res.status, 200);
    let sum = res.body;
    assert_eq!(sum["total_reactions"], 11);
    assert_eq!(sum["unique_reactors"], 3);
    assert_eq!(sum["total_chat_messages"], 3);
    assert_eq!(sum["unique_chatters"], 2);
    assert_eq!(sum["peak_messages_per_minute"], 3);
    assert_eq!(sum["peak_reactions_per_minute"], 5);
    assert_eq!(sum["peak_concurrent_viewers"], 9);
    assert_eq!(sum["title"], "Analysed");
    assert!(sum["duration_secs"].as_i64().unwrap() >= 0);
    assert_eq!(
        counts(&sum["top_stamps"]),
        [(1, 5), (2, 5), (4, 1)],
        "ranked, ties by id"
    );

    // Tenant-wide totals.
    let all = app
        .api(
            "GET",
            &format!("/api/analytics/reactions?{range}"),
            "ana",
            None,
        )
        .await
        .body;
    assert_eq!(all["total"], 11);
    assert_eq!(all["streams"][0]["stream_id"], s.stream);
    assert_eq!(all["streams"][0]["total"], 11);

    // CSV carries the same numbers.
    let res = app
        .api(
            "GET",
            &format!("{reactions}?{range}&bucket=1m&format=csv"),
            "ana",
            None,
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").starts_with("text/csv"));
    let lines: Vec<&str> = res.text.lines().collect();
    assert_eq!(
        lines,
        [
            "bucket_start,stamp_id,stamp_name,count",
            "2026-01-01T10:00:00Z,1,:smile:,3",
            "2026-01-01T10:00:00Z,4,:love:,1",
            "2026-01-01T10:01:00Z,1,:smile:,2",
            "2026-01-01T10:07:00Z,2,:surprise:,5",
        ]
    );
    let req = app.request_on(HOST, "GET", &summary, "ana").await;
    let csv = Reply::read(req.header("accept", "text/csv")).await.text;
    assert!(csv.contains("total_reactions,,,11\r\n"), "{csv}");
    assert!(csv.contains("unique_chatters,,,2\r\n"));
    assert!(csv.contains("reactions_by_stamp,1,:smile:,5\r\n"));
    let csv = app
        .api(
            "GET",
            &format!("/api/analytics/reactions?{range}&format=csv"),
            "ana",
            None,
        )
        .await
        .text;
    assert!(
        csv.contains(&format!("stream,{},Analysed,2,:surprise:,5", s.stream)),
        "{csv}"
    );

    // Bad parameters.
    for (query, what) in [
        (
            "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "from after to",
        ),
        ("bucket=2m", "unknown bucket"),
        (
            "from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=1m",
            "over 31 days at 1m",
        ),
        ("from=yesterday", "bad time"),
    ] {
        let res = app
            .api("GET", &format!("{reactions}?{query}"), "ana", None)
            .await;
        assert_eq!(res.status, 422, "{what}: {}", res.text);
        assert_eq!(res.body["error"], "invalid");
    }
    let res = app
        .api("GET", "/api/analytics/streams/999/summary", "ana", None)
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(s.users.len(), 3);
}

#[tokio::test]
async fn rollups_agree_with_raw_rows_and_backfill_rebuilds_them() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    let s = seed(&app, &tenant).await;
    let snapshot = |table: &'static str, cols: &'static str| {
        let pool = app.pool().clone();
        let schema = tenant.schema.clone();
        async move {
            sqlx::query_as::<_, (i32, i32, String, i64)>(&format!(
                "SELECT stream_id, {cols} FROM {schema}.{table} ORDER BY 1, 2, 3"
            ))
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let rollup = snapshot("streaming_reactionminute", "stamp_id, minute::text, count").await;
    let raw: Vec<(i32, i32, String, i64)> = sqlx::query_as(&format!(
        "SELECT stream_id, stamp_id, date_trunc('minute', created_at)::text, count(*)
         FROM {}.streaming_streamreaction GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        tenant.schema
    ))
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(rollup, raw);
    assert_eq!(rollup.iter().map(|r| r.3).sum::<i64>(), 11);

    // Damage the rollups, then rebuild them with the CLI.
    app.exec(&format!(
        "UPDATE {}.streaming_reactionminute SET count = 999",
        tenant.schema
    ))
    .await;
    app.cli("analytics backfill --tenant acme").await.ok();
    assert_eq!(
        snapshot("streaming_reactionminute", "stamp_id, minute::text, count").await,
        raw
    );
    let per_stream = |sql: &str| {
        let sql = format!(
            "{} WHERE stream_id = $1",
            sql.replace("{s}", tenant.schema.as_str())
        );
        let pool = app.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(s.stream)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let reactors = per_stream("SELECT count(*) FROM {s}.streaming_reactor").await;
    assert_eq!(reactors, 3);
    let chat = per_stream("SELECT sum(count)::int8 FROM {s}.chat_messageminute").await;
    assert_eq!(chat, 3);
}

#[tokio::test]
async fn only_analysts_and_admins_of_the_tenant_see_its_numbers() {
    let app = TestApp::spawn().await;
    let acme = app
        .acme(&[
            ("ana", Analyst),
            ("adam", Admin),
            ("vic", Viewer),
            ("mo", Moderator),
        ])
        .await;
    let globex = app.tenant("globex", GLOBEX).await;
    app.user(&globex, "gina", Analyst).await;
    let a = seed(&app, &acme).await;
    let g = app.stream(&globex, "Globex show").await;
    assert_eq!(a.stream, g, "same stream id in both tenants");
    let gu = app.user(&globex, "gv", Viewer).await;
    reactions::insert_batch(
        app.pool(),
        &globex.schema,
        &[NewReaction {
            stream_id: g,
            user_id: gu,
            stamp_id: 6,
            created_at: datetime!(2026-01-01 10:00:00),
        }],
    )
    .await
    .unwrap();

    let path = format!("/api/analytics/streams/{}/summary", a.stream);
    for who in ["vic", "mo"] {
        let res = app.api("GET", &path, who, None).await;
        assert_eq!(res.status, 403, "{who}");
        assert_eq!(res.body["error"], "forbidden");
    }
    assert_eq!(app.api("GET", &path, As::Anonymous, None).await.status, 401);
    let res = app.api("GET", &path, "adam", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["total_reactions"], 11);

    // globex's analyst sees globex's stream 1: one reaction, no chat.
    let sum = app.api_on(GLOBEX, "GET", &path, "gina", None).await.body;
    assert_eq!(sum["total_reactions"], 1);
    assert_eq!(
        sum["top_stamps"],
        json!([{"stamp_id": 6, "name": ":angry:", "image_url": "/media/stamps/06_angry.svg", "count": 1}])
    );
    // acme's analyst cookie means nothing on globex.
    let ana = app.login(HOST, "ana").await;
    let res = app
        .api_on(GLOBEX, "GET", &path, As::Cookie(&ana), None)
        .await;
    assert_eq!(res.status, 401);
    let res = app
        .api(
            "GET",
            "/api/analytics/reactions?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
            As::Cookie(&ana),
            None,
        )
        .await;
    assert_eq!(res.body["total"], 11);
}

#[tokio::test]
async fn live_reactions_chat_and_viewers_reach_the_summary() {
    let mut config = common::test_config();
    config.reaction_rate_per_sec = 1000;
    config.reaction_burst = 1000;
    let mut app = TestApp::spawn_with(config).await;
    let tenant = app.acme(&[("alice", Viewer), ("ana", Analyst)]).await;
    let stream = app.stream(&tenant, "Live").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for _ in 0..7 {
        alice
            .send_json(json!({"type": "reaction", "stamp_id": 3}))
            .await;
    }
    alice.say("one").await;
    alice.say("two").await;
    alice.next_where(|v| v["message"] == "two").await;
    // The sampler records the room's audience within one presence round.
    let sampled = format!(
        "SELECT count(*) FROM {}.streaming_viewersample WHERE stream_id = $1 AND viewers > 0",
        tenant.schema
    );
    common::eventually(
        common::EVENT_TIMEOUT,
        "no viewer sample was recorded",
        || async {
            let n: i64 = sqlx::query_scalar(&sampled)
                .bind(stream)
                .fetch_one(app.pool())
                .await
                .unwrap();
            (n > 0).then_some(())
        },
    )
    .await;
    let cookie = app.login(HOST, "ana").await;
    app.stop().await; // flushes the reaction writer
    let app2 = TestApp::serve(app.db.clone(), common::test_config()).await;
    let res = app2
        .api(
            "GET",
            &format!("/api/analytics/streams/{stream}/summary"),
            As::Cookie(&cookie),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let sum = res.body;
    assert_eq!(sum["total_reactions"], 7);
    assert_eq!(sum["unique_reactors"], 1);
    assert_eq!(sum["top_stamps"][0]["name"], ":cry:");
    assert_eq!(sum["total_chat_messages"], 2);
    assert_eq!(sum["unique_chatters"], 1);
    assert_eq!(sum["peak_concurrent_viewers"], 1);
}

/// The rebuild goes slice by slice while the writers keep writing: after
/// several backfills during a flow of reactions and chat, the rollups equal
/// the raw rows exactly.
#[tokio::test]
async fn backfill_during_a_flow_of_reactions_and_chat_loses_and_doubles_nothing() {
    const REACTIONS: usize = 600;
    const MESSAGES: usize = 60;
    let config = stampede::ServeConfig {
        reaction_rate_per_sec: 10_000,
        reaction_burst: 10_000,
        ..common::test_config()
    };
    let (mut app, tenant, stream) = common::stage(config, &common::viewers(["alice"])).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let schema = tenant.schema.clone();
    let pool = app.pool().clone();
    let flow = tokio::spawn(async move {
        for i in 0..REACTIONS {
            let stamp_id = 1 + (i % 3) as i64;
            alice
                .send_json(serde_json::json!({"type": "reaction", "stamp_id": stamp_id}))
                .await;
            if i % 10 == 9 {
                alice.say(&format!("m{i}")).await;
                // Paced, so the backfills below overlap the flow.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        alice
    });
    let mut backfills = 0;
    while !flow.is_finished() || backfills < 3 {
        stampede::store::analytics::backfill(&pool, &schema)
            .await
            .expect("backfill");
        backfills += 1;
    }
    let mut alice = flow.await.unwrap();
    // Every message echoed means every chat row is committed; a graceful
    // stop flushes the reactions.
    let mut echoed = 0;
    while echoed < MESSAGES {
        let v = alice.next_message().await;
        if v["username"] == "alice" && v["message_type"] == "message" {
            echoed += 1;
        }
    }
    app.stop().await;

    let one = |sql: String| {
        let pool = app.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let s = &tenant.schema;
    let raw = one(format!("SELECT count(*) FROM {s}.streaming_streamreaction")).await;
    let rolled = one(format!(
        "SELECT COALESCE(sum(count), 0)::int8 FROM {s}.streaming_reactionminute"
    ))
    .await;
    assert_eq!((raw, rolled), (REACTIONS as i64, REACTIONS as i64));
    let per_minute_mismatch = one(format!(
        "SELECT count(*) FROM (
             SELECT stream_id, stamp_id, date_trunc('minute', created_at) AS minute, count(*) AS n
             FROM {s}.streaming_streamreaction GROUP BY 1, 2, 3) raw
         FULL JOIN {s}.streaming_reactionminute m USING (stream_id, stamp_id, minute)
         WHERE raw.n IS DISTINCT FROM m.count"
    ))
    .await;
    assert_eq!(
        per_minute_mismatch, 0,
        "every minute's count equals its rows"
    );
    let chat = one(format!(
        "SELECT COALESCE(sum(count), 0)::int8 FROM {s}.chat_messageminute"
    ))
    .await;
    assert_eq!(chat, MESSAGES as i64);
    let reactors = one(format!("SELECT count(*) FROM {s}.streaming_reactor")).await;
    let chatters = one(format!("SELECT count(*) FROM {s}.chat_chatter")).await;
    assert_eq!((reactors, chatters), (1, 1));
    assert!(backfills >= 3);
}

/// `count` chat lines by `user_id` on `stream`, through the chat writer's
/// insert (so the per-minute rollup counts them now).
async fn chat_lines(app: &TestApp, tenant: &Tenant, stream: i32, user_id: i32, count: usize) {
    let room = stampede::store::streams::room(app.pool(), &tenant.schema, stream)
        .await
        .unwrap()
        .unwrap();
    let lines: Vec<NewMessage> = (0..count)
        .map(|i| NewMessage {
            user_id: Some(user_id),
            username: "v1".into(),
            content: format!("line {i}"),
            message_type: MessageType::Message,
            client_id: None,
            badge: None,
            mentions: Vec::new(),
            reply_to: None,
            held: None,
        })
        .collect();
    messages::insert_rooms(
        app.pool(),
        &tenant.schema,
        &[(uuid::Uuid::now_v7(), room.id, &lines)],
        &[(room.id, user_id)],
    )
    .await
    .unwrap();
}

/// An HTML page as a browser asks for it.
async fn page(app: &TestApp, path: &str, who: As<'_>) -> Reply {
    let req = app
        .request_on(HOST, "GET", path, who)
        .await
        .header("accept", "text/html");
    Reply::read(req).await
}

fn assert_error_page(res: &Reply, status: u16, message: &str) {
    assert_eq!(res.status, status, "{}", res.text);
    assert!(
        res.header("content-type").starts_with("text/html"),
        "an HTML page, not JSON: {}",
        res.header("content-type")
    );
    assert!(res.body.is_null(), "not JSON: {}", res.text);
    assert!(res.text.contains(message), "{message:?} in {}", res.text);
}

#[tokio::test]
async fn the_dashboard_lists_streams_with_chat_or_reactions_and_errs_as_a_page() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("ana", Analyst), ("vic", Viewer), ("mo", Moderator)])
        .await;
    let v1 = app.user(&tenant, "v1", Viewer).await;
    let reacted = app.stream(&tenant, "Reacted show").await;
    let chatty = app.stream(&tenant, "Chat only show").await;
    let quiet = app.stream(&tenant, "Quiet show").await;
    let now = time::OffsetDateTime::now_utc();
    let now = time::PrimitiveDateTime::new(now.date(), now.time());
    reactions::insert_batch(
        app.pool(),
        &tenant.schema,
        &[NewReaction {
            stream_id: reacted,
            user_id: v1,
            stamp_id: 2,
            created_at: now - time::Duration::minutes(3),
        }],
    )
    .await
    .unwrap();
    chat_lines(&app, &tenant, chatty, v1, 4).await;

    let res = page(&app, "/analytics", As::User("ana")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let html = &res.text;
    for (stream, title) in [(reacted, "Reacted show"), (chatty, "Chat only show")] {
        let link = format!(r#"<a href="/analytics/streams/{stream}">{title}</a>"#);
        assert!(html.contains(&link), "{title} listed: {html}");
    }
    assert!(!html.contains("Quiet show"), "{quiet} had nothing");
    // The chat-only row says 0 reactions and 4 chat messages.
    let row = html
        .split("<tr>")
        .find(|r| r.contains("Chat only show"))
        .unwrap();
    assert!(
        row.contains(r#"<td class="num">0</td>"#) && row.contains(r#"<td class="num">4</td>"#),
        "{row}"
    );

    // Unknown or malformed streams: the 404 page, not JSON.
    for path in ["/analytics/streams/999999", "/analytics/streams/abc"] {
        let res = page(&app, path, As::User("ana")).await;
        assert_error_page(&res, 404, "This stream does not exist.");
    }
    // Other roles: the 403 page; strangers: the login form, then back here.
    for who in ["vic", "mo"] {
        let res = page(
            &app,
            &format!("/analytics/streams/{reacted}"),
            As::User(who),
        )
        .await;
        assert_error_page(&res, 403, "Analytics are for the tenant");
    }
    let res = page(
        &app,
        &format!("/analytics/streams/{reacted}"),
        As::Anonymous,
    )
    .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location"),
        format!("/accounts/login?next=/analytics/streams/{reacted}")
    );
}

#[tokio::test]
async fn the_range_and_bucket_picker_is_validated_on_the_server() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("ana", Analyst)]).await;
    // Figures on 2026-01-01 for a stream that started now: its timeline
    // spans months, too long for 1-minute buckets.
    let s = seed(&app, &tenant).await;
    let path = format!("/analytics/streams/{}", s.stream);
    let ana = As::User("ana");

    for (query, status, message) in [
        (
            "range=2d",
            422,
            "Unknown range “2d”: choose 15m, 1h, 6h, 24h or all.",
        ),
        (
            "bucket=10s",
            422,
            "Unknown bucket “10s”: choose auto, 1m, 5m or 1h.",
        ),
        (
            "range=all&bucket=1m",
            422,
            "1 min buckets over this range would draw",
        ),
        (
            "range=1h&range=6h",
            400,
            "The range and bucket could not be read",
        ),
    ] {
        let res = page(&app, &format!("{path}?{query}"), ana).await;
        assert_error_page(&res, status, message);
    }

    // A valid pick: the form shows it, the charts and CSV link follow it.
    let res = page(&app, &format!("{path}?range=6h&bucket=5m"), ana).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let html = &res.text;
    assert!(html.contains(r#"<form method="get" action="/analytics/streams/"#));
    assert!(
        html.contains(r#"name="range" value="6h" checked"#),
        "{html}"
    );
    assert!(html.contains(r#"name="bucket" value="5m" checked"#));
    assert!(html.contains("5 min buckets"));
    assert!(html.contains("Reactions per 5 minutes by stamp"));
    // The CSV link downloads the reactions of this range, in these buckets.
    let csv = html
        .split(r#"<a href=""#)
        .find(|h| h.starts_with("/api/analytics/streams/") && h.contains("reactions?"))
        .and_then(|h| h.split('"').next())
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(csv.contains("bucket=5m&from="), "{csv}");
    let res = app.api("GET", &csv, "ana", None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.header("content-type").starts_with("text/csv"));
    // The whole (months long) stream with the automatic bucket: hourly, clipped.
    let res = page(&app, &path, ana).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains(r#"name="range" value="all" checked"#));
    assert!(res.text.contains("Auto (1 hour)"));
    assert!(res.text.contains("the latest part of a longer stream"));
    // The 15-minute window of 10:00–10:15 on 2026-01-01 is not where the
    // stream ends, so the charts are empty there, but the tiles still count.
    let res = page(&app, &format!("{path}?range=15m&bucket=1m"), ana).await;
    assert_eq!(res.status, 200);
    assert!(res.text.contains("No reactions yet"));
    assert!(res
        .text
        .contains(r#"<span class="value">11</span><span class="label">reactions</span>"#));
}

#[tokio::test]
async fn analysts_and_admins_see_the_analytics_link_in_the_header() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[
            ("ana", Analyst),
            ("adam", Admin),
            ("vic", Viewer),
            ("mo", Moderator),
        ])
        .await;
    let stream = app.stream(&tenant, "Linked").await;
    let link = r#"<a href="/analytics" class="nav-analytics""#;
    let watch = format!("/streams/{stream}");
    let analytics = format!("/analytics/streams/{stream}");
    for who in ["ana", "adam"] {
        for path in ["/", watch.as_str(), "/analytics", analytics.as_str()] {
            let res = page(&app, path, As::User(who)).await;
            assert_eq!(res.status, 200, "{who} {path}");
            let nav = res
                .text
                .split("<nav>")
                .nth(1)
                .unwrap()
                .split("</nav>")
                .next()
                .unwrap();
            assert!(nav.contains(link), "{who} on {path}: {nav}");
        }
    }
    for who in [As::User("vic"), As::User("mo"), As::Anonymous] {
        let res = page(&app, "/", who).await;
        assert_eq!(res.status, 200);
        assert!(!res.text.contains("/analytics"), "{who:?}: {}", res.text);
    }
    for who in ["vic", "mo"] {
        let res = page(&app, &watch, As::User(who)).await;
        assert_eq!(res.status, 200);
        assert!(!res.text.contains("/analytics"), "{who}");
    }
}

#[tokio::test]
async fn a_live_stream_page_refreshes_itself_and_an_ended_one_does_not() {
    let mut config = common::test_config();
    config.analytics_refresh_secs = 7;
    let app = TestApp::spawn_with(config).await;
    let tenant = app.acme(&[("ana", Analyst)]).await;
    let stream = app.stream(&tenant, "Refreshing").await;
    let path = format!("/analytics/streams/{stream}");

    let res = page(&app, &path, As::User("ana")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let html = &res.text;
    assert!(html.contains(r#"<script src="/static/analytics.js" defer></script>"#));
    assert!(html.contains(r#"data-stream-status="live" data-refresh-secs="7""#));
    assert!(html.contains(r#"<noscript><meta http-equiv="refresh" content="7"></noscript>"#));
    assert!(html.contains("Live: the figures refresh every 7 s."));
    // No inline script: the page's CSP allows only files from this origin
    // (the words block is JSON data, which no browser runs).
    for script in html.split("<script").skip(1) {
        assert!(
            script.starts_with(r#" src="/static/"#)
                || script.starts_with(r#" type="application/json" id="words">"#),
            "{script}"
        );
    }
    assert!(res
        .header("content-security-policy")
        .contains("script-src 'self'"));
    let js = app.get_bare("/static/analytics.js").await;
    assert_eq!(js.status, 200);
    assert!(js.header("content-type").starts_with("text/javascript"));
    assert!(js.text.contains("refreshSecs"));

    app.end_stream(&tenant, stream).await;
    let res = page(&app, &path, As::User("ana")).await;
    assert_eq!(res.status, 200);
    assert!(!res.text.contains("analytics.js"), "nothing to refresh");
    assert!(!res.text.contains("http-equiv=\"refresh\""));
    assert!(res
        .text
        .contains("The stream has ended; these are its final figures."));
}
