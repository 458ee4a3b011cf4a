//! Shared fixtures: tenants, users with roles, streams, and the usual stage
//! of one tenant, its cast and one live stream.

use stampede::auth::{password, Role};
use stampede::store::{streams, tenants, users};
use stampede::tenant::{SchemaName, Tenant};
use stampede::ServeConfig;

use super::app::TestApp;
use super::HOST;

/// A cast of `names`, all viewers.
pub fn viewers<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Vec<(String, Role)> {
    let viewer = |name: S| (name.as_ref().to_owned(), Role::Viewer);
    names.into_iter().map(viewer).collect()
}

impl TestApp {
    pub async fn tenant(&self, schema: &str, domain: &str) -> Tenant {
        let schema = SchemaName::parse(schema).expect("schema");
        tenants::create(self.pool(), &schema, schema.as_str(), domain)
            .await
            .expect("create tenant")
    }

    /// Tenant `acme` on [`HOST`] with `cast`.
    pub async fn acme(&self, cast: &[(impl AsRef<str>, Role)]) -> Tenant {
        let tenant = self.tenant("acme", HOST).await;
        self.users(&tenant, cast).await;
        tenant
    }

    /// Creates a user whose password is `pw-{username}`.
    pub async fn user(&self, tenant: &Tenant, username: &str, role: Role) -> i32 {
        let hash = password::hash(format!("pw-{username}"))
            .await
            .expect("hash");
        users::create(self.pool(), &tenant.schema, username, &hash, role)
            .await
            .expect("create user")
            .id
    }

    /// The id of user `username`.
    pub async fn user_id(&self, tenant: &Tenant, username: &str) -> i32 {
        users::id_by_name(self.pool(), &tenant.schema, username)
            .await
            .expect("user id")
    }

    /// Creates each of `cast`; returns their ids in order.
    pub async fn users(&self, tenant: &Tenant, cast: &[(impl AsRef<str>, Role)]) -> Vec<i32> {
        let mut ids = Vec::with_capacity(cast.len());
        for (username, role) in cast {
            ids.push(self.user(tenant, username.as_ref(), *role).await);
        }
        ids
    }

    /// A live stream with no owner.
    pub async fn stream(&self, tenant: &Tenant, title: &str) -> i32 {
        streams::create(self.pool(), &tenant.schema, title, None)
            .await
            .expect("create stream")
            .id
    }

    /// A live stream owned by the user `owner_id`.
    pub async fn owned_stream(&self, tenant: &Tenant, title: &str, owner_id: i32) -> i32 {
        streams::create(self.pool(), &tenant.schema, title, Some(owner_id))
            .await
            .expect("create stream")
            .id
    }

    /// Marks `stream` as ended, as the broadcaster's stop does.
    pub async fn end_stream(&self, tenant: &Tenant, stream: i32) {
        sqlx::query(&format!(
            "UPDATE {}.streaming_stream SET status = 'ended', ended_at = now() WHERE id = $1",
            tenant.schema
        ))
        .bind(stream)
        .execute(self.pool())
        .await
        .expect("end stream");
    }
}

/// The usual stage: a server with `config`, tenant `acme` on [`HOST`] with
/// `cast`, and one live stream titled "Live".
pub async fn stage(
    config: ServeConfig,
    cast: &[(impl AsRef<str>, Role)],
) -> (TestApp, Tenant, i32) {
    let app = TestApp::spawn_with(config).await;
    let tenant = app.acme(cast).await;
    let stream = app.stream(&tenant, "Live").await;
    (app, tenant, stream)
}
