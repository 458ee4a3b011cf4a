//! The watch page in a real headless Chromium, driven over WebDriver
//! (chromedriver): log in through the form, chat, react, watch stamps float,
//! and keep a screenshot in target/screenshots/ for people to look at.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test` installs them.

mod common;

use std::process::{Child, Command, Stdio};

use base64::Engine;
use common::tcp_proxy::TcpProxy;
use common::{eventually, free_port, stored_texts, viewers, TestApp, EVENT_TIMEOUT, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{Admin, Analyst, Moderator, Viewer};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session; both end on drop.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    async fn launch() -> Browser {
        let port = free_port();
        let binary =
            std::env::var("STAMPEDE_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}); install chromium-driver or run scripts/test")
            });
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen; wait for its readiness report.
        let status = format!("{base}/status");
        eventually(
            EVENT_TIMEOUT,
            "chromedriver did not become ready",
            || async {
                let v: Value = http.get(&status).send().await.ok()?.json().await.ok()?;
                (v["value"]["ready"] == true).then_some(())
            },
        )
        .await;
        let chromium =
            std::env::var("STAMPEDE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--window-size=1280,760"]
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_owned();
        Browser {
            driver,
            http,
            session: format!("{base}/session/{session}"),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if !body.is_null() {
            req = req.json(&body);
        }
        let res: Value = req
            .send()
            .await
            .expect("webdriver call")
            .json()
            .await
            .expect("webdriver json");
        if res["value"].get("error").is_some() {
            panic!("webdriver {path}: {res}");
        }
        res["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT_KEY].as_str().expect("element id").to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            json!({}),
        )
        .await;
    }

    async fn eval(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits until `script` returns true in the page.
    async fn wait_for(&self, script: &str) {
        let what = format!("page never satisfied: {script}");
        eventually(EVENT_TIMEOUT, &what, || async {
            (self.eval(script).await == Value::Bool(true)).then_some(())
        })
        .await;
    }

    /// Logs in through the page's form as `username`, landing on `next`.
    async fn log_in(&self, app: &TestApp, username: &str, next: &str) {
        self.log_in_at(&app.url(HOST, ""), username, next).await;
    }

    /// Like [`Browser::log_in`] on the server at `base` (`http://host:port`).
    async fn log_in_at(&self, base: &str, username: &str, next: &str) {
        self.goto(&format!("{base}/accounts/login?next={next}"))
            .await;
        self.type_into("input[name=username]", username).await;
        self.type_into("input[name=password]", &format!("pw-{username}"))
            .await;
        self.click("form.stack button[type=submit]").await;
    }

    /// Logs in as `username` and opens `stream`'s watch page; waits until
    /// its socket is connected.
    async fn watch(&self, app: &TestApp, username: &str, stream: i32) {
        self.watch_at(&app.url(HOST, ""), username, stream).await;
    }

    /// Like [`Browser::watch`] on the server at `base` (`http://host:port`).
    async fn watch_at(&self, base: &str, username: &str, stream: i32) {
        self.log_in_at(base, username, &format!("/streams/{stream}"))
            .await;
        self.wait_for("return document.querySelector('#status.ok') !== null")
            .await;
    }

    /// Takes a screenshot and keeps it as target/screenshots/{name}.
    async fn keep_screenshot(&self, name: &str) -> Vec<u8> {
        let png = self.screenshot().await;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), &png).unwrap();
        png
    }

    async fn screenshot(&self) -> Vec<u8> {
        let v = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 png"))
            .expect("valid base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn watch_page_chats_and_floats_stamps_in_chromium() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&viewers(["alice", "bob"])).await;
    let stream = app.stream(&tenant, "Stampede launch party").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("welcome, everyone").await;
    bob.next_message().await;

    let browser = Browser::launch().await;
    browser.watch(&app, "alice", stream).await;
    // History arrived and rendered.
    browser
        .wait_for("return document.getElementById('log').textContent.includes('welcome, everyone')")
        .await;

    // The audience shows up in the chat header (alice and bob).
    browser
        .wait_for("return document.getElementById('viewers').textContent === '2 viewers'")
        .await;

    // alice chats from the page; bob receives it.
    browser
        .type_into("#text", "hello from the browser\u{E007}")
        .await;
    let got = bob.next_message().await;
    assert_eq!(got["username"], "alice");
    assert_eq!(got["message"], "hello from the browser");

    // Markup from bob shows literally, as typed, never as elements.
    bob.say("1 < 2 & <b>bold</b> <img src=x onerror=alert(1)>")
        .await;
    browser
        .wait_for(
            "return document.getElementById('log').textContent\
             .includes('1 < 2 & <b>bold</b> <img src=x onerror=alert(1)>')",
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#log b, #log img').length")
            .await,
        json!(0)
    );

    // Clicking a stamp sends a reaction that floats up for everyone.
    browser.click(".stamp[data-stamp-id='4']").await;
    let r = bob.next_type("reaction").await;
    assert_eq!(
        (r["stamp_id"].as_i64(), r["username"].as_str()),
        (Some(4), Some("alice"))
    );
    browser
        .wait_for("return document.querySelector('#floats .float[src$=\"04_love.svg\"]') !== null")
        .await;

    // A burst from bob is sampled to at most 30 floating stamps per tick.
    for i in 0..60 {
        bob.send_json(json!({"type": "reaction", "stamp_id": 1 + (i % 6)}))
            .await;
    }
    browser
        .wait_for("return document.querySelectorAll('#floats .float').length >= 10")
        .await;
    let shown = browser
        .eval("return document.querySelectorAll('#floats .float').length")
        .await;
    assert!(
        shown.as_u64().unwrap() <= 1 + 2 * 30,
        "floats are sampled: {shown}"
    );

    let png = browser.keep_screenshot("watch.png").await;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a real page, not a blank one ({} bytes)",
        png.len()
    );
}

/// Nothing typed is lost and nothing is sent twice: a line whose echo the
/// network lost is sent again with its client id after the reconnect and
/// stored once; a line typed while disconnected waits, visibly, and is sent
/// on reconnect; a refused line comes back to the input with the reason and
/// a countdown.
#[tokio::test]
async fn the_page_keeps_unsent_lines_and_sends_each_once_across_a_reconnect() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("alice", Viewer), ("bob", Viewer), ("mo", Moderator)])
        .await;
    let stream = app.stream(&tenant, "Flaky wifi").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let proxy = TcpProxy::start(app.addr).await;
    let base = format!("http://{HOST}:{}", proxy.port());
    let browser = Browser::launch().await;
    browser.watch_at(&base, "alice", stream).await;
    let unsent = |text: &str, state: &str| {
        format!(
            "return [...document.querySelectorAll('#log li.unsent')].some(li => \
             li.textContent.includes('{text}') && li.textContent.includes('{state}'))"
        )
    };

    // The line reaches the server; its echo is lost with the connection.
    proxy.hold_replies(true);
    browser
        .type_into("#text", "sent before the cut\u{E007}")
        .await;
    assert_eq!(bob.next_message().await["message"], "sent before the cut");
    browser
        .wait_for(&unsent("sent before the cut", "sending"))
        .await;
    proxy.refuse(true);
    proxy.cut();
    browser
        .wait_for("return document.querySelector('#status.ok') === null")
        .await;
    // Typed while disconnected: kept and shown as waiting.
    browser
        .type_into("#text", "typed while offline\u{E007}")
        .await;
    browser
        .wait_for(&unsent("typed while offline", "waiting for the connection"))
        .await;
    assert_eq!(
        browser
            .eval("return document.getElementById('text').value")
            .await,
        json!("")
    );

    // Back online: both lines are settled, each stored and broadcast once.
    proxy.hold_replies(false);
    proxy.refuse(false);
    browser
        .wait_for("return document.querySelector('#status.ok') !== null")
        .await;
    browser
        .wait_for("return document.querySelectorAll('#log li.unsent').length === 0")
        .await;
    assert_eq!(
        bob.next_message().await["message"],
        "typed while offline",
        "the line sent before the cut was not broadcast again"
    );
    bob.say("marker").await;
    assert_eq!(bob.next_message().await["message"], "marker");
    browser
        .wait_for("return document.getElementById('log').textContent.includes('marker')")
        .await;
    for text in ["sent before the cut", "typed while offline"] {
        let shown = browser
            .eval(&format!(
                "return [...document.querySelectorAll('#log li.message .text')]\
                 .filter(t => t.textContent === '{text}').length"
            ))
            .await;
        assert_eq!(shown, json!(1), "{text} shown once");
    }
    assert_eq!(
        stored_texts(app.pool(), &tenant, stream).await,
        ["sent before the cut", "typed while offline", "marker"]
    );

    // Slow mode: the second line is refused and given back, with a countdown.
    let mut mo = app.ws(HOST, stream, "mo").await;
    mo.send_json(json!({"type": "slow_mode", "seconds": 60}))
        .await;
    browser
        .wait_for("return !document.getElementById('slow-mode').hidden")
        .await;
    browser.type_into("#text", "first\u{E007}").await;
    assert_eq!(bob.next_message().await["message"], "first");
    browser.type_into("#text", "second\u{E007}").await;
    browser
        .wait_for("return document.getElementById('text').value === 'second'")
        .await;
    browser
        .wait_for(
            "const n = document.getElementById('notice'); \
             return !n.hidden && /Slow mode is on\\. Try again in (59|60) s\\./.test(n.textContent)",
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#log li.unsent').length")
            .await,
        json!(0)
    );
    browser.keep_screenshot("watch-refused.png").await;
    let stored = stored_texts(app.pool(), &tenant, stream).await;
    assert!(stored.iter().any(|t| t == "first"), "{stored:?}");
    assert!(!stored.iter().any(|t| t == "second"), "{stored:?}");
}

/// A stream that ends while watched says so, keeps its chat readable,
/// disables input and stamps and does not reconnect; its page, opened after
/// the end, shows the history read-only.
#[tokio::test]
async fn the_page_of_a_stream_that_ended_shows_its_chat_read_only() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("alice", Viewer), ("bob", Viewer), ("ann", Admin)])
        .await;
    let stream = app.stream(&tenant, "Season finale").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("what a show").await;
    bob.next_message().await;
    let browser = Browser::launch().await;
    browser.watch(&app, "alice", stream).await;
    browser
        .wait_for("return document.getElementById('log').textContent.includes('what a show')")
        .await;

    let ended = app
        .api("POST", &format!("/api/streams/{stream}/end"), "ann", None)
        .await;
    assert_eq!(ended.status, 200);
    let ended_state = "const n = document.getElementById('notice'); \
         return !n.hidden && n.textContent.includes('This stream has ended') \
           && document.getElementById('text').disabled \
           && [...document.querySelectorAll('.stamp')].every(b => b.disabled) \
           && document.getElementById('status').textContent === 'ended' \
           && document.getElementById('stream-badge').textContent === 'ENDED' \
           && document.getElementById('log').textContent.includes('what a show')";
    browser.wait_for(ended_state).await;
    assert_eq!(bob.close_code().await, 1000);
    browser.keep_screenshot("watch-ended.png").await;

    // Opened after the end: history from the API, no socket, same state.
    browser
        .goto(&app.url(HOST, &format!("/streams/{stream}")))
        .await;
    browser.wait_for(ended_state).await;
    assert_eq!(
        browser
            .eval("return document.getElementById('status').textContent")
            .await,
        json!("ended"),
        "still not reconnecting"
    );
    // The home page lists it under "Recently ended".
    browser.goto(&app.url(HOST, "/")).await;
    browser
        .wait_for(
            "return [...document.querySelectorAll('h2')].some(h => h.textContent === 'Recently ended') \
             && document.body.textContent.includes('Season finale')",
        )
        .await;
}

/// A timed-out viewer keeps reading with input and stamps off, and chats
/// again by itself when the timeout ends; a banned viewer who reloads gets
/// the read-only chat with the notice and the reason, and chat comes back
/// when a moderator lifts the ban.
#[tokio::test]
async fn a_banned_viewer_reads_the_chat_read_only_until_the_ban_ends() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("alice", Viewer), ("bob", Viewer), ("mo", Moderator)])
        .await;
    let stream = app.stream(&tenant, "Heated debate").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let mut mo = app.ws(HOST, stream, "mo").await;
    let browser = Browser::launch().await;
    browser.watch(&app, "alice", stream).await;
    let read_only = |notice: &str| {
        format!(
            "const n = document.getElementById('notice'); \
             return !n.hidden && n.textContent.includes('{notice}') \
               && document.getElementById('text').disabled \
               && [...document.querySelectorAll('.stamp')].every(b => b.disabled) \
               && document.getElementById('status').textContent === 'read-only'"
        )
    };
    let chatting = "return !document.getElementById('text').disabled \
         && document.getElementById('status').textContent === 'live' \
         && document.getElementById('notice').hidden";

    mo.send_json(
        json!({"type": "ban", "username": "alice", "duration_secs": 3, "reason": "cool <down>"}),
    )
    .await;
    browser.wait_for(&read_only("Reason: cool <down>")).await;
    browser
        .wait_for("return document.getElementById('notice').textContent.includes('You are timed out until')")
        .await;
    bob.say("can you still read this?").await;
    bob.next_message().await;
    browser
        .wait_for("return document.getElementById('log').textContent.includes('can you still read this?')")
        .await;
    browser.keep_screenshot("watch-timed-out.png").await;
    // The timeout runs out on its own clock; the page notices by itself.
    browser.wait_for(chatting).await;
    browser.type_into("#text", "back again\u{E007}").await;
    assert_eq!(bob.next_message().await["message"], "back again");

    // Banned, then the page is reloaded: read-only from the start.
    mo.send_json(json!({"type": "ban", "username": "alice", "reason": "spam"}))
        .await;
    browser
        .wait_for(&read_only("You are banned from this chat. Reason: spam"))
        .await;
    browser
        .goto(&app.url(HOST, &format!("/streams/{stream}")))
        .await;
    browser
        .wait_for(&read_only("You are banned from this chat. Reason: spam"))
        .await;
    browser
        .wait_for("return document.getElementById('log').textContent.includes('back again')")
        .await;
    bob.say("still reading?").await;
    bob.next_message().await;
    browser
        .wait_for("return document.getElementById('log').textContent.includes('still reading?')")
        .await;
    mo.send_json(json!({"type": "unban", "username": "alice"}))
        .await;
    browser.wait_for(chatting).await;
    browser.type_into("#text", "thank you\u{E007}").await;
    assert_eq!(bob.next_message().await["message"], "thank you");
}

#[tokio::test]
async fn moderators_pin_delete_and_time_out_from_the_page() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("mo", Moderator), ("bob", Viewer), ("vic", Viewer)])
        .await;
    let stream = app.stream(&tenant, "Moderated show").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let mut vic = app.ws(HOST, stream, "vic").await;
    bob.say("pin me please").await;
    let pin_id = bob.next_message().await["id"].as_i64().unwrap();
    vic.say("this one goes").await;
    let gone_id = vic.next_where(|v| v["message"] == "this one goes").await["id"]
        .as_i64()
        .unwrap();

    let browser = Browser::launch().await;
    browser.watch(&app, "mo", stream).await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{gone_id}']\") !== null"
        ))
        .await;

    // Pin from the page: the banner shows it and every viewer gets the event.
    browser
        .click(&format!(".line[data-id='{pin_id}'] .mod-pin"))
        .await;
    assert_eq!(bob.next_type("chat.pin").await["id"], pin_id);
    browser
        .wait_for("return !document.getElementById('pinned').hidden && document.getElementById('pinned-text').textContent.includes('pin me please')")
        .await;

    // Delete from the page: the line disappears here and for everyone.
    browser
        .click(&format!(".line[data-id='{gone_id}'] .mod-delete"))
        .await;
    assert_eq!(bob.next_type("chat.delete").await["id"], gone_id);
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{gone_id}']\") === null"
        ))
        .await;

    // Time out from the page: bob is disconnected with 4403.
    browser
        .click(&format!(".line[data-id='{pin_id}'] .mod-timeout"))
        .await;
    let err = bob.next_error().await;
    assert_eq!(err["code"], "banned");
    assert!(err["until"].is_string());
    assert_eq!(u16::from(bob.expect_close().await.unwrap().code), 4403);
    browser
        .wait_for("return document.getElementById('log').textContent.includes('bob has been timed out for 10 minutes')")
        .await;

    browser.keep_screenshot("moderator.png").await;
}

#[tokio::test]
async fn analytics_dashboard_renders_charts_in_chromium() {
    use stampede::store::reactions::{insert_batch, NewReaction};
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("ana", Analyst)]).await;
    let fans = viewers((0..20).map(|i| format!("fan{i}")));
    let users = app.users(&tenant, &fans).await;
    let stream = app.stream(&tenant, "Finals night").await;
    // 40 minutes of reactions with a rising, then falling, crowd.
    let now = time::OffsetDateTime::now_utc() - time::Duration::minutes(50);
    let start = time::PrimitiveDateTime::new(
        now.date(),
        time::Time::from_hms(now.hour(), now.minute(), 0).unwrap(),
    );
    let mut rows = Vec::new();
    for minute in 0..40i64 {
        let intensity = 20 - (minute - 20).abs();
        for k in 0..(intensity * 3) {
            rows.push(NewReaction {
                stream_id: stream,
                user_id: users[(k as usize) % users.len()],
                stamp_id: 1 + ((k + minute) % 6) as i32,
                created_at: start
                    + time::Duration::minutes(minute)
                    + time::Duration::seconds(k % 60),
            });
        }
    }
    insert_batch(app.pool(), &tenant.schema, &rows)
        .await
        .unwrap();
    for minute in 0..40i64 {
        let viewers = 100 + 30 * (20 - (minute - 20).abs());
        sqlx::query(&format!(
            "INSERT INTO {}.streaming_viewersample (stream_id, sampled_at, viewers) VALUES ($1, $2, $3)",
            tenant.schema
        ))
        .bind(stream)
        .bind(start + time::Duration::minutes(minute))
        .bind(viewers as i32)
        .execute(app.pool())
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO {}.chat_messageminute (stream_id, minute, count) VALUES ($1, $2, $3)",
            tenant.schema
        ))
        .bind(stream)
        .bind(start + time::Duration::minutes(minute))
        .bind(5 + (minute * 7) % 23)
        .execute(app.pool())
        .await
        .unwrap();
    }

    let browser = Browser::launch().await;
    browser
        .log_in(&app, "ana", &format!("/analytics/streams/{stream}"))
        .await;
    browser
        .wait_for("return document.querySelector('#reactions-chart svg') !== null")
        .await;
    let bars = browser
        .eval("return document.querySelectorAll('#reactions-chart svg rect').length")
        .await;
    assert!(
        bars.as_u64().unwrap() >= 40 * 5,
        "stacked bars drawn: {bars}"
    );
    assert_eq!(
        browser.eval("return document.querySelectorAll('#chat-chart svg path, #viewers-chart svg path').length > 1").await,
        json!(true)
    );
    let total = rows.len().to_string();
    let tiles = browser
        .eval("return document.querySelector('.tiles').textContent")
        .await;
    assert!(
        tiles.as_str().unwrap().contains(&total),
        "total reactions shown: {tiles}"
    );
    // Legend images load from the server (nothing from the internet).
    browser.keep_screenshot("analytics.png").await;

    browser.goto(&app.url(HOST, "/analytics")).await;
    browser
        .wait_for("return document.querySelector('.ranked') !== null && document.body.textContent.includes('Finals night')")
        .await;
}
