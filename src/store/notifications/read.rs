//! Reading notifications: keyset pages, unread counts, syncs.

use std::collections::{BTreeMap, HashMap};

use sqlx::types::Json;
use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::{Kind, Notification, Row, COLUMNS};
use crate::store::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// The `stream.live` notifications with ids in `first..=last` linking to
/// `link`, of the users among `user_ids` (a node delivering a stream start to
/// the devices it holds).
pub async fn live_among(
    pool: &PgPool,
    schema: &SchemaName,
    user_ids: &[i32],
    (first, last): (i64, i64),
    link: &str,
) -> Result<Vec<(i32, Notification)>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {schema}.notifications_notification
         WHERE id BETWEEN $1 AND $2 AND user_id = ANY($3) AND kind = $4 AND link = $5
         ORDER BY id"
    ))
    .bind(first)
    .bind(last)
    .bind(user_ids)
    .bind(Kind::StreamLive.as_str())
    .bind(link)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Row::split).collect())
}

/// Unread counts of `user_ids` (absent: zero).
pub async fn unread_counts(
    pool: &PgPool,
    schema: &SchemaName,
    user_ids: &[i32],
) -> Result<HashMap<i32, i64>, StoreError> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(&format!(
        "SELECT user_id, count(*) FROM {schema}.notifications_notification
         WHERE user_id = ANY($1) AND read_at IS NULL GROUP BY user_id"
    ))
    .bind(user_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The user's unread count.
pub async fn unread_count(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {schema}.notifications_notification
         WHERE user_id = $1 AND read_at IS NULL"
    ))
    .bind(user_id)
    .fetch_one(pool)
    .await?)
}

/// What a connecting device is sent first: a user's unread count and newest
/// notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    pub unread: i64,
    /// Newest first.
    pub latest: Vec<Notification>,
}

#[derive(sqlx::FromRow)]
struct SyncRow {
    user_id: i32,
    unread: i64,
    id: Option<i64>,
    #[sqlx(rename = "type")]
    kind_type: Option<String>,
    kind: Option<String>,
    title: Option<String>,
    title_key: Option<String>,
    title_args: Option<Json<BTreeMap<String, String>>>,
    body: Option<String>,
    link: Option<String>,
    read_at: Option<PrimitiveDateTime>,
    created_at: Option<PrimitiveDateTime>,
}

/// The syncs of `user_ids` (each with its newest `latest`), with one
/// statement: devices connecting together share it.
pub async fn syncs(
    pool: &PgPool,
    schema: &SchemaName,
    user_ids: &[i32],
    latest: i64,
) -> Result<HashMap<i32, Synced>, StoreError> {
    let rows: Vec<SyncRow> = sqlx::query_as(&format!(
        "SELECT r.user_id, c.unread, l.id, l.type, l.kind, l.title, l.title_key, l.title_args, l.body, l.link,
                l.read_at, l.created_at
         FROM (SELECT DISTINCT unnest($1::int[]) AS user_id) r
         CROSS JOIN LATERAL (
            SELECT count(*) AS unread FROM {schema}.notifications_notification n
            WHERE n.user_id = r.user_id AND n.read_at IS NULL) c
         LEFT JOIN LATERAL (
            SELECT * FROM {schema}.notifications_notification n
            WHERE n.user_id = r.user_id ORDER BY n.id DESC LIMIT $2) l ON true
         ORDER BY r.user_id, l.id DESC"
    ))
    .bind(user_ids)
    .bind(latest)
    .fetch_all(pool)
    .await?;
    let mut syncs: HashMap<i32, Synced> = HashMap::new();
    for row in rows {
        let sync = syncs.entry(row.user_id).or_default();
        sync.unread = row.unread;
        // A user without notifications has one row of NULLs.
        let (Some(id), Some(kind_type), Some(kind), Some(title), Some(body), Some(created_at)) = (
            row.id,
            row.kind_type,
            row.kind,
            row.title,
            row.body,
            row.created_at,
        ) else {
            continue;
        };
        sync.latest.push(Notification {
            id,
            kind_type,
            kind,
            title,
            title_key: row.title_key,
            title_args: row.title_args.map(|a| a.0).unwrap_or_default(),
            body,
            link: row.link,
            read_at: row.read_at.map(format_timestamp),
            created_at: format_timestamp(created_at),
        });
    }
    Ok(syncs)
}

/// Newest first: up to `limit` of the user's notifications with an id below
/// `before` (all when `None`), only unread ones if `unread_only`.
pub async fn page(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {schema}.notifications_notification
         WHERE user_id = $1 AND ($2 IS NULL OR id < $2) AND (NOT $3 OR read_at IS NULL)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(user_id)
    .bind(before)
    .bind(unread_only)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.split().1).collect())
}

/// Whether notification `id` is the user's.
pub async fn owns(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    id: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM {schema}.notifications_notification
                        WHERE id = $1 AND user_id = $2)"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_one(pool)
    .await?)
}
