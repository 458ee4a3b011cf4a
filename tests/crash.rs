//! kill -9 under load loses nothing acknowledged: clients chat at a steady
//! rate against a real `stampede serve` process, which is killed with
//! SIGKILL mid-run; every message whose echo a client received is in
//! Postgres, and after a restart the clients resume from their last offset
//! (the log died with the process, so they get the history instead, up to
//! the last stored line) and chat again.

mod common;

use std::time::Duration;

use common::{
    eventually, free_port, stage, stored_messages, test_config, viewers, NodeProcess, WsClient,
    EVENT_TIMEOUT, HOST,
};

const CLIENTS: usize = 4;

/// What a client saw before the kill: its texts echoed back, and the last
/// log position (offset, epoch) it received, to resume from.
struct Seen {
    acked: Vec<String>,
    last: Option<(u64, String)>,
}

/// Chats every 10 ms until the socket dies.
async fn chat_until_killed(mut ws: WsClient, me: usize) -> Seen {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut acked = Vec::new();
    let mut last = None;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut n = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                n += 1;
                let frame = serde_json::json!({"message": format!("c{me}-{n}")}).to_string();
                if ws.ws.send(Message::Text(frame.into())).await.is_err() {
                    return Seen { acked, last };
                }
            }
            msg = ws.ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                    if let (Some(offset), Some(epoch)) = (v["offset"].as_u64(), v["epoch"].as_str()) {
                        last = Some((offset, epoch.to_owned()));
                    }
                    let text = v["message"].as_str().unwrap_or_default();
                    if v["type"] == "chat.message" && text.starts_with(&format!("c{me}-")) {
                        acked.push(text.to_owned());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Seen { acked, last },
            }
        }
    }
}

#[tokio::test]
async fn kill_9_under_load_loses_nothing_acknowledged() {
    // The tenant and users are made through a short-lived in-process node
    // (its helpers), then the real binary serves the same database.
    let cast = viewers((0..CLIENTS).map(|i| format!("u{i}")));
    let (setup, tenant, stream) = stage(test_config(), &cast).await;
    let db = setup.db.clone();
    drop(setup);

    let port = free_port();
    let mut server = NodeProcess::start(&db.url, port, None).await;
    let mut cookies = Vec::new();
    let mut chatters = Vec::new();
    for (i, (name, _)) in cast.iter().enumerate() {
        let cookie = server.login(HOST, name).await;
        let ws = server.ws_with_cookie(HOST, stream, &cookie).await;
        chatters.push(tokio::spawn(chat_until_killed(ws, i)));
        cookies.push(cookie);
    }
    // Let acknowledgements accumulate, then kill mid-stream.
    eventually(EVENT_TIMEOUT, "chat never got going", || async {
        let stored = stored_messages(&db.pool, &tenant, stream).await;
        (stored.len() >= 200).then_some(())
    })
    .await;
    server.crash();
    let mut acked = Vec::new();
    let mut positions = Vec::new();
    for chatter in chatters {
        let seen = tokio::time::timeout(EVENT_TIMEOUT, chatter)
            .await
            .expect("clients notice the kill")
            .unwrap();
        acked.extend(seen.acked);
        positions.push(seen.last.expect("every client saw a logged event"));
    }
    assert!(acked.len() >= 100, "only {} acknowledged", acked.len());

    let stored: Vec<String> = stored_messages(&db.pool, &tenant, stream)
        .await
        .into_iter()
        .map(|(_, text, _)| text)
        .collect();
    let newest = stored.last().cloned().expect("stored lines");
    let stored: std::collections::HashSet<String> = stored.into_iter().collect();
    let lost: Vec<&String> = acked.iter().filter(|t| !stored.contains(*t)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");

    // Restarted, the node takes the same clients back: each resumes from
    // its last position; that log is gone, so the answer is
    // `recovered: false` and the history, which holds the last line stored
    // before the kill.
    let server = NodeProcess::start(&db.url, port, None).await;
    for (i, cookie) in cookies.iter().enumerate() {
        let (offset, epoch) = &positions[i];
        let mut ws = server
            .ws_resume(HOST, stream, cookie, (*offset, epoch))
            .await;
        let (before, recovered) = ws.until_recovered().await;
        assert!(before.is_empty(), "nothing precedes the answer: {before:?}");
        assert!(!recovered, "the log died with the process");
        let history = ws.history(50).await;
        // Earlier clients' lines since the restart may follow it.
        assert!(
            history.iter().any(|v| v["message"] == newest.as_str()),
            "the last line stored before the kill is in the history"
        );
        let text = format!("c{i}-back");
        ws.say(&text).await;
        ws.next_where(|v| v["message"] == text.as_str()).await;
    }
}
