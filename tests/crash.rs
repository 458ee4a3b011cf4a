//! kill -9 under load loses nothing acknowledged: clients chat at a steady
//! rate against a real `stampede serve` process, which is killed with
//! SIGKILL mid-run; every message whose echo a client received is in
//! Postgres, and after a restart the clients reconnect and chat again.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{TestApp, TestDb, WsClient, EVENT_TIMEOUT};
use stampede::auth::Role;

const HOST: &str = "acme.localhost";
const CLIENTS: usize = 4;

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    async fn start(db: &TestDb, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &db.url)
            .env("STAMPEDE_CHAT_RATE_LIMIT", "100000")
            .env_remove("REDIS_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start stampede serve");
        let server = Server { child, port };
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT * 3;
        loop {
            let res = client
                .get(format!("http://127.0.0.1:{port}/health"))
                .send()
                .await;
            if res.is_ok_and(|r| r.status() == 200) {
                return server;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server never came up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill9(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SIGKILL: no shutdown, no flushing, no goodbyes.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(server: &Server, stream: i32, cookie: &str) -> WsClient {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let port = server.port;
    let mut req = format!("ws://{HOST}:{port}/ws/chat/stream_{stream}/")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", format!("http://{HOST}:{port}").parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .expect("handshake");
    WsClient { ws }
}

async fn login(port: u16, user: &str) -> String {
    let res = reqwest::Client::builder()
        .resolve(HOST, ([127, 0, 0, 1], port).into())
        .build()
        .unwrap()
        .post(format!("http://{HOST}:{port}/api/session"))
        .json(&serde_json::json!({"username": user, "password": format!("pw-{user}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    common::session_cookie(&res).unwrap()
}

/// Chats every 10 ms until the socket dies; returns the texts echoed back.
async fn chat_until_killed(mut ws: WsClient, me: usize) -> Vec<String> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut acked = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut n = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                n += 1;
                let frame = serde_json::json!({"message": format!("c{me}-{n}")}).to_string();
                if ws.ws.send(Message::Text(frame.into())).await.is_err() {
                    return acked;
                }
            }
            msg = ws.ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                    let text = v["message"].as_str().unwrap_or_default();
                    if v["type"] == "chat.message" && text.starts_with(&format!("c{me}-")) {
                        acked.push(text.to_owned());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return acked,
            }
        }
    }
}

#[tokio::test]
async fn kill_9_under_load_loses_nothing_acknowledged() {
    // The tenant and users are made through a short-lived in-process node
    // (its helpers), then the real binary serves the same database.
    let setup = TestApp::spawn().await;
    let tenant = setup.tenant("acme", HOST).await;
    for i in 0..CLIENTS {
        setup.user(&tenant, &format!("u{i}"), Role::Viewer).await;
    }
    let stream = setup.stream(&tenant, "Live").await;
    let db = setup.db.clone();
    drop(setup);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Server::start(&db, port).await;
    let mut cookies = Vec::new();
    let mut chatters = Vec::new();
    for i in 0..CLIENTS {
        let cookie = login(port, &format!("u{i}")).await;
        let ws = connect(&server, stream, &cookie).await;
        chatters.push(tokio::spawn(chat_until_killed(ws, i)));
        cookies.push(cookie);
    }
    // Let acknowledgements accumulate, then kill mid-stream.
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    loop {
        let stored = common::stored_messages(&db.pool, &tenant, stream)
            .await
            .len();
        if stored >= 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "chat never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    let mut acked = Vec::new();
    for chatter in chatters {
        acked.extend(
            tokio::time::timeout(EVENT_TIMEOUT, chatter)
                .await
                .expect("clients notice the kill")
                .unwrap(),
        );
    }
    assert!(acked.len() >= 100, "only {} acknowledged", acked.len());

    let stored: std::collections::HashSet<String> =
        common::stored_messages(&db.pool, &tenant, stream)
            .await
            .into_iter()
            .map(|(_, text, _)| text)
            .collect();
    let lost: Vec<&String> = acked.iter().filter(|t| !stored.contains(*t)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");

    // Restarted, the node takes the same clients back.
    let server = Server::start(&db, port).await;
    for (i, cookie) in cookies.iter().enumerate() {
        let mut ws = connect(&server, stream, cookie).await;
        let text = format!("c{i}-back");
        ws.say(&text).await;
        ws.next_where(|v| v["message"] == text.as_str()).await;
    }
}
