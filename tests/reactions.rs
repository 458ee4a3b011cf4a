//! Stamps and reactions over real WebSockets: storage, coalescing, validation.

mod common;

use common::{
    eventually, stage, strings, test_config, viewers, As, TestApp, WsClient, EVENT_TIMEOUT, HOST,
};
use serde_json::{json, Value};
use stampede::auth::Role;
use stampede::tenant::Tenant;

const GLOBEX: &str = "globex.localhost";

fn fast_config() -> stampede::ServeConfig {
    let mut config = test_config();
    config.reaction_rate_per_sec = 100_000;
    config.reaction_burst = 100_000;
    config
}

/// A server with `config`, tenant acme with these viewers, and one stream.
async fn app_with(config: stampede::ServeConfig, names: &[&str]) -> (TestApp, Tenant, i32) {
    stage(config, &viewers(names)).await
}

fn react(stamp_id: i64) -> Value {
    json!({"type": "reaction", "stamp_id": stamp_id, "stamp_name": ":x:", "stamp_image_url": "/x.svg"})
}

/// Rows as (username, stamp_id), ordered by id.
async fn reaction_rows(app: &TestApp, tenant: &Tenant, stream: i32) -> Vec<(String, i32)> {
    sqlx::query_as(&format!(
        "SELECT u.username, r.stamp_id FROM {s}.streaming_streamreaction r
         JOIN {s}.accounts_user u ON u.id = r.user_id WHERE r.stream_id = $1 ORDER BY r.id",
        s = tenant.schema
    ))
    .bind(stream)
    .fetch_all(app.pool())
    .await
    .unwrap()
}

/// Reads until a chat message with `marker` arrives; returns the reaction
/// frames (individual and bursts) and errors seen before it.
async fn reactions_until(ws: &mut WsClient, marker: &str) -> (Vec<Value>, Vec<Value>) {
    let mut reactions = Vec::new();
    let mut errors = Vec::new();
    loop {
        let v = ws.next_json().await;
        match v["type"].as_str() {
            Some("reaction") | Some("reaction.burst") => reactions.push(v),
            Some("error") => errors.push(v),
            Some("chat.message") if v["message"] == marker => return (reactions, errors),
            _ => {}
        }
    }
}

/// Total reactions a list of frames carries.
fn reaction_total(frames: &[Value]) -> u64 {
    frames
        .iter()
        .map(|f| match f["type"].as_str() {
            Some("reaction") => 1,
            _ => f["counts"]
                .as_object()
                .unwrap()
                .values()
                .map(|c| c.as_u64().unwrap())
                .sum(),
        })
        .sum()
}

/// Reads reaction frames (individual and bursts) onto `frames` until they
/// carry `total` reactions in all.
async fn read_reactions(ws: &mut WsClient, frames: &mut Vec<Value>, total: u64) {
    while reaction_total(frames) < total {
        let v = ws.next_json().await;
        if v["type"] == "reaction" || v["type"] == "reaction.burst" {
            frames.push(v);
        }
    }
}

#[tokio::test]
async fn every_accepted_reaction_becomes_exactly_one_row() {
    let users = ["u1", "u2", "u3", "u4"];
    let (mut app, tenant, stream) = app_with(fast_config(), &users).await;
    let mut sockets = Vec::new();
    for u in users {
        sockets.push(app.ws(HOST, stream, u).await);
    }
    // 4 users × 30 reactions, stamps 1..=6 round robin.
    let mut expected: Vec<(String, i32)> = Vec::new();
    for round in 0..30 {
        for (i, ws) in sockets.iter_mut().enumerate() {
            let stamp = ((round + i) % 6 + 1) as i32;
            ws.send_json(react(stamp.into())).await;
            expected.push((users[i].to_owned(), stamp));
        }
    }
    // Rows are written within one flush interval: wait for them to appear.
    eventually(EVENT_TIMEOUT, "rows did not arrive", || async {
        let rows = reaction_rows(&app, &tenant, stream).await;
        (rows.len() >= expected.len()).then_some(())
    })
    .await;
    app.stop().await;
    let mut rows = reaction_rows(&app, &tenant, stream).await;
    rows.sort();
    expected.sort();
    assert_eq!(
        rows, expected,
        "exactly one row per accepted reaction, no more after shutdown"
    );
}

#[tokio::test]
async fn shutdown_flushes_reactions_still_waiting_for_their_batch() {
    let mut config = fast_config();
    config.reaction_flush_ms = 60_000; // only shutdown can flush these
    let (mut app, tenant, stream) = app_with(config, &["alice"]).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for _ in 0..50 {
        alice.send_json(react(2)).await;
    }
    // Broadcast does not wait for storage: all 50 are seen long before the flush.
    let mut frames = Vec::new();
    read_reactions(&mut alice, &mut frames, 50).await;
    assert_eq!(reaction_total(&frames), 50);
    assert_eq!(
        reaction_rows(&app, &tenant, stream).await.len(),
        0,
        "still batched"
    );
    app.stop().await;
    assert_eq!(reaction_rows(&app, &tenant, stream).await.len(), 50);
}

#[tokio::test]
async fn a_quiet_room_gets_seed_shaped_events_with_server_side_names() {
    let (app, _tenant, stream) = app_with(fast_config(), &["alice", "bob"]).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    // A forged name and URL are ignored: only stamp_id counts.
    alice
        .send_json(json!({"type":"reaction","stamp_id":4,"stamp_name":":evil:","stamp_image_url":"https://evil.test/x.svg"}))
        .await;
    let ev = bob.next_type("reaction").await;
    assert_eq!(
        ev,
        json!({"type":"reaction","stamp_id":4,"stamp_name":":love:",
               "stamp_image_url":"/media/stamps/04_love.svg","username":"alice"})
    );
    // Reactions never enter chat history.
    alice.say("a chat line").await;
    bob.next_message().await;
    let mut carol = app.ws(HOST, stream, "bob").await;
    let history = carol.history(1).await;
    assert_eq!(history[0]["message"], "a chat line");
}

#[tokio::test]
async fn a_busy_tick_is_one_burst_whose_counts_add_up() {
    let mut config = fast_config();
    config.reaction_tick_ms = 2_000; // everything below lands in one or two ticks
    let users = ["u1", "u2", "u3"];
    let (app, tenant, stream) = app_with(config, &users).await;
    app.user(&tenant, "watcher", Role::Viewer).await;
    let mut watcher = app.ws(HOST, stream, "watcher").await;
    let mut senders = Vec::new();
    for u in users {
        senders.push(app.ws(HOST, stream, u).await);
    }
    let mut sent = std::collections::BTreeMap::<i64, u64>::new();
    for i in 0..100 {
        for (j, ws) in senders.iter_mut().enumerate() {
            let stamp = if (i + j) % 3 == 0 { 1 } else { 5 };
            ws.send_json(react(stamp)).await;
            *sent.entry(stamp).or_default() += 1;
        }
    }
    // The marker is a chat line; reactions of a tick may arrive after it, so
    // read on until the whole count is in, then prove nothing more comes.
    let mut frames = Vec::new();
    read_reactions(&mut watcher, &mut frames, 300).await;
    senders[0].say("after").await;
    let (late, _) = reactions_until(&mut watcher, "after").await;
    assert!(late.is_empty(), "no reactions beyond those sent: {late:?}");

    let bursts: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "reaction.burst")
        .collect();
    assert!(
        !bursts.is_empty(),
        "300 reactions in two ticks must be coalesced"
    );
    assert!(
        frames.len() <= 2 * 21,
        "frames are bounded by ticks: got {}",
        frames.len()
    );
    for b in &bursts {
        assert_eq!(b["window_ms"], 2000);
    }
    let mut got = std::collections::BTreeMap::<i64, u64>::new();
    for f in &frames {
        if f["type"] == "reaction" {
            *got.entry(f["stamp_id"].as_i64().unwrap()).or_default() += 1;
        } else {
            for (id, c) in f["counts"].as_object().unwrap() {
                *got.entry(id.parse().unwrap()).or_default() += c.as_u64().unwrap();
            }
        }
    }
    assert_eq!(got, sent);
}

#[tokio::test]
async fn unknown_and_inactive_stamps_are_refused() {
    let (mut app, tenant, stream) = app_with(fast_config(), &["alice"]).await;
    app.exec(&format!(
        "UPDATE {}.chat_chatstamp SET is_active = false WHERE id = 6",
        tenant.schema
    ))
    .await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for bad in [react(999), react(6), react(0), react(-1)] {
        alice.send_json(bad).await;
        let err = alice.next_error().await;
        assert_eq!(err["code"], "unknown_stamp");
    }
    alice
        .send_json(json!({"type":"reaction","stamp_id":"1"}))
        .await;
    assert_eq!(alice.next_error().await["code"], "bad_json");
    // The connection is fine and a valid reaction still works.
    alice.send_json(react(1)).await;
    alice.next_type("reaction").await;
    app.stop().await;
    assert_eq!(
        reaction_rows(&app, &tenant, stream).await,
        vec![("alice".to_owned(), 1)]
    );
}

#[tokio::test]
async fn reaction_rate_limit_refuses_and_refused_ones_are_not_stored() {
    let mut config = test_config();
    config.reaction_rate_per_sec = 10;
    config.reaction_burst = 20;
    let (mut app, tenant, stream) = app_with(config, &["alice"]).await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for _ in 0..40 {
        alice.send_json(react(3)).await;
    }
    alice.say("marker").await;
    let (frames, errors) = reactions_until(&mut alice, "marker").await;
    assert!(!errors.is_empty(), "40 at once exceeds a burst of 20");
    for e in &errors {
        assert_eq!(e["code"], "rate_limited");
        assert!(e["retry_after_ms"].as_u64().unwrap() > 0);
    }
    let accepted = 40 - errors.len();
    assert!((20..=25).contains(&accepted), "accepted {accepted}");
    let mut frames = frames;
    read_reactions(&mut alice, &mut frames, accepted as u64).await;
    assert_eq!(reaction_total(&frames) as usize, accepted);
    app.stop().await;
    assert_eq!(reaction_rows(&app, &tenant, stream).await.len(), accepted);
}

#[tokio::test]
async fn stamps_api_media_headers_and_tenant_stamps() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme", HOST).await;
    app.tenant("globex", GLOBEX).await;
    let wave = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#0af"/></svg>"##;
    let stamp = stampede::store::stamps::create_custom(app.pool(), &acme.schema, ":wave:", wave)
        .await
        .unwrap();
    assert_eq!(stamp.image_url, "/media/stamps/custom_wave.svg");
    let get =
        |host: &'static str, path: &'static str| app.api_on(host, "GET", path, As::Anonymous, None);

    let acme_list = get(HOST, "/api/stamps").await.body;
    assert_eq!(
        strings(&acme_list["stamps"], "name"),
        [
            ":smile:",
            ":surprise:",
            ":cry:",
            ":love:",
            ":scream:",
            ":angry:",
            ":wave:"
        ]
    );
    assert_eq!(
        acme_list["stamps"][0]["image_url"],
        "/media/stamps/01_smile.svg"
    );
    assert_eq!(acme_list["stamps"][0]["id"], 1);
    let globex_list = get(GLOBEX, "/api/stamps").await.body;
    assert_eq!(
        globex_list["stamps"].as_array().unwrap().len(),
        6,
        "acme's own stamp is not globex's"
    );

    let res = get(HOST, "/media/stamps/01_smile.svg").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "image/svg+xml");
    assert_eq!(res.header("x-content-type-options"), "nosniff");
    assert!(res
        .header("content-security-policy")
        .contains("default-src 'none'"));
    assert!(res.header("cache-control").contains("max-age=31536000"));
    assert!(res.text.starts_with("<svg"));

    let res = get(HOST, "/media/stamps/custom_wave.svg").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "image/svg+xml");
    assert_eq!(res.text, wave);
    let res = get(GLOBEX, "/media/stamps/custom_wave.svg").await;
    assert_eq!(res.status, 404);
    let res = get(HOST, "/media/stamps/nope.svg").await;
    assert_eq!(res.status, 404);
}

/// Rooms of two tenants flushing at the same moment (shutdown) share the
/// node's reaction inserts; every row and rollup must land in its own
/// tenant and stream.
#[tokio::test]
async fn simultaneous_flushes_of_several_tenants_each_land_in_their_own_tables() {
    let mut config = fast_config();
    config.reaction_flush_ms = 60_000; // only shutdown flushes: all at once
    let mut app = TestApp::spawn_with(config).await;
    let mut rooms = Vec::new();
    for (schema, host, per_room) in [("acme", HOST, 7), ("globex", GLOBEX, 11)] {
        let tenant = app.tenant(schema, host).await;
        app.user(&tenant, "fan", Role::Viewer).await;
        for title in ["One", "Two"] {
            let stream = app.stream(&tenant, title).await;
            let mut ws = app.ws(host, stream, "fan").await;
            for _ in 0..per_room {
                ws.send_json(react(3)).await;
            }
            // Seen by the room, so accepted before the shutdown.
            read_reactions(&mut ws, &mut Vec::new(), per_room).await;
            rooms.push((tenant.clone(), stream, per_room));
        }
    }
    app.stop().await;
    for (tenant, stream, per_room) in rooms {
        let rows = reaction_rows(&app, &tenant, stream).await;
        assert_eq!(
            rows.len() as u64,
            per_room,
            "{} stream {stream}",
            tenant.schema
        );
        assert!(rows.iter().all(|(u, stamp)| u == "fan" && *stamp == 3));
        let (rollup,): (i64,) = sqlx::query_as(&format!(
            "SELECT COALESCE(sum(count), 0)::int8 FROM {}.streaming_reactionminute WHERE stream_id = $1",
            tenant.schema
        ))
        .bind(stream)
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!(
            rollup as u64, per_room,
            "rollup of {} stream {stream}",
            tenant.schema
        );
    }
}
