//! A client that stops reading must not stall the room: its queue overflows,
//! it is closed with 4408 (reconnect), and everyone else keeps chatting.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{stage, test_config, viewers, HOST};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
/// Upper bound on what the sender pushes while waiting for the kick.
const MAX_MESSAGES: usize = 100_000;
/// Most of bob's messages in flight at once.
const WINDOW: usize = 300;

#[tokio::test]
async fn a_stalled_reader_is_closed_with_4408_and_the_room_keeps_going() {
    let mut config = test_config();
    config.chat_rate_limit = 1_000_000;
    config.outbound_queue = 400;
    let (app, _, stream) = stage(config, &viewers(["alice", "bob"])).await;

    // alice connects and then stops reading.
    let mut alice = app.ws(HOST, stream, "alice").await;
    let bob = app.ws(HOST, stream, "bob").await;
    let (mut bob_tx, mut bob_rx) = bob.ws.split();

    let kicked = Arc::new(AtomicBool::new(false));
    let reader_kicked = kicked.clone();
    // bob's echoes so far, so that the sender stays at most WINDOW ahead:
    // the flood must overflow alice's queue, not the room's storage queue.
    let (echoes_tx, mut echoes_rx) = tokio::sync::watch::channel(0usize);
    let reader = tokio::spawn(async move {
        let mut received = 0usize;
        while let Some(Ok(msg)) = bob_rx.next().await {
            if let Message::Text(t) = msg {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                if v["message_type"] == "message" {
                    received += 1;
                    let _ = echoes_tx.send(received);
                }
                if v["message_type"] == "leave" && v["username"] == "alice" {
                    reader_kicked.store(true, Ordering::SeqCst);
                    return (received, bob_rx);
                }
            }
        }
        panic!("bob's socket ended before alice was dropped");
    });

    let payload = "ぱ".repeat(500);
    let mut sent = 0usize;
    while !kicked.load(Ordering::SeqCst) && sent < MAX_MESSAGES {
        if sent >= WINDOW {
            let caught_up = echoes_rx.wait_for(|r| sent - r <= WINDOW);
            match tokio::time::timeout(common::EVENT_TIMEOUT, caught_up).await {
                Ok(Ok(_)) => {}
                // The reader ended: alice was dropped.
                Ok(Err(_)) => break,
                Err(_) => panic!("bob stopped receiving his own messages"),
            }
        }
        let frame = serde_json::json!({ "message": payload }).to_string();
        bob_tx.send(Message::Text(frame.into())).await.unwrap();
        sent += 1;
    }
    let (received, mut bob_rx) = tokio::time::timeout(common::EVENT_TIMEOUT * 6, reader)
        .await
        .expect("alice is dropped before the sender's bound")
        .unwrap();
    assert!(
        received > 400,
        "alice fell behind by more than her queue ({received} delivered to bob)"
    );

    // alice now reads what was in flight, then the close that tells her to reconnect.
    let close = alice.expect_close().await.expect("close frame");
    assert_eq!(u16::from(close.code), 4408);

    // bob was never blocked: he still chats.
    bob_tx
        .send(Message::Text(
            serde_json::json!({"message": "after"}).to_string().into(),
        ))
        .await
        .unwrap();
    loop {
        let msg = tokio::time::timeout(common::EVENT_TIMEOUT, bob_rx.next())
            .await
            .expect("bob receives")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            if t.as_str().contains("\"after\"") {
                break;
            }
        }
    }
}
