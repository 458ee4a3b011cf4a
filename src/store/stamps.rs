//! `chat_chatstamp` of one tenant.

use serde::Serialize;
use sqlx::PgPool;

use super::{is_unique_violation, StoreError};
use crate::tenant::SchemaName;

/// A stamp as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Stamp {
    pub id: i32,
    pub name: String,
    #[sqlx(rename = "image")]
    pub image_url: String,
    pub sort_order: i32,
}

/// The tenant's active stamps in display order.
pub async fn list_active(pool: &PgPool, schema: &SchemaName) -> Result<Vec<Stamp>, StoreError> {
    Ok(sqlx::query_as::<_, Stamp>(&format!(
        "SELECT id, name, image, sort_order FROM {schema}.chat_chatstamp
         WHERE is_active ORDER BY sort_order, id"
    ))
    .fetch_all(pool)
    .await?)
}

/// The SVG of a tenant's own stamp served at `image_url`.
pub async fn custom_svg(
    pool: &PgPool,
    schema: &SchemaName,
    image_url: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, Option<String>>(&format!(
        "SELECT svg FROM {schema}.chat_chatstamp WHERE image = $1 AND is_active"
    ))
    .bind(image_url)
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// Adds a tenant's own stamp; `svg` must already be validated.
pub async fn create_custom(
    pool: &PgPool,
    schema: &SchemaName,
    name: &str,
    svg: &str,
) -> Result<Stamp, StoreError> {
    let slug = validate_name(name)?;
    let image = format!("/media/stamps/custom_{slug}.svg");
    sqlx::query_as::<_, Stamp>(&format!(
        "INSERT INTO {schema}.chat_chatstamp (name, image, sort_order, svg)
         VALUES ($1, $2, (SELECT COALESCE(max(sort_order), 0) + 1 FROM {schema}.chat_chatstamp), $3)
         RETURNING id, name, image, sort_order"
    ))
    .bind(name)
    .bind(&image)
    .bind(svg)
    .fetch_one(pool)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("stamp {name} already exists"))
        } else {
            e.into()
        }
    })
}

/// Checks `:name:` (1–30 of `a-z 0-9 _ + -` between colons) and returns the
/// inner part, which becomes the file name.
pub fn validate_name(name: &str) -> Result<&str, StoreError> {
    let inner = name
        .strip_prefix(':')
        .and_then(|n| n.strip_suffix(':'))
        .filter(|n| {
            !n.is_empty()
                && n.len() <= 30
                && n.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'+' | b'-')
                })
        });
    inner.ok_or_else(|| {
        StoreError::Invalid(format!(
            "invalid stamp name {name:?}: use :name: with 1-30 characters a-z, 0-9, _ + -"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names() {
        assert_eq!(validate_name(":wave:").unwrap(), "wave");
        assert_eq!(validate_name(":+1:").unwrap(), "+1");
        for bad in ["wave", "::", ":Wave:", ":a b:", ":../x:", ":wave"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
