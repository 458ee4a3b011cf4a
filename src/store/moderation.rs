//! Moderation tables of one tenant: per-stream moderators, bans, room
//! settings, blocked terms, the audit log, and the message updates that
//! pinning, deleting and clearing need. Every write that belongs to one
//! moderation action takes the caller's transaction.

use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use time::PrimitiveDateTime;

use super::messages::MessageRow;
use super::{format_timestamp, is_unique_violation, StoreError};
use crate::auth::Role;
use crate::chat::{ChatMessage, MessageType};
use crate::tenant::SchemaName;

/// What a user is, relative to one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamStanding {
    pub role: Role,
    pub is_owner: bool,
    pub is_stream_moderator: bool,
}

/// The standing of `user_id` on `stream_id`, or `None` if either is unknown.
pub async fn standing(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
    user_id: i32,
) -> Result<Option<StreamStanding>, StoreError> {
    let row: Option<(String, bool, bool)> = sqlx::query_as(&format!(
        "SELECT u.role, s.owner_id IS NOT DISTINCT FROM u.id,
                EXISTS (SELECT 1 FROM {schema}.chat_moderator m WHERE m.stream_id = s.id AND m.user_id = u.id)
         FROM {schema}.accounts_user u, {schema}.streaming_stream s
         WHERE u.id = $1 AND s.id = $2"
    ))
    .bind(user_id)
    .bind(stream_id)
    .fetch_optional(pool)
    .await?;
    row.map(|(role, is_owner, is_stream_moderator)| {
        Ok(StreamStanding {
            role: role
                .parse()
                .map_err(|e: crate::auth::UnknownRole| StoreError::Invalid(e.to_string()))?,
            is_owner,
            is_stream_moderator,
        })
    })
    .transpose()
}

/// Appoints `user_id` moderator of `stream_id`; `Conflict` if already.
pub async fn add_stream_moderator(
    conn: &mut PgConnection,
    schema: &SchemaName,
    stream_id: i32,
    user_id: i32,
    by: i32,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_moderator (stream_id, user_id, created_by) VALUES ($1, $2, $3)"
    ))
    .bind(stream_id)
    .bind(user_id)
    .bind(by)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("already a moderator of this stream".into())
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Removes a stream moderator; `NotFound` if they were not one.
pub async fn remove_stream_moderator(
    conn: &mut PgConnection,
    schema: &SchemaName,
    stream_id: i32,
    user_id: i32,
) -> Result<(), StoreError> {
    let done = sqlx::query(&format!(
        "DELETE FROM {schema}.chat_moderator WHERE stream_id = $1 AND user_id = $2"
    ))
    .bind(stream_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(
            "not a moderator of this stream".into(),
        ));
    }
    Ok(())
}

/// Usernames of a stream's appointed moderators.
pub async fn stream_moderators(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT u.username FROM {schema}.chat_moderator m JOIN {schema}.accounts_user u ON u.id = m.user_id
         WHERE m.stream_id = $1 ORDER BY u.username"
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await?)
}

/// An active ban or timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ban {
    pub id: i32,
    pub username: String,
    /// `None` for a tenant-wide ban.
    pub stream_id: Option<i32>,
    pub reason: String,
    pub created_by: Option<String>,
    pub created_at: String,
    /// `None` for a permanent ban.
    pub expires_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BanRow {
    id: i32,
    username: String,
    stream_id: Option<i32>,
    reason: String,
    created_by: Option<String>,
    created_at: PrimitiveDateTime,
    expires_at: Option<PrimitiveDateTime>,
}

impl From<BanRow> for Ban {
    fn from(r: BanRow) -> Self {
        Ban {
            id: r.id,
            username: r.username,
            stream_id: r.stream_id,
            reason: r.reason,
            created_by: r.created_by,
            created_at: format_timestamp(r.created_at),
            expires_at: r.expires_at.map(format_timestamp),
        }
    }
}

const BAN_COLUMNS: &str =
    "b.id, u.username, b.stream_id, b.reason, c.username AS created_by, b.created_at, b.expires_at";
const ACTIVE: &str =
    "b.lifted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > CURRENT_TIMESTAMP)";

/// Records a ban inside the action's transaction.
pub async fn insert_ban(
    conn: &mut PgConnection,
    schema: &SchemaName,
    user_id: i32,
    stream_id: Option<i32>,
    reason: &str,
    by: i32,
    duration_secs: Option<i64>,
) -> Result<Ban, StoreError> {
    let id: i32 = sqlx::query_scalar(&format!(
        "INSERT INTO {schema}.chat_ban (user_id, stream_id, reason, created_by, expires_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $5::int8 IS NULL THEN NULL
                                      ELSE CURRENT_TIMESTAMP + make_interval(secs => $5::int8) END)
         RETURNING id"
    ))
    .bind(user_id)
    .bind(stream_id)
    .bind(reason)
    .bind(by)
    .bind(duration_secs)
    .fetch_one(&mut *conn)
    .await?;
    Ok(sqlx::query_as::<_, BanRow>(&format!(
        "SELECT {BAN_COLUMNS} FROM {schema}.chat_ban b
         JOIN {schema}.accounts_user u ON u.id = b.user_id
         LEFT JOIN {schema}.accounts_user c ON c.id = b.created_by WHERE b.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?
    .into())
}

/// The ban that keeps `user_id` out of `stream_id` right now, if any: the one
/// that lasts longest (a permanent ban beats any timeout).
pub async fn active_ban(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    stream_id: i32,
) -> Result<Option<Ban>, StoreError> {
    Ok(sqlx::query_as::<_, BanRow>(&format!(
        "SELECT {BAN_COLUMNS} FROM {schema}.chat_ban b
         JOIN {schema}.accounts_user u ON u.id = b.user_id
         LEFT JOIN {schema}.accounts_user c ON c.id = b.created_by
         WHERE b.user_id = $1 AND (b.stream_id = $2 OR b.stream_id IS NULL) AND {ACTIVE}
         ORDER BY b.expires_at DESC NULLS FIRST LIMIT 1"
    ))
    .bind(user_id)
    .bind(stream_id)
    .fetch_optional(pool)
    .await?
    .map(Ban::from))
}

/// Active bans of a stream (including tenant-wide ones).
pub async fn active_bans(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Vec<Ban>, StoreError> {
    Ok(sqlx::query_as::<_, BanRow>(&format!(
        "SELECT {BAN_COLUMNS} FROM {schema}.chat_ban b
         JOIN {schema}.accounts_user u ON u.id = b.user_id
         LEFT JOIN {schema}.accounts_user c ON c.id = b.created_by
         WHERE (b.stream_id = $1 OR b.stream_id IS NULL) AND {ACTIVE}
         ORDER BY b.created_at DESC"
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Ban::from)
    .collect())
}

/// (user id, expiry) of every active ban affecting `stream_id`, for a room actor.
pub async fn banned_users(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
) -> Result<Vec<(i32, Option<PrimitiveDateTime>)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT b.user_id, b.expires_at FROM {schema}.chat_ban b
         WHERE (b.stream_id = $1 OR b.stream_id IS NULL) AND {ACTIVE}"
    ))
    .bind(stream_id)
    .fetch_all(pool)
    .await?)
}

/// Lifts the active bans of `user_id` with exactly this scope; how many.
pub async fn lift_bans(
    conn: &mut PgConnection,
    schema: &SchemaName,
    user_id: i32,
    stream_id: Option<i32>,
    by: i32,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(&format!(
        "UPDATE {schema}.chat_ban b SET lifted_at = CURRENT_TIMESTAMP, lifted_by = $3
         WHERE b.user_id = $1 AND b.stream_id IS NOT DISTINCT FROM $2 AND {ACTIVE}"
    ))
    .bind(user_id)
    .bind(stream_id)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// The slow-mode interval of a room (0 = off).
pub async fn slow_mode(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
) -> Result<i32, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT slow_mode_seconds FROM {schema}.chat_roomsettings WHERE room_id = $1"
    ))
    .bind(room_id)
    .fetch_optional(pool)
    .await?
    .unwrap_or(0))
}

pub async fn set_slow_mode(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    seconds: i32,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_roomsettings (room_id, slow_mode_seconds) VALUES ($1, $2)
         ON CONFLICT (room_id) DO UPDATE SET slow_mode_seconds = $2, updated_at = CURRENT_TIMESTAMP"
    ))
    .bind(room_id)
    .bind(seconds)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A visible message of a room, for pinning.
pub async fn visible_message(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    message_id: i32,
) -> Result<Option<ChatMessage>, StoreError> {
    Ok(sqlx::query_as::<_, MessageRow>(&format!(
        "SELECT m.id, u.username, m.content, m.message_type, m.created_at
         FROM {schema}.chat_chatmessage m LEFT JOIN {schema}.accounts_user u ON u.id = m.user_id
         WHERE m.id = $1 AND m.room_id = $2 AND NOT COALESCE(m.is_deleted, false)"
    ))
    .bind(message_id)
    .bind(room_id)
    .fetch_optional(&mut *conn)
    .await?
    .map(ChatMessage::from))
}

/// The pinned, visible message of a room, if any.
pub async fn pinned(
    pool: &PgPool,
    schema: &SchemaName,
    room_id: i32,
) -> Result<Option<ChatMessage>, StoreError> {
    let mut conn = pool.acquire().await?;
    let id: Option<i32> = sqlx::query_scalar(&format!(
        "SELECT id FROM {schema}.chat_chatmessage
         WHERE room_id = $1 AND is_pinned AND NOT COALESCE(is_deleted, false) ORDER BY id DESC LIMIT 1"
    ))
    .bind(room_id)
    .fetch_optional(&mut *conn)
    .await?;
    match id {
        Some(id) => visible_message(&mut conn, schema, room_id, id).await,
        None => Ok(None),
    }
}

/// Unpins whatever is pinned in a room; returns the ids that were.
pub async fn unpin_all(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
) -> Result<Vec<i32>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "UPDATE {schema}.chat_chatmessage SET is_pinned = false WHERE room_id = $1 AND is_pinned RETURNING id"
    ))
    .bind(room_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn pin(
    conn: &mut PgConnection,
    schema: &SchemaName,
    message_id: i32,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE {schema}.chat_chatmessage SET is_pinned = true WHERE id = $1"
    ))
    .bind(message_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The room and author of a visible message.
pub async fn message_room(
    pool: &PgPool,
    schema: &SchemaName,
    message_id: i32,
) -> Result<Option<(i32, i32, Option<i32>)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT m.room_id, r.stream_id, m.user_id FROM {schema}.chat_chatmessage m
         JOIN {schema}.chat_chatroom r ON r.id = m.room_id
         WHERE m.id = $1 AND NOT COALESCE(m.is_deleted, false)"
    ))
    .bind(message_id)
    .fetch_optional(pool)
    .await?)
}

/// Soft-deletes messages of a room: one id, one user's, or all. Returns the
/// ids deleted and whether a pinned one was among them.
pub async fn soft_delete(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    message_id: Option<i32>,
    user_id: Option<i32>,
) -> Result<(Vec<i32>, bool), StoreError> {
    let rows: Vec<(i32, Option<bool>)> = sqlx::query_as(&format!(
        "UPDATE {schema}.chat_chatmessage SET is_deleted = true
         WHERE room_id = $1 AND NOT COALESCE(is_deleted, false)
           AND ($2::int4 IS NULL OR id = $2) AND ($3::int4 IS NULL OR user_id = $3)
           AND message_type = 'message'
         RETURNING id, is_pinned"
    ))
    .bind(room_id)
    .bind(message_id)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let had_pin = rows.iter().any(|(_, p)| p.unwrap_or(false));
    if had_pin {
        sqlx::query(&format!(
            "UPDATE {schema}.chat_chatmessage SET is_pinned = false WHERE room_id = $1 AND is_deleted AND is_pinned"
        ))
        .bind(room_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok((rows.into_iter().map(|(id, _)| id).collect(), had_pin))
}

/// Stores a moderation notice (no author) and returns it as a chat event.
pub async fn insert_notice(
    conn: &mut PgConnection,
    schema: &SchemaName,
    room_id: i32,
    text: &str,
) -> Result<ChatMessage, StoreError> {
    let (id, created_at): (i32, PrimitiveDateTime) = sqlx::query_as(&format!(
        "INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content, message_type)
         VALUES ($1, NULL, $2, 'moderation') RETURNING id, created_at"
    ))
    .bind(room_id)
    .bind(text)
    .fetch_one(&mut *conn)
    .await?;
    Ok(ChatMessage {
        id: Some(i64::from(id)),
        username: String::new(),
        message: text.to_owned(),
        message_type: MessageType::Moderation,
        timestamp: format_timestamp(created_at),
    })
}

/// One audit entry.
pub struct AuditEntry<'a> {
    pub stream_id: Option<i32>,
    pub actor_id: i32,
    pub action: &'a str,
    pub target_user_id: Option<i32>,
    pub target_message_id: Option<i32>,
    pub details: Value,
}

pub async fn audit(
    conn: &mut PgConnection,
    schema: &SchemaName,
    entry: AuditEntry<'_>,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_moderationaction
             (stream_id, actor_id, action, target_user_id, target_message_id, details)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(entry.stream_id)
    .bind(entry.actor_id)
    .bind(entry.action)
    .bind(entry.target_user_id)
    .bind(entry.target_message_id)
    .bind(entry.details)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A moderation-log line as the API returns it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LogEntry {
    pub id: i32,
    pub action: String,
    pub actor: Option<String>,
    pub target_user: Option<String>,
    pub target_message_id: Option<i32>,
    pub details: Value,
    #[serde(skip)]
    pub created: PrimitiveDateTime,
    #[sqlx(skip)]
    pub created_at: String,
}

/// The newest `limit` audit entries of a stream (including tenant-wide bans).
pub async fn log(
    pool: &PgPool,
    schema: &SchemaName,
    stream_id: i32,
    limit: i64,
) -> Result<Vec<LogEntry>, StoreError> {
    let mut rows = sqlx::query_as::<_, LogEntry>(&format!(
        "SELECT a.id, a.action, actor.username AS actor, target.username AS target_user,
                a.target_message_id, a.details, a.created_at AS created
         FROM {schema}.chat_moderationaction a
         LEFT JOIN {schema}.accounts_user actor ON actor.id = a.actor_id
         LEFT JOIN {schema}.accounts_user target ON target.id = a.target_user_id
         WHERE a.stream_id = $1 OR (a.stream_id IS NULL AND a.action IN ('ban', 'timeout', 'unban'))
         ORDER BY a.id DESC LIMIT $2"
    ))
    .bind(stream_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    for r in &mut rows {
        r.created_at = format_timestamp(r.created);
    }
    Ok(rows)
}

/// A blocked term as listed to moderators.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BlockedTerm {
    pub id: i32,
    pub term: String,
}

pub async fn blocked_terms(
    pool: &PgPool,
    schema: &SchemaName,
) -> Result<Vec<(BlockedTerm, String)>, StoreError> {
    let rows: Vec<(i32, String, String)> = sqlx::query_as(&format!(
        "SELECT id, term, normalized FROM {schema}.chat_blockedterm ORDER BY id"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, term, normalized)| (BlockedTerm { id, term }, normalized))
        .collect())
}

pub async fn add_blocked_term(
    conn: &mut PgConnection,
    schema: &SchemaName,
    term: &str,
    normalized: &str,
    by: i32,
) -> Result<BlockedTerm, StoreError> {
    sqlx::query_as::<_, BlockedTerm>(&format!(
        "INSERT INTO {schema}.chat_blockedterm (term, normalized, created_by) VALUES ($1, $2, $3)
         RETURNING id, term"
    ))
    .bind(term)
    .bind(normalized)
    .bind(by)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("this term is already blocked".into())
        } else {
            e.into()
        }
    })
}

pub async fn remove_blocked_term(
    conn: &mut PgConnection,
    schema: &SchemaName,
    id: i32,
) -> Result<String, StoreError> {
    sqlx::query_scalar(&format!(
        "DELETE FROM {schema}.chat_blockedterm WHERE id = $1 RETURNING term"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("no blocked term {id}")))
}

/// Everything a WebSocket handshake needs about a user and a stream, in one
/// round trip: the active room, the user's standing, and any ban in force.
#[derive(Debug, Clone)]
pub struct HandshakeInfo {
    pub room_id: i32,
    /// False when the user was deactivated or deleted since logging in.
    pub user_active: bool,
    pub standing: StreamStanding,
    /// `Some(expiry)` when banned; the expiry is `None` for a permanent ban.
    pub ban: Option<Option<String>>,
}

/// For each `(stream_id, user_id)`, in order, with one query: `None` if the
/// stream is not live, has no active room, or the user is unknown.
pub async fn handshake_infos(
    pool: &PgPool,
    schema: &SchemaName,
    asks: &[(i32, i32)],
) -> Result<Vec<Option<HandshakeInfo>>, StoreError> {
    type Row = (
        i64,
        i32,
        Option<String>,
        bool,
        bool,
        bool,
        Option<bool>,
        Option<PrimitiveDateTime>,
    );
    let (streams, users): (Vec<i32>, Vec<i32>) = asks.iter().copied().unzip();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT q.n, r.id, u.role, COALESCE(u.is_active, false), s.owner_id = u.id IS TRUE,
                EXISTS (SELECT 1 FROM {schema}.chat_moderator m WHERE m.stream_id = s.id AND m.user_id = u.id),
                ban.active, ban.expires_at
         FROM UNNEST($1::int4[], $2::int4[]) WITH ORDINALITY AS q(stream_id, user_id, n)
         JOIN {schema}.streaming_stream s ON s.id = q.stream_id AND s.status = 'live'
         JOIN LATERAL (
             SELECT r.id FROM {schema}.chat_chatroom r
             WHERE r.stream_id = s.id AND r.is_active ORDER BY r.id LIMIT 1
         ) r ON true
         LEFT JOIN {schema}.accounts_user u ON u.id = q.user_id
         LEFT JOIN LATERAL (
             SELECT true AS active, b.expires_at FROM {schema}.chat_ban b
             WHERE b.user_id = u.id AND (b.stream_id = s.id OR b.stream_id IS NULL) AND {ACTIVE}
             ORDER BY b.expires_at DESC NULLS FIRST LIMIT 1
         ) ban ON true"
    ))
    .bind(&streams)
    .bind(&users)
    .fetch_all(pool)
    .await?;
    let mut infos: Vec<Option<HandshakeInfo>> = vec![None; asks.len()];
    for (n, room_id, role, user_active, is_owner, is_stream_moderator, banned, expires_at) in rows {
        let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| infos.get_mut(i)) else {
            continue;
        };
        *slot =
            Some(HandshakeInfo {
                room_id,
                user_active,
                standing: StreamStanding {
                    // A deleted user has no role; `user_active` keeps them out.
                    role: role.as_deref().unwrap_or("viewer").parse().map_err(
                        |e: crate::auth::UnknownRole| StoreError::Invalid(e.to_string()),
                    )?,
                    is_owner,
                    is_stream_moderator,
                },
                ban: banned
                    .unwrap_or(false)
                    .then(|| expires_at.map(format_timestamp)),
            });
    }
    Ok(infos)
}
