//! Message search (issue 18): `GET /api/streams/{id}/messages/search` for
//! a stream's viewers and `GET /api/messages/search` for moderators and
//! admins, newest first, keyset-paged, with highlight ranges.

mod common;

use common::{test_config, TestApp, HOST};
use serde_json::{json, Value};
use stampede::auth::Role::{Admin, Moderator, Viewer};
use stampede::moderation::sanitize::sanitize;
use stampede::tenant::Tenant;

const CAST: &[(&str, stampede::auth::Role)] = &[
    ("alice", Viewer),
    ("bob", Viewer),
    ("mo", Moderator),
    ("root", Admin),
];

/// Stores `text` as `username`'s line in `stream`, escaped as the server
/// stores chat; returns its id.
async fn line(app: &TestApp, tenant: &Tenant, stream: i32, username: &str, text: &str) -> i64 {
    let schema = &tenant.schema;
    let id: i32 = sqlx::query_scalar(&format!(
        "INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content)
         SELECT r.id, u.id, $1 FROM {schema}.chat_chatroom r, {schema}.accounts_user u
         WHERE r.stream_id = $2 AND u.username = $3 RETURNING id"
    ))
    .bind(sanitize(text).unwrap())
    .bind(stream)
    .bind(username)
    .fetch_one(app.pool())
    .await
    .unwrap();
    i64::from(id)
}

async fn delete(app: &TestApp, tenant: &Tenant, id: i64) {
    sqlx::query(&format!(
        "UPDATE {}.chat_chatmessage SET is_deleted = true WHERE id = $1",
        tenant.schema
    ))
    .bind(id as i32)
    .execute(app.pool())
    .await
    .unwrap();
}

/// `count` filler lines of `username` in `stream`, in one statement.
async fn filler(app: &TestApp, tenant: &Tenant, stream: i32, username: &str, count: i32) {
    let schema = &tenant.schema;
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content)
         SELECT r.id, u.id, 'filler line ' || n
         FROM {schema}.chat_chatroom r, {schema}.accounts_user u, generate_series(1, $1) n
         WHERE r.stream_id = $2 AND u.username = $3"
    ))
    .bind(count)
    .bind(stream)
    .bind(username)
    .execute(app.pool())
    .await
    .unwrap();
}

fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A page of `route` (`/api/…/search`) as `who`, which must succeed.
async fn found(app: &TestApp, route: &str, who: &str, pairs: &[(&str, &str)]) -> Value {
    let path = format!("{route}?{}", query(pairs));
    let reply = app.api("GET", &path, who, None).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    reply.body
}

async fn in_stream(app: &TestApp, stream: i32, who: &str, pairs: &[(&str, &str)]) -> Value {
    found(
        app,
        &format!("/api/streams/{stream}/messages/search"),
        who,
        pairs,
    )
    .await
}

async fn in_tenant(app: &TestApp, who: &str, pairs: &[(&str, &str)]) -> Value {
    found(app, "/api/messages/search", who, pairs).await
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

async fn staged() -> (TestApp, Tenant, i32) {
    common::stage(test_config(), CAST).await
}

#[tokio::test]
async fn japanese_is_found_inside_text_and_highlighted() {
    let (app, tenant, stream) = staged().await;
    sqlx::query(&format!(
        "UPDATE {}.streaming_stream SET started_at = now() - interval '1 minute'",
        tenant.schema
    ))
    .execute(app.pool())
    .await
    .unwrap();
    let hello = line(&app, &tenant, stream, "alice", "みなさんこんにちは！").await;
    line(&app, &tenant, stream, "alice", "こんばんは").await;

    let page = in_stream(&app, stream, "bob", &[("q", "こんにちは")]).await;
    assert_eq!(ids(&page), [hello]);
    let found = &page["results"][0];
    assert_eq!(found["message"], "みなさんこんにちは！");
    assert_eq!(found["username"], "alice");
    assert_eq!(found["stream_id"], stream);
    assert_eq!(found["highlights"], json!([[4, 9]]));
    assert!(
        found["t_ms"].as_i64().unwrap() >= 0,
        "the stream has a start"
    );
    assert!(
        found.get("deleted").is_none(),
        "viewers see no deleted flag"
    );
    assert_eq!(page["next"], Value::Null);
}

#[tokio::test]
async fn english_matches_in_any_case_every_word_highlighted() {
    let (app, tenant, stream) = staged().await;
    let shout = line(&app, &tenant, stream, "alice", "HELLO World, hello!").await;
    let heart = line(&app, &tenant, stream, "bob", "I <3 Rust").await;
    line(&app, &tenant, stream, "bob", "goodbye").await;

    let page = in_stream(&app, stream, "alice", &[("q", "Hello")]).await;
    assert_eq!(ids(&page), [shout]);
    assert_eq!(page["results"][0]["highlights"], json!([[0, 5], [13, 18]]));

    // Every word must be in the line; offsets are in the text as typed.
    let page = in_stream(&app, stream, "alice", &[("q", "rust <3")]).await;
    assert_eq!(ids(&page), [heart]);
    assert_eq!(page["results"][0]["message"], "I &lt;3 Rust");
    assert_eq!(page["results"][0]["highlights"], json!([[2, 4], [5, 9]]));
    let page = in_stream(&app, stream, "alice", &[("q", "hello rust")]).await;
    assert_eq!(ids(&page), Vec::<i64>::new());
}

#[tokio::test]
async fn the_user_filter_keeps_one_authors_lines() {
    let (app, tenant, stream) = staged().await;
    let a = line(&app, &tenant, stream, "alice", "gg well played").await;
    let b1 = line(&app, &tenant, stream, "bob", "gg everyone").await;
    let b2 = line(&app, &tenant, stream, "bob", "see you tomorrow").await;

    let page = in_stream(&app, stream, "alice", &[("q", "gg"), ("user", "bob")]).await;
    assert_eq!(ids(&page), [b1]);
    let page = in_stream(&app, stream, "alice", &[("user", "BOB")]).await;
    assert_eq!(ids(&page), [b2, b1], "any case, no q: all of bob's lines");
    assert_eq!(page["results"][0]["highlights"], json!([]));
    let page = in_stream(&app, stream, "alice", &[("q", "played"), ("user", "alice")]).await;
    assert_eq!(ids(&page), [a]);
    let page = in_stream(&app, stream, "alice", &[("user", "nobody")]).await;
    assert_eq!(ids(&page), Vec::<i64>::new());
}

#[tokio::test]
async fn pages_go_back_by_keyset_without_repeats() {
    let (app, tenant, stream) = staged().await;
    let mut lines = Vec::new();
    for n in 1..=5 {
        lines.push(line(&app, &tenant, stream, "alice", &format!("round {n} starts")).await);
        line(&app, &tenant, stream, "bob", "something else").await;
    }
    let first = in_stream(&app, stream, "bob", &[("q", "round"), ("limit", "2")]).await;
    assert_eq!(ids(&first), [lines[4], lines[3]]);
    assert_eq!(first["next"], json!({"before": lines[3]}));
    let before = lines[3].to_string();
    let second = in_stream(
        &app,
        stream,
        "bob",
        &[("q", "round"), ("limit", "2"), ("before", &before)],
    )
    .await;
    assert_eq!(ids(&second), [lines[2], lines[1]]);
    let before = second["next"]["before"].to_string();
    let last = in_stream(
        &app,
        stream,
        "bob",
        &[("q", "round"), ("limit", "2"), ("before", &before)],
    )
    .await;
    assert_eq!(ids(&last), [lines[0]]);
    assert_eq!(last["next"], Value::Null);
}

#[tokio::test]
async fn a_rare_line_older_than_the_recent_scan_is_found_through_the_index() {
    let (app, tenant, stream) = staged().await;
    let old = line(&app, &tenant, stream, "alice", "the zeppelin landed").await;
    filler(&app, &tenant, stream, "bob", 3_000).await;
    let new = line(&app, &tenant, stream, "alice", "another zeppelin").await;
    let page = in_stream(&app, stream, "bob", &[("q", "zeppelin")]).await;
    assert_eq!(ids(&page), [new, old]);
    assert_eq!(page["next"], Value::Null);
}

#[tokio::test]
async fn a_search_out_of_time_returns_a_short_page_that_goes_on_where_it_stopped() {
    let config = stampede::ServeConfig {
        search_budget_ms: 0,
        ..test_config()
    };
    let (app, tenant, stream) = common::stage(config, CAST).await;
    let old = line(&app, &tenant, stream, "alice", "the zeppelin landed").await;
    filler(&app, &tenant, stream, "bob", 3_000).await;
    let new = line(&app, &tenant, stream, "alice", "another zeppelin").await;

    // Only the first reading (the newest 2,000 lines) is done in no time.
    let first = in_stream(&app, stream, "bob", &[("q", "zeppelin")]).await;
    assert_eq!(ids(&first), [new]);
    let before = first["next"]["before"]
        .as_i64()
        .expect("a short page goes on");
    assert!(old < before && before < new, "{first}");
    let before = before.to_string();
    let rest = in_stream(
        &app,
        stream,
        "bob",
        &[("q", "zeppelin"), ("before", &before)],
    )
    .await;
    assert_eq!(ids(&rest), [old]);
    assert_eq!(rest["next"], Value::Null);
}

#[tokio::test]
async fn a_term_common_in_the_stream_pages_on_past_the_first_reading() {
    let (app, _tenant, stream) = staged().await;
    // Every 40th of 4,000 lines: 50 in the newest 2,000, not enough for
    // a page of 60, dense enough to read on rather than ask the index.
    sqlx::query(
        "INSERT INTO acme.chat_chatmessage (room_id, user_id, content)
         SELECT r.id, u.id, CASE WHEN n % 40 = 0 THEN 'tick ' || n ELSE 'tock' END
         FROM acme.chat_chatroom r, acme.accounts_user u, generate_series(1, 4000) n
         WHERE r.stream_id = $1 AND u.username = 'bob' ORDER BY n",
    )
    .bind(stream)
    .execute(app.pool())
    .await
    .unwrap();
    let ticks: Vec<i64> = sqlx::query_scalar(
        "SELECT id::int8 FROM acme.chat_chatmessage WHERE content LIKE 'tick%' ORDER BY id DESC",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(ticks.len(), 100);
    let first = in_stream(&app, stream, "alice", &[("q", "tick"), ("limit", "60")]).await;
    assert_eq!(ids(&first), ticks[..60]);
    assert_eq!(first["next"], json!({"before": ticks[59]}));
    let before = ticks[59].to_string();
    let rest = in_stream(
        &app,
        stream,
        "alice",
        &[("q", "tick"), ("limit", "60"), ("before", &before)],
    )
    .await;
    assert_eq!(ids(&rest), ticks[60..]);
    assert_eq!(rest["next"], Value::Null);
}

#[tokio::test]
async fn deleted_lines_are_hidden_from_viewers_and_marked_for_moderators() {
    let (app, tenant, stream) = staged().await;
    let kept = line(&app, &tenant, stream, "alice", "spoiler: nothing").await;
    let gone = line(&app, &tenant, stream, "bob", "spoiler: the ending").await;
    delete(&app, &tenant, gone).await;

    let page = in_stream(&app, stream, "alice", &[("q", "spoiler")]).await;
    assert_eq!(ids(&page), [kept]);
    let page = in_tenant(&app, "mo", &[("q", "spoiler")]).await;
    assert_eq!(ids(&page), [gone, kept]);
    assert_eq!(page["results"][0]["deleted"], true);
    assert_eq!(page["results"][1]["deleted"], false);
    let page = in_tenant(&app, "root", &[("q", "spoiler"), ("user", "bob")]).await;
    assert_eq!(ids(&page), [gone], "admins too");
}

#[tokio::test]
async fn the_tenant_route_spans_streams_and_the_stream_route_does_not() {
    let (app, tenant, stream) = staged().await;
    let other = app.stream(&tenant, "Other").await;
    let here = line(&app, &tenant, stream, "alice", "pizza time").await;
    let there = line(&app, &tenant, other, "alice", "pizza again").await;

    let page = in_stream(&app, stream, "bob", &[("q", "pizza")]).await;
    assert_eq!(ids(&page), [here]);
    let page = in_tenant(&app, "mo", &[("q", "pizza")]).await;
    assert_eq!(ids(&page), [there, here]);
    assert_eq!(page["results"][0]["stream_id"], other);
    let only = other.to_string();
    let page = in_tenant(&app, "mo", &[("q", "pizza"), ("stream", &only)]).await;
    assert_eq!(ids(&page), [there]);
}

#[tokio::test]
async fn another_tenants_lines_are_never_found() {
    let (app, tenant, stream) = staged().await;
    let globex = app.tenant("globex", "globex.localhost").await;
    app.users(&globex, CAST).await;
    let theirs = app.stream(&globex, "Theirs").await;
    line(&app, &globex, theirs, "alice", "secret plans").await;
    let ours = line(&app, &tenant, stream, "alice", "secret sauce").await;

    let page = in_tenant(&app, "mo", &[("q", "secret")]).await;
    assert_eq!(ids(&page), [ours]);
    let page = in_stream(&app, stream, "alice", &[("q", "plans")]).await;
    assert_eq!(ids(&page), Vec::<i64>::new());
}

#[tokio::test]
async fn viewers_may_not_search_the_tenant_and_bad_limits_are_refused() {
    let (app, _tenant, stream) = staged().await;
    let reply = app
        .api("GET", "/api/messages/search?q=hello", "alice", None)
        .await;
    assert_eq!(reply.error(), (403, Some("forbidden")));
    let anonymous = app
        .api(
            "GET",
            &format!("/api/streams/{stream}/messages/search?q=hello"),
            common::As::Anonymous,
            None,
        )
        .await;
    assert_eq!(anonymous.status, 401);
    for bad in ["limit=0", "limit=101", "limit=x", "before=0", ""] {
        let path = format!("/api/streams/{stream}/messages/search?q=hello&{bad}");
        let path = if bad.is_empty() {
            format!("/api/streams/{stream}/messages/search")
        } else {
            path
        };
        let reply = app.api("GET", &path, "alice", None).await;
        assert_eq!(
            reply.error(),
            (422, Some("invalid")),
            "{path}: {}",
            reply.text
        );
    }
    let reply = app
        .api(
            "GET",
            "/api/streams/999/messages/search?q=hello",
            "alice",
            None,
        )
        .await;
    assert_eq!(reply.error(), (404, Some("not_found")));
}

#[tokio::test]
async fn like_metacharacters_match_themselves() {
    let (app, tenant, stream) = staged().await;
    let percent = line(&app, &tenant, stream, "alice", "100% sure").await;
    line(&app, &tenant, stream, "alice", "1000 points").await;
    let underscore = line(&app, &tenant, stream, "alice", "call foo_bar()").await;
    line(&app, &tenant, stream, "alice", "call fooxbar()").await;
    let backslash = line(&app, &tenant, stream, "alice", r"path c:\temp").await;
    line(&app, &tenant, stream, "alice", "path c:temp").await;

    let page = in_stream(&app, stream, "bob", &[("q", "100%")]).await;
    assert_eq!(ids(&page), [percent]);
    let page = in_stream(&app, stream, "bob", &[("q", "foo_bar")]).await;
    assert_eq!(ids(&page), [underscore]);
    let page = in_stream(&app, stream, "bob", &[("q", r"c:\temp")]).await;
    assert_eq!(ids(&page), [backslash]);
    let page = in_stream(&app, stream, "bob", &[("q", "%")]).await;
    assert_eq!(ids(&page), [percent], "a short query is literal too");
}

#[tokio::test]
async fn short_queries_search_the_newest_ten_thousand_lines_only() {
    let (app, tenant, stream) = staged().await;
    let old = line(&app, &tenant, stream, "alice", "草 ancient").await;
    filler(&app, &tenant, stream, "bob", 10_000).await;
    let new = line(&app, &tenant, stream, "alice", "草").await;

    let page = in_stream(&app, stream, "bob", &[("q", "草")]).await;
    assert_eq!(
        ids(&page),
        [new],
        "the old line is beyond the short-query scan"
    );
    assert_eq!(page["next"], Value::Null);
    assert_eq!(page["results"][0]["highlights"], json!([[0, 1]]));
    let page = in_stream(&app, stream, "bob", &[("q", "草 ancient")]).await;
    assert_eq!(ids(&page), [old], "with a longer word the index finds it");
}

#[tokio::test]
async fn searching_too_often_is_rate_limited() {
    let config = stampede::ServeConfig {
        search_per_minute: 2,
        ..test_config()
    };
    let (app, _tenant, stream) = common::stage(config, CAST).await;
    let path = format!("/api/streams/{stream}/messages/search?q=hello");
    for _ in 0..2 {
        assert_eq!(app.api("GET", &path, "alice", None).await.status, 200);
    }
    let refused = app.api("GET", &path, "alice", None).await;
    assert_eq!(refused.error(), (429, Some("rate_limited")));
    let wait = refused.body["retry_after_ms"]
        .as_u64()
        .expect("retry_after_ms");
    assert!(wait > 0 && wait <= 30_000, "{wait}");
    assert!(!refused.header("retry-after").is_empty());
    assert_eq!(
        app.api("GET", &path, "bob", None).await.status,
        200,
        "per user"
    );
}

#[tokio::test]
async fn a_line_sent_on_one_node_is_found_on_the_other() {
    let (_redis, a, b) = TestApp::two_nodes(test_config()).await;
    let tenant = a.acme(CAST).await;
    let stream = a.stream(&tenant, "Two").await;
    let mut alice = a.ws(HOST, stream, "alice").await;
    let id = alice.chat("ノードをまたいで検索").await["id"]
        .as_i64()
        .unwrap();

    let page = in_stream(&b, stream, "bob", &[("q", "またいで")]).await;
    assert_eq!(ids(&page), [id]);
    let page = in_tenant(&b, "mo", &[("q", "検索"), ("user", "alice")]).await;
    assert_eq!(ids(&page), [id]);
}
