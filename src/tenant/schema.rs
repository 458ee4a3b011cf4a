//! Validated Postgres schema names.
//!
//! Tenant tables live in per-tenant schemas whose names end up inside SQL text
//! (identifiers cannot be bound as parameters), so a [`SchemaName`] can only be
//! built from a string that passed the strict pattern below.

use std::fmt;

/// Why a schema name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaNameError {
    /// The name does not match `^[a-z][a-z0-9_]{0,62}$`.
    #[error(
        "invalid schema name {0:?}: use 1-63 characters a-z, 0-9 and _, starting with a letter"
    )]
    Pattern(String),
    /// The name is one Postgres or Stampede reserves.
    #[error("schema name {0:?} is reserved")]
    Reserved(String),
}

/// A schema name that is safe to splice into SQL as a quoted identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaName(String);

impl SchemaName {
    /// Validates `name` against `^[a-z][a-z0-9_]{0,62}$` and the reserved names.
    pub fn parse(name: &str) -> Result<Self, SchemaNameError> {
        let bytes = name.as_bytes();
        let well_formed = !bytes.is_empty()
            && bytes.len() <= 63
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        if !well_formed {
            return Err(SchemaNameError::Pattern(name.to_owned()));
        }
        const RESERVED: [&str; 3] = ["public", "information_schema", "tower_sessions"];
        if RESERVED.contains(&name) || name.starts_with("pg_") {
            return Err(SchemaNameError::Reserved(name.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The bare name, as stored in `public.tenants.schema_name`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Formats as a double-quoted identifier, ready for `format!` into SQL.
impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for ok in ["a", "acme", "acme_tv2", &"a".repeat(63)] {
            assert_eq!(SchemaName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "1abc",
            "_x",
            "Acme",
            "ac-me",
            "a b",
            "a\"b",
            "a;drop",
            "é",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(SchemaName::parse(bad), Err(SchemaNameError::Pattern(_))),
                "{bad}"
            );
        }
        for reserved in ["public", "pg_catalog", "pg_x", "information_schema"] {
            assert!(matches!(
                SchemaName::parse(reserved),
                Err(SchemaNameError::Reserved(_))
            ));
        }
    }

    #[test]
    fn displays_quoted() {
        assert_eq!(SchemaName::parse("acme").unwrap().to_string(), "\"acme\"");
    }
}
