//! The `stampede` binary as operators' tools drive it.

mod common;

use std::process::Output;

use common::TestDb;

fn stampede(db: &TestDb, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("STAMPEDE_LOG")
        .output()
        .expect("run stampede")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure prints exactly one line, starting with `error:`, and exits non-zero.
fn assert_one_line_error(o: &Output, needle: &str) {
    assert!(!o.status.success(), "should fail: {}", stdout(o));
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err:?}");
    assert!(lines[0].starts_with("error: "), "{err:?}");
    assert!(
        lines[0].contains(needle),
        "{err:?} should mention {needle:?}"
    );
}

#[tokio::test]
async fn tenant_user_stream_lifecycle_and_errors() {
    let db = TestDb::create().await;

    let o = stampede(&db, &["migrate"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = stampede(
        &db,
        &[
            "tenant",
            "create",
            "--schema",
            "acme",
            "--domain",
            "acme.localhost",
            "--name",
            "Acme TV",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("acme"));

    let o = stampede(
        &db,
        &[
            "tenant",
            "create",
            "--schema",
            "acme",
            "--domain",
            "other.localhost",
        ],
    );
    assert_one_line_error(&o, "already exists");
    let o = stampede(
        &db,
        &[
            "tenant",
            "create",
            "--schema",
            "other",
            "--domain",
            "ACME.localhost",
        ],
    );
    assert_one_line_error(&o, "already in use");
    for bad in ["Acme", "1acme", "public", "pg_toast", "a-b", "x;drop"] {
        let o = stampede(
            &db,
            &[
                "tenant",
                "create",
                "--schema",
                bad,
                "--domain",
                "x.localhost",
            ],
        );
        assert_one_line_error(&o, "schema name");
    }

    let o = stampede(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--username",
            "alice",
            "--password",
            "secret",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = stampede(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--username",
            "sam",
            "--password",
            "secret",
            "--role",
            "streamer",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = stampede(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--username",
            "ALICE",
            "--password",
            "x",
        ],
    );
    assert_one_line_error(&o, "already exists");
    let o = stampede(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            "nope",
            "--username",
            "bob",
            "--password",
            "x",
        ],
    );
    assert_one_line_error(&o, "unknown tenant");
    let o = stampede(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--username",
            "<b>",
            "--password",
            "x",
        ],
    );
    assert_one_line_error(&o, "invalid username");
    let o = stampede(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--username",
            "bob",
            "--password",
            "x",
            "--role",
            "king",
        ],
    );
    assert!(!o.status.success());

    let o = stampede(
        &db,
        &[
            "stream", "create", "--tenant", "acme", "--title", "Launch", "--owner", "sam",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let id: i32 = stdout(&o)
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
    let o = stampede(
        &db,
        &[
            "stream", "create", "--tenant", "acme", "--title", "X", "--owner", "ghost",
        ],
    );
    assert_one_line_error(&o, "unknown user");

    // migrate is idempotent and reaches the tenant schema.
    let o = stampede(&db, &["migrate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 tenant"));
}

#[tokio::test]
async fn missing_database_url_is_a_clear_error() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_one_line_error(&o, "DATABASE_URL");
}

#[tokio::test]
async fn demo_is_idempotent() {
    let db = TestDb::create().await;
    for _ in 0..2 {
        let o = stampede(&db, &["demo"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("http://demo.localhost:8000/streams/"));
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
    let o = stampede(
        &db,
        &[
            "tenant",
            "create",
            "--schema",
            "acme",
            "--domain",
            "acme.localhost",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
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

    let good = write(
        "wave.svg",
        &svg(r#"<circle cx="5" cy="5" r="4" fill="gold"/>"#),
    );
    let o = stampede(
        &db,
        &[
            "stamp", "add", "--tenant", "acme", "--name", ":wave:", "--file", &good,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let id: i32 = stdout(&o).lines().next().unwrap().parse().unwrap();
    let (name, active): (String, bool) =
        sqlx::query_as("SELECT name, is_active FROM acme.chat_chatstamp WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), active), (":wave:", true));

    let o = stampede(
        &db,
        &[
            "stamp", "add", "--tenant", "acme", "--name", ":wave:", "--file", &good,
        ],
    );
    assert_one_line_error(&o, "already exists");
    let o = stampede(
        &db,
        &[
            "stamp", "add", "--tenant", "acme", "--name", "wave", "--file", &good,
        ],
    );
    assert_one_line_error(&o, "invalid stamp name");

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
        let o = stampede(
            &db,
            &[
                "stamp", "add", "--tenant", "acme", "--name", ":bad:", "--file", &path,
            ],
        );
        assert_one_line_error(&o, needle);
    }
    let o = stampede(
        &db,
        &[
            "stamp",
            "add",
            "--tenant",
            "acme",
            "--name",
            ":gone:",
            "--file",
            "/nonexistent.svg",
        ],
    );
    assert_one_line_error(&o, "cannot read or write");
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
    let o = stampede(&db, &["demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = std::env::temp_dir().join(format!("stampede-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("cookies.txt");
    let o = stampede(
        &db,
        &[
            "bench-setup",
            "--tenant",
            "demo",
            "--users",
            "2",
            "--streams",
            "3",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The first line is the stream ids, comma-separated, as the load generator takes them.
    let first = stdout(&o).lines().next().unwrap_or_default().to_owned();
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
