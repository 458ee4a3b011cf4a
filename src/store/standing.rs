//! A user's standing on one stream (tenant role, ownership, appointment):
//! what every moderation check and handshake ranks them by.

use sqlx::PgPool;

use super::StoreError;
use crate::chat::{Role, UnknownRole};
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
            role: parse_role(&role)?,
            is_owner,
            is_stream_moderator,
        })
    })
    .transpose()
}

/// A stored role; one the code does not know is bad data, not a crash.
pub(super) fn parse_role(role: &str) -> Result<Role, StoreError> {
    role.parse()
        .map_err(|e: UnknownRole| StoreError::Invalid(e.to_string()))
}
