//! `bench-setup`: users, session cookies and live streams for a load test.

use sqlx::PgPool;

use super::CliError;
use crate::auth::{password, Role};
use crate::store::{streams, tenants, users, StoreError};
use crate::tenant::SchemaName;

/// `bench-setup`: the first line of the result is the new stream's id.
pub async fn bench_setup(
    pool: &PgPool,
    tenant: &str,
    count: u32,
    prefix: &str,
    title: &str,
    stream_count: u32,
    out: &std::path::Path,
) -> Result<String, CliError> {
    use crate::auth::session::{issue, SessionUser};

    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    // One hash for all: argon2 per user would make setup take minutes.
    let hash = password::hash(format!("{prefix}-password")).await?;
    let mut cookies = String::new();
    for i in 1..=count {
        let name = format!("{prefix}{i}");
        let id = match users::create(pool, &tenant.schema, &name, &hash, Role::Viewer).await {
            Ok(user) => user.id,
            Err(StoreError::Conflict(_)) => users::id_by_name(pool, &tenant.schema, &name).await?,
            Err(e) => return Err(e.into()),
        };
        let user = SessionUser {
            tenant_id: tenant.id,
            user_id: id,
            username: name,
            role: Role::Viewer,
        };
        let cookie = issue(pool, &user, time::Duration::days(1))
            .await
            .map_err(|e| CliError::Store(StoreError::Invalid(e.to_string())))?;
        cookies.push_str(&format!("{}={cookie}\n", crate::auth::session::COOKIE_NAME));
    }
    let path = out.display().to_string();
    tokio::fs::write(out, cookies)
        .await
        .map_err(|source| CliError::ReadFile {
            path: path.clone(),
            source,
        })?;
    let mut ids = Vec::with_capacity(stream_count as usize);
    for n in 1..=stream_count.max(1) {
        let title = if stream_count > 1 {
            format!("{title} {n}")
        } else {
            title.to_owned()
        };
        ids.push(
            streams::create(pool, &tenant.schema, &title, None)
                .await?
                .id
                .to_string(),
        );
    }
    let ids = ids.join(",");
    Ok(format!(
        "{ids}\nwrote {count} session cookies to {path}; stream(s) {ids} live"
    ))
}
