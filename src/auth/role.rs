//! Tenant-wide user roles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user may do across their tenant. Stored as text in `accounts_user.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Viewer,
    Moderator,
    Streamer,
    Admin,
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Moderator => "moderator",
            Role::Streamer => "streamer",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the five roles.
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?} (expected viewer, moderator, streamer, admin or analyst)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "moderator" => Ok(Role::Moderator),
            "streamer" => Ok(Role::Streamer),
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}
