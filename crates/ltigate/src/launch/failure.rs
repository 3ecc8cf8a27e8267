//! Why a login or launch was refused: a stable code for people and logs, the name of the
//! failed check for logs, and the HTTP status. One table maps codes to statuses.

use axum::http::StatusCode;
use lti::LaunchError;

/// A refused login or launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchFailure {
    /// Stable SCREAMING_SNAKE code, shown to the user and logged.
    pub code: &'static str,
    /// The check that failed, for logs.
    pub check: &'static str,
    /// What happened, in words for the person in front of the LMS (no token contents).
    pub message: String,
}

impl LaunchFailure {
    pub fn new(code: &'static str, check: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            check,
            message: message.into(),
        }
    }

    /// The HTTP status of the error page.
    pub fn status(&self) -> StatusCode {
        match self.code {
            "PLATFORM_NOT_FOUND" => StatusCode::NOT_FOUND,
            "PLATFORM_PENDING" | "PLATFORM_INACTIVE" | "DEPLOYMENT_UNKNOWN" => {
                StatusCode::FORBIDDEN
            }
            "JWKS_UNAVAILABLE" => StatusCode::BAD_GATEWAY,
            "APP_NOT_CONFIGURED" | "INTERNAL_ERROR" => StatusCode::SERVICE_UNAVAILABLE,
            "TOKEN_TOO_LARGE" => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// What the reader can do about it.
    pub fn advice(&self) -> &'static str {
        match self.code {
            "PLATFORM_NOT_FOUND" | "CLIENT_ID_AMBIGUOUS" => {
                "The LMS is not registered with this tool (or not with this client id). An administrator can register it."
            }
            "PLATFORM_PENDING" => {
                "The registration is waiting for an administrator of the tool to approve it."
            }
            "PLATFORM_INACTIVE" => "An administrator of the tool has turned this LMS off.",
            "DEPLOYMENT_UNKNOWN" => {
                "This deployment of the tool is not registered. An administrator can add its deployment id."
            }
            "STATE_NOT_BOUND" => {
                "Your browser did not keep the login cookie (often blocked in frames). Try opening the tool in a new window from the LMS."
            }
            "STATE_EXPIRED" | "NONCE_REPLAYED" => {
                "The launch took too long or was already used. Go back to the LMS and launch again."
            }
            "PLATFORM_ERROR" => {
                "The LMS refused the login. Go back and try again, or ask its administrator."
            }
            _ => {
                "Go back to the LMS and launch again. If it keeps failing, give the code below to an administrator."
            }
        }
    }

    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %crate::http::error::DisplayChain(cause), "launch failed inside ltigate");
        Self::new(
            "INTERNAL_ERROR",
            "internal",
            "Something went wrong on the tool's server.",
        )
    }
}

impl From<LaunchError> for LaunchFailure {
    fn from(e: LaunchError) -> Self {
        Self::new(e.code(), e.check(), e.to_string())
    }
}

impl From<crate::store::StoreError> for LaunchFailure {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(&e)
    }
}
