//! A tenant's embedding settings (`public.tenants`): whether its read-only
//! chat may be read without logging in, and which origins may frame it.
//! Read per request, not cached with the tenant, so a change applies at once.

use serde::Serialize;
use sqlx::PgPool;

use super::StoreError;

/// Origins allowed to frame the chat, at most.
pub const MAX_ORIGINS: usize = 20;

/// How a tenant's chat may be embedded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EmbedSettings {
    /// The read-only chat (the overlay, read-only sockets) needs no login.
    pub anonymous_read: bool,
    /// Origins (`https://host[:port]`) allowed to frame the overlay.
    pub embed_origins: Vec<String>,
}

/// The settings of tenant `tenant_id`.
pub async fn settings(pool: &PgPool, tenant_id: i32) -> Result<EmbedSettings, StoreError> {
    let row: Option<(bool, Vec<String>)> =
        sqlx::query_as("SELECT anonymous_read, embed_origins FROM public.tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?;
    let (anonymous_read, embed_origins) =
        row.ok_or_else(|| StoreError::NotFound(format!("no tenant {tenant_id}")))?;
    // Stored values were checked on the way in; check again on the way out,
    // since they end up in a response header.
    Ok(EmbedSettings {
        anonymous_read,
        embed_origins: embed_origins
            .into_iter()
            .filter(|o| parse_origin(o).is_ok())
            .collect(),
    })
}

/// Changes what is given; returns the settings as they are now.
pub async fn update(
    pool: &PgPool,
    tenant_id: i32,
    anonymous_read: Option<bool>,
    embed_origins: Option<&[String]>,
) -> Result<EmbedSettings, StoreError> {
    let origins = match embed_origins {
        Some(list) => {
            if list.len() > MAX_ORIGINS {
                return Err(StoreError::Invalid(format!(
                    "at most {MAX_ORIGINS} embed origins"
                )));
            }
            let mut parsed = list
                .iter()
                .map(|o| parse_origin(o))
                .collect::<Result<Vec<_>, _>>()?;
            parsed.sort();
            parsed.dedup();
            Some(parsed)
        }
        None => None,
    };
    let updated = sqlx::query(
        "UPDATE public.tenants SET anonymous_read = COALESCE($2, anonymous_read),
                embed_origins = COALESCE($3, embed_origins)
         WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(anonymous_read)
    .bind(origins)
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no tenant {tenant_id}")));
    }
    settings(pool, tenant_id).await
}

/// An origin as a browser sends it: `http(s)://host[:port]`, lower-case,
/// nothing else. Anything more (a path, a wildcard, a quote or a `;`)
/// could widen a `frame-ancestors` directive it is written into.
pub fn parse_origin(origin: &str) -> Result<String, StoreError> {
    let invalid = || {
        StoreError::Invalid(format!(
            "invalid origin {origin:?}: use https://host[:port]"
        ))
    };
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0) && p.len() <= 5);
    if host_ok && port_ok {
        Ok(origin)
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_origins_pass() {
        for ok in [
            "https://obs.example.com",
            "http://localhost:8080",
            "HTTPS://Streamer.Example/",
        ] {
            assert!(parse_origin(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_origin("HTTPS://Streamer.Example/").unwrap(),
            "https://streamer.example"
        );
        for bad in [
            "*",
            "https://*.example.com",
            "https://a.example/path",
            "https://a.example; script-src *",
            "https://a.example 'unsafe-inline'",
            "javascript:alert(1)",
            "https://",
            "https://a.example:0",
            "https://a.example:99999",
            "ftp://a.example",
            "https://a..example",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
