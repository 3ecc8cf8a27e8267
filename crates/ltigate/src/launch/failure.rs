//! Why a login or launch was refused: a stable code for people and logs, and for the log
//! only, the name of the failed check and the detail. What the page says about a code (and
//! its HTTP status) is in one table, `http::codes`.

use lti::LaunchError;

/// A refused login or launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchFailure {
    /// Stable SCREAMING_SNAKE code, shown to the user and logged.
    pub code: &'static str,
    /// The check that failed, for logs.
    pub check: &'static str,
    /// What happened in detail, for the log only (it may quote the platform or name
    /// addresses and settings; never token contents).
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

    /// A failure of ltigate itself; the cause chain is the detail (logged by the page).
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        Self::new(
            "INTERNAL_ERROR",
            "internal",
            crate::http::error::DisplayChain(cause).to_string(),
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
