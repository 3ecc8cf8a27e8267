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
use crate::code::Code;
pub use crate::code::DisplayChain;
use crate::keys::KeyError;
use crate::platform_input::InvalidInput;
use crate::platforms::PlatformsError;
use crate::registration::RegistrationFailure;
use crate::services::tokens::ServiceCallError;
use crate::store::StoreError;

/// An error answered by the JSON APIs. Its status is the code's, from the one table.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    /// What the caller is told: the table's sentences unless an authenticated caller is
    /// given more (the field a validation names, the hint of a missing header).
    description: String,
    /// What happened in detail, for the log only.
    detail: Option<String>,
    /// The platform's own error answer, for an authenticated caller of a proxied service:
    /// its status replaces the table's when it is a client error, its body joins `details`.
    platform: Option<PlatformAnswer>,
}

/// How much of a platform's error body the caller is shown.
const MAX_PLATFORM_BODY_CHARS: usize = 2000;

#[derive(Debug)]
struct PlatformAnswer {
    status: u16,
    body: String,
}

impl ApiError {
    /// The table's status and fixed sentences for `code`.
    pub fn new(code: Code) -> Self {
        let public = codes::public(code);
        Self {
            code,
            description: format!("{} {}", public.sentence, public.advice),
            detail: None,
            platform: None,
        }
    }

    /// As [`ApiError::new`] with `detail` (which may quote the request, as serde's messages
    /// do) logged, never sent.
    pub fn refused(code: Code, detail: impl Into<String>) -> Self {
        Self::new(code).with_detail(detail)
    }

    /// Replaces the table's sentences with a description the caller may see.
    pub fn described(code: Code, description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::new(code)
        }
    }

    /// Adds a detail for the log.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// A failure of ltigate itself; `cause` is logged, never sent.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        Self::refused(Code::InternalError, DisplayChain(cause).to_string())
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The HTTP status: from the one table, or the platform's client error passed through
    /// (a 401 stays 502: it refused ltigate's token, not the app's credentials).
    pub fn status(&self) -> StatusCode {
        self.platform
            .as_ref()
            .filter(|p| (400..500).contains(&p.status) && p.status != 401)
            .and_then(|p| StatusCode::from_u16(p.status).ok())
            .unwrap_or(codes::public(self.code).status)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Some(detail) = &self.detail {
            let code = self.code.as_str();
            if status.is_server_error() {
                tracing::error!(code, detail, "request failed");
            } else {
                tracing::warn!(code, detail, "request refused");
            }
        }
        let mut details = json!({ "message": self.code.as_str(), "description": self.description });
        if let Some(platform) = &self.platform {
            details["platformStatus"] = json!(platform.status);
            details["platformBody"] = json!(platform.body);
        }
        let body = json!({
            "status": status.as_u16(),
            "error": status.canonical_reason().unwrap_or("Error"),
            "details": details,
            "requestId": request_id::current(),
        });
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::new(Code::PlatformExists),
            other => Self::internal(&other),
        }
    }
}

/// The caller is authenticated for this context: it is told what the platform answered.
impl From<ServiceCallError> for ApiError {
    fn from(e: ServiceCallError) -> Self {
        let code = e.code();
        if code == Code::InternalError {
            return Self::internal(&e);
        }
        let detail = DisplayChain(&e).to_string();
        let mut error = Self::described(code, detail.clone()).with_detail(detail);
        error.platform = e.platform_answer().map(|answer| PlatformAnswer {
            status: answer.status,
            body: answer.body.chars().take(MAX_PLATFORM_BODY_CHARS).collect(),
        });
        error
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        Self::internal(&e)
    }
}

/// The message names the field; the caller is the administrator.
impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        Self::described(e.code(), e.to_string())
    }
}

/// Answered to app-key callers: everything but ltigate's own failures is described (the
/// platform's answer is the app's business); the cause chain is logged either way.
impl From<RegistrationFailure> for ApiError {
    fn from(e: RegistrationFailure) -> Self {
        let detail = DisplayChain(&e).to_string();
        match e.code() {
            Code::InternalError => Self::refused(Code::InternalError, detail),
            code => Self::described(code, detail.clone()).with_detail(detail),
        }
    }
}

impl From<PlatformsError> for ApiError {
    fn from(e: PlatformsError) -> Self {
        match e {
            PlatformsError::Invalid(e) => e.into(),
            PlatformsError::NotFound => Self::described(e.code(), "No platform has this id."),
            PlatformsError::Store(_) | PlatformsError::Keys(_) => Self::internal(&e),
            PlatformsError::NoPendingChange | PlatformsError::Exists => Self::new(e.code()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        match e {
            JsonRejection::MissingJsonContentType(_) => Self::new(Code::InvalidContentType),
            JsonRejection::BytesRejection(e) => Self::refused(Code::BodyTooLarge, e.body_text()),
            // serde's message quotes the body: logged, not echoed.
            other => Self::refused(Code::InvalidBody, other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self::refused(Code::InvalidQuery, e.body_text())
    }
}
