//! The Socket.IO transport (`/socket.io/`, issue 19) driven by the real
//! `socket.io-client` from npm in Node's test runner
//! (`tests/socketio/socketio.test.mjs`), against this real server: chat and
//! reactions shared with a raw WebSocket viewer, long-polling, refusals,
//! bans, resume. `scripts/test` installs the npm packages (`npm ci`).

mod common;

use std::path::Path;
use std::process::Stdio;

use common::TestApp;
use stampede::auth::Role::{Moderator, Viewer};

/// The tenant's host: an address Node resolves without help.
const LOOPBACK: &str = "127.0.0.1";

#[tokio::test]
async fn socket_io_clients_share_rooms_with_websocket_clients() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/socketio");
    assert!(
        dir.join("node_modules/socket.io-client").is_dir(),
        "the npm packages of tests/socketio are missing: run scripts/test, or `npm ci` in {}",
        dir.display()
    );
    let app = TestApp::spawn().await;
    let tenant = app.tenant("local", LOOPBACK).await;
    let cast = [
        ("alice", Viewer),
        ("bob", Viewer),
        ("carol", Viewer),
        ("mo", Moderator),
    ];
    app.users(&tenant, &cast).await;
    let stream = app.stream(&tenant, "Socket.IO").await;
    let mut cookies = serde_json::Map::new();
    for (name, _) in cast {
        cookies.insert(name.into(), app.login(LOOPBACK, name).await.into());
    }

    let output = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "socketio.test.mjs"])
        .current_dir(&dir)
        .env("STAMPEDE_URL", app.origin(LOOPBACK))
        .env("STAMPEDE_STREAM", stream.to_string())
        .env(
            "STAMPEDE_COOKIES",
            serde_json::Value::Object(cookies).to_string(),
        )
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run node (scripts/test installs it)");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "node tests failed:\n{report}");
    // Each test ran (a file that failed to load reports none).
    assert!(report.contains("pass 5"), "{report}");
}
