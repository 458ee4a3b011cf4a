//! WebSocket handshake checks: Origin, session, room.

mod common;

use common::{handshake_body, handshake_status, stage, test_config, viewers, TestApp, HOST};
use stampede::auth::Role;

#[tokio::test]
async fn refusals_come_with_the_right_status_and_code() {
    let (app, _, stream) = stage(test_config(), &viewers(["alice"])).await;
    let cookie = app.login(HOST, "alice").await;
    let origin = app.origin(HOST);

    // (cookie, origin, stream, status, code)
    type Case<'a> = (Option<&'a str>, Option<&'a str>, i32, u16, &'a str);
    let cases: Vec<Case> = vec![
        (None, Some(&origin), stream, 401, "unauthorized"),
        (
            Some("sessionid=forged"),
            Some(&origin),
            stream,
            401,
            "unauthorized",
        ),
        (
            Some(&cookie),
            Some("http://evil.localhost"),
            stream,
            403,
            "bad_origin",
        ),
        (
            Some(&cookie),
            Some("http://acme.localhost:1"),
            stream,
            403,
            "bad_origin",
        ),
        (Some(&cookie), None, stream, 403, "bad_origin"),
        (Some(&cookie), Some(&origin), 999, 404, "not_found"),
    ];
    for (cookie, origin, stream, status, code) in cases {
        let err = app
            .ws_raw(HOST, stream, cookie, origin)
            .await
            .err()
            .unwrap_or_else(|| panic!("handshake should fail: {cookie:?} {origin:?}"));
        assert_eq!(
            handshake_status(&err),
            status,
            "{cookie:?} {origin:?} {stream}"
        );
        assert_eq!(handshake_body(&err)["error"], code);
    }

    // The control case: everything right, handshake accepted.
    assert!(app
        .ws_raw(HOST, stream, Some(&cookie), Some(&origin))
        .await
        .is_ok());
}

#[tokio::test]
async fn an_ended_stream_has_no_room() {
    let (app, tenant, stream) = stage(test_config(), &viewers(["alice"])).await;
    app.end_stream(&tenant, stream).await;
    let cookie = app.login(HOST, "alice").await;
    let (status, _) = app.ws_refusal(HOST, stream, &cookie).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_allow_listed_origin_is_accepted() {
    let mut config = test_config();
    config.allowed_origins = vec!["https://embed.example.com".into()];
    let (app, _, stream) = stage(config, &viewers(["alice"])).await;
    let cookie = app.login(HOST, "alice").await;
    assert!(app
        .ws_raw(
            HOST,
            stream,
            Some(&cookie),
            Some("https://embed.example.com")
        )
        .await
        .is_ok());
}

/// Session and room lookups of handshakes arriving together share one query
/// each; every socket must still be judged as its own user on its own
/// stream: the right identity, bans kept out, a stream that is not live 404.
#[tokio::test]
async fn simultaneous_handshakes_are_each_judged_on_their_own() {
    use stampede::store::users;

    const USERS: usize = 40;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme", HOST).await;
    let stream = app.stream(&tenant, "Live").await;
    let ended = app.stream(&tenant, "Over").await;
    app.end_stream(&tenant, ended).await;
    // (username, cookie, stream asked for, expected outcome)
    let mut cases = Vec::new();
    for i in 0..USERS {
        let name = format!("v{i}");
        // No password: these users only ever use the issued session.
        let user = users::create(app.pool(), &tenant.schema, &name, "!", Role::Viewer)
            .await
            .unwrap();
        let cookie = app
            .issue_session(&tenant, user.id, &name, Role::Viewer)
            .await;
        let (target, expect) = match i % 5 {
            1 => {
                sqlx::query(&format!(
                    "INSERT INTO {}.chat_ban (user_id, stream_id) VALUES ($1, $2)",
                    tenant.schema
                ))
                .bind(user.id)
                .bind(stream)
                .execute(app.pool())
                .await
                .unwrap();
                (stream, Err((403, "banned")))
            }
            3 => (ended, Err((404, "not_found"))),
            _ => (stream, Ok(())),
        };
        cases.push((name, cookie, target, expect));
    }
    let origin = app.origin(HOST);
    let outcomes = futures_util::future::join_all(
        cases
            .iter()
            .map(|(_, cookie, target, _)| app.ws_raw(HOST, *target, Some(cookie), Some(&origin))),
    )
    .await;
    let mut admitted = 0;
    for ((name, _, _, expect), outcome) in cases.into_iter().zip(outcomes) {
        match (expect, outcome) {
            (Ok(()), Ok(mut ws)) => {
                let text = format!("I am {name}");
                ws.say(&text).await;
                let echo = ws.next_where(|v| v["message"] == text.as_str()).await;
                assert_eq!(
                    echo["username"],
                    name.as_str(),
                    "socket speaks as its own user"
                );
                admitted += 1;
            }
            (Err((status, code)), Err(err)) => {
                assert_eq!(handshake_status(&err), status, "{name}");
                assert_eq!(handshake_body(&err)["error"], code, "{name}");
            }
            (expect, outcome) => panic!("{name}: expected {expect:?}, got {:?}", outcome.err()),
        }
    }
    assert_eq!(admitted, USERS * 3 / 5);
}

/// One browser opening many tabs at the same moment: every socket carries the
/// same cookie, and each must be let in as that user.
#[tokio::test]
async fn simultaneous_handshakes_with_one_cookie_are_all_admitted() {
    const TABS: usize = 30;
    // More tabs than the default per-user socket cap, which is not under test.
    let config = stampede::ServeConfig {
        max_sockets_per_user: TABS,
        ..test_config()
    };
    let (app, _, stream) = stage(config, &viewers(["ann"])).await;
    let cookie = app.login(HOST, "ann").await;
    let origin = app.origin(HOST);
    let outcomes = futures_util::future::join_all(
        (0..TABS).map(|_| app.ws_raw(HOST, stream, Some(&cookie), Some(&origin))),
    )
    .await;
    for (tab, outcome) in outcomes.into_iter().enumerate() {
        let mut ws = match outcome {
            Ok(ws) => ws,
            Err(err) => panic!("tab {tab} refused: {}", handshake_status(&err)),
        };
        let text = format!("tab {tab}");
        ws.say(&text).await;
        let echo = ws.next_where(|v| v["message"] == text.as_str()).await;
        assert_eq!(echo["username"], "ann");
    }
}
