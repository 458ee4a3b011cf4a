//! Sessions, the login form, the history API and pages over real HTTP.

mod common;

use common::{session_cookie, TestApp};
use serde_json::{json, Value};
use stampede::auth::Role;

const HOST: &str = "acme.localhost";

async fn app() -> (TestApp, stampede::tenant::Tenant) {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    app.user(&tenant, "alice", Role::Viewer).await;
    (app, tenant)
}

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_logout_ends_the_session() {
    let (app, _) = app().await;
    let client = app.http(&[HOST]);
    let res = client
        .post(app.url(HOST, "/api/session"))
        .json(&json!({"username": "alice", "password": "pw-alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let set_cookie = res
        .headers()
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
    let cookie = session_cookie(&res).unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me, json!({"username": "alice", "role": "viewer"}));

    let res = client
        .get(app.url(HOST, "/api/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let res = client
        .delete(app.url(HOST, "/api/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    // Replaying the old cookie no longer works: the session is gone server-side.
    let res = client
        .get(app.url(HOST, "/api/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let mut config = common::test_config();
    config.secure_cookies = true;
    let app = TestApp::spawn_with(config).await;
    let tenant = app.tenant("acme", HOST).await;
    app.user(&tenant, "alice", Role::Viewer).await;
    let res = app
        .http(&[HOST])
        .post(app.url(HOST, "/api/session"))
        .json(&json!({"username": "alice", "password": "pw-alice"}))
        .send()
        .await
        .unwrap();
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}

#[tokio::test]
async fn bad_credentials_and_bad_bodies_get_json_errors() {
    let (app, _) = app().await;
    let client = app.http(&[HOST]);
    for body in [
        json!({"username": "alice", "password": "wrong"}),
        json!({"username": "mallory", "password": "pw-mallory"}),
    ] {
        let res = client
            .post(app.url(HOST, "/api/session"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert!(session_cookie(&res).is_none());
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_credentials");
    }
    let res = client
        .post(app.url(HOST, "/api/session"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "bad_json");
}

#[tokio::test]
async fn cross_origin_writes_are_refused() {
    let (app, _) = app().await;
    let res = app
        .http(&[HOST])
        .post(app.url(HOST, "/api/session"))
        .header("origin", "http://evil.localhost")
        .json(&json!({"username": "alice", "password": "pw-alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "bad_origin");
}

/// Pulls `name="csrf_token" value="…"` out of a page.
fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
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

    let form = |csrf: &str| {
        vec![
            ("username", "alice".to_owned()),
            ("password", "pw-alice".to_owned()),
            ("csrf_token", csrf.to_owned()),
            ("next", "/streams/1".to_owned()),
        ]
    };
    let res = client
        .post(app.url(HOST, "/accounts/login"))
        .header("cookie", &cookie)
        .form(&form("0".repeat(64).as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A token of our own signing, but not this visitor's cookie.
    let other = client
        .get(app.url(HOST, "/accounts/login"))
        .send()
        .await
        .unwrap();
    let other_token = csrf_from(&other.text().await.unwrap());
    let res = client
        .post(app.url(HOST, "/accounts/login"))
        .header("cookie", &cookie)
        .form(&form(&other_token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let res = client
        .post(app.url(HOST, "/accounts/login"))
        .header("cookie", &cookie)
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/streams/1");
    let logged_in = session_cookie(&res).expect("a session from the login");
    let res = client
        .get(app.url(HOST, "/api/session"))
        .header("cookie", &logged_in)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn watch_page_needs_login_and_renders_safely() {
    let (app, tenant) = app().await;
    let stream = app.stream(&tenant, "<b>Launch</b> & more").await;
    let client = app.http(&[HOST]);
    let res = client
        .get(app.url(HOST, &format!("/streams/{stream}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/accounts/login?next=/streams/{stream}")
    );

    let cookie = app.login(HOST, "alice").await;
    let res = client
        .get(app.url(HOST, &format!("/streams/{stream}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let html = res.text().await.unwrap();
    assert!(
        html.contains("&lt;b&gt;Launch") || html.contains("&#60;b&#62;Launch"),
        "title escaped"
    );
    assert!(!html.contains("<b>Launch</b>"));
    assert!(html.contains(&format!("data-stream-id=\"{stream}\"")));

    let index = client
        .get(app.url(HOST, "/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains(&format!("/streams/{stream}")));
    let js = client
        .get(app.url(HOST, "/static/watch.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
    let client = app.http(&[HOST]);
    let get = |query: String| {
        let client = client.clone();
        let cookie = cookie.clone();
        let url = app.url(HOST, &format!("/api/streams/{stream}/messages{query}"));
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };

    let page: Value = get("?limit=3".into()).await.json().await.unwrap();
    let texts = |p: &Value| -> Vec<String> {
        p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["message"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(texts(&page), ["m6", "m5", "m4"]);
    let next = page["next_before_id"].as_i64().unwrap();
    let page2: Value = get(format!("?limit=3&before_id={next}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(texts(&page2), ["m3", "m2", "m1"]);
    let next = page2["next_before_id"].as_i64().unwrap();
    let page3: Value = get(format!("?limit=3&before_id={next}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(texts(&page3), ["m0"]);
    assert!(page3["next_before_id"].is_null());

    // Deleted messages are excluded.
    sqlx::query(&format!(
        "UPDATE {}.chat_chatmessage SET is_deleted = true WHERE content = 'm5'",
        tenant.schema
    ))
    .execute(app.pool())
    .await
    .unwrap();
    let page: Value = get("?limit=3".into()).await.json().await.unwrap();
    assert_eq!(texts(&page), ["m6", "m4", "m3"]);

    for bad in ["?limit=201", "?limit=0", "?limit=x", "?before_id=abc"] {
        let res = get(bad.into()).await;
        assert_eq!(res.status(), 422, "{bad}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid");
    }
    let res = client
        .get(app.url(HOST, &format!("/api/streams/{stream}/messages")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = get("".into()).await;
    assert_eq!(res.status(), 200);
    let res = client
        .get(app.url(HOST, "/api/streams/abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "not_found");
    let res = client
        .get(app.url(HOST, "/api/streams/999/messages"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
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
    let client = app.http(&[HOST]);
    let me = || async {
        let res = client
            .get(app.url(HOST, "/api/session"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
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
    let client = app.http(&[HOST]);
    for path in ["/", "/accounts/login", "/accounts/login?next=/streams/1"] {
        for _ in 0..10 {
            let res = client.get(app.url(HOST, path)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert!(session_cookie(&res).is_none(), "{path} set a session");
        }
    }
    let rows: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "tower_sessions"."session""#)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0, "no session row for anonymous visitors");
    // A login stores exactly one.
    app.login(HOST, "alice").await;
    let rows: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "tower_sessions"."session""#)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
}
