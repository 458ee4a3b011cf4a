//! Storing notifications: many recipients in one statement.

use sqlx::{PgConnection, PgPool};

use std::collections::BTreeMap;

use super::{Kind, NewRow, Notification, Row, COLUMNS};
use crate::notifications::Title;
use crate::store::StoreError;
use crate::tenant::SchemaName;

/// Stores `rows` with one statement, in order, and returns what was stored
/// with its recipient. Skipped: recipients who blocked the row's sender, and
/// users who do not exist or are deactivated (so one stale id cannot fail
/// everyone else's row on the foreign key).
pub async fn insert_rows(
    pool: &PgPool,
    schema: &SchemaName,
    rows: &[NewRow],
) -> Result<Vec<(i32, Notification)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut user_ids = Vec::with_capacity(rows.len());
    let mut types = Vec::with_capacity(rows.len());
    let mut kinds = Vec::with_capacity(rows.len());
    let mut titles = Vec::with_capacity(rows.len());
    let mut title_keys = Vec::with_capacity(rows.len());
    let mut title_args = Vec::with_capacity(rows.len());
    let mut bodies = Vec::with_capacity(rows.len());
    let mut links = Vec::with_capacity(rows.len());
    let mut senders = Vec::with_capacity(rows.len());
    for row in rows {
        user_ids.push(row.user_id);
        types.push(row.kind_type.as_str());
        kinds.push(row.kind.as_str());
        titles.push(row.title.as_str());
        title_keys.push(row.title_key);
        title_args.push(args_json(&row.title_args));
        bodies.push(row.body.as_str());
        links.push(row.link.as_deref());
        senders.push(row.sender_id);
    }
    let stored: Vec<Row> = sqlx::query_as(&format!(
        "INSERT INTO {schema}.notifications_notification
              (user_id, type, kind, title, title_key, title_args, body, link)
         SELECT r.user_id, r.type, r.kind, r.title, r.title_key, r.title_args::jsonb, r.body, r.link
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::int[], $8::text[], $9::text[])
              WITH ORDINALITY
              AS r(user_id, type, kind, title, body, link, sender_id, title_key, title_args, n)
         WHERE EXISTS (SELECT 1 FROM {schema}.accounts_user u WHERE u.id = r.user_id AND u.is_active)
           AND (r.sender_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM {schema}.accounts_block b
                WHERE b.blocker_id = r.user_id AND b.blocked_id = r.sender_id))
         ORDER BY r.n
         RETURNING {COLUMNS}"
    ))
    .bind(&user_ids)
    .bind(&types)
    .bind(&kinds)
    .bind(&titles)
    .bind(&bodies)
    .bind(&links)
    .bind(&senders)
    .bind(&title_keys)
    .bind(&title_args)
    .fetch_all(pool)
    .await?;
    Ok(stored.into_iter().map(Row::split).collect())
}

/// Stores `row` (its `user_id` ignored) for every active user of the tenant.
pub async fn insert_for_all(
    pool: &PgPool,
    schema: &SchemaName,
    row: &NewRow,
) -> Result<Vec<(i32, Notification)>, StoreError> {
    let stored: Vec<Row> = sqlx::query_as(&format!(
        "INSERT INTO {schema}.notifications_notification
              (user_id, type, kind, title, title_key, title_args, body, link)
         SELECT u.id, $1, $2, $3, $6, $7::jsonb, $4, $5 FROM {schema}.accounts_user u
         WHERE u.is_active ORDER BY u.id
         RETURNING {COLUMNS}"
    ))
    .bind(row.kind_type.as_str())
    .bind(row.kind.as_str())
    .bind(&row.title)
    .bind(&row.body)
    .bind(&row.link)
    .bind(row.title_key)
    .bind(args_json(&row.title_args))
    .fetch_all(pool)
    .await?;
    Ok(stored.into_iter().map(Row::split).collect())
}

/// One `stream.live` notification for every active follower of `stream_id`,
/// inside the transaction that makes the stream live, so each follower gets
/// exactly one even if no server runs (the CLI). Returns the first and last
/// id stored, if any.
pub async fn insert_for_followers(
    conn: &mut PgConnection,
    schema: &SchemaName,
    stream_id: i32,
    title: Title<'_>,
    link: &str,
) -> Result<Option<(i64, i64)>, StoreError> {
    let range: (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
        "WITH ins AS (
            INSERT INTO {schema}.notifications_notification
                (user_id, type, kind, title, title_key, title_args, body, link)
            SELECT f.user_id, 'info', $2, $3, $5, $6::jsonb, '', $4
            FROM {schema}.notifications_follow f
            JOIN {schema}.accounts_user u ON u.id = f.user_id AND u.is_active
            WHERE f.stream_id = $1
            RETURNING id)
         SELECT min(id), max(id) FROM ins"
    ))
    .bind(stream_id)
    .bind(Kind::StreamLive.as_str())
    .bind(title.english())
    .bind(link)
    .bind(title.key())
    .bind(args_json(&title.args()))
    .fetch_one(conn)
    .await?;
    Ok(range.0.zip(range.1))
}

/// Title arguments as the JSON text bound for a `jsonb` column.
fn args_json(args: &BTreeMap<String, String>) -> String {
    serde_json::to_string(args).unwrap_or_else(|_| "{}".to_owned())
}
