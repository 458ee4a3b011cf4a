//! Tenant-wide user roles.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;

/// What a user may do across their tenant. Stored as text in `accounts_user.role`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Default,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    #[default]
    Viewer,
    Moderator,
    Streamer,
    Admin,
    Analyst,
}

impl Role {
    /// The role as stored and sent.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The text was not one of the five roles.
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?} (expected viewer, moderator, streamer, admin or analyst)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The badge shown next to a name in chat: who speaks with authority here.
/// Derived from the author's rank on the stream when the line was sent.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
    strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Badge {
    /// The stream's owner.
    Streamer,
    /// An appointed or tenant moderator.
    Moderator,
    /// A tenant admin.
    Admin,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_as_stored() {
        for role in Role::iter() {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(role.to_string(), role.as_str());
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
        }
        assert_eq!(Role::Analyst.as_str(), "analyst");
        assert!("Admin".parse::<Role>().is_err());
    }
}
