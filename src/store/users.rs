//! `accounts_user` of one tenant.

use sqlx::PgPool;

use super::{is_unique_violation, StoreError};
use crate::chat::Role;
use crate::tenant::SchemaName;

/// A user as the rest of the code sees it (no password hash).
#[derive(Debug, Clone)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub role: Role,
}

/// A user with the hash, for login only.
#[derive(Debug, sqlx::FromRow)]
pub struct Credentials {
    pub id: i32,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub is_active: bool,
}

impl Credentials {
    pub fn user(&self) -> Result<User, StoreError> {
        Ok(User {
            id: self.id,
            username: self.username.clone(),
            role: self
                .role
                .parse()
                .map_err(|e: crate::chat::UnknownRole| StoreError::Invalid(e.to_string()))?,
        })
    }
}

/// Usernames end up in every chat line, so they are restricted to a plain set
/// rather than sanitised: 1–150 of `A-Z a-z 0-9 _ . -`.
pub fn validate_username(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 150
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "invalid username {name:?}: use 1-150 characters A-Z, a-z, 0-9, _ . -"
        )))
    }
}

/// Inserts a user whose password is already hashed.
pub async fn create(
    pool: &PgPool,
    schema: &SchemaName,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, StoreError> {
    validate_username(username)?;
    let id: i32 = sqlx::query_scalar(&format!(
        "INSERT INTO {schema}.accounts_user (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id"
    ))
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .fetch_one(pool)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("user {username:?} already exists"))
        } else {
            e.into()
        }
    })?;
    Ok(User {
        id,
        username: username.to_owned(),
        role,
    })
}

/// Looks a user up by name, case-insensitively, for login.
pub async fn credentials(
    pool: &PgPool,
    schema: &SchemaName,
    username: &str,
) -> Result<Option<Credentials>, StoreError> {
    Ok(sqlx::query_as::<_, Credentials>(&format!(
        "SELECT id, username, password_hash, role, is_active FROM {schema}.accounts_user
         WHERE lower(username) = lower($1)"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?)
}

/// An active user by id.
pub async fn get(pool: &PgPool, schema: &SchemaName, id: i32) -> Result<Option<User>, StoreError> {
    let row: Option<(i32, String, String)> = sqlx::query_as(&format!(
        "SELECT id, username, role FROM {schema}.accounts_user WHERE id = $1 AND is_active"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|(id, username, role)| {
        Ok(User {
            id,
            username,
            role: role
                .parse()
                .map_err(|e: crate::chat::UnknownRole| StoreError::Invalid(e.to_string()))?,
        })
    })
    .transpose()
}

/// The id of `username`, or `NotFound`.
pub async fn id_by_name(
    pool: &PgPool,
    schema: &SchemaName,
    username: &str,
) -> Result<i32, StoreError> {
    sqlx::query_scalar(&format!(
        "SELECT id FROM {schema}.accounts_user WHERE lower(username) = lower($1)"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("unknown user {username:?}")))
}

/// Sets `username`'s `is_active`; returns the user's id, or `NotFound`.
pub async fn set_active(
    conn: &mut sqlx::PgConnection,
    schema: &SchemaName,
    username: &str,
    active: bool,
) -> Result<i32, StoreError> {
    sqlx::query_scalar(&format!(
        "UPDATE {schema}.accounts_user SET is_active = $2 WHERE lower(username) = lower($1) RETURNING id"
    ))
    .bind(username)
    .bind(active)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("unknown user {username:?}")))
}

/// The language `user_id` chose with the page's switch, if any.
pub async fn language(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, Option<String>>(&format!(
        "SELECT language FROM {schema}.accounts_user WHERE id = $1"
    ))
    .bind(user_id)
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// Remembers `code` (`en` or `ja`, checked by the table) as `user_id`'s language.
pub async fn set_language(
    pool: &PgPool,
    schema: &SchemaName,
    user_id: i32,
    code: &str,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE {schema}.accounts_user SET language = $2 WHERE id = $1"
    ))
    .bind(user_id)
    .bind(code)
    .execute(pool)
    .await?;
    Ok(())
}

/// The active users among `lowercase_names` (compared case-insensitively),
/// as `(id, username as the account spells it)`.
pub async fn active_by_names(
    pool: &PgPool,
    schema: &SchemaName,
    lowercase_names: &[String],
) -> Result<Vec<(i32, String)>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, username FROM {schema}.accounts_user
         WHERE lower(username) = ANY($1) AND is_active"
    ))
    .bind(lowercase_names)
    .fetch_all(pool)
    .await?)
}
