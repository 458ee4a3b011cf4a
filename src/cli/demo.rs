//! `demo`: the demo tenant, its users and a live stream.

use sqlx::PgPool;

use super::{migrate_all, CliError};
use crate::auth::{password, Role};
use crate::store::{streams, tenants, users, StoreError};
use crate::tenant::SchemaName;

/// The demo users: (username, role). They all get [`DEMO_PASSWORD`].
pub const DEMO_USERS: &[(&str, Role)] = &[
    ("alice", Role::Viewer),
    ("bob", Role::Viewer),
    ("mod", Role::Moderator),
    ("streamer", Role::Streamer),
    ("admin", Role::Admin),
    ("analyst", Role::Analyst),
];
/// The demo users' password.
pub const DEMO_PASSWORD: &str = "stampede";

/// `demo`: safe to run any number of times.
pub async fn demo(pool: &PgPool) -> Result<String, CliError> {
    migrate_all(pool).await?;
    let schema = SchemaName::parse("demo")?;
    let tenant = match tenants::get_by_schema(pool, &schema).await {
        Ok(t) => t,
        Err(StoreError::NotFound(_)) => {
            tenants::create(pool, &schema, "Stampede Demo TV", "demo.localhost").await?
        }
        Err(e) => return Err(e.into()),
    };
    for extra in ["localhost", "127.0.0.1"] {
        match tenants::add_domain(pool, &tenant, extra).await {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for (name, role) in DEMO_USERS {
        let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
        match users::create(pool, &tenant.schema, name, &hash, *role).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let live = streams::list_live(pool, &tenant.schema).await?;
    let stream = match live.into_iter().next() {
        Some(s) => s,
        None => {
            let owner = users::id_by_name(pool, &tenant.schema, "streamer").await?;
            streams::create(pool, &tenant.schema, "Stampede launch party", Some(owner)).await?
        }
    };
    let names: Vec<&str> = DEMO_USERS.iter().map(|(n, _)| *n).collect();
    Ok(format!(
        "demo tenant ready: http://demo.localhost:8000/streams/{}\nusers: {} (password: {DEMO_PASSWORD})",
        stream.id,
        names.join(", ")
    ))
}
