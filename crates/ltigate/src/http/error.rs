//! The API error: one type, one `IntoResponse`, in the LTIAAS shape
//! `{"status": 401, "error": "Unauthorized", "details": {"message": CODE, "description": ...}}`.
//!
//! Clients get a stable code, a human description and the request id; causes and details
//! go to the log only, once, when the error is answered (in the request's span).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{codes, request_id};
use crate::keys::KeyError;
use crate::platform_input::InvalidInput;
use crate::store::StoreError;

/// An error answered by the JSON APIs.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable SCREAMING_SNAKE code.
    pub code: &'static str,
    pub description: String,
    /// What happened in detail, for the log only.
    detail: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            detail: None,
        }
    }

    /// The status and fixed sentences of `code` from the one table; `detail` (which may
    /// quote the request, as serde's messages do) is logged, never sent.
    pub fn refused(code: &'static str, detail: impl Into<String>) -> Self {
        let public = codes::public(code);
        Self::new(
            public.status,
            code,
            format!("{} {}", public.sentence, public.advice),
        )
        .with_detail(detail)
    }

    /// Adds a detail for the log.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn bad_request(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, description)
    }

    pub fn unauthorized(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, description)
    }

    pub fn not_found(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, description)
    }

    pub fn conflict(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, description)
    }

    /// A failure of ltigate itself; `cause` is logged, never sent.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong on the server; the error has been logged.",
        )
        .with_detail(DisplayChain(cause).to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(detail) = &self.detail {
            let code = self.code;
            if self.status.is_server_error() {
                tracing::error!(code, detail, "request failed");
            } else {
                tracing::warn!(code, detail, "request refused");
            }
        }
        let body = json!({
            "status": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "details": { "message": self.code, "description": self.description },
            "requestId": request_id::current(),
        });
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::conflict(
                "PLATFORM_EXISTS",
                "A platform with this issuer (url) and clientId is already registered.",
            ),
            other => Self::internal(&other),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        Self::internal(&e)
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        Self::bad_request(e.code, e.message)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        match e {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "INVALID_CONTENT_TYPE",
                "Send the body as JSON with Content-Type: application/json.",
            ),
            JsonRejection::BytesRejection(e) => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                "The request body is too large or could not be read.",
            )
            .with_detail(e.body_text()),
            // serde's message quotes the body: logged, not echoed.
            other => Self::refused("INVALID_BODY", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self::refused("INVALID_QUERY", e.body_text())
    }
}

/// Formats an error with its chain of causes, for logs.
#[derive(Debug)]
pub struct DisplayChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
