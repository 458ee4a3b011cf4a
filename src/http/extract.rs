//! Extractors whose rejections become our JSON error body instead of axum's
//! plain-text defaults.

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::AppError;

/// `axum::Json`, rejecting with `400 bad_json`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

/// `axum::extract::Path`, rejecting with `404 not_found`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);
