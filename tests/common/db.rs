//! A Postgres database of the test's own, and reading back what it stores.

use sqlx::{Connection, PgConnection, PgPool};
use stampede::tenant::Tenant;

use super::app::TestApp;

pub fn admin_url() -> String {
    std::env::var("STAMPEDE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://stampede:stampede@127.0.0.1:5432/stampede".into())
}

/// `admin_url` with its database replaced by `db`.
pub fn database_url(db: &str) -> String {
    let base = admin_url();
    let (without_query, query) = match base.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let (prefix, _) = without_query
        .rsplit_once('/')
        .expect("database URL has a path");
    format!("{prefix}/{db}{query}")
}

/// A database of its own, dropped (with its connections) on drop.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    /// A fresh, migrated database on the test Postgres (STAMPEDE_TEST_DATABASE_URL).
    pub async fn create() -> Self {
        let name = format!("stampede_test_{}", uuid::Uuid::new_v4().simple());
        let url = database_url(&name);
        Self::create_on(&admin_url(), &name, url).await
    }

    /// Creates database `name` through the `admin` connection URL, then
    /// connects to it at `url` and migrates it.
    pub async fn create_on(admin: &str, name: &str, url: String) -> Self {
        let mut admin = PgConnection::connect(admin)
            .await
            .expect("connect to the test Postgres (STAMPEDE_TEST_DATABASE_URL)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let pool = stampede::store::connect(&url, 10)
            .await
            .expect("connect test db");
        stampede::cli::migrate_all(&pool).await.expect("migrate");
        TestDb {
            name: name.to_owned(),
            url,
            pool,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a runtime that is shutting down, so use a thread of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

impl TestApp {
    /// Runs one statement without parameters on the test database, to stage
    /// what no API reaches (a damaged rollup, an inactive stamp).
    pub async fn exec(&self, sql: &str) {
        sqlx::query(sql)
            .execute(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column of every row `sql` (no parameters) returns.
    pub async fn column<T>(&self, sql: &str) -> Vec<T>
    where
        (T,): for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
        T: Send + Unpin,
    {
        sqlx::query_scalar(sql)
            .fetch_all(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// Stored chat rows of a stream: (username, content, message_type), oldest first.
pub async fn stored_messages(
    pool: &PgPool,
    tenant: &Tenant,
    stream_id: i32,
) -> Vec<(String, String, String)> {
    sqlx::query_as(&format!(
        "SELECT COALESCE(u.username, ''), m.content, m.message_type
         FROM {s}.chat_chatmessage m
         JOIN {s}.chat_chatroom r ON r.id = m.room_id
         LEFT JOIN {s}.accounts_user u ON u.id = m.user_id
         WHERE r.stream_id = $1 ORDER BY m.id",
        s = tenant.schema
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await
    .expect("read stored messages")
}

/// The text of each stored chat row of a stream, oldest first.
pub async fn stored_texts(pool: &PgPool, tenant: &Tenant, stream_id: i32) -> Vec<String> {
    let rows = stored_messages(pool, tenant, stream_id).await;
    rows.into_iter().map(|(_, text, _)| text).collect()
}
