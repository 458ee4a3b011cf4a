//! Storing notifications: many recipients in one statement.

use sqlx::{PgConnection, PgPool};

use super::{Kind, NewRow, Notification, Row, COLUMNS};
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
    let mut bodies = Vec::with_capacity(rows.len());
    let mut links = Vec::with_capacity(rows.len());
    let mut senders = Vec::with_capacity(rows.len());
    for row in rows {
        user_ids.push(row.user_id);
        types.push(row.kind_type.as_str());
        kinds.push(row.kind.as_str());
        titles.push(row.title.as_str());
        bodies.push(row.body.as_str());
        links.push(row.link.as_deref());
        senders.push(row.sender_id);
    }
    let stored: Vec<Row> = sqlx::query_as(&format!(
        "INSERT INTO {schema}.notifications_notification (user_id, type, kind, title, body, link)
         SELECT r.user_id, r.type, r.kind, r.title, r.body, r.link
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
              WITH ORDINALITY AS r(user_id, type, kind, title, body, link, sender_id, n)
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
        "INSERT INTO {schema}.notifications_notification (user_id, type, kind, title, body, link)
         SELECT u.id, $1, $2, $3, $4, $5 FROM {schema}.accounts_user u
         WHERE u.is_active ORDER BY u.id
         RETURNING {COLUMNS}"
    ))
    .bind(row.kind_type.as_str())
    .bind(row.kind.as_str())
    .bind(&row.title)
    .bind(&row.body)
    .bind(&row.link)
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
    title: &str,
    link: &str,
) -> Result<Option<(i64, i64)>, StoreError> {
    let range: (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
        "WITH ins AS (
            INSERT INTO {schema}.notifications_notification (user_id, type, kind, title, body, link)
            SELECT f.user_id, 'info', $2, $3, '', $4
            FROM {schema}.notifications_follow f
            JOIN {schema}.accounts_user u ON u.id = f.user_id AND u.is_active
            WHERE f.stream_id = $1
            RETURNING id)
         SELECT min(id), max(id) FROM ins"
    ))
    .bind(stream_id)
    .bind(Kind::StreamLive.as_str())
    .bind(title)
    .bind(link)
    .fetch_one(conn)
    .await?;
    Ok(range.0.zip(range.1))
}
