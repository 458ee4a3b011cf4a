//! Host header → tenant. No tenant data is touched before a host resolves,
//! and no schema name reaches SQL before it passed [`SchemaName::parse`].

mod schema;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use moka::sync::Cache;
use sqlx::PgPool;

pub use schema::{SchemaName, SchemaNameError};

use crate::error::AppError;
use crate::store::{tenants, StoreError};

/// A tenant: one broadcaster with its own schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: i32,
    pub name: String,
    pub schema: SchemaName,
}

/// Resolves hosts to tenants, caching hits. Domains are only ever added to a
/// tenant, so a cached hit cannot go stale in a harmful way; misses are not
/// cached so that a newly created tenant is served at once.
#[derive(Clone)]
pub struct TenantResolver {
    pool: PgPool,
    cache: Cache<String, Arc<Tenant>>,
}

/// Hosts kept in the cache at most (least recently used go first).
const CACHE_LIMIT: u64 = 10_000;

impl TenantResolver {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Cache::new(CACHE_LIMIT),
        }
    }

    /// The tenant serving `host` (already normalised), if any.
    pub async fn resolve(&self, host: &str) -> Result<Option<Arc<Tenant>>, StoreError> {
        if let Some(hit) = self.cache.get(host) {
            return Ok(Some(hit));
        }
        let Some(tenant) = tenants::find_by_domain(&self.pool, host).await? else {
            return Ok(None);
        };
        let tenant = Arc::new(tenant);
        self.cache.insert(host.to_owned(), tenant.clone());
        Ok(Some(tenant))
    }
}

/// Lower-cases a Host value and strips the port (`Example.COM:8000` →
/// `example.com`, `[::1]:80` → `::1`). `None` for an empty host.
pub fn normalize_host(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let host = if let Some(rest) = raw.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        raw.rsplit_once(':').map_or(raw, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                raw
            }
        })
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// The request's host: the Host header, or the URI authority for HTTP/2.
pub fn request_host(headers: &HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .and_then(normalize_host)
}

/// Middleware: resolves the tenant or answers 404 `unknown_host`.
pub async fn resolve_tenant(
    State(tenants): State<TenantResolver>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(host) = request_host(req.headers(), req.uri()) else {
        return AppError::UnknownHost.into_response_for(req.headers());
    };
    match tenants.resolve(&host).await {
        Ok(Some(tenant)) => {
            req.extensions_mut().insert(CurrentTenant(tenant));
            next.run(req).await
        }
        Ok(None) => AppError::UnknownHost.into_response_for(req.headers()),
        Err(err) => AppError::from(err).into_response(),
    }
}

/// The tenant of the current request, put there by [`resolve_tenant`].
#[derive(Debug, Clone)]
pub struct CurrentTenant(pub Arc<Tenant>);

impl std::ops::Deref for CurrentTenant {
    type Target = Tenant;

    fn deref(&self) -> &Tenant {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentTenant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<CurrentTenant>()
            .cloned()
            .ok_or(AppError::UnknownHost)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_host;

    #[test]
    fn hosts_normalise() {
        assert_eq!(
            normalize_host("Acme.LocalHost:8000").as_deref(),
            Some("acme.localhost")
        );
        assert_eq!(
            normalize_host("acme.localhost.").as_deref(),
            Some("acme.localhost")
        );
        assert_eq!(normalize_host("[::1]:8000").as_deref(), Some("::1"));
        assert_eq!(normalize_host("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(normalize_host(""), None);
        assert_eq!(normalize_host(":80"), None);
    }
}
