//! The watch page in a real headless Chromium, driven over WebDriver
//! (chromedriver): log in through the form, chat, react, watch stamps float,
//! and keep a screenshot in target/screenshots/ for people to look at.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test` installs them.

mod common;

use std::os::unix::process::CommandExt;
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
        Browser::launch_in("UTC").await
    }

    /// A browser whose clock is in the time zone `tz` (an IANA name).
    async fn launch_in(tz: &str) -> Browser {
        let port = free_port();
        let binary =
            std::env::var("STAMPEDE_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        // Its own process group: chromium outlives a killed chromedriver,
        // so the whole group is killed on drop (hundreds of browsers were
        // left behind otherwise, until the machine ran out of memory).
        let driver = Command::new(&binary)
            .arg(format!("--port={port}"))
            .env("TZ", tz)
            .process_group(0)
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

    /// Starts watching the page for a state it may pass through briefly
    /// (a three-second timeout): `script` is checked on every DOM change and
    /// [`Browser::wait_for_latch`] then waits until it was ever true, so a
    /// slow poll cannot miss it.
    async fn latch(&self, name: &str, script: &str) {
        self.eval(&format!(
            "window.__latched = window.__latched || {{}}; \
             const check = () => {{ try {{ if ((() => {{ {script} }})()) window.__latched['{name}'] = true; }} catch (e) {{}} }}; \
             new MutationObserver(check).observe(document.documentElement, \
               {{subtree: true, childList: true, attributes: true, characterData: true}}); \
             check(); return true;"
        ))
        .await;
    }

    /// Waits until the state [`Browser::latch`]ed as `name` was seen.
    async fn wait_for_latch(&self, name: &str) {
        self.wait_for(&format!(
            "return window.__latched && window.__latched['{name}'] === true"
        ))
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
        // SAFETY: a signal to the process group this test started.
        unsafe {
            libc::kill(-(self.driver.id() as libc::pid_t), libc::SIGKILL);
        }
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

    // The pop-out: the same chat alone, full height, at phone size too (a
    // phone's own page has no pop-out link: there is no window to pop into).
    browser.click("#popout-link").await;
    let handles = browser
        .call(reqwest::Method::GET, "/window/handles", Value::Null)
        .await;
    let popped = handles.as_array().unwrap().last().unwrap().clone();
    browser
        .call(
            reqwest::Method::POST,
            "/window",
            json!({ "handle": popped }),
        )
        .await;
    browser.set_window_size(390, 844).await;
    browser
        .wait_for("return location.pathname.endsWith('/chat') && document.querySelector('#status.ok') !== null \
                   && getComputedStyle(document.getElementById('popout-link')).display === 'none'")
        .await;
    let layout = browser
        .eval(
            "const chat = document.querySelector('.chat').getBoundingClientRect(); \
             return [getComputedStyle(document.querySelector('.player')).display, \
                     getComputedStyle(document.querySelector('.topbar')).display, \
                     Math.round(chat.height) >= window.innerHeight - 1]",
        )
        .await;
    assert_eq!(
        layout,
        json!(["none", "none", true]),
        "chat alone, full height"
    );
    browser
        .wait_for(
            "return document.getElementById('log').textContent.includes('hello from the browser')",
        )
        .await;
    browser.type_into("#text", "from the pop-out\u{E007}").await;
    assert_eq!(bob.next_message().await["message"], "from the pop-out");
    browser.keep_screenshot("popout-phone.png").await;
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
    // A stamp is refused visibly, and the audience count shows it is stale.
    browser.click(".stamp[data-stamp-id='2']").await;
    browser
        .wait_for(
            "const n = document.getElementById('notice'); \
             return !n.hidden && n.textContent.includes('Not connected') \
               && document.getElementById('viewers').classList.contains('stale')",
        )
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
    // A viewer's chat has no join/leave lines (mo joined, alice reconnected).
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#log li.join, #log li.leave').length")
            .await,
        json!(0)
    );
    let stored = stored_texts(app.pool(), &tenant, stream).await;
    assert!(stored.iter().any(|t| t == "first"), "{stored:?}");
    assert!(!stored.iter().any(|t| t == "second"), "{stored:?}");
}

/// The switch in the header turns the pages and the chat's own words into
/// Japanese (and back), and the choice sticks across pages.
#[tokio::test]
async fn the_pages_and_the_chat_speak_japanese_after_the_switch() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("alice", Viewer), ("bob", Viewer), ("ann", Admin)])
        .await;
    let stream = app.stream(&tenant, "Matsuri").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let browser = Browser::launch().await;
    browser.watch(&app, "alice", stream).await;
    assert_eq!(
        browser
            .eval("return [document.documentElement.lang, document.querySelector('.send button').textContent]")
            .await,
        json!(["en", "Send"])
    );
    browser.click(".lang-switch a[lang='ja']").await;
    browser
        .wait_for(
            "return document.documentElement.lang === 'ja' && location.pathname.startsWith('/streams/') \
               && document.querySelector('#status.ok') !== null \
               && document.getElementById('status').textContent === 'ライブ' \
               && document.querySelector('.send button').textContent === '送信' \
               && document.querySelector('.chat-head span').textContent === 'ライブチャット'",
        )
        .await;
    bob.say("こんにちは").await;
    browser
        .wait_for("return document.getElementById('log').textContent.includes('こんにちは')")
        .await;
    // Moderation lines are worded in the page's language.
    let timeout = app
        .api(
            "POST",
            &format!("/api/streams/{stream}/bans"),
            "ann",
            json!({"username": "bob", "duration_secs": 600}),
        )
        .await;
    assert_eq!(timeout.status, 201, "{}", timeout.text);
    browser
        .wait_for("return [...document.querySelectorAll('#log li.moderation')].some(li => li.textContent.includes('bob さんが') && li.textContent.includes('10') && li.textContent.includes('タイムアウト'))")
        .await;
    let ended = app
        .api("POST", &format!("/api/streams/{stream}/end"), "ann", None)
        .await;
    assert_eq!(ended.status, 200);
    browser
        .wait_for(
            "return document.getElementById('notice').textContent === 'この配信は終了しました。' \
               && document.getElementById('status').textContent === '終了'",
        )
        .await;
    browser.keep_screenshot("watch-ja.png").await;
    // The choice sticks: the home page is Japanese too, until switched back.
    browser.goto(&app.url(HOST, "/")).await;
    browser
        .wait_for("return document.body.textContent.includes('最近終了した配信')")
        .await;
    browser.click(".lang-switch a[lang='en']").await;
    browser
        .wait_for("return document.documentElement.lang === 'en' && document.body.textContent.includes('Recently ended')")
        .await;
}

/// A viewer sees the lines that mention them highlighted, answers a line
/// from its menu (the reply quotes it, and a click on the quote shows it),
/// completes "@" names from the room with the keyboard, and sees a quote
/// go when its line is deleted. On a phone.
#[tokio::test]
async fn viewers_reply_mention_and_complete_names_in_the_page() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("alice", Viewer), ("bob", Viewer), ("mo", Moderator)])
        .await;
    let stream = app.stream(&tenant, "Threads").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let mut mo = app.ws(HOST, stream, "mo").await;
    let plain = bob.chat_id("just chatting").await;
    let browser = Browser::launch().await;
    browser.set_window_size(PHONE.0, PHONE.1).await;
    browser.watch(&app, "alice", stream).await;
    let mention = bob.chat_id("hey @Alice, look").await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{mention}']\")?.classList.contains('mentions-me') === true \
               && !document.querySelector(\".line[data-id='{plain}']\").classList.contains('mentions-me')"
        ))
        .await;

    // Reply from the line's menu.
    browser
        .eval(&format!(
            "document.querySelector(\".line[data-id='{plain}'] .line-menu-button\").click(); \
             [...document.querySelectorAll('.line-menu button')].find(b => b.textContent === 'Reply' && !b.hidden).click(); \
             return true"
        ))
        .await;
    browser
        .wait_for("const r = document.querySelector('.replying'); return !r.hidden && r.textContent.includes('bob') && r.textContent.includes('just chatting') && document.activeElement.id === 'text' \
                   && getComputedStyle(document.querySelector('.line-menu')).display === 'none'")
        .await;
    browser.type_into("#text", "same here").await;
    browser.click(".send button[type=submit]").await;
    let reply = bob.next_where(|v| v["message"] == "same here").await;
    assert_eq!(reply["reply_to"]["id"], plain);
    assert_eq!(reply["reply_to"]["username"], "bob");
    let reply_id = reply["id"].as_i64().unwrap();
    browser
        .wait_for(&format!(
            "const q = document.querySelector(\".line[data-id='{reply_id}'] .quote\"); \
             return q !== null && q.textContent === '↪ bob: just chatting' && document.querySelector('.replying').hidden"
        ))
        .await;
    browser
        .click(&format!(".line[data-id='{reply_id}'] .quote"))
        .await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{plain}']\").classList.contains('flash')"
        ))
        .await;
    browser.keep_screenshot("reply-mention-phone.png").await;

    // "@" completion, by keyboard: the room's names, then Enter picks.
    browser.type_into("#text", "thanks @B").await;
    browser
        .wait_for("const s = document.getElementById('mention-suggestions'); return !s.hidden && s.textContent === '@bob' && document.getElementById('text').getAttribute('aria-expanded') === 'true'")
        .await;
    browser.press("\u{E007}").await;
    browser
        .wait_for("return document.getElementById('text').value === 'thanks @bob ' && document.getElementById('mention-suggestions').hidden")
        .await;
    browser.press("\u{E007}").await; // now Enter sends
    let thanks = bob.next_where(|v| v["message"] == "thanks @bob").await;
    assert_eq!(thanks["mentions"], json!(["bob"]));

    // The answered line is deleted: its quote goes.
    mo.send_json(json!({"type": "chat.delete", "id": plain}))
        .await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{plain}']\") === null \
               && document.querySelector(\".line[data-id='{reply_id}'] .quote\").textContent === '↪ bob: (message deleted)'"
        ))
        .await;
    browser
        .assert_accessible("replies and mentions (phone)")
        .await;

    // Blocking bob from his line's menu hides his lines, now and later;
    // Undo shows them again.
    browser
        .eval(&format!(
            "document.querySelector(\".line[data-id='{mention}'] .line-menu-button\").click(); \
             [...document.querySelectorAll('.line-menu button')].find(b => b.textContent === 'Block' && !b.hidden).click(); \
             return true"
        ))
        .await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{mention}']\").hidden \
               && document.getElementById('notice').textContent.includes('You blocked bob')"
        ))
        .await;
    let blocks = app.api("GET", "/api/blocks", "alice", None).await;
    assert_eq!(blocks.body["blocks"][0]["username"], "bob");
    let later = bob.chat_id("can you see me?").await;
    mo.chat_id("mo is visible").await;
    browser
        .wait_for(&format!(
            "return [...document.querySelectorAll('#log li')].some(li => li.textContent.includes('mo is visible')) \
               && document.querySelector(\".line[data-id='{later}']\").hidden"
        ))
        .await;
    browser.click(".undo-block").await;
    browser
        .wait_for(&format!(
            "return !document.querySelector(\".line[data-id='{later}']\").hidden \
               && !document.querySelector(\".line[data-id='{mention}']\").hidden"
        ))
        .await;
}

/// A viewer edits their line from its menu on a phone; the other viewer's
/// page shows the new text, literally, marked "(edited)". ArrowUp in the
/// empty input edits the latest line, Escape gives the draft back.
#[tokio::test]
async fn an_edited_line_changes_in_both_browsers() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("alice", Viewer), ("bob", Viewer)]).await;
    let stream = app.stream(&tenant, "Edits").await;
    let mut watcher = app.ws(HOST, stream, "bob").await;
    let alice = Browser::launch().await;
    alice.set_window_size(PHONE.0, PHONE.1).await;
    alice.watch(&app, "alice", stream).await;
    let bob = Browser::launch().await;
    bob.watch(&app, "bob", stream).await;

    alice.type_into("#text", "helo wrld").await;
    alice.click(".send button[type=submit]").await;
    let id = watcher.next_where(|v| v["message"] == "helo wrld").await["id"]
        .as_i64()
        .unwrap();
    let line = format!(".line[data-id='{id}']");
    bob.wait_for(&format!(
        "return document.querySelector(\"{line}\") !== null"
    ))
    .await;

    alice
        .eval(&format!(
            "document.querySelector(\"{line} .line-menu-button\").click(); \
             [...document.querySelectorAll('.line-menu button')].find(b => b.textContent === 'Edit' && !b.hidden).click(); \
             return true"
        ))
        .await;
    alice
        .wait_for("return !document.querySelector('.editing').hidden && document.getElementById('text').value === 'helo wrld' && document.activeElement.id === 'text'")
        .await;
    alice
        .eval("document.getElementById('text').value = ''; return true")
        .await;
    alice.type_into("#text", "hello <b>world</b>").await;
    alice.press("\u{E007}").await;
    let edited = watcher.next_type("chat.edited").await;
    assert_eq!(edited["message"], "hello &lt;b&gt;world&lt;/b&gt;");
    for page in [&alice, &bob] {
        page.wait_for(&format!(
            "const li = document.querySelector(\"{line}\"); \
             return li.querySelector('.text').textContent === 'hello <b>world</b>' \
               && li.querySelector('.text b') === null \
               && li.querySelector('.edited')?.textContent === '(edited)'"
        ))
        .await;
    }
    alice
        .wait_for("return document.querySelector('.editing').hidden && document.getElementById('text').value === ''")
        .await;
    alice.keep_screenshot("edited-line-phone.png").await;
    // Bob cannot edit alice's line: no Edit in his menu.
    let offered = bob
        .eval(&format!(
            "document.querySelector(\"{line} .line-menu-button\").click(); \
             return [...document.querySelectorAll('.line-menu button')].some(b => b.textContent === 'Edit' && !b.hidden)"
        ))
        .await;
    assert_eq!(offered, json!(false));

    // ArrowUp in the empty input takes the latest line; Escape cancels.
    alice.click("#text").await;
    alice.press("\u{E013}").await;
    alice
        .wait_for("return !document.querySelector('.editing').hidden && document.getElementById('text').value === 'hello <b>world</b>'")
        .await;
    alice.assert_accessible("editing a line (phone)").await;
    alice.press("\u{E00C}").await;
    alice
        .wait_for("return document.querySelector('.editing').hidden && document.getElementById('text').value === ''")
        .await;
}

/// The bell in the header counts unread notifications live (an admin's
/// message, a mention in chat), lists them when opened, and opening it
/// marks them read, here and on the user's other devices.
#[tokio::test]
async fn the_bell_counts_lists_and_clears_notifications() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[("alice", Viewer), ("bob", Viewer), ("ann", Admin)])
        .await;
    let stream = app.stream(&tenant, "Bells").await;
    let browser = Browser::launch().await;
    browser.set_window_size(PHONE.0, PHONE.1).await;
    browser.log_in(&app, "alice", "/").await;
    browser
        .wait_for("return location.pathname === '/' && document.getElementById('bell') !== null && document.getElementById('bell-count').hidden")
        .await;
    // Another device of alice's: a raw personal socket.
    let (mut phone, _) = app.notification_device(HOST, "alice").await;

    let sent = app
        .api(
            "POST",
            "/api/notifications",
            "ann",
            json!({"username": "alice", "title": "Welcome <b>in</b>", "body": "Enjoy", "type": "success"}),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.text);
    browser
        .wait_for("return document.getElementById('bell-count').textContent === '1' && !document.getElementById('bell-count').hidden")
        .await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.chat("@alice are you watching?").await;
    browser
        .wait_for("return document.getElementById('bell-count').textContent === '2'")
        .await;
    browser.click("#bell").await;
    browser
        .wait_for(
            "const items = [...document.querySelectorAll('#bell-list li')]; \
             return !document.getElementById('bell-panel').hidden && items.length === 2 \
               && items[0].textContent.includes('bob mentioned you') \
               && items[0].textContent.includes('@alice are you watching?') \
               && items[1].textContent.includes('Welcome <b>in</b>') \
               && document.getElementById('bell-count').hidden \
               && items.every(li => !li.classList.contains('unread'))",
        )
        .await;
    browser.keep_screenshot("bell-phone.png").await;
    let read = phone.next_type("notification.read").await;
    assert_eq!(read["unread"], 0, "{read}");
    browser.assert_accessible("the bell, opened (phone)").await;
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

/// An ended stream's page plays its chat back on stream time: a seek shows
/// the chat as it stood then (lines, pin), playing shows each line and
/// floats each second's stamps when the replay clock reaches them, pause
/// stops the clock, and the slider seeks too.
#[tokio::test]
async fn an_ended_stream_replays_its_chat_with_stamps_at_their_moments() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&viewers(["alice", "bob"])).await;
    let stream = app.stream(&tenant, "Yesterday's show").await;
    let pool = app.pool();
    let exec = |sql: String| async move {
        sqlx::query(&sql).execute(pool).await.unwrap();
    };
    let start = "TIMESTAMP '2026-12-01 10:00:00'";
    exec(format!(
        "UPDATE acme.streaming_stream SET status = 'ended', started_at = {start},
           ended_at = {start} + interval '60 seconds' WHERE id = {stream}"
    ))
    .await;
    let bob = app
        .column::<i32>("SELECT id FROM acme.accounts_user WHERE username = 'bob'")
        .await[0];
    let mut ids = Vec::new();
    for (secs, text) in [
        (5, "five seconds in"),
        (14, "fourteen seconds in"),
        (40, "forty seconds in"),
    ] {
        let id: i32 = sqlx::query_scalar(&format!(
            "INSERT INTO acme.chat_chatmessage (room_id, user_id, content, created_at)
             SELECT r.id, $1, $2, {start} + make_interval(secs => $3)
             FROM acme.chat_chatroom r WHERE r.stream_id = $4 RETURNING id"
        ))
        .bind(bob)
        .bind(text)
        .bind(f64::from(secs))
        .bind(stream)
        .fetch_one(app.pool())
        .await
        .unwrap();
        ids.push(id);
    }
    exec(format!(
        "INSERT INTO acme.chat_moderationaction (stream_id, action, target_message_id, created_at)
         VALUES ({stream}, 'pin', {}, {start} + interval '10 seconds')",
        ids[0]
    ))
    .await;
    exec(format!(
        "INSERT INTO acme.streaming_reactionsecond (stream_id, stamp_id, second, count)
         VALUES ({stream}, 1, {start} + interval '12 seconds', 4)"
    ))
    .await;

    let browser = Browser::launch().await;
    browser
        .log_in(&app, "alice", &format!("/streams/{stream}"))
        .await;
    let log_has = |present: &[&str], absent: &[&str]| {
        let text = "document.getElementById('log').textContent";
        present
            .iter()
            .map(|t| format!("{text}.includes('{t}')"))
            .chain(absent.iter().map(|t| format!("!{text}.includes('{t}')")))
            .collect::<Vec<_>>()
            .join(" && ")
    };
    // It opens at the end: the whole chat, the pin, the full length.
    browser
        .wait_for(&format!(
            "return {} && document.getElementById('replay-time').textContent === '1:00 / 1:00' \
               && document.getElementById('replay-slider').max === '60000' \
               && !document.getElementById('pinned').hidden",
            log_has(
                &["five seconds in", "fourteen seconds in", "forty seconds in"],
                &[]
            )
        ))
        .await;

    // A seek shows the chat as it stood then: before the pin, then after.
    browser
        .eval("stampede.replay.seek(7000); return true")
        .await;
    browser
        .wait_for(&format!(
            "return {} && document.getElementById('pinned').hidden \
               && document.getElementById('replay-time').textContent === '0:07 / 1:00'",
            log_has(
                &["five seconds in"],
                &["fourteen seconds in", "forty seconds in"]
            )
        ))
        .await;

    // Played from 11 s: the replay clock is recorded as each stamp floats
    // and each line appears.
    browser
        .eval(
            "window.__floats = []; window.__lines = {}; \
             new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) \
               if (n.classList && n.classList.contains('float')) \
                 window.__floats.push([stampede.replay.position(), n.src]); }) \
               .observe(document.getElementById('floats'), {childList: true}); \
             new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) { \
               const t = n.querySelector && n.querySelector('.text'); \
               if (t) window.__lines[t.textContent] = stampede.replay.position(); } }) \
               .observe(document.getElementById('log'), {childList: true}); \
             stampede.replay.seek(11000); stampede.replay.play(); return true",
        )
        .await;
    browser
        .wait_for(&format!(
            "return {} && !document.getElementById('pinned').hidden && window.__lines['fourteen seconds in'] !== undefined",
            log_has(&["five seconds in"], &["forty seconds in"])
        ))
        .await;
    browser.eval("stampede.replay.pause(); return true").await;
    let seen = browser
        .eval(
            "return {floats: window.__floats, line: window.__lines['fourteen seconds in'], \
               image: document.querySelector('.stamp[data-stamp-id=\"1\"]').dataset.stampImage}",
        )
        .await;
    let floats = seen["floats"].as_array().expect("floats");
    assert_eq!(floats.len(), 4, "four :1: stamps in that second: {seen}");
    let image = seen["image"].as_str().unwrap();
    for f in floats {
        let at = f[0].as_f64().unwrap();
        assert!(
            (12000.0..15000.0).contains(&at),
            "a stamp of the second at 12 s floated at {at} ms of stream time"
        );
        assert!(f[1].as_str().unwrap().ends_with(image), "{f}");
    }
    let line_at = seen["line"].as_f64().unwrap();
    assert!(
        (14000.0..17000.0).contains(&line_at),
        "the line sent at 14 s appeared at {line_at} ms"
    );

    // Paused, the clock stands still; the button plays and pauses too.
    let (a, b) = (
        browser.eval("return stampede.replay.position()").await,
        browser.eval("return stampede.replay.position()").await,
    );
    assert_eq!(a, b, "paused");
    assert_eq!(
        browser.eval("return stampede.replay.playing").await,
        json!(false)
    );
    browser.click("#replay-toggle").await;
    browser
        .wait_for("return stampede.replay.playing && document.getElementById('replay-toggle').getAttribute('aria-pressed') === 'true'")
        .await;
    browser.click("#replay-toggle").await;
    browser
        .wait_for("return !stampede.replay.playing && document.getElementById('replay-toggle').getAttribute('aria-pressed') === 'false'")
        .await;

    // The slider seeks: to 30 s, the line at 40 s is not there yet.
    browser
        .eval(
            "const s = document.getElementById('replay-slider'); s.value = '30000'; \
             s.dispatchEvent(new Event('input')); return true",
        )
        .await;
    browser
        .wait_for(&format!(
            "return {} && document.getElementById('replay-time').textContent === '0:30 / 1:00'",
            log_has(
                &["five seconds in", "fourteen seconds in"],
                &["forty seconds in"]
            )
        ))
        .await;
    browser.keep_screenshot("watch-replay.png").await;
}

/// A line auto-moderation holds shows only to its author ("pending
/// review") and in the moderator's queue; approving it from the queue shows
/// it to the room and unmarks it; denying the next one marks it declined.
#[tokio::test]
async fn a_held_line_waits_in_the_moderators_queue_until_approved() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[
            ("alice", Viewer),
            ("bob", Viewer),
            ("mo", Moderator),
            ("ann", Admin),
        ])
        .await;
    let stream = app.stream(&tenant, "Held back").await;
    let rules = json!({"enabled": true, "held_terms": {"terms": ["spoiler"]}});
    assert_eq!(
        app.api("PUT", "/api/automod", "ann", rules).await.status,
        200
    );
    let mut bob = app.ws(HOST, stream, "bob").await;
    let (author, moderator) = tokio::join!(Browser::launch(), Browser::launch());
    author.watch(&app, "alice", stream).await;
    moderator.watch(&app, "mo", stream).await;

    author
        .type_into("#text", "the spoiler is out\u{E007}")
        .await;
    author
        .wait_for(
            "const li = [...document.querySelectorAll('#log li.held')].pop(); \
             return !!li && li.textContent.includes('the spoiler is out') \
               && li.querySelector('.held-mark').textContent === 'pending review'",
        )
        .await;
    moderator
        .wait_for(
            "const q = document.getElementById('held-queue'); \
             return !q.hidden && q.textContent.includes('the spoiler is out') \
               && q.textContent.includes('held term') && q.textContent.includes('Held for review (1)') \
               && !document.getElementById('log').textContent.includes('the spoiler is out')",
        )
        .await;
    moderator.keep_screenshot("watch-held-queue.png").await;

    moderator.click("#held-queue .held-approve").await;
    let shown = bob.next_message().await;
    assert_eq!(
        shown["message"], "the spoiler is out",
        "bob saw nothing before it"
    );
    moderator
        .wait_for(
            "return document.getElementById('held-queue').hidden \
               && document.getElementById('log').textContent.includes('the spoiler is out')",
        )
        .await;
    author
        .wait_for(&format!(
            "const li = document.querySelector('#log li[data-id=\"{}\"]'); \
             return !!li && !li.classList.contains('held') && !li.querySelector('.held-mark')",
            shown["id"]
        ))
        .await;

    author.type_into("#text", "spoiler again\u{E007}").await;
    moderator
        .wait_for(
            "return document.getElementById('held-queue').textContent.includes('spoiler again')",
        )
        .await;
    moderator.click("#held-queue .held-deny").await;
    author
        .wait_for(
            "const li = [...document.querySelectorAll('#log li.denied')].pop(); \
             return !!li && li.textContent.includes('spoiler again') \
               && li.querySelector('.held-mark').textContent === 'not shown: a moderator declined it'",
        )
        .await;
    moderator
        .wait_for("return document.getElementById('held-queue').hidden")
        .await;
    author.keep_screenshot("watch-held-author.png").await;
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

    // The timeout lasts three seconds on the page's clock: latch the state
    // so a slow poll on a busy machine cannot miss it.
    browser
        .latch(
            "timed-out",
            &format!(
                "{} && document.getElementById('notice').textContent.includes('You are timed out until')",
                read_only("Reason: cool <down>")
            ),
        )
        .await;
    mo.send_json(
        json!({"type": "ban", "username": "alice", "duration_secs": 3, "reason": "cool <down>"}),
    )
    .await;
    browser.wait_for_latch("timed-out").await;
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

/// The overlay as an OBS browser source (1920×1080): no login where the
/// tenant allows it, transparent, large text, nothing to type into; with
/// `?fade=2` a line fades away after two seconds.
#[tokio::test]
async fn the_overlay_shows_the_chat_read_only_and_lets_lines_fade() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&viewers(["alice"])).await;
    let stream = app.stream(&tenant, "Tournament final").await;
    stampede::store::embed::update(app.pool(), tenant.id, Some(true), None)
        .await
        .unwrap();
    let browser = Browser::launch().await;
    browser.set_window_size(1920, 1080).await;
    browser
        .goto(&app.url(HOST, &format!("/embed/streams/{stream}/chat?fade=2")))
        .await;
    browser
        .wait_for("return document.querySelector('#status.readonly') !== null")
        .await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    alice.say("GG <3").await;
    let line =
        "[...document.querySelectorAll('#log li .text')].some(t => t.textContent === 'GG <3')";
    browser.wait_for(&format!("return {line}")).await;
    let looks = browser
        .eval(
            "const t = document.querySelector('#log li .text'); \
             return [getComputedStyle(document.body).backgroundColor, \
                     parseFloat(getComputedStyle(t).fontSize), \
                     getComputedStyle(document.getElementById('send')).display, \
                     getComputedStyle(document.querySelector('.stamps')).display]",
        )
        .await;
    assert_eq!(looks[0], "rgba(0, 0, 0, 0)", "transparent: {looks}");
    assert!(looks[1].as_f64().unwrap() >= 28.0, "large text: {looks}");
    assert_eq!(
        (looks[2].as_str(), looks[3].as_str()),
        (Some("none"), Some("none"))
    );
    browser.keep_screenshot("overlay.png").await;
    // Fades on its own clock, then leaves the page.
    browser.wait_for(&format!("return !{line}")).await;
}

/// A moderator's whole job from the page: the per-line menu (one tab stop
/// for the log, no extra height), pin and delete, the user card (timeout
/// with a chosen length and a reason, unban), and the panel (slow mode,
/// bans with unban, blocked terms for admins, the moderation log); badges
/// next to names.
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
    browser.set_window_size(390, 844).await;
    browser.watch(&app, "mo", stream).await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{gone_id}']\") !== null"
        ))
        .await;
    // One tab stop for all the lines' controls, and no extra height on a phone.
    let controls = browser
        .eval(
            "const b = [...document.querySelectorAll('#log button')]; \
             const li = document.querySelector('#log li.message'); \
             return [b.length, b.filter(x => x.tabIndex >= 0).length, li.offsetHeight]",
        )
        .await;
    assert_eq!(controls[0], json!(2), "one button per line: {controls}");
    assert_eq!(controls[1], json!(1), "one tab stop: {controls}");
    assert!(
        controls[2].as_u64().unwrap() < 40,
        "one text line high: {controls}"
    );

    // Pin from the line's menu: the banner shows it and every viewer gets it.
    let menu = |id: i64, item: &str| {
        format!(
            "document.querySelector(\".line[data-id='{id}'] .line-menu-button\").click(); \
             [...document.querySelectorAll('.line-menu button')].find(b => b.textContent === '{item}').click(); \
             return true"
        )
    };
    browser.eval(&menu(pin_id, "Pin")).await;
    assert_eq!(bob.next_type("chat.pin").await["id"], pin_id);
    browser
        .wait_for("return !document.getElementById('pinned').hidden && document.getElementById('pinned-text').textContent.includes('pin me please')")
        .await;
    // Delete with the keyboard: arrow to the line, open its menu, Delete.
    browser
        .click(&format!(".line[data-id='{pin_id}'] .line-menu-button"))
        .await;
    browser.press("\u{E00C}").await; // Escape closes the menu, focus back on the line
    browser.press("\u{E015}").await; // ArrowDown to vic's line, below
    browser
        .wait_for(&format!(
            "return document.activeElement === document.querySelector(\".line[data-id='{gone_id}'] .line-menu-button\")"
        ))
        .await;
    browser.press("\u{E007}").await; // Enter opens the menu on the first item (Reply)
    browser.press("\u{E015}").await; // ArrowDown to Pin
    browser.press("\u{E015}").await; // ArrowDown to Delete
    browser.press("\u{E007}").await;
    assert_eq!(bob.next_type("chat.delete").await["id"], gone_id);
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{gone_id}']\") === null"
        ))
        .await;
    // Moderators see who comes and goes (viewers do not).
    vic.close().await;
    browser
        .wait_for("return [...document.querySelectorAll('#log li.leave')].some(li => li.textContent.includes('vic left the chat'))")
        .await;

    // The user card: bob's facts and lines; a 1-hour timeout with a reason.
    browser.eval(&menu(pin_id, "User card…")).await;
    browser
        .wait_for(
            "const c = document.querySelector('.user-card'); \
             return !c.hidden && c.textContent.includes('viewer') \
               && c.textContent.includes('joined today') && c.textContent.includes('pin me please')",
        )
        .await;
    browser.keep_screenshot("moderator-card.png").await;
    browser.assert_accessible("user card (phone)").await;
    browser
        .eval("const s = document.querySelector('.card-duration'); s.value = '3600'; return true")
        .await;
    browser.type_into(".card-reason", "spoilers").await;
    browser.click(".card-timeout").await;
    let err = bob.next_error().await;
    assert_eq!(
        (err["code"].as_str(), err["reason"].as_str()),
        (Some("banned"), Some("spoilers"))
    );
    assert_eq!(u16::from(bob.expect_close().await.unwrap().code), 4403);
    browser
        .wait_for("return document.getElementById('log').textContent.includes('bob has been timed out for 1 hour')")
        .await;
    browser
        .wait_for("return document.querySelector('.user-card').textContent.includes('Timed out until') && document.querySelector('.card-unban') !== null")
        .await;

    // The panel: the ban is listed and lifted; slow mode set; the log shows both.
    browser.click(".mod-panel-button").await;
    browser
        .wait_for("return [...document.querySelectorAll('.ban-list li')].some(li => li.textContent.includes('bob') && li.textContent.includes('spoilers'))")
        .await;
    browser.click(".ban-list .unban").await;
    browser
        .wait_for(
            "return document.querySelector('.ban-list').textContent.includes('Nobody is banned')",
        )
        .await;
    let cookie = app.login(HOST, "bob").await;
    app.ws_with_cookie(HOST, stream, &cookie).await; // admitted again
    browser
        .eval("const s = document.querySelector('.slow-mode-select'); s.value = '30'; return true")
        .await;
    browser.click(".apply-slow-mode").await;
    browser
        .wait_for("return document.getElementById('slow-mode').textContent === 'Slow mode: 30 s'")
        .await;
    // With slow mode, the viewer count, the state and the Moderation button
    // all showing, the chat's header is still one line on the phone, each
    // item whole (the title gives way first).
    let head = browser
        .eval(
            "const h = document.querySelector('.chat-head'); const r = h.getBoundingClientRect(); \
             const items = [...h.children].filter(e => e.getClientRects().length > 0); \
             const mid = (r.top + r.bottom) / 2; \
             return { height: r.height, \
               one_line: items.every(e => { const b = e.getBoundingClientRect(); \
                 return Math.abs((b.top + b.bottom) / 2 - mid) < 4 && b.right <= r.right + 0.5; }), \
               whole: items.filter(e => !e.classList.contains('chat-title')) \
                 .every(e => e.scrollWidth <= e.clientWidth + 1) }",
        )
        .await;
    assert_eq!(head["one_line"], json!(true), "{head}");
    assert_eq!(head["whole"], json!(true), "{head}");
    assert!(head["height"].as_f64().unwrap() < 48.0, "{head}");
    browser.click(".mod-panel-button").await; // reopen: fresh log
    browser
        .wait_for(
            "const l = document.querySelector('.mod-log'); \
             return l && l.textContent.includes('timeout bob — spoilers') \
               && l.textContent.includes('unban bob') && l.textContent.includes('slow mode')",
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('.term-list') === null")
            .await,
        json!(true),
        "blocked terms are for admins"
    );
    browser.keep_screenshot("moderator.png").await;
    browser.assert_accessible("moderation panel (phone)").await;
}

/// Admins edit the blocked terms from the panel; badges show who is who.
#[tokio::test]
async fn admins_edit_blocked_terms_from_the_panel_and_badges_show() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("ada", Admin), ("bob", Viewer)]).await;
    let stream = app.stream(&tenant, "Rules").await;
    let browser = Browser::launch().await;
    browser.watch(&app, "ada", stream).await;
    browser.type_into("#text", "admin here\u{E007}").await;
    browser
        .wait_for("return [...document.querySelectorAll('#log li.message')].some(li => li.querySelector('.badge-admin') && li.textContent.includes('admin here'))")
        .await;
    browser.click(".mod-panel-button").await;
    browser
        .wait_for("return document.querySelector('.term-list') !== null && document.querySelector('.term-list').textContent.includes('No blocked terms')")
        .await;
    browser.type_into(".term-input", "spoiler").await;
    browser.click(".add-term").await;
    browser
        .wait_for("return [...document.querySelectorAll('.term-list li')].some(li => li.textContent.startsWith('spoiler'))")
        .await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say("big SPOILER ahead").await;
    assert_eq!(bob.next_error().await["code"], "blocked_term");
    browser.click(".term-list .remove-term").await;
    browser
        .wait_for(
            "return document.querySelector('.term-list').textContent.includes('No blocked terms')",
        )
        .await;
    bob.say("big spoiler ahead").await;
    assert_eq!(bob.next_message().await["message"], "big spoiler ahead");
}

#[tokio::test]
async fn analytics_dashboard_renders_charts_in_chromium() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("ana", Analyst)]).await;
    let (stream, reactions) = seed_finals_night(&app, &tenant).await;

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
    let total = reactions.to_string();
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

/// The language chosen with the switch is kept on the account: logging in
/// on another device (a browser without the cookie) brings it along. The
/// analytics page, its charts and the error page speak Japanese there, and
/// the charts' times are on the reader's clock (a browser in Tokyo).
#[tokio::test]
async fn an_analyst_in_tokyo_reads_the_analytics_in_japanese_on_another_device() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("ana", Analyst)]).await;
    let (stream, _) = seed_finals_night(&app, &tenant).await;
    {
        let laptop = Browser::launch().await;
        laptop.log_in(&app, "ana", "/").await;
        laptop
            .wait_for("return location.pathname === '/' && document.querySelector('.topbar .who') !== null")
            .await;
        laptop.click(".lang-switch a[lang='ja']").await;
        laptop
            .wait_for("return document.documentElement.lang === 'ja'")
            .await;
    }
    let phone = Browser::launch_in("Asia/Tokyo").await;
    phone.set_window_size(PHONE.0, PHONE.1).await;
    phone
        .log_in(&app, "ana", &format!("/analytics/streams/{stream}"))
        .await;
    // Drawn in UTC before the browser had said where it is, the page is
    // drawn again once for Tokyo.
    phone
        .wait_for(
            "return document.documentElement.lang === 'ja' \
               && document.body.dataset.zone === 'Asia/Tokyo' \
               && document.getElementById('shown').textContent.includes('Asia/Tokyo') \
               && document.querySelector('.tiles').textContent.includes('最大同時視聴者数') \
               && document.querySelector('.nav-analytics').textContent === '分析'",
        )
        .await;
    // Every time on the charts' axes is a time of the last hour on this
    // browser's (Tokyo) clock; in UTC they would be nine hours off.
    let labels = phone
        .eval(
            "const texts = [...document.querySelectorAll('.chart-narrow svg text')] \
               .map(t => t.textContent).filter(t => /^\\d\\d:\\d\\d$/.test(t)); \
             const local = new Set(); \
             for (let m = -70; m <= 2; m++) { const d = new Date(Date.now() + m * 60000); \
               local.add(String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0')); } \
             return { count: texts.length, off: texts.filter(t => !local.has(t)) }",
        )
        .await;
    assert!(labels["count"].as_u64().unwrap() >= 3, "{labels}");
    assert_eq!(labels["off"], json!([]), "{labels}");
    assert!(phone
        .eval("return document.getElementById('reactions-chart').textContent")
        .await
        .as_str()
        .unwrap()
        .contains("1分ごとのリアクション"));
    phone.keep_screenshot("analytics-ja-tokyo-phone.png").await;

    phone
        .goto(&app.url(HOST, "/analytics/streams/999999"))
        .await;
    phone
        .wait_for(
            "return document.querySelector('h1').textContent === 'この配信は存在しません。' \
               && document.body.textContent.includes('エラー 404')",
        )
        .await;
    phone.keep_screenshot("error-ja-phone.png").await;
}

impl Browser {
    /// Resizes the window to `width`×`height` (WebDriver's window rect);
    /// headless, the page's viewport is the whole window.
    async fn set_window_size(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
        self.wait_for(&format!("return window.innerWidth === {width}"))
            .await;
    }
}

/// The two window sizes the analytics pages are tried at.
const DESKTOP: (u32, u32, &str) = (1366, 900, "desktop");
const PHONE: (u32, u32, &str) = (390, 844, "phone");

/// "Finals night": 40 minutes of reactions (rising, then falling) from 50
/// minutes ago, with chat and viewer samples each minute. Returns the
/// stream and its number of reactions.
async fn seed_finals_night(app: &TestApp, tenant: &stampede::tenant::Tenant) -> (i32, usize) {
    use stampede::store::reactions::{insert_batch, NewReaction};
    let fans = viewers((0..20).map(|i| format!("fan{i}")));
    let users = app.users(tenant, &fans).await;
    let stream = app.stream(tenant, "Finals night").await;
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
        let at = start + time::Duration::minutes(minute);
        sqlx::query(&format!(
            "INSERT INTO {}.streaming_viewersample (stream_id, sampled_at, viewers) VALUES ($1, $2, $3)",
            tenant.schema
        ))
        .bind(stream)
        .bind(at)
        .bind((100 + 30 * (20 - (minute - 20).abs())) as i32)
        .execute(app.pool())
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO {}.chat_messageminute (stream_id, minute, count) VALUES ($1, $2, $3)",
            tenant.schema
        ))
        .bind(stream)
        .bind(at)
        .bind(5 + (minute * 7) % 23)
        .execute(app.pool())
        .await
        .unwrap();
    }
    (stream, rows.len())
}

/// The smallest rendered size, in CSS px, of the text of the charts the page
/// shows (font size × the SVG's scale on screen), and how many texts there are.
async fn smallest_chart_text(browser: &Browser) -> (f64, u64) {
    let v = browser
        .eval(
            "const texts = [...document.querySelectorAll('.chart svg text, .chart svg tspan')]\
               .filter(t => t.getClientRects().length > 0 && t.textContent.trim() !== '');\
             const px = texts.map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);\
             return {min: Math.min(...px), n: texts.length};",
        )
        .await;
    (v["min"].as_f64().unwrap(), v["n"].as_u64().unwrap())
}

/// An analyst finds the dashboard from the header, sees every stream with
/// chat or reactions, reads charts whose smallest text is 11 px or more,
/// picks a range and bucket with clicks, and gets error pages (not JSON)
/// for an unknown stream and a bad pick: at desktop and phone sizes.
#[tokio::test]
async fn analytics_pages_work_by_clicks_at_desktop_and_phone_sizes() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("ana", Analyst), ("vic", Viewer)]).await;
    let (stream, total) = seed_finals_night(&app, &tenant).await;
    let chatty = app.stream(&tenant, "Chat only stream").await;
    sqlx::query(&format!(
        "INSERT INTO {}.chat_messageminute (stream_id, minute, count) \
         VALUES ($1, date_trunc('minute', now() AT TIME ZONE 'UTC'), 9)",
        tenant.schema
    ))
    .bind(chatty)
    .execute(app.pool())
    .await
    .unwrap();

    // A viewer has no link to analytics.
    let browser = Browser::launch().await;
    browser.set_window_size(DESKTOP.0, DESKTOP.1).await;
    browser.log_in(&app, "vic", "/").await;
    browser
        .wait_for(
            "return location.pathname === '/' && document.querySelector('.topbar .who') !== null",
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('a[href=\"/analytics\"]').length")
            .await,
        json!(0)
    );
    drop(browser);

    let browser = Browser::launch().await;
    browser.log_in(&app, "ana", "/").await;
    for (width, height, size) in [DESKTOP, PHONE] {
        browser.set_window_size(width, height).await;
        browser.goto(&app.url(HOST, "/")).await;
        // The header links to the dashboard; the link leads there.
        browser
            .wait_for("return document.querySelector('.topbar a.nav-analytics') !== null")
            .await;
        browser.click(".topbar a.nav-analytics").await;
        browser
            .wait_for("return location.pathname === '/analytics' && document.getElementById('streams') !== null")
            .await;
        let listed = browser
            .eval("return [...document.querySelectorAll('#streams td a')].map(a => a.textContent)")
            .await;
        assert_eq!(
            listed,
            json!(["Finals night", "Chat only stream"]),
            "{size}: streams with reactions or chat"
        );
        browser
            .keep_screenshot(&format!("analytics-index-{size}.png"))
            .await;

        browser
            .click(&format!("#streams a[href='/analytics/streams/{stream}']"))
            .await;
        browser
            .wait_for(&format!(
                "return location.pathname === '/analytics/streams/{stream}' \
                 && document.querySelector('#reactions-chart svg') !== null"
            ))
            .await;
        // The header links to the dashboard here too.
        assert_eq!(
            browser
                .eval("return document.querySelector('.topbar a.nav-analytics') !== null")
                .await,
            json!(true)
        );
        let tiles = browser
            .eval("return document.querySelector('.tiles').textContent")
            .await;
        assert!(
            tiles.as_str().unwrap().contains(&total.to_string()),
            "{tiles}"
        );
        let bars = browser
            .eval("return [...document.querySelectorAll('#reactions-chart svg')].filter(s => s.getClientRects().length > 0)[0].querySelectorAll('rect').length")
            .await;
        assert!(
            bars.as_u64().unwrap() >= 40 * 5,
            "{size}: stacked bars drawn: {bars}"
        );

        // Readable: every chart text renders at 11 px or more.
        let (smallest, texts) = smallest_chart_text(&browser).await;
        assert!(texts >= 20, "{size}: {texts} chart texts");
        assert!(
            smallest >= 11.0,
            "{size}: the smallest chart text renders at {smallest:.2} px"
        );
        // The charts fit the window: no sideways scrolling.
        assert_eq!(
            browser
                .eval("return [...document.querySelectorAll('.chart svg')].filter(s => s.getClientRects().length > 0).every(s => s.getBoundingClientRect().right <= window.innerWidth)")
                .await,
            json!(true),
            "{size}"
        );
        browser
            .keep_screenshot(&format!("analytics-{size}.png"))
            .await;
        browser
            .eval("document.getElementById('shown').scrollIntoView(); return null")
            .await;
        browser
            .keep_screenshot(&format!("analytics-charts-{size}.png"))
            .await;

        // Pick the last hour in 5-minute buckets, by clicks.
        browser.click("#range-1h").await;
        browser.click("#bucket-5m").await;
        browser.click("#picker button[type=submit]").await;
        browser
            .wait_for(
                "return new URLSearchParams(location.search).get('range') === '1h' \
                 && new URLSearchParams(location.search).get('bucket') === '5m' \
                 && document.querySelector('#shown') !== null",
            )
            .await;
        let state = browser
            .eval(
                "return [document.querySelector('#range-1h input').checked, \
                         document.querySelector('#bucket-5m input').checked, \
                         document.getElementById('shown').textContent, \
                         document.querySelector('#chat-chart').textContent.includes('Chat messages per 5 minutes')]",
            )
            .await;
        assert_eq!(state[0], json!(true), "{size}: {state}");
        assert_eq!(state[1], json!(true), "{size}: {state}");
        assert!(
            state[2].as_str().unwrap().contains("5 min buckets"),
            "{state}"
        );
        assert_eq!(state[3], json!(true), "{size}: {state}");
        // 12 five-minute bars of the last hour (13 when it straddles one).
        let bars = browser
            .eval("return [...document.querySelectorAll('#reactions-chart svg')].filter(s => s.getClientRects().length > 0)[0].querySelectorAll('g > title').length")
            .await;
        assert!(
            (12..=13).contains(&bars.as_u64().unwrap()),
            "{size}: {bars} buckets"
        );
        let (smallest, _) = smallest_chart_text(&browser).await;
        assert!(smallest >= 11.0, "{size}: {smallest:.2} px after picking");
        browser
            .keep_screenshot(&format!("analytics-picked-{size}.png"))
            .await;

        // A bad pick and an unknown stream answer with the error page.
        browser
            .goto(&app.url(HOST, &format!("/analytics/streams/{stream}?range=2d")))
            .await;
        browser
            .wait_for("return document.querySelector('h1').textContent.startsWith('Unknown range “2d”') && document.body.textContent.includes('Error 422')")
            .await;
        browser
            .goto(&app.url(HOST, "/analytics/streams/999999"))
            .await;
        browser
            .wait_for("return document.querySelector('h1').textContent === 'This stream does not exist.' && document.body.textContent.includes('Error 404')")
            .await;
        browser
            .keep_screenshot(&format!("analytics-404-{size}.png"))
            .await;
    }
}

/// While the stream is live the page refreshes its figures and charts in
/// place (the picker keeps what is being chosen); when the stream ends it
/// says so and stops.
#[tokio::test]
async fn a_live_streams_analytics_refresh_in_place_until_it_ends() {
    use stampede::store::reactions::{insert_batch, NewReaction};
    let mut config = common::test_config();
    config.analytics_refresh_secs = 1;
    let app = TestApp::spawn_with(config).await;
    let tenant = app.acme(&[("ana", Analyst)]).await;
    let (stream, total) = seed_finals_night(&app, &tenant).await;
    let fan = app.user_id(&tenant, "fan0").await;

    let browser = Browser::launch().await;
    browser.set_window_size(DESKTOP.0, DESKTOP.1).await;
    browser
        .log_in(&app, "ana", &format!("/analytics/streams/{stream}"))
        .await;
    // The script (a file, as the CSP wants) runs and refreshes.
    browser
        .wait_for("return document.body.dataset.refresh === 'on' && Number(document.body.dataset.refreshes) >= 1")
        .await;
    browser
        .eval("window.stillThisPage = true; return null")
        .await;
    // Choosing, not yet submitted: refreshes leave the picker alone.
    browser.click("#range-15m").await;

    let now = time::OffsetDateTime::now_utc();
    let more: Vec<NewReaction> = (0..7)
        .map(|_| NewReaction {
            stream_id: stream,
            user_id: fan,
            stamp_id: 5,
            created_at: time::PrimitiveDateTime::new(now.date(), now.time()),
        })
        .collect();
    insert_batch(app.pool(), &tenant.schema, &more)
        .await
        .unwrap();
    browser
        .wait_for(&format!(
            "return document.querySelector('.tiles .value').textContent === '{}' \
             && window.stillThisPage === true",
            total + 7
        ))
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#range-15m input').checked")
            .await,
        json!(true)
    );
    assert!(browser
        .eval("return document.getElementById('refresh-status').textContent")
        .await
        .as_str()
        .unwrap()
        .starts_with("Live: the figures refresh every 1 s."));
    browser.keep_screenshot("analytics-live.png").await;

    app.end_stream(&tenant, stream).await;
    browser
        .wait_for(
            "return document.body.dataset.refresh === 'stopped' \
             && document.getElementById('stream-status').dataset.status === 'ended' \
             && document.getElementById('stream-status').textContent === 'ENDED' \
             && document.getElementById('refresh-status').textContent \
                  === 'The stream has ended; these are its final figures.' \
             && window.stillThisPage === true",
        )
        .await;
    browser.keep_screenshot("analytics-ended.png").await;
}

// ---- Accessibility and polish (issue 16) ----

/// WebDriver's key code for Tab.
const TAB: &str = "\u{E004}";

impl Browser {
    /// Presses each key of `keys` (WebDriver key codes) on whatever has
    /// focus, as a keyboard does.
    async fn press(&self, keys: &str) {
        let mut actions = Vec::new();
        for key in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": key.to_string()}));
            actions.push(json!({"type": "keyUp", "value": key.to_string()}));
        }
        self.call(
            reqwest::Method::POST,
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Runs axe-core (tests/axe, pinned in its package-lock.json; `npm ci`
    /// there, as scripts/test does) on the page and returns its violations.
    /// The script is injected through WebDriver, which the page's CSP does
    /// not govern.
    async fn axe(&self) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/axe/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {} ({e}): run `npm ci` in tests/axe (scripts/test does)",
                path.display()
            )
        });
        self.call(
            reqwest::Method::POST,
            "/timeouts",
            json!({"script": 60_000}),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": source, "args": []}),
        )
        .await;
        let result = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                json!({"script": "const done = arguments[arguments.length - 1]; \
                   axe.run(document, {resultTypes: ['violations']}) \
                     .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, \
                       nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary}))}))), \
                           e => done({error: String(e)}));",
                   "args": []}),
            )
            .await;
        assert!(result.is_array(), "axe did not run: {result}");
        result
    }

    /// Runs axe on the page and fails listing every violation of impact
    /// "serious" or "critical"; prints the minor and moderate ones. Returns
    /// all the violations.
    async fn assert_accessible(&self, page: &str) -> Value {
        let violations = self.axe().await;
        let describe = |v: &Value| {
            let nodes: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| {
                    format!(
                        "    {}: {}",
                        n["target"],
                        n["failureSummary"]
                            .as_str()
                            .unwrap_or("")
                            .replace('\n', " ")
                    )
                })
                .collect();
            format!(
                "  {} ({}): {}\n{}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                nodes.join("\n")
            )
        };
        let all = violations.as_array().unwrap();
        let (bad, rest): (Vec<&Value>, Vec<&Value>) = all
            .iter()
            .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
        for v in &rest {
            eprintln!("axe, {page}, tolerated:\n{}", describe(v));
        }
        assert!(
            bad.is_empty(),
            "{page}: axe found {} serious or critical violation(s):\n{}",
            bad.len(),
            bad.iter()
                .map(|v| describe(v))
                .collect::<Vec<_>>()
                .join("\n")
        );
        violations
    }
}

/// A viewer reading further up is not pulled down by new lines: "More
/// messages below" shows over the bottom of the log with how many arrived;
/// clicking it brings the latest lines and hides it; scrolling down to the
/// bottom hides it too. At phone and desktop sizes.
#[tokio::test]
async fn more_messages_below_shows_while_reading_further_up() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&viewers(["alice", "bob"])).await;
    let stream = app.stream(&tenant, "Busy chat").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    for i in 1..=40 {
        bob.chat(&format!("earlier line {i}")).await;
    }
    let browser = Browser::launch().await;
    let log = "document.getElementById('log')";
    let more = "document.getElementById('more-below')";
    let shown = |n: usize| {
        format!(
            "const b = {more}; const r = b.getBoundingClientRect(), l = {log}.getBoundingClientRect(); \
             return !b.hidden && b.textContent.includes('More messages below') \
               && b.textContent.includes('({n})') && r.height > 0 \
               && r.bottom <= l.bottom && r.top >= l.top && document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2) === b"
        )
    };
    let at_bottom =
        format!("const l = {log}; return l.scrollHeight - l.scrollTop - l.clientHeight < 40");
    let mut said = 0;
    browser.log_in(&app, "alice", "/").await;
    browser
        .wait_for("return location.pathname === '/' && document.querySelector('.streams') !== null")
        .await;
    for (width, height, size) in [PHONE, DESKTOP] {
        browser.set_window_size(width, height).await;
        browser
            .goto(&app.url(HOST, &format!("/streams/{stream}")))
            .await;
        browser
            .wait_for("return document.querySelector('#status.ok') !== null")
            .await;
        browser
            .wait_for(&format!(
                "return {log}.textContent.includes('earlier line 40')"
            ))
            .await;
        browser.wait_for(&at_bottom).await;
        // At the bottom, a new line scrolls in and nothing is offered.
        said += 1;
        bob.chat(&format!("new line {said}")).await;
        browser
            .wait_for(&format!(
                "return {log}.textContent.includes('new line {said}')"
            ))
            .await;
        assert_eq!(browser.eval(&at_bottom).await, json!(true), "{size}");
        assert_eq!(
            browser.eval(&format!("return {more}.hidden")).await,
            json!(true),
            "{size}"
        );

        // Reading further up: new lines do not move the log; the button says
        // how many are below.
        browser
            .eval(&format!("{log}.scrollTop = 0; return null"))
            .await;
        for _ in 0..3 {
            said += 1;
            bob.chat(&format!("new line {said}")).await;
        }
        browser
            .wait_for(&format!(
                "return {log}.textContent.includes('new line {said}')"
            ))
            .await;
        browser.wait_for(&shown(3)).await;
        assert_eq!(
            browser.eval(&format!("return {log}.scrollTop")).await,
            json!(0),
            "{size}: the log stays where the viewer reads"
        );
        browser
            .keep_screenshot(&format!("a11y-more-below-{size}.png"))
            .await;
        browser.click("#more-below").await;
        browser
            .wait_for(&format!(
                "return {more}.hidden && document.activeElement === {log}"
            ))
            .await;
        assert_eq!(browser.eval(&at_bottom).await, json!(true), "{size}");

        // Up again; scrolling back down by hand hides it by itself.
        browser
            .eval(&format!("{log}.scrollTop = 0; return null"))
            .await;
        said += 1;
        bob.chat(&format!("new line {said}")).await;
        browser.wait_for(&shown(1)).await;
        browser
            .eval(&format!(
                "{log}.scrollTop = {log}.scrollHeight; return null"
            ))
            .await;
        browser.wait_for(&format!("return {more}.hidden")).await;
    }
}

/// Web addresses in chat lines are links that open in a new tab without
/// handing it the page (`rel="noopener nofollow ugc"`); only http and https
/// are linked, trailing punctuation stays outside, and the line reads
/// exactly as typed. The overlay shows the same text.
#[tokio::test]
async fn web_addresses_in_chat_lines_are_safe_links() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&viewers(["alice", "bob"])).await;
    let stream = app.stream(&tenant, "Link party").await;
    let home = app.url(HOST, "/?from=chat");
    let wiki = "https://en.wikipedia.org/wiki/Rust_(programming_language)";
    let text = format!(
        "see {home}. and ({wiki}), not javascript:alert(1) nor \
         data:text/html,<b>x</b> nor JavaScript://x.test/%0Aalert(1) but http://example.com/a_b?c=1&d=2!"
    );
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.say(&text).await;
    // Stored and sent HTML-escaped (docs/protocol.md); the page decodes it.
    bob.next_where(|v| v["message"].as_str().is_some_and(|m| m.starts_with("see ")))
        .await;

    let browser = Browser::launch().await;
    browser.set_window_size(PHONE.0, PHONE.1).await;
    browser.watch(&app, "alice", stream).await;
    let line = "[...document.querySelectorAll('#log li.message .text')].find(t => t.textContent.startsWith('see '))";
    browser
        .wait_for(&format!("return {line} !== undefined"))
        .await;
    let shown = browser
        .eval(&format!(
            "const t = {line}; return {{text: t.textContent, \
               links: [...t.querySelectorAll('a')].map(a => [a.textContent, a.getAttribute('href'), a.target, a.rel]), \
               elements: t.querySelectorAll('*').length}}"
        ))
        .await;
    assert_eq!(shown["text"], json!(text), "the line reads as typed");
    assert_eq!(
        shown["links"],
        json!([
            [home, home, "_blank", "noopener nofollow ugc"],
            [wiki, wiki, "_blank", "noopener nofollow ugc"],
            [
                "http://example.com/a_b?c=1&d=2",
                "http://example.com/a_b?c=1&d=2",
                "_blank",
                "noopener nofollow ugc"
            ]
        ])
    );
    assert_eq!(shown["elements"], json!(3), "links only, no other markup");
    browser.keep_screenshot("a11y-links-phone.png").await;

    // A click opens the address in a new tab, which cannot reach this page.
    let before = browser
        .call(reqwest::Method::GET, "/window/handles", Value::Null)
        .await;
    browser.click("#log li.message .text a").await;
    let handles = eventually(EVENT_TIMEOUT, "no new tab opened", || async {
        let h = browser
            .call(reqwest::Method::GET, "/window/handles", Value::Null)
            .await;
        (h.as_array().unwrap().len() > before.as_array().unwrap().len()).then_some(h)
    })
    .await;
    let opened = handles
        .as_array()
        .unwrap()
        .iter()
        .find(|h| !before.as_array().unwrap().contains(h))
        .unwrap()
        .clone();
    browser
        .call(
            reqwest::Method::POST,
            "/window",
            json!({ "handle": opened }),
        )
        .await;
    browser
        .wait_for(&format!(
            "return location.href === '{home}' && document.readyState === 'complete'"
        ))
        .await;
    assert_eq!(browser.eval("return window.opener").await, Value::Null);
    browser
        .call(reqwest::Method::DELETE, "/window", Value::Null)
        .await;
    browser
        .call(
            reqwest::Method::POST,
            "/window",
            json!({ "handle": before[0] }),
        )
        .await;

    // The overlay: the same words, nothing to click.
    browser
        .goto(&app.url(HOST, &format!("/embed/streams/{stream}/chat")))
        .await;
    browser
        .wait_for(&format!("return {line} !== undefined"))
        .await;
    assert_eq!(
        browser
            .eval(&format!(
                "const t = {line}; return [t.textContent, t.querySelectorAll('*').length]"
            ))
            .await,
        json!([text, 0])
    );
}

/// The header is one line on a 390 px phone (the tenant's long name gives
/// way with an ellipsis; the links and Log out stay whole and in reach) on
/// the home, watch and analytics pages; Tab reaches every control of the
/// watch page and each shows a focus ring with at least 3:1 contrast.
#[tokio::test]
async fn the_header_fits_a_phone_and_keyboard_focus_is_visible() {
    let app = TestApp::spawn().await;
    let schema = stampede::tenant::SchemaName::parse("acme").unwrap();
    let tenant = stampede::store::tenants::create(
        app.pool(),
        &schema,
        "Acme Broadcasting Official Channel",
        HOST,
    )
    .await
    .unwrap();
    app.users(&tenant, &[("ana", Analyst), ("bob", Viewer)])
        .await;
    let stream = app.stream(&tenant, "Finals night").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.chat("hello from bob").await;

    let browser = Browser::launch().await;
    browser.set_window_size(PHONE.0, PHONE.1).await;
    browser.log_in(&app, "ana", "/").await;
    browser
        .wait_for("return location.pathname === '/' && document.querySelector('.streams') !== null")
        .await;
    let header = "const bar = document.querySelector('.topbar'); const r = bar.getBoundingClientRect(); \
        const items = [bar.querySelector('.brand'), ...bar.querySelectorAll('nav > *')] \
          .filter(e => e.getClientRects().length > 0); \
        const mid = (r.top + r.bottom) / 2; \
        const controls = [...bar.querySelectorAll('nav a, nav button')]; \
        return { height: r.height, \
          one_line: items.every(e => { const b = e.getBoundingClientRect(); \
            return b.top >= r.top && b.bottom <= r.bottom && Math.abs((b.top + b.bottom) / 2 - mid) < 4; }), \
          fits: document.documentElement.scrollWidth <= innerWidth \
            && items.every(e => e.getBoundingClientRect().right <= innerWidth), \
          whole: controls.filter(e => { const b = e.getBoundingClientRect(); \
            return e.scrollWidth <= e.clientWidth + 1 && b.left >= 0 && b.right <= innerWidth \
              && document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2)?.closest('a, button') === e; }) \
            .map(e => e.textContent.trim()), \
          brand: getComputedStyle(bar.querySelector('.brand')).textOverflow }";
    let pages = [
        (
            "home",
            "/".to_owned(),
            ".streams",
            &["日本語", "Analytics", "", "Log out"][..],
        ),
        (
            "watch",
            format!("/streams/{stream}"),
            "#status.ok",
            &["日本語", "Analytics", "", "Log out"],
        ),
        (
            "analytics",
            "/analytics".to_owned(),
            ".card",
            &["日本語", "Analytics", "", "Log out"],
        ),
        (
            "analytics-stream",
            format!("/analytics/streams/{stream}"),
            "#stream-head",
            &["日本語", "Analytics", "", "Log out"],
        ),
    ];
    for (name, path, ready, controls) in pages {
        browser.goto(&app.url(HOST, &path)).await;
        browser
            .wait_for(&format!(
                "return document.querySelector('{ready}') !== null"
            ))
            .await;
        browser
            .keep_screenshot(&format!("a11y-header-{name}-phone.png"))
            .await;
        let got = browser.eval(header).await;
        assert_eq!(got["one_line"], json!(true), "{path}: {got}");
        assert!(got["height"].as_f64().unwrap() < 56.0, "{path}: {got}");
        assert_eq!(got["fits"], json!(true), "{path}: {got}");
        assert_eq!(got["whole"], json!(controls), "{path}: {got}");
        assert_eq!(got["brand"], json!("ellipsis"), "{path}: {got}");
    }

    // Keyboard: from the top of the watch page, Tab visits every control;
    // each shows a solid ring of 2 px or more, at least 3:1 against what is
    // around it.
    browser.set_window_size(DESKTOP.0, DESKTOP.1).await;
    browser
        .goto(&app.url(HOST, &format!("/streams/{stream}")))
        .await;
    browser
        .wait_for("return document.querySelector('#status.ok') !== null && document.getElementById('log').textContent.includes('hello from bob')")
        .await;
    browser
        .eval("document.activeElement.blur(); window.getSelection().removeAllRanges(); return null")
        .await;
    let focused = "const el = document.activeElement; const s = getComputedStyle(el); \
        const rgb = c => c.match(/[\\d.]+/g).map(Number); \
        const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); \
          return 0.2126 * r + 0.7152 * g + 0.0722 * b; }; \
        let p = el.parentElement; \
        while (p && (rgb(getComputedStyle(p).backgroundColor)[3] ?? 1) === 0) p = p.parentElement; \
        const a = lum(s.outlineColor), b = lum(p ? getComputedStyle(p).backgroundColor : 'rgb(0,0,0)'); \
        return { name: el.id || (el.className || el.tagName).toString().split(' ')[0] || el.tagName, \
          text: el.textContent.trim().slice(0, 20), ring: el.matches(':focus-visible'), style: s.outlineStyle, \
          width: parseFloat(s.outlineWidth), contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) }";
    let mut seen = Vec::new();
    for _ in 0..20 {
        browser.press(TAB).await;
        let f = browser.eval(focused).await;
        let name = f["name"].as_str().unwrap().to_owned();
        if name == "BODY" || (seen.contains(&name) && name != "stamp") {
            break;
        }
        assert_eq!(f["ring"], json!(true), "{f}");
        assert_eq!(f["style"], json!("solid"), "a visible ring: {f}");
        assert!(f["width"].as_f64().unwrap() >= 2.0, "{f}");
        assert!(f["contrast"].as_f64().unwrap() >= 3.0, "{f}");
        if name == "text" {
            browser.keep_screenshot("a11y-focus-input.png").await;
        }
        if name == "link" {
            browser.keep_screenshot("a11y-focus-logout.png").await;
        }
        seen.push(name);
    }
    for want in [
        "brand",
        "nav-analytics",
        "link",
        "popout-link",
        "log",
        "text",
        "BUTTON",
        "stamp",
    ] {
        assert!(
            seen.iter().any(|s| s == want),
            "Tab never reached {want}: {seen:?}"
        );
    }
    assert!(
        seen.iter().filter(|s| *s == "stamp").count() >= 6,
        "every stamp: {seen:?}"
    );

    // Log out is in reach on the phone: a tap logs out.
    browser.set_window_size(PHONE.0, PHONE.1).await;
    browser.click(".topbar button.link").await;
    browser
        .wait_for("return location.pathname === '/accounts/login'")
        .await;
}

/// The chat log is not a live region (a busy chat would be read out line by
/// line; nor role="log", which is one); a polite region announces the one new line, or "N new messages",
/// at most once every 5 s, and never one's own lines. Notices are status
/// messages.
#[tokio::test]
async fn new_messages_are_announced_without_reading_out_a_flood() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&viewers(["alice", "bob"])).await;
    let stream = app.stream(&tenant, "Announced").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    bob.chat("from before you came").await;
    let browser = Browser::launch().await;
    browser.watch(&app, "alice", stream).await;
    browser
        .wait_for(
            "return document.getElementById('log').textContent.includes('from before you came')",
        )
        .await;
    let roles = browser
        .eval(
            "const log = document.getElementById('log'), a = document.getElementById('announcer'); \
             const live = e => e.getAttribute('aria-live') || ({status: 'polite', alert: 'assertive', log: 'polite'})[e.getAttribute('role')] || 'off'; \
             return [log.getAttribute('role'), live(log), live(a), a.getBoundingClientRect().width <= 1, \
                     document.getElementById('notice').getAttribute('role')]",
        )
        .await;
    assert_eq!(roles, json!([null, "off", "polite", true, "status"]));
    // Every change of the announcer, timed.
    browser
        .eval(
            "window.said = []; const a = document.getElementById('announcer'); \
             new MutationObserver(() => said.push([performance.now(), a.textContent.trim()])) \
               .observe(a, {childList: true, characterData: true, subtree: true}); return null",
        )
        .await;
    let said = "return window.said.map(s => s[1])";

    // One line: read as it is. History was not.
    bob.chat("hello alice").await;
    browser.wait_for("return window.said.length === 1").await;
    assert_eq!(browser.eval(said).await, json!(["bob: hello alice"]));

    // A flood of 12: one summary, not twelve lines, 5 s after the last.
    for i in 1..=12 {
        bob.say(&format!("flood {i}")).await;
    }
    browser
        .wait_for("return document.getElementById('log').textContent.includes('flood 12')")
        .await;
    browser
        .wait_for(
            "return window.said.slice(1).reduce((n, s) => \
               n + (/^\\d+ new messages$/.test(s[1]) ? parseInt(s[1]) : 1), 0) === 12",
        )
        .await;
    let log = browser.eval("return window.said").await;
    let times: Vec<f64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_f64().unwrap())
        .collect();
    assert!(times.len() <= 3, "a flood is summed up: {log}");
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= 4900.0),
        "at most one announcement every 5 s: {log}"
    );
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|s| s[1].as_str().unwrap().ends_with(" new messages")),
        "{log}"
    );

    // One's own line is not announced; the next line from someone else is,
    // alone.
    browser.type_into("#text", "my own line\u{E007}").await;
    bob.next_where(|v| v["message"] == "my own line").await;
    bob.chat("after yours").await;
    let n = times.len();
    browser
        .wait_for(&format!("return window.said.length === {}", n + 1))
        .await;
    assert_eq!(
        browser
            .eval("return window.said[window.said.length - 1][1]")
            .await,
        json!("bob: after yours")
    );
}

/// axe-core finds no serious or critical violation on the home page, the
/// login page, the watch page (scrolled up, with "More messages below"), the
/// pop-out, an ended stream's replay, the overlay (anonymous) and the
/// analytics pages, at desktop
/// (1366×900) and phone (390×844) sizes.
#[tokio::test]
async fn pages_have_no_serious_accessibility_violations_at_desktop_and_phone_sizes() {
    let app = TestApp::spawn().await;
    let tenant = app
        .acme(&[
            ("ana", Analyst),
            ("bob", Viewer),
            ("mo", Moderator),
            ("vic", Viewer),
        ])
        .await;
    stampede::store::embed::update(app.pool(), tenant.id, Some(true), None)
        .await
        .unwrap();
    let (stream, _) = seed_finals_night(&app, &tenant).await;
    stampede::store::streams::schedule(app.pool(), &tenant.schema, "Premiere", None)
        .await
        .unwrap();
    let ended = app.stream(&tenant, "Yesterday's show").await;
    app.end_stream(&tenant, ended).await;
    // A chat with a link, markup typed as text, a pinned line and a
    // moderation notice.
    let mut bob = app.ws(HOST, stream, "bob").await;
    for i in 1..=30 {
        bob.chat(&format!("line {i}: what a match")).await;
    }
    bob.say("highlights at https://example.com/finals?t=90 (and <b>this</b>)")
        .await;
    let highlights = bob
        .next_where(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("highlights"))
        })
        .await["id"]
        .clone();
    let mut mo = app.ws(HOST, stream, "mo").await;
    mo.send_json(json!({"type": "chat.pin", "id": highlights}))
        .await;
    mo.next_where(|v| v["message_type"] == "moderation").await;

    let browser = Browser::launch().await;
    let log = "document.getElementById('log')";
    for (width, height, size) in [DESKTOP, PHONE] {
        browser.set_window_size(width, height).await;

        // The overlay, as OBS opens it: no login.
        browser
            .goto(&app.url(HOST, &format!("/embed/streams/{stream}/chat")))
            .await;
        browser
            .wait_for(&format!(
                "return document.querySelector('#status.readonly') !== null \
                 && {log}.textContent.includes('highlights at')"
            ))
            .await;
        browser.assert_accessible(&format!("overlay, {size}")).await;
        browser
            .keep_screenshot(&format!("a11y-overlay-{size}.png"))
            .await;

        browser.goto(&app.url(HOST, "/accounts/login?next=/")).await;
        browser
            .wait_for("return document.querySelector('input[name=username]') !== null")
            .await;
        browser.assert_accessible(&format!("login, {size}")).await;
        browser.type_into("input[name=username]", "ana").await;
        browser.type_into("input[name=password]", "pw-ana").await;
        browser.click("form.stack button[type=submit]").await;
        browser
            .wait_for("return location.pathname === '/' && document.querySelectorAll('.streams .live').length === 3")
            .await;
        browser.assert_accessible(&format!("home, {size}")).await;
        browser
            .keep_screenshot(&format!("a11y-home-{size}.png"))
            .await;

        // The watch page, read further up while new lines arrive.
        browser
            .goto(&app.url(HOST, &format!("/streams/{stream}")))
            .await;
        browser
            .wait_for(&format!(
                "return document.querySelector('#status.ok') !== null \
                 && {log}.textContent.includes('highlights at')"
            ))
            .await;
        browser
            .eval(&format!("{log}.scrollTop = 0; return null"))
            .await;
        bob.chat(&format!("while you read up ({size})")).await;
        browser
            .wait_for("return !document.getElementById('more-below').hidden")
            .await;
        browser.assert_accessible(&format!("watch, {size}")).await;
        browser
            .keep_screenshot(&format!("a11y-watch-{size}.png"))
            .await;

        browser
            .goto(&app.url(HOST, &format!("/streams/{stream}/chat")))
            .await;
        browser
            .wait_for(&format!(
                "return document.querySelector('#status.ok') !== null \
                 && {log}.textContent.includes('while you read up ({size})')"
            ))
            .await;
        browser.assert_accessible(&format!("pop-out, {size}")).await;
        browser
            .keep_screenshot(&format!("a11y-popout-{size}.png"))
            .await;

        // An ended stream's page with its replay player.
        browser
            .goto(&app.url(HOST, &format!("/streams/{ended}")))
            .await;
        browser
            .wait_for("return document.getElementById('replay-time').textContent.includes(' / ')")
            .await;
        browser.assert_accessible(&format!("replay, {size}")).await;
        browser
            .keep_screenshot(&format!("a11y-replay-{size}.png"))
            .await;

        browser.goto(&app.url(HOST, "/analytics")).await;
        browser
            .wait_for("return document.getElementById('streams') !== null")
            .await;
        browser
            .assert_accessible(&format!("analytics, {size}"))
            .await;
        browser
            .keep_screenshot(&format!("a11y-analytics-{size}.png"))
            .await;

        browser
            .goto(&app.url(HOST, &format!("/analytics/streams/{stream}")))
            .await;
        browser
            .wait_for("return document.querySelector('#reactions-chart svg') !== null")
            .await;
        browser
            .assert_accessible(&format!("stream analytics, {size}"))
            .await;
        browser
            .keep_screenshot(&format!("a11y-analytics-stream-{size}.png"))
            .await;

        // Anonymous again for the next size's overlay.
        browser
            .call(reqwest::Method::DELETE, "/cookie", Value::Null)
            .await;
    }
}

/// Whether every visible child of the chat's header sits on one line
/// inside it and nothing overflows the window (a phone's narrow header).
const CHAT_HEAD_ONE_LINE: &str = "const head = document.querySelector('.chat-head'); \
    const r = head.getBoundingClientRect(); const mid = (r.top + r.bottom) / 2; \
    const items = [...head.children].filter(e => e.getClientRects().length > 0); \
    return { height: r.height, count: items.length, \
      one_line: items.every(e => { const b = e.getBoundingClientRect(); \
        return b.top >= r.top && b.bottom <= r.bottom && Math.abs((b.top + b.bottom) / 2 - mid) < 6; }), \
      fits: document.documentElement.scrollWidth <= innerWidth \
        && items.every(e => e.getBoundingClientRect().right <= innerWidth) }";

#[tokio::test]
async fn a_viewer_searches_japanese_in_the_chat_on_a_phone() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&viewers(["alice", "bob"])).await;
    let stream = app.stream(&tenant, "検索のテスト配信").await;
    let mut bob = app.ws(HOST, stream, "bob").await;
    let hello = bob.chat("みなさんこんにちは！").await["id"]
        .as_i64()
        .unwrap();
    bob.say("good evening <everyone>").await;
    bob.next_where(|v| v["message"] == "good evening &lt;everyone&gt;")
        .await;

    let browser = Browser::launch().await;
    browser.set_window_size(PHONE.0, PHONE.1).await;
    browser.watch(&app, "alice", stream).await;
    let head = browser.eval(CHAT_HEAD_ONE_LINE).await;
    assert_eq!(head["one_line"], json!(true), "{head}");
    assert_eq!(head["fits"], json!(true), "{head}");

    browser.click("#search-open").await;
    browser
        .wait_for("return !document.getElementById('search').hidden && document.activeElement.id === 'search-q'")
        .await;
    browser.type_into("#search-q", "こんにちは").await;
    browser.click("#search-form button[type=submit]").await;
    browser
        .wait_for(&format!(
            "const li = document.querySelector(\"#search-results li[data-id='{hello}']\"); \
             return li !== null && li.querySelector('mark').textContent === 'こんにちは' \
               && li.querySelector('.search-text').textContent === 'みなさんこんにちは！' \
               && document.querySelectorAll('#search-results li').length === 1"
        ))
        .await;
    let head = browser.eval(CHAT_HEAD_ONE_LINE).await;
    assert_eq!(head["one_line"], json!(true), "still one line: {head}");
    browser.keep_screenshot("search-ja-phone.png").await;
    browser.assert_accessible("chat search (phone)").await;

    // A result in the log: a click brings its line into view, flashing.
    browser
        .click(&format!("#search-results li[data-id='{hello}'] button"))
        .await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{hello}']\").classList.contains('flash')"
        ))
        .await;

    // Markup in a line is text, in the result as in the chat.
    browser
        .eval("document.getElementById('search-q').value = ''; return true")
        .await;
    browser.type_into("#search-q", "<EVERYONE>").await;
    browser.click("#search-form button[type=submit]").await;
    browser
        .wait_for(
            "const m = document.querySelector('#search-results mark'); \
             return m !== null && m.textContent === '<everyone>' \
               && document.querySelector('#search-results everyone') === null",
        )
        .await;
}

#[tokio::test]
async fn a_moderator_sees_a_users_messages_from_another_stream_in_the_card() {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("mo", Moderator), ("bob", Viewer)]).await;
    let here = app.stream(&tenant, "Here").await;
    let there = app.stream(&tenant, "There").await;
    let mut bob_there = app.ws(HOST, there, "bob").await;
    bob_there.chat("a line from the other stream").await;
    let removed = bob_there.chat("a removed line").await["id"]
        .as_i64()
        .unwrap();
    sqlx::query("UPDATE acme.chat_chatmessage SET is_deleted = true WHERE id = $1")
        .bind(removed as i32)
        .execute(app.pool())
        .await
        .unwrap();
    let mut bob = app.ws(HOST, here, "bob").await;
    let line = bob.chat("hi from here").await["id"].as_i64().unwrap();

    let browser = Browser::launch().await;
    browser.watch(&app, "mo", here).await;
    browser
        .wait_for(&format!(
            "return document.querySelector(\".line[data-id='{line}']\") !== null"
        ))
        .await;
    browser
        .eval(&format!(
            "document.querySelector(\".line[data-id='{line}'] .line-menu-button\").click(); \
             [...document.querySelectorAll('.line-menu button')].find(b => b.textContent === 'User card…').click(); \
             return true"
        ))
        .await;
    browser
        .wait_for("return document.querySelector('.card-everywhere-button') !== null")
        .await;
    browser.click(".card-everywhere-button").await;
    browser
        .wait_for(&format!(
            "const items = [...document.querySelectorAll('.card-everywhere li')]; \
             const other = items.find(li => li.textContent.includes('a line from the other stream')); \
             const gone = items.find(li => li.textContent.includes('a removed line')); \
             return items.length === 3 && other !== undefined && other.textContent.includes('Stream {there}') \
               && gone !== undefined && gone.classList.contains('deleted') \
               && items[0].textContent.includes('hi from here') && !items[0].textContent.includes('Stream ')"
        ))
        .await;
    browser.keep_screenshot("search-user-card.png").await;
}
