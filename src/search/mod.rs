//! Message search (issue 18): who may search what, the per-user rate
//! limit, and results with highlight ranges. The SQL and the strategy that
//! keeps it fast on big tenants are in `store::search`.

pub mod highlight;

use serde::Serialize;

use crate::auth::SessionUser;
use crate::chat::Role;
use crate::error::{page_limit, AppError, ErrorCode};
use crate::state::AppState;
use crate::store::search::{self, Hit, Terms};
use crate::store::{format_timestamp, streams, users, StoreError};
use crate::tenant::Tenant;

/// Results per page by default and at most.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

/// A search as a client asks for it (both routes).
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub q: Option<String>,
    pub user: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// Where to search.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// One stream's visible lines (any viewer of the tenant).
    Stream(i32),
    /// The tenant's lines, deleted ones too, optionally one stream's
    /// (moderators and admins).
    Tenant(Option<i32>),
}

/// One matching line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Found {
    pub id: i64,
    pub stream_id: Option<i32>,
    pub username: String,
    /// As stored (HTML-escaped, like chat lines).
    pub message: String,
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t_ms: Option<i64>,
    /// Only on the tenant-wide route, which includes deleted lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    /// On the tenant-wide route, for lines auto-moderation hid: `held`
    /// (waiting for review) or `denied`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `[start, end)` in UTF-16 units of the text as typed (`highlight`).
    pub highlights: Vec<[usize; 2]>,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Next {
    pub before: i64,
}

/// A page of results, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Results {
    pub results: Vec<Found>,
    /// The next page's cursor; `null` when nothing older matches.
    pub next: Option<Next>,
}

/// Runs `request` over `scope` for `user`.
pub async fn run(
    state: &AppState,
    tenant: &Tenant,
    user: &SessionUser,
    scope: Scope,
    request: &Request,
) -> Result<Results, AppError> {
    let tenant_wide = matches!(scope, Scope::Tenant(_));
    if tenant_wide && !matches!(user.role, Role::Moderator | Role::Admin) {
        return Err(AppError::Forbidden(
            "only moderators and admins search the whole tenant".into(),
        ));
    }
    let limit = page_limit(request.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    if request.before.is_some_and(|b| b < 1) {
        return Err(AppError::Unprocessable(
            "before must be a message id".into(),
        ));
    }
    let terms = Terms::parse(request.q.as_deref().unwrap_or_default())
        .map_err(|e| AppError::Unprocessable(e.to_string()))?;
    let author = request
        .user
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if terms.is_empty() && author.is_none() {
        return Err(AppError::Unprocessable("give q, user or both".into()));
    }
    if let Err(wait) = state.search_limiter.check(tenant.id, user.user_id) {
        return Err(AppError::Refused {
            code: ErrorCode::RateLimited,
            message: "too many searches; try again shortly".into(),
            retry_after_ms: Some(wait.as_millis().max(1) as u64),
        });
    }
    let (pool, schema) = (&state.pool, &tenant.schema);
    let stream = match scope {
        Scope::Stream(id) => Some(id),
        Scope::Tenant(stream) => stream,
    };
    let room_id = match stream {
        Some(id) => Some(
            streams::room(pool, schema, id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no stream {id}")))?
                .id,
        ),
        None => None,
    };
    let user_id = match author {
        Some(name) => match users::id_by_name(pool, schema, name).await {
            Ok(id) => Some(id),
            // Nobody by that name has written anything.
            Err(StoreError::NotFound(_)) => return Ok(empty()),
            Err(err) => return Err(err.into()),
        },
        None => None,
    };
    let page = search::page(
        pool,
        schema,
        &search::Search {
            room_id,
            user_id,
            with_deleted: tenant_wide,
            terms: &terms,
            before: request.before,
            limit,
            budget: std::time::Duration::from_millis(state.config.search_budget_ms),
        },
    )
    .await?;
    Ok(Results {
        results: page
            .hits
            .into_iter()
            .map(|hit| found(hit, &terms, tenant_wide))
            .collect(),
        next: page.next_before.map(|before| Next { before }),
    })
}

fn empty() -> Results {
    Results {
        results: Vec::new(),
        next: None,
    }
}

fn found(hit: Hit, terms: &Terms, tenant_wide: bool) -> Found {
    Found {
        id: i64::from(hit.id),
        stream_id: hit.stream_id,
        username: hit.username.unwrap_or_default(),
        highlights: highlight::ranges(&hit.content, terms.as_slice()),
        message: hit.content,
        created_at: hit.created_at.map(format_timestamp),
        t_ms: hit.t_ms,
        deleted: tenant_wide.then_some(hit.deleted),
        status: (tenant_wide && hit.status != "visible").then_some(hit.status),
    }
}
