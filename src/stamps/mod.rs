//! Stamps: the six built-in SVGs, the check for a tenant's own SVGs, and the
//! per-tenant catalog that reactions are validated against.

pub mod builtin;
pub mod catalog;
pub mod svg;

pub use catalog::StampCatalog;
pub use svg::{validate_svg, SvgError};
