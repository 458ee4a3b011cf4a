//! The HTTP API as a user calls it: `TestApp::api(method, path, as_user, body)`,
//! and the cookies the server hands out.

use std::net::SocketAddr;

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use stampede::auth::session::issue;
use stampede::auth::{Role, SessionUser};
use stampede::tenant::Tenant;

use super::app::TestApp;
use super::HOST;

/// Who makes a request.
#[derive(Clone, Copy, Debug)]
pub enum As<'a> {
    /// No cookie at all.
    Anonymous,
    /// A fixture user (password `pw-{name}`), logged in once per host and
    /// then reusing that session.
    User(&'a str),
    /// Exactly this `sessionid=…` cookie, e.g. one the test revoked.
    Cookie(&'a str),
}

impl<'a> From<&'a str> for As<'a> {
    fn from(username: &'a str) -> Self {
        As::User(username)
    }
}

impl<'a> From<&'a String> for As<'a> {
    fn from(username: &'a String) -> Self {
        As::User(username)
    }
}

/// An answer, read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// `text` as JSON; `Null` when it is not JSON.
    pub body: Value,
}

impl Reply {
    /// Sends `req` and reads the whole answer.
    pub async fn read(req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
            .unwrap_or_default()
    }

    /// The status with the body's `error` code, to assert both at once.
    pub fn error(&self) -> (u16, Option<&str>) {
        (self.status, self.body["error"].as_str())
    }

    /// The `name=…` pair this answer's Set-Cookie headers set, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        cookie_pair(&self.headers, name)
    }
}

impl TestApp {
    /// `method path` on the `acme` tenant ([`HOST`]) as `as_user`, with
    /// `body` as JSON. See [`TestApp::api_on`].
    pub async fn api<'a>(
        &self,
        method: &str,
        path: &str,
        as_user: impl Into<As<'a>>,
        body: impl Into<Option<Value>>,
    ) -> Reply {
        self.api_on(HOST, method, path, as_user, body).await
    }

    /// `method path` on `host` as `as_user`, with `body` as JSON. Like a
    /// browser on the tenant's own page, state-changing methods carry the
    /// page's Origin.
    pub async fn api_on<'a>(
        &self,
        host: &str,
        method: &str,
        path: &str,
        as_user: impl Into<As<'a>>,
        body: impl Into<Option<Value>>,
    ) -> Reply {
        let mut req = self.request_on(host, method, path, as_user).await;
        if let Some(body) = body.into() {
            req = req.json(&body);
        }
        Reply::read(req).await
    }

    /// The request `api_on` would send, for a test to add to before
    /// [`Reply::read`] sends it.
    pub async fn request_on<'a>(
        &self,
        host: &str,
        method: &str,
        path: &str,
        as_user: impl Into<As<'a>>,
    ) -> reqwest::RequestBuilder {
        let method: reqwest::Method = method.parse().expect("HTTP method");
        let safe = matches!(
            method,
            reqwest::Method::GET | reqwest::Method::HEAD | reqwest::Method::OPTIONS
        );
        let cookie = match as_user.into() {
            As::Anonymous => None,
            As::User(name) => Some(self.session_of(host, name).await),
            As::Cookie(cookie) => Some(cookie.to_owned()),
        };
        let mut req = self.http(&[host]).request(method, self.url(host, path));
        if !safe {
            req = req.header("origin", self.origin(host));
        }
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req
    }

    /// `GET /api/session` on [`HOST`] with exactly `cookie`: who the server
    /// takes its holder for, or 401.
    pub async fn whoami(&self, cookie: &str) -> Reply {
        self.api("GET", "/api/session", As::Cookie(cookie), None)
            .await
    }

    /// `DELETE /api/session` on [`HOST`] with `cookie`: logging out.
    pub async fn logout(&self, cookie: &str) -> Reply {
        self.api("DELETE", "/api/session", As::Cookie(cookie), None)
            .await
    }

    /// `username`'s session on `host`: logged in on first use, then reused.
    pub async fn session_of(&self, host: &str, username: &str) -> String {
        let key = (host.to_owned(), username.to_owned());
        if let Some(cookie) = self.sessions.lock().unwrap().get(&key) {
            return cookie.clone();
        }
        let cookie = self.login(host, username).await;
        self.sessions.lock().unwrap().insert(key, cookie.clone());
        cookie
    }

    /// A session made directly in the store, as a login would make it, for
    /// `username` (`user_id`) of `tenant`: its `sessionid=…` cookie.
    pub async fn issue_session(
        &self,
        tenant: &Tenant,
        user_id: i32,
        username: &str,
        role: Role,
    ) -> String {
        let user = SessionUser {
            tenant_id: tenant.id,
            user_id,
            username: username.into(),
            role,
        };
        let id = issue(self.pool(), &user, time::Duration::hours(1))
            .await
            .expect("issue a session");
        format!("sessionid={id}")
    }

    /// `POST /api/session` with these credentials on `host`, to send as it
    /// is or with more headers.
    pub fn login_request(
        &self,
        host: &str,
        username: &str,
        password: &str,
    ) -> reqwest::RequestBuilder {
        self.http(&[host])
            .post(self.url(host, "/api/session"))
            .json(&json!({"username": username, "password": password}))
    }
}

/// The string `field` of each object in the JSON array `list`.
pub fn strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    let items = list.as_array().expect("a JSON array");
    let text = |item: &'a Value| item[field].as_str().expect("a string field");
    items.iter().map(text).collect()
}

/// Logs `username` in on `host` at the server listening on `addr`; returns
/// the `sessionid=…` cookie pair.
pub async fn login_at(addr: SocketAddr, host: &str, username: &str) -> String {
    let res = reqwest::Client::builder()
        .resolve(host, addr)
        .build()
        .expect("client")
        .post(format!("http://{host}:{}/api/session", addr.port()))
        .json(&json!({"username": username, "password": format!("pw-{username}")}))
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status(), 200, "login of {username} on {host}");
    session_cookie(&res).expect("sessionid cookie")
}

/// The `name=…` pair from a response's Set-Cookie headers.
fn cookie_pair(headers: &HeaderMap, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The `sessionid=…` pair from a response's Set-Cookie headers.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    cookie_pair(res.headers(), "sessionid")
}

/// The `csrftoken=…` pair from a response's Set-Cookie headers.
pub fn csrf_cookie(res: &reqwest::Response) -> Option<String> {
    cookie_pair(res.headers(), "csrftoken")
}

/// Pulls `name="csrf_token" value="…"` out of a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}
