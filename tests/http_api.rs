//! Sessions, the login form, the history API and pages over real HTTP.

mod common;

use common::{csrf_from, session_cookie, strings, As, Reply, TestApp, HOST};
use serde_json::json;
use stampede::auth::Role::{self, Viewer};

/// A server with tenant acme and alice, a viewer.
async fn app() -> (TestApp, stampede::tenant::Tenant) {
    let app = TestApp::spawn().await;
    let tenant = app.acme(&[("alice", Viewer)]).await;
    (app, tenant)
}

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_logout_ends_the_session() {
    let (app, _) = app().await;
    let res = Reply::read(app.login_request(HOST, "alice", "pw-alice")).await;
    assert_eq!(res.status, 200);
    let set_cookie = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("sessionid="))
        .expect("sessionid cookie");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "not Secure unless configured: {set_cookie}"
    );
    let cookie = res.cookie("sessionid").unwrap();
    assert_eq!(res.body, json!({"username": "alice", "role": "viewer"}));

    assert_eq!(app.whoami(&cookie).await.status, 200);
    let res = app.logout(&cookie).await;
    assert_eq!(res.status, 204);
    // Replaying the old cookie no longer works: the session is gone server-side.
    assert_eq!(app.whoami(&cookie).await.status, 401);
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let mut config = common::test_config();
    config.secure_cookies = true;
    let app = TestApp::spawn_with(config).await;
    app.acme(&[("alice", Viewer)]).await;
    let res = Reply::read(app.login_request(HOST, "alice", "pw-alice")).await;
    let set_cookie = res.header("set-cookie");
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}

#[tokio::test]
async fn bad_credentials_and_bad_bodies_get_json_errors() {
    let (app, _) = app().await;
    for (username, password) in [("alice", "wrong"), ("mallory", "pw-mallory")] {
        let res = Reply::read(app.login_request(HOST, username, password)).await;
        assert_eq!(res.status, 401);
        assert!(res.cookie("sessionid").is_none());
        assert_eq!(res.body["error"], "invalid_credentials");
    }
    let res = app
        .request_on(HOST, "POST", "/api/session", As::Anonymous)
        .await
        .header("content-type", "application/json")
        .body("{nope");
    let res = Reply::read(res).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["error"], "bad_json");
}

#[tokio::test]
async fn cross_origin_writes_are_refused() {
    let (app, _) = app().await;
    let res = app
        .login_request(HOST, "alice", "pw-alice")
        .header("origin", "http://evil.localhost");
    let res = Reply::read(res).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.body["error"], "bad_origin");
}

#[tokio::test]
async fn login_form_requires_its_csrf_token() {
    let (app, _) = app().await;
    let client = app.http(&[HOST]);
    let res = client
        .get(app.url(HOST, "/accounts/login?next=/streams/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The token is a signed cookie: an anonymous visitor gets no session.
    assert!(session_cookie(&res).is_none(), "no session for a visitor");
    let cookie = common::csrf_cookie(&res).expect("csrf cookie for the token");
    let html = res.text().await.unwrap();
    let token = csrf_from(&html);
    assert_eq!(cookie, format!("csrftoken={token}"));

    let submit = |csrf: String| {
        let form = [
            ("username", "alice".to_owned()),
            ("password", "pw-alice".to_owned()),
            ("csrf_token", csrf),
            ("next", "/streams/1".to_owned()),
        ];
        client
            .post(app.url(HOST, "/accounts/login"))
            .header("cookie", &cookie)
            .form(&form)
            .send()
    };
    let res = submit("0".repeat(64)).await.unwrap();
    assert_eq!(res.status(), 403);
    // A token of our own signing, but not this visitor's cookie.
    let other = app.api("GET", "/accounts/login", As::Anonymous, None).await;
    let res = submit(csrf_from(&other.text)).await.unwrap();
    assert_eq!(res.status(), 403);

    let res = submit(token).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/streams/1");
    let logged_in = session_cookie(&res).expect("a session from the login");
    assert_eq!(app.whoami(&logged_in).await.status, 200);
}

#[tokio::test]
async fn watch_page_needs_login_and_renders_safely() {
    let (app, tenant) = app().await;
    let stream = app.stream(&tenant, "<b>Launch</b> & more").await;
    let page = format!("/streams/{stream}");
    let res = app.api("GET", &page, As::Anonymous, None).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location"),
        format!("/accounts/login?next=/streams/{stream}")
    );

    let res = app.api("GET", &page, "alice", None).await;
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-security-policy")
        .contains("script-src 'self'"));
    let html = res.text;
    assert!(
        html.contains("&lt;b&gt;Launch") || html.contains("&#60;b&#62;Launch"),
        "title escaped"
    );
    assert!(!html.contains("<b>Launch</b>"));
    assert!(html.contains(&format!("data-stream-id=\"{stream}\"")));

    let index = app.api("GET", "/", As::Anonymous, None).await.text;
    assert!(index.contains(&format!("/streams/{stream}")));
    let js = app
        .api("GET", "/static/watch.js", As::Anonymous, None)
        .await
        .text;
    assert!(js.contains("textContent") && !js.contains("innerHTML"));
}

#[tokio::test]
async fn history_api_pages_newest_first() {
    let (app, tenant) = app().await;
    let stream = app.stream(&tenant, "Live").await;
    let mut alice = app.ws(HOST, stream, "alice").await;
    for i in 0..7 {
        alice.say(&format!("m{i}")).await;
    }
    alice.next_where(|v| v["message"] == "m6").await;
    let cookie = app.login(HOST, "alice").await;
    let get = |query: String| {
        let path = format!("/api/streams/{stream}/messages{query}");
        let app = &app;
        let cookie = &cookie;
        async move { app.api("GET", &path, As::Cookie(cookie), None).await }
    };

    let page = get("?limit=3".into()).await.body;
    assert_eq!(strings(&page["messages"], "message"), ["m6", "m5", "m4"]);
    let next = page["next_before_id"].as_i64().unwrap();
    let page2 = get(format!("?limit=3&before_id={next}")).await.body;
    assert_eq!(strings(&page2["messages"], "message"), ["m3", "m2", "m1"]);
    let next = page2["next_before_id"].as_i64().unwrap();
    let page3 = get(format!("?limit=3&before_id={next}")).await.body;
    assert_eq!(strings(&page3["messages"], "message"), ["m0"]);
    assert!(page3["next_before_id"].is_null());

    // Deleted messages are excluded.
    app.exec(&format!(
        "UPDATE {}.chat_chatmessage SET is_deleted = true WHERE content = 'm5'",
        tenant.schema
    ))
    .await;
    let page = get("?limit=3".into()).await.body;
    assert_eq!(strings(&page["messages"], "message"), ["m6", "m4", "m3"]);

    for bad in ["?limit=201", "?limit=0", "?limit=x", "?before_id=abc"] {
        let res = get(bad.into()).await;
        assert_eq!(res.status, 422, "{bad}");
        assert_eq!(res.body["error"], "invalid");
    }
    let messages = format!("/api/streams/{stream}/messages");
    let res = app.api("GET", &messages, As::Anonymous, None).await;
    assert_eq!(res.status, 401);
    assert_eq!(get("".into()).await.status, 200);
    let res = app
        .api("GET", "/api/streams/abc", As::Anonymous, None)
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body["error"], "not_found");
    let res = app
        .api(
            "GET",
            "/api/streams/999/messages",
            As::Cookie(&cookie),
            None,
        )
        .await;
    assert_eq!(res.status, 404);
}

/// Sessions expire after 14 days without use: a session in use must have its
/// expiry moved forward, but without a database write on every request.
#[tokio::test]
async fn a_session_in_use_is_extended_once_a_day_not_on_every_request() {
    use stampede::auth::session::{SEEN_KEY, USER_KEY};
    use stampede::auth::SessionUser;
    use time::{Duration, OffsetDateTime};
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore;

    let (app, tenant) = app().await;
    let (user_id,): (i32,) = sqlx::query_as(&format!(
        "SELECT id FROM {}.accounts_user WHERE username = 'alice'",
        tenant.schema
    ))
    .fetch_one(app.pool())
    .await
    .unwrap();
    let user = SessionUser {
        tenant_id: tenant.id,
        user_id,
        username: "alice".into(),
        role: Role::Viewer,
    };
    // Last used three days ago, one hour left.
    let today = OffsetDateTime::now_utc().unix_timestamp() / 86_400;
    let mut record = Record {
        id: Id::default(),
        data: [
            (USER_KEY.to_owned(), serde_json::to_value(&user).unwrap()),
            (SEEN_KEY.to_owned(), json!(today - 3)),
        ]
        .into_iter()
        .collect(),
        expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
    };
    tower_sessions_sqlx_store::PostgresStore::new(app.pool().clone())
        .create(&mut record)
        .await
        .unwrap();
    let cookie = format!("sessionid={}", record.id);
    let expiry = || async {
        let (at,): (OffsetDateTime,) =
            sqlx::query_as(r#"SELECT expiry_date FROM "tower_sessions"."session" WHERE id = $1"#)
                .bind(record.id.to_string())
                .fetch_one(app.pool())
                .await
                .unwrap();
        at
    };
    let me = || async {
        assert_eq!(app.whoami(&cookie).await.status, 200);
    };

    me().await;
    let extended = expiry().await;
    assert!(
        extended > OffsetDateTime::now_utc() + Duration::days(13),
        "a used session is extended to 14 days: {extended}"
    );
    me().await;
    assert_eq!(expiry().await, extended, "not written again the same day");
}

#[tokio::test]
async fn anonymous_page_views_store_no_session() {
    let (app, _) = app().await;
    for path in ["/", "/accounts/login", "/accounts/login?next=/streams/1"] {
        for _ in 0..10 {
            let res = app.api("GET", path, As::Anonymous, None).await;
            assert_eq!(res.status, 200, "{path}");
            assert!(res.cookie("sessionid").is_none(), "{path} set a session");
        }
    }
    let sessions = || async {
        sqlx::query_scalar::<_, i64>(r#"SELECT count(*) FROM "tower_sessions"."session""#)
            .fetch_one(app.pool())
            .await
            .unwrap()
    };
    assert_eq!(sessions().await, 0, "no session row for anonymous visitors");
    // A login stores exactly one.
    app.login(HOST, "alice").await;
    assert_eq!(sessions().await, 1);
}

/// Pages speak the browser's language (Japanese or English) until the
/// switch sets the `lang` cookie; the switch only goes back to local pages.
#[tokio::test]
async fn pages_follow_accept_language_and_the_language_switch() {
    let (app, _tenant) = app().await;
    let get = |path: &'static str, headers: Vec<(&'static str, String)>| {
        let mut req = app.http(&[HOST]).get(app.url(HOST, path));
        for (name, value) in headers {
            req = req.header(name, value);
        }
        Reply::read(req)
    };
    let ja = get(
        "/accounts/login",
        vec![("accept-language", "ja-JP,ja;q=0.9,en;q=0.5".to_owned())],
    )
    .await;
    assert_eq!(ja.status, 200);
    assert!(ja.text.contains(r#"<html lang="ja">"#), "{}", ja.text);
    assert!(ja.text.contains("ユーザー名") && ja.text.contains("パスワード"));
    assert!(ja
        .text
        .contains(r#"<a href="/lang/en" lang="en" hreflang="en">English</a>"#));
    let en = get("/", vec![("accept-language", "fr, en;q=0.5".to_owned())]).await;
    assert!(en.text.contains(r#"<html lang="en">"#) && en.text.contains("Live now"));
    let other = get("/", vec![("accept-language", "fr".to_owned())]).await;
    assert!(
        other.text.contains("Live now"),
        "English when neither is asked for"
    );

    // The switch: a cookie for a year, back to the page it was on.
    let switched = get(
        "/lang/ja",
        vec![("referer", app.url(HOST, "/streams/7?x=1"))],
    )
    .await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.header("location"), "/streams/7?x=1");
    let cookie = switched.header("set-cookie");
    assert!(
        cookie.starts_with("lang=ja;") && cookie.contains("Max-Age=31536000"),
        "{cookie}"
    );
    let chosen = get(
        "/",
        vec![
            ("cookie", "lang=ja".to_owned()),
            ("accept-language", "en".to_owned()),
        ],
    )
    .await;
    assert!(chosen.text.contains("ライブ配信中"), "the cookie wins");
    // Never an open redirect, whatever next or Referer say.
    for (path, referer) in [
        ("/lang/en?next=//evil.example/", "http://acme.localhost/"),
        ("/lang/en", "http://evil.example/streams/1"),
        (
            "/lang/en?next=https://evil.example/",
            "http://acme.localhost/",
        ),
    ] {
        let mut req = app.http(&[HOST]).get(app.url(HOST, path));
        req = req.header("referer", referer);
        let r = Reply::read(req).await;
        assert_eq!(
            (r.status, r.header("location")),
            (303, "/"),
            "{path} {referer}"
        );
    }
    let unknown = get("/lang/fr?next=/streams/1", vec![]).await;
    assert_eq!(unknown.header("location"), "/streams/1");
    assert!(unknown.headers.get("set-cookie").is_none());
}

/// The JSON Schema of the socket frames is served on any host (it holds no
/// tenant data), is the server's own generated document, and describes
/// the four frame kinds.
#[tokio::test]
async fn the_frame_schema_is_served_on_any_host() {
    let (app, _) = app().await;
    for reply in [
        app.get_bare("/api/schema/events.json").await,
        Reply::read(
            app.http(&[HOST])
                .get(app.url(HOST, "/api/schema/events.json")),
        )
        .await,
    ] {
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(
            reply.headers["content-type"].to_str().unwrap(),
            "application/schema+json"
        );
        assert_eq!(&reply.body, stampede::wire::schema::events());
        for kind in [
            "ChatSocketServerFrame",
            "ChatClientFrame",
            "NotificationSocketServerFrame",
            "NotificationClientFrame",
        ] {
            assert!(reply.body["$defs"][kind].is_object(), "{kind}");
        }
        jsonschema::meta::validate(&reply.body).expect("a valid 2020-12 schema");
    }
}
