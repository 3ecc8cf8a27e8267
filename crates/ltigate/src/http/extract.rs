//! Body and query extractors whose rejections are API errors in the LTIAAS shape.

use axum::extract::{FromRequest, FromRequestParts};

use super::error::ApiError;

/// A JSON body; a bad body is a 400/413/415 `ApiError`, never axum's plain-text answer.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string; a bad one is a 400 `ApiError`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);
