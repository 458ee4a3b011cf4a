//! The TypeScript client, `clients/js` (`@stampede/client`), tested by its
//! own Node tests against real `stampede serve` processes that those tests
//! start and kill themselves. This file prepares what they need (a fresh
//! database with a tenant, users and streams, a private Redis) and runs
//! `node --test` in `clients/js`; it also keeps the schema copy that the
//! client's types are generated from in step with the server.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestApp, TestRedis};
use serde_json::{json, Map};
use stampede::auth::Role::{self, Moderator, Viewer};

/// The tenant's domain: Node reaches it by address.
const HOST: &str = "127.0.0.1";

/// `clients/js` in this checkout.
fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/js")
}

/// `clients/js/schema/events.json` is the server's frame schema, exactly as
/// served at `/api/schema/events.json`: `npm run generate` turns it into
/// `src/frames.ts`, and a Node test checks that the committed types are what
/// it generates. Run with `STAMPEDE_BLESS=1` to rewrite it after changing a
/// frame type.
#[test]
fn the_schema_copy_is_the_servers_schema() {
    let path = package_dir().join("schema/events.json");
    let current = format!("{}\n", stampede::wire::schema::events_json());
    if std::env::var_os("STAMPEDE_BLESS").is_some() {
        std::fs::write(&path, &current).expect("write the schema copy");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "{} is not the server's frame schema: run \
         `STAMPEDE_BLESS=1 cargo test --test js_client the_schema_copy`, then \
         `npm run generate && npm run build` in clients/js",
        path.display()
    );
}

/// The fixture users: (name, role). Passwords are `pw-{name}`.
const CAST: &[(&str, Role)] = &[
    ("alice", Viewer),
    ("bob", Viewer),
    ("carol", Viewer),
    ("dave", Viewer),
    ("erin", Viewer),
    ("mo", Moderator),
];

/// One stream per scenario, so that none sees another's lines or bans.
const STREAMS: &[&str] = &["chat", "resume", "ban", "twonode", "history", "readonly"];

/// `node --test` in `clients/js`, against `stampede serve` processes the
/// Node tests start themselves on this test's fresh database and private
/// Redis. Node and the package's `npm ci` are prerequisites (scripts/test
/// installs both): without them this fails, saying what to run.
#[tokio::test(flavor = "multi_thread")]
async fn the_node_tests_pass_against_real_servers() {
    let dir = package_dir();
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|out| out.status.success()),
        "node is not installed: the JS client's tests need Node.js 20+ \
         (scripts/test installs it, or apt-get install nodejs npm)"
    );
    assert!(
        dir.join("node_modules/ws/package.json").exists(),
        "{}/node_modules is missing: run `npm ci` there (scripts/test does)",
        dir.display()
    );

    // A tenant on 127.0.0.1, so that Node connects by address with a
    // matching Host and Origin (no name resolution for *.localhost needed).
    let mut app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    app.users(&tenant, CAST).await;
    let mut streams = Map::new();
    for name in STREAMS {
        streams.insert((*name).into(), json!(app.stream(&tenant, name).await));
    }
    let db_url = app.db.url.clone();
    let redis = TestRedis::start().await;
    let fixtures = json!({
        "bin": env!("CARGO_BIN_EXE_stampede"),
        "databaseUrl": db_url,
        "redisUrl": redis.url(),
        "host": HOST,
        "users": CAST.iter().map(|(name, role)| (name.to_string(), json!({
            "password": format!("pw-{name}"),
            "role": role.as_str(),
        }))).collect::<Map<_, _>>(),
        "streams": streams,
    });
    // The in-process server only made the fixtures; the Node tests run their own.
    app.stop().await;

    let out = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=tap"])
        .arg("tests/")
        .current_dir(&dir)
        .env("STAMPEDE_JS_FIXTURES", fixtures.to_string())
        .output()
        .await
        .expect("run node --test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = format!("node --test in {}:\n{stdout}\n{stderr}", dir.display());
    assert!(out.status.success(), "{report}");
    // Every test ran: none skipped for want of a fixture.
    assert!(stdout.contains("\n# skipped 0\n"), "{report}");
    assert!(stdout.contains("\n# fail 0\n"), "{report}");
    drop(redis);
}
