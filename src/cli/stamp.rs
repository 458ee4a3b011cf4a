//! `stamp …`: manage a tenant's stamps.

use clap::Subcommand;
use sqlx::PgPool;

use super::CliError;
use crate::store::{stamps, tenants};
use crate::tenant::SchemaName;

#[derive(Debug, Subcommand)]
pub enum StampCommand {
    /// Add a tenant's own stamp from an SVG file (checked for scripts,
    /// event handlers and external references).
    Add {
        /// The tenant's schema name.
        #[arg(long)]
        tenant: String,
        /// The stamp's name, e.g. `:wave:`.
        #[arg(long)]
        name: String,
        /// Path of the SVG file.
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

/// `stamp add`.
pub async fn stamp_add(
    pool: &PgPool,
    tenant: &str,
    name: &str,
    file: &std::path::Path,
) -> Result<String, CliError> {
    let tenant = tenants::get_by_schema(pool, &SchemaName::parse(tenant)?).await?;
    stamps::validate_name(name)?;
    let path = file.display().to_string();
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|source| CliError::ReadFile {
            path: path.clone(),
            source,
        })?;
    if bytes.len() > crate::stamps::svg::MAX_SVG_BYTES {
        return Err(CliError::Svg {
            path,
            source: crate::stamps::SvgError::TooLarge,
        });
    }
    let svg = String::from_utf8(bytes).map_err(|_| CliError::Svg {
        path: path.clone(),
        source: crate::stamps::SvgError::Malformed("not UTF-8".into()),
    })?;
    crate::stamps::validate_svg(&svg).map_err(|source| CliError::Svg { path, source })?;
    let stamp = stamps::create_custom(pool, &tenant.schema, name, &svg).await?;
    Ok(format!(
        "{}\nadded stamp {} to {} at {}",
        stamp.id,
        stamp.name,
        tenant.schema.as_str(),
        stamp.image_url
    ))
}
