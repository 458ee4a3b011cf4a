//! The `stampede` binary as operators' tools drive it.

mod common;

use common::{run_cli, TestDb};

#[tokio::test]
async fn tenant_user_stream_lifecycle_and_errors() {
    let db = TestDb::create().await;

    db.cli("migrate").await.ok();

    let out = db
        .cli(r#"tenant create --schema acme --domain acme.localhost --name "Acme TV""#)
        .await;
    assert!(out.ok().contains("acme"));

    for (args, error) in [
        (
            "tenant create --schema acme --domain other.localhost",
            "already exists",
        ),
        (
            "tenant create --schema other --domain ACME.localhost",
            "already in use",
        ),
    ] {
        db.cli(args).await.assert_one_line_error(error);
    }
    for bad in ["Acme", "1acme", "public", "pg_toast", "a-b", "x;drop"] {
        db.cli(&format!(
            "tenant create --schema {bad} --domain x.localhost"
        ))
        .await
        .assert_one_line_error("schema name");
    }

    db.cli("user create --tenant acme --username alice --password secret")
        .await
        .ok();
    db.cli("user create --tenant acme --username sam --password secret --role streamer")
        .await
        .ok();
    for (args, error) in [
        (
            "user create --tenant acme --username ALICE --password x",
            "already exists",
        ),
        (
            "user create --tenant nope --username bob --password x",
            "unknown tenant",
        ),
        (
            "user create --tenant acme --username <b> --password x",
            "invalid username",
        ),
    ] {
        db.cli(args).await.assert_one_line_error(error);
    }
    let out = db
        .cli("user create --tenant acme --username bob --password x --role king")
        .await;
    assert!(!out.succeeded());

    let out = db
        .cli("stream create --tenant acme --title Launch --owner sam")
        .await;
    let id: i32 = out
        .ok()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .expect("first line is the id");
    let (title, owner, room): (String, String, String) = sqlx::query_as(
        "SELECT s.title, u.username, r.name FROM acme.streaming_stream s
         JOIN acme.accounts_user u ON u.id = s.owner_id
         JOIN acme.chat_chatroom r ON r.stream_id = s.id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (title.as_str(), owner.as_str(), room.as_str()),
        ("Launch", "sam", format!("stream_{id}").as_str())
    );
    db.cli("stream create --tenant acme --title X --owner ghost")
        .await
        .assert_one_line_error("unknown user");

    // migrate is idempotent and reaches the tenant schema.
    assert!(db.cli("migrate").await.ok().contains("1 tenant"));
}

#[tokio::test]
async fn missing_database_url_is_a_clear_error() {
    run_cli(None, "migrate")
        .await
        .assert_one_line_error("DATABASE_URL");
}

#[tokio::test]
async fn demo_is_idempotent() {
    let db = TestDb::create().await;
    for _ in 0..2 {
        let out = db.cli("demo").await;
        assert!(out.ok().contains("http://demo.localhost:8000/streams/"));
    }
    let (users, live): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM demo.accounts_user), (SELECT count(*) FROM demo.streaming_stream WHERE status = 'live')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((users, live), (6, 1));
    let domains: Vec<String> =
        sqlx::query_scalar("SELECT domain FROM public.tenant_domains ORDER BY domain")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert!(domains.contains(&"demo.localhost".to_owned()));
}

#[tokio::test]
async fn stamp_add_accepts_clean_svg_and_refuses_dangerous_ones() {
    let db = TestDb::create().await;
    db.cli("tenant create --schema acme --domain acme.localhost")
        .await
        .ok();
    let dir = std::env::temp_dir().join(format!("stampede-svg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let svg = |inner: &str| {
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{inner}</svg>"#)
    };
    let add = |name: &str, file: &str| {
        let args = format!("stamp add --tenant acme --name {name} --file '{file}'");
        let db = &db;
        async move { db.cli(&args).await }
    };

    let good = write(
        "wave.svg",
        &svg(r#"<circle cx="5" cy="5" r="4" fill="gold"/>"#),
    );
    let out = add(":wave:", &good).await;
    let id: i32 = out.ok().lines().next().unwrap().parse().unwrap();
    let (name, active): (String, bool) =
        sqlx::query_as("SELECT name, is_active FROM acme.chat_chatstamp WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), active), (":wave:", true));

    add(":wave:", &good)
        .await
        .assert_one_line_error("already exists");
    add("wave", &good)
        .await
        .assert_one_line_error("invalid stamp name");

    let cases = [
        ("script.svg", svg("<script>alert(1)</script>"), "script"),
        (
            "onload.svg",
            svg(r#"<circle r="1" onload="alert(1)"/>"#),
            "event handler",
        ),
        (
            "external.svg",
            svg(r#"<use href="https://evil.test/x.svg#a"/>"#),
            "external reference",
        ),
        (
            "css.svg",
            svg(r#"<rect fill="url(http://evil.test/p)"/>"#),
            "external reference",
        ),
        (
            "html.svg",
            "<html><body/></html>".to_owned(),
            "root element",
        ),
    ];
    for (file, body, needle) in cases {
        let path = write(file, &body);
        add(":bad:", &path).await.assert_one_line_error(needle);
    }
    add(":gone:", "/nonexistent.svg")
        .await
        .assert_one_line_error("cannot read or write");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM acme.chat_chatstamp")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        count, 7,
        "six built-ins plus :wave:, nothing refused was stored"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bench_setup_makes_live_streams_and_working_session_cookies() {
    let db = TestDb::create().await;
    db.cli("demo").await.ok();
    let dir = std::env::temp_dir().join(format!("stampede-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("cookies.txt");
    let o = db
        .cli(&format!(
            "bench-setup --tenant demo --users 2 --streams 3 --out '{}'",
            out.display()
        ))
        .await;
    // The first line is the stream ids, comma-separated, as the load generator takes them.
    let first = o.ok().lines().next().unwrap_or_default().to_owned();
    let ids: Vec<i32> = first
        .split(',')
        .map(|id| id.parse().expect("numeric stream id"))
        .collect();
    assert_eq!(ids.len(), 3, "{first:?}");
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM demo.streaming_stream WHERE status = 'live' AND id = ANY($1)",
    )
    .bind(&ids)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(live, 3);
    let cookies: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(cookies.len(), 2);
    assert!(cookies.iter().all(|c| c.starts_with("sessionid=")));
    std::fs::remove_dir_all(&dir).ok();

    // The cookies log their users in without a password round.
    let app = common::TestApp::serve(std::sync::Arc::new(db), common::test_config()).await;
    let mut ws = app
        .ws_with_cookie("demo.localhost", ids[2], &cookies[1])
        .await;
    ws.say("hello from the bench").await;
    let echo = ws.next_message().await;
    assert_eq!(echo["username"], "bench2");
    assert_eq!(echo["message"], "hello from the bench");
}
