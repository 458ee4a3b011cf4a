//! The room half of WebSocket handshakes, answered for many at once: a
//! reconnect storm is thousands a second for the same few rooms.

use sqlx::PgPool;
use time::PrimitiveDateTime;

use super::bans::ACTIVE;
use super::standing::{parse_role, StreamStanding};
use super::{format_timestamp, StoreError};
use crate::tenant::SchemaName;

/// Everything a WebSocket handshake needs about a user and a stream, in one
/// round trip: the active room, the user's standing, and any ban in force.
#[derive(Debug, Clone)]
pub struct HandshakeInfo {
    pub room_id: i32,
    /// False when the user was deactivated or deleted since logging in.
    pub user_active: bool,
    pub standing: StreamStanding,
    /// The ban in force, if any.
    pub ban: Option<BanInForce>,
}

/// A ban keeping a user out of a stream now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanInForce {
    /// When it ends (RFC 3339); `None` for a permanent ban.
    pub until: Option<String>,
    /// The moderator's reason (HTML-escaped), if one was given.
    pub reason: Option<String>,
}

/// For each `(stream_id, user_id)`, in order, with one query: `None` if the
/// stream is not live, has no active room, or the user is unknown.
pub async fn lookup(
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
        Option<String>,
    );
    let (streams, users): (Vec<i32>, Vec<i32>) = asks.iter().copied().unzip();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT q.n, r.id, u.role, COALESCE(u.is_active, false), s.owner_id = u.id IS TRUE,
                EXISTS (SELECT 1 FROM {schema}.chat_moderator m WHERE m.stream_id = s.id AND m.user_id = u.id),
                ban.active, ban.expires_at, ban.reason
         FROM UNNEST($1::int4[], $2::int4[]) WITH ORDINALITY AS q(stream_id, user_id, n)
         JOIN {schema}.streaming_stream s ON s.id = q.stream_id AND s.status IN ('scheduled', 'live')
         JOIN LATERAL (
             SELECT r.id FROM {schema}.chat_chatroom r
             WHERE r.stream_id = s.id AND r.is_active ORDER BY r.id LIMIT 1
         ) r ON true
         LEFT JOIN {schema}.accounts_user u ON u.id = q.user_id
         LEFT JOIN LATERAL (
             SELECT true AS active, b.expires_at, NULLIF(b.reason, '') AS reason
             FROM {schema}.chat_ban b
             WHERE b.user_id = u.id AND (b.stream_id = s.id OR b.stream_id IS NULL) AND {ACTIVE}
             ORDER BY b.expires_at DESC NULLS FIRST LIMIT 1
         ) ban ON true"
    ))
    .bind(&streams)
    .bind(&users)
    .fetch_all(pool)
    .await?;
    let mut infos: Vec<Option<HandshakeInfo>> = vec![None; asks.len()];
    for (
        n,
        room_id,
        role,
        user_active,
        is_owner,
        is_stream_moderator,
        banned,
        expires_at,
        reason,
    ) in rows
    {
        let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| infos.get_mut(i)) else {
            continue;
        };
        *slot = Some(HandshakeInfo {
            room_id,
            user_active,
            standing: StreamStanding {
                // A deleted user has no role; `user_active` keeps them out.
                role: parse_role(role.as_deref().unwrap_or("viewer"))?,
                is_owner,
                is_stream_moderator,
            },
            ban: banned.unwrap_or(false).then(|| BanInForce {
                until: expires_at.map(format_timestamp),
                reason,
            }),
        });
    }
    Ok(infos)
}
