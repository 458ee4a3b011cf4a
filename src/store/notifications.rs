//! `notifications_notification`: each user's personal notifications, with
//! their unread state. Inserts come in batches (`insert_rows`, one statement
//! for many recipients; `insert_for_all`, a whole tenant); reads are keyset
//! pages over `(user_id, id DESC)`.
//!
//! Titles and bodies are stored as plain text, exactly as given: clients
//! render them as text, never as HTML.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use time::PrimitiveDateTime;

use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// How a notification is shown (seed 002's four types).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum NotificationType {
    Info,
    Warning,
    Error,
    Success,
}

impl NotificationType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What produced a notification.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
pub enum Kind {
    /// `@username` in a chat line.
    #[serde(rename = "mention")]
    #[strum(serialize = "mention")]
    Mention,
    /// A reply to one of the user's lines.
    #[serde(rename = "reply")]
    #[strum(serialize = "reply")]
    Reply,
    /// The user was timed out, banned or unbanned.
    #[serde(rename = "moderation")]
    #[strum(serialize = "moderation")]
    Moderation,
    /// A followed stream went live.
    #[serde(rename = "stream.live")]
    #[strum(serialize = "stream.live")]
    StreamLive,
    /// An admin's message.
    #[serde(rename = "system")]
    #[strum(serialize = "system")]
    System,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One notification as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind_type: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    /// `None` while unread.
    pub read_at: Option<String>,
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: i32,
    #[sqlx(rename = "type")]
    kind_type: String,
    kind: String,
    title: String,
    body: String,
    link: Option<String>,
    read_at: Option<PrimitiveDateTime>,
    created_at: PrimitiveDateTime,
}

impl Row {
    fn split(self) -> (i32, Notification) {
        let n = Notification {
            id: self.id,
            kind_type: self.kind_type,
            kind: self.kind,
            title: self.title,
            body: self.body,
            link: self.link,
            read_at: self.read_at.map(format_timestamp),
            created_at: format_timestamp(self.created_at),
        };
        (self.user_id, n)
    }
}

const COLUMNS: &str = "id, user_id, type, kind, title, body, link, read_at, created_at";

/// A notification to store for one recipient.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub user_id: i32,
    pub kind_type: NotificationType,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    /// The user who caused it; a recipient who blocked them gets nothing.
    pub sender_id: Option<i32>,
}

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
        "SELECT r.user_id, c.unread, l.id, l.type, l.kind, l.title, l.body, l.link,
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

/// What marking read changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedRead {
    /// The ids that were unread and are read now, ascending.
    pub ids: Vec<i64>,
    /// The user's unread count afterwards.
    pub unread: i64,
}

/// Marks the user's notifications `ids` read (all unread ones when `None`).
/// Ids of other users' notifications are ignored.
pub async fn mark_read(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    ids: Option<&[i64]>,
) -> Result<MarkedRead, StoreError> {
    // The outer SELECT sees the table as before the UPDATE (one snapshot),
    // so the rows it just marked are subtracted from that count.
    let (ids, unread): (Vec<i64>, i64) = sqlx::query_as(&format!(
        "WITH upd AS (
            UPDATE {schema}.notifications_notification SET read_at = CURRENT_TIMESTAMP
            WHERE user_id = $1 AND read_at IS NULL AND ($2::bigint[] IS NULL OR id = ANY($2))
            RETURNING id)
         SELECT ARRAY(SELECT id FROM upd ORDER BY id),
                (SELECT count(*) FROM {schema}.notifications_notification
                 WHERE user_id = $1 AND read_at IS NULL) - (SELECT count(*) FROM upd)"
    ))
    .bind(user_id)
    .bind(ids)
    .fetch_one(pool)
    .await?;
    Ok(MarkedRead { ids, unread })
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

/// Deletes read notifications created more than `days` days ago, at most
/// `batch` rows per statement so no statement holds locks for long; returns
/// how many went.
pub async fn delete_read_older_than(
    pool: &PgPool,
    schema: &SchemaName,
    days: u32,
    batch: i64,
) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(&format!(
            "DELETE FROM {schema}.notifications_notification WHERE id IN (
                SELECT id FROM {schema}.notifications_notification
                WHERE read_at IS NOT NULL
                  AND created_at < CURRENT_TIMESTAMP - make_interval(days => $1)
                LIMIT $2)"
        ))
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .bind(batch)
        .execute(pool)
        .await?
        .rows_affected();
        total += deleted;
        if deleted < batch.max(1) as u64 {
            return Ok(total);
        }
    }
}
