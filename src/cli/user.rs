//! `user …`: manage users of a tenant.

use clap::Subcommand;
use sqlx::PgPool;

use super::CliError;
use crate::auth::{password, Role};
use crate::store::{tenants, users};
use crate::tenant::SchemaName;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "STAMPEDE_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "viewer")]
        role: Role,
    },
    /// Deactivate a user: no more logins, sessions deleted, open sockets on
    /// every node closed (4401).
    Deactivate {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Let a deactivated user log in again (old sessions stay dead).
    Activate {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
}

/// `user create`.
pub async fn user_create(
    pool: &PgPool,
    tenant: &str,
    username: &str,
    password_text: &str,
    role: Role,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    if password_text.is_empty() {
        return Err(CliError::EmptyPassword);
    }
    users::validate_username(username)?;
    let hash = password::hash(password_text.to_owned()).await?;
    let user = users::create(pool, &tenant.schema, username, &hash, role).await?;
    Ok(format!(
        "created user {} ({}) in {}",
        user.username,
        user.role,
        tenant.schema.as_str()
    ))
}

/// `user deactivate`.
pub async fn user_deactivate(
    pool: &PgPool,
    tenant: &str,
    username: &str,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    let sessions = crate::auth::accounts::deactivate(pool, &tenant, username).await?;
    Ok(format!(
        "deactivated user {username} in {} ({sessions} session(s) ended)",
        tenant.schema.as_str()
    ))
}

/// `user activate`.
pub async fn user_activate(
    pool: &PgPool,
    tenant: &str,
    username: &str,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    crate::auth::accounts::activate(pool, &tenant, username).await?;
    Ok(format!(
        "activated user {username} in {}",
        tenant.schema.as_str()
    ))
}
