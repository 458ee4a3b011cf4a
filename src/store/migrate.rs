//! Schema migrations: one list for the public schema, one applied to every
//! tenant schema. Each schema records what it has in `stampede_migrations`,
//! so running them again is a no-op.
//!
//! The files are embedded at build time; applying them needs no files on disk.

use sqlx::{PgConnection, PgPool};

use crate::tenant::SchemaName;

/// One embedded SQL file.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Migrations of the public schema (tenants, domains).
pub const PUBLIC: &[Migration] = &[
    Migration {
        version: 1,
        name: "tenants",
        sql: include_str!("../../migrations/public/0001_tenants.sql"),
    },
    Migration {
        version: 2,
        name: "session_owners",
        sql: include_str!("../../migrations/public/0002_session_owners.sql"),
    },
    Migration {
        version: 3,
        name: "server_secrets",
        sql: include_str!("../../migrations/public/0003_server_secrets.sql"),
    },
    Migration {
        version: 4,
        name: "tenant_embed",
        sql: include_str!("../../migrations/public/0004_tenant_embed.sql"),
    },
    Migration {
        version: 5,
        name: "search",
        sql: include_str!("../../migrations/public/0005_search.sql"),
    },
];

/// Migrations of each tenant schema (the seed's tables).
pub const TENANT: &[Migration] = &[
    Migration {
        version: 1,
        name: "chat",
        sql: include_str!("../../migrations/tenant/0001_chat.sql"),
    },
    Migration {
        version: 2,
        name: "reactions",
        sql: include_str!("../../migrations/tenant/0002_reactions.sql"),
    },
    Migration {
        version: 3,
        name: "moderation",
        sql: include_str!("../../migrations/tenant/0003_moderation.sql"),
    },
    Migration {
        version: 4,
        name: "analytics",
        sql: include_str!("../../migrations/tenant/0004_analytics.sql"),
    },
    Migration {
        version: 5,
        name: "reaction_batches",
        sql: include_str!("../../migrations/tenant/0005_reaction_batches.sql"),
    },
    Migration {
        version: 6,
        name: "chat_batches",
        sql: include_str!("../../migrations/tenant/0006_chat_batches.sql"),
    },
    Migration {
        version: 7,
        name: "client_message_ids",
        sql: include_str!("../../migrations/tenant/0007_client_message_ids.sql"),
    },
    Migration {
        version: 8,
        name: "stream_lifecycle",
        sql: include_str!("../../migrations/tenant/0008_stream_lifecycle.sql"),
    },
    Migration {
        version: 9,
        name: "notice_keys",
        sql: include_str!("../../migrations/tenant/0009_notice_keys.sql"),
    },
    Migration {
        version: 10,
        name: "user_language",
        sql: include_str!("../../migrations/tenant/0010_user_language.sql"),
    },
    Migration {
        version: 11,
        name: "notifications",
        sql: include_str!("../../migrations/tenant/0011_notifications.sql"),
    },
    Migration {
        version: 12,
        name: "mentions_replies",
        sql: include_str!("../../migrations/tenant/0012_mentions_replies.sql"),
    },
    Migration {
        version: 13,
        name: "notification_title_key",
        sql: include_str!("../../migrations/tenant/0013_notification_title_key.sql"),
    },
    Migration {
        version: 14,
        name: "message_search",
        sql: include_str!("../../migrations/tenant/0014_message_search.sql"),
    },
    Migration {
        version: 15,
        name: "message_search_users",
        sql: include_str!("../../migrations/tenant/0015_message_search_users.sql"),
    },
    Migration {
        version: 16,
        name: "message_edits",
        sql: include_str!("../../migrations/tenant/0016_message_edits.sql"),
    },
    Migration {
        version: 17,
        name: "reaction_seconds",
        sql: include_str!("../../migrations/tenant/0017_reaction_seconds.sql"),
    },
    Migration {
        version: 18,
        name: "automod",
        sql: include_str!("../../migrations/tenant/0018_automod.sql"),
    },
];

/// Serialises concurrent `migrate` runs (two nodes starting at once).
const LOCK_KEY: i64 = 0x5354_414d_5045_4445; // "STAMPEDE"

/// Applies the session store's table, then the public migrations (which
/// refer to it).
pub async fn migrate_public(pool: &PgPool) -> Result<(), sqlx::Error> {
    let sessions = tower_sessions_sqlx_store::PostgresStore::new(pool.clone());
    sessions.migrate().await?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    apply(&mut tx, "public", PUBLIC).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates `schema` if needed and applies every tenant migration it lacks,
/// inside the caller's transaction.
pub async fn migrate_tenant(
    conn: &mut PgConnection,
    schema: &SchemaName,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&mut *conn)
        .await?;
    apply(conn, &schema.to_string(), TENANT).await
}

async fn apply(
    conn: &mut PgConnection,
    schema_sql: &str,
    list: &[Migration],
) -> Result<(), sqlx::Error> {
    // SET LOCAL lasts until the end of the caller's transaction only.
    sqlx::query(&format!("SET LOCAL search_path TO {schema_sql}"))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS stampede_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .execute(&mut *conn)
    .await?;
    let done: Vec<i32> = sqlx::query_scalar("SELECT version FROM stampede_migrations")
        .fetch_all(&mut *conn)
        .await?;
    for m in list.iter().filter(|m| !done.contains(&m.version)) {
        tracing::info!(
            schema = schema_sql,
            version = m.version,
            name = m.name,
            "applying migration"
        );
        sqlx::raw_sql(m.sql).execute(&mut *conn).await?;
        sqlx::query("INSERT INTO stampede_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("SET LOCAL search_path TO public")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
