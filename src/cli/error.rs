//! [`CliError`]: why a command failed, as one line for the operator.

use crate::auth::password;
use crate::store::StoreError;
use crate::tenant::SchemaNameError;

/// A command failed; the message is one line meant for the operator.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("DATABASE_URL is not set (pass --database-url or set the variable)")]
    NoDatabaseUrl,
    #[error(transparent)]
    SchemaName(#[from] SchemaNameError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password must not be empty")]
    EmptyPassword,
    #[error("{0}")]
    Password(#[from] password::HashError),
    #[error("cannot read or write {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("refused {path}: {source}")]
    Svg {
        path: String,
        source: crate::stamps::SvgError,
    },
}

impl From<sqlx::Error> for CliError {
    fn from(err: sqlx::Error) -> Self {
        CliError::Store(StoreError::Database(err))
    }
}
