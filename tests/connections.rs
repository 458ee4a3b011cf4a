//! Slow and idle clients and connection floods, at the TCP level: half-open
//! requests and silent connections are closed, a trickled body answers 408,
//! idle keep-alive connections are closed, and one address can hold only so
//! many connections (WebSockets included).

mod common;

use common::{test_config, TestApp, EVENT_TIMEOUT, HOST};
use stampede::auth::Role;
use stampede::ServeConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn quick_timeouts() -> ServeConfig {
    ServeConfig {
        header_timeout_secs: 1,
        idle_timeout_secs: 2,
        body_timeout_secs: 1,
        ..test_config()
    }
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(EVENT_TIMEOUT, tcp.read(&mut chunk))
            .await
            .expect("the server should have closed the connection by now");
        match read {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
        }
    }
}

/// One complete request on a keep-alive connection; returns the status line.
async fn round_trip(tcp: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    // /health answers with a small JSON body and a content-length.
    loop {
        let n = tokio::time::timeout(EVENT_TIMEOUT, tcp.read(&mut chunk))
            .await
            .expect("a response")
            .expect("read");
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length: usize = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("content-length");
            if got.len() >= head_end + 4 + length {
                return text.lines().next().unwrap_or_default().to_owned();
            }
        }
    }
}

#[tokio::test]
async fn silent_and_half_sent_requests_are_closed_while_others_are_served() {
    let app = TestApp::spawn_with(quick_timeouts()).await;
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut partial = TcpStream::connect(app.addr).await.unwrap();
    partial
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut healthy = TcpStream::connect(app.addr).await.unwrap();
    assert!(round_trip(&mut healthy, "/health").await.contains(" 200 "));

    assert!(read_to_close(&mut silent).await.is_empty());
    assert!(read_to_close(&mut partial).await.is_empty());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_answering() {
    let app = TestApp::spawn_with(quick_timeouts()).await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    assert!(round_trip(&mut tcp, "/health").await.contains(" 200 "));
    assert!(round_trip(&mut tcp, "/health").await.contains(" 200 "));
    assert!(read_to_close(&mut tcp).await.is_empty());
}

#[tokio::test]
async fn a_trickled_body_answers_408() {
    let app = TestApp::spawn_with(quick_timeouts()).await;
    app.tenant("acme", HOST).await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(
        format!(
            "POST /api/session HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n\
             Content-Length: 60\r\n\r\n{{\"username\":"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut tcp).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn one_address_holds_a_bounded_number_of_connections_websockets_included() {
    let app = TestApp::spawn_with(ServeConfig {
        max_connections_per_ip: 4,
        ..test_config()
    })
    .await;
    let tenant = app.tenant("acme", HOST).await;
    let user_id = app.user(&tenant, "alice", Role::Viewer).await;
    let stream = app.stream(&tenant, "Live").await;
    // A session made directly, not by an HTTP login, whose connection could
    // still be counted when counting starts.
    let cookie = app
        .issue_session(&tenant, user_id, "alice", Role::Viewer)
        .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(app.addr).await.unwrap();
        assert!(round_trip(&mut tcp, "/health").await.contains(" 200 "));
        held.push(tcp);
    }
    // Two WebSockets: upgraded connections still count.
    let mut ws1 = app.ws_with_cookie(HOST, stream, &cookie).await;
    let _ws2 = app.ws_with_cookie(HOST, stream, &cookie).await;

    // Past the cap the connection is closed without an answer, repeatedly.
    for _ in 0..3 {
        let mut refused = TcpStream::connect(app.addr).await.unwrap();
        let _ = refused
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        assert!(read_to_close(&mut refused).await.is_empty());
    }
    // The held ones keep working.
    assert!(round_trip(&mut held[0], "/health").await.contains(" 200 "));
    ws1.say("still here").await;
    assert_eq!(ws1.next_message().await["message"], "still here");

    // Closing one frees its place.
    drop(held.pop());
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    loop {
        let mut again = TcpStream::connect(app.addr).await.unwrap();
        let request = format!("GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
        let _ = again.write_all(request.as_bytes()).await;
        let answer = read_first_bytes(&mut again).await;
        if answer.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(
            answer.is_empty(),
            "refused connections get no answer: {answer:?}"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed connection's place never came back"
        );
    }
}

/// The first bytes the server sends, or nothing if it closes first.
async fn read_first_bytes(tcp: &mut TcpStream) -> Vec<u8> {
    let mut chunk = [0u8; 64];
    match tokio::time::timeout(EVENT_TIMEOUT, tcp.read(&mut chunk)).await {
        Ok(Ok(n)) => chunk[..n].to_vec(),
        Ok(Err(_)) => Vec::new(),
        Err(_) => panic!("neither an answer nor a close"),
    }
}

#[tokio::test]
async fn the_private_metrics_listener_closes_silent_connections_too() {
    let port = common::free_port();
    let app = TestApp::spawn_with(ServeConfig {
        metrics_bind: Some(([127, 0, 0, 1], port).into()),
        ..quick_timeouts()
    })
    .await;
    // The public listener answering means the private one is bound.
    let mut healthy = TcpStream::connect(app.addr).await.unwrap();
    assert!(round_trip(&mut healthy, "/health").await.contains(" 200 "));
    let private = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut served = TcpStream::connect(private).await.unwrap();
    assert!(round_trip(&mut served, "/metrics").await.contains(" 200 "));
    let mut silent = TcpStream::connect(private).await.unwrap();
    let sent = read_to_close(&mut silent).await;
    assert!(sent.is_empty(), "closed without an answer: {sent:?}");
}
