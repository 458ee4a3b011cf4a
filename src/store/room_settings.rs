//! `chat_roomsettings`: per-room rules moderators set; a room without a row
//! has the defaults.

use sqlx::{PgConnection, PgPool};

use super::StoreError;
use crate::tenant::SchemaName;

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
