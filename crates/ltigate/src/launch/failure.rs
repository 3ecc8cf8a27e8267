//! Why a login or launch was refused. Each variant has a stable [`Code`] and, for the log
//! only, the name of the failed check and the detail (its `Display` and source chain). What
//! a page says about a code, and its HTTP status, is in one table, `http::codes`.

use lti::LaunchError;

use crate::code::Code;
use crate::outbound::FetchError;
use crate::services::keys::ServiceKeyError;
use crate::store::StoreError;

/// A refused login or launch. The messages may quote the platform or name addresses and
/// settings (never token contents): they go to the log, never to the page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchFailure {
    #[error("the LMS's login request has no `{0}`")]
    LoginParamMissing(&'static str),
    #[error("the LMS's login request could not be read")]
    LoginUnreadable,
    #[error("the launch request could not be read")]
    LaunchUnreadable,
    #[error("the launch request is too large")]
    LaunchTooLarge,
    #[error("the LMS answered the login with an error: {error}. {description}")]
    PlatformError { error: String, description: String },
    #[error("this LMS is not registered with the tool")]
    PlatformNotFound,
    #[error(
        "the LMS did not say which registration (client_id) this login is for, and it has several"
    )]
    ClientIdAmbiguous,
    #[error("the LMS's registration is waiting for approval")]
    PlatformPending,
    #[error("the LMS's registration is turned off")]
    PlatformInactive,
    /// The stored registration no longer parses (edited outside ltigate).
    #[error("the LMS's stored registration is invalid")]
    PlatformInvalid(#[source] StoreError),
    #[error("the launch carries no login state")]
    StateMissing,
    #[error("the login state was not issued by this tool")]
    StateInvalid,
    #[error("the login expired before the launch arrived")]
    StateExpired,
    #[error(
        "the login did not use the LMS's platform storage, so the launch needs the login cookie"
    )]
    StateStorageNotUsed,
    #[error("the sign-in data was not posted by the tool's own page")]
    StateBindingCrossSite,
    #[error("the browser did not return the login cookie for this state")]
    StateNotBound,
    #[error("the login state belongs to another browser session")]
    StateMismatch,
    #[error("the launch carries no id_token")]
    TokenMissing,
    #[error("the id_token does not name its signing key (kid)")]
    KidMissing,
    #[error("the id_token is signed with a key the LMS does not publish")]
    KidUnknown,
    #[error("the LMS's key set could not be fetched")]
    JwksUnavailable(#[source] FetchError),
    #[error("the launch comes from a deployment that is not registered for this LMS")]
    DeploymentUnknown,
    #[error("this launch was already used")]
    NonceReplayed,
    #[error("the tool has no app URL to hand the launch to (app.launch_url)")]
    AppNotConfigured,
    /// A check of the protocol core failed.
    #[error(transparent)]
    Token(#[from] LaunchError),
    /// A failure of ltigate itself.
    #[error("storage failed")]
    Store(#[source] StoreError),
    #[error("the service key could not be issued")]
    ServiceKey(#[source] ServiceKeyError),
}

impl From<ServiceKeyError> for LaunchFailure {
    fn from(e: ServiceKeyError) -> Self {
        match e {
            ServiceKeyError::Store(e) => e.into(),
            other => Self::ServiceKey(other),
        }
    }
}

impl From<StoreError> for LaunchFailure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::PlatformInvalid(_) => Self::PlatformInvalid(e),
            other => Self::Store(other),
        }
    }
}

impl LaunchFailure {
    /// The stable code shown to the user and logged.
    pub fn code(&self) -> Code {
        match self {
            Self::LoginParamMissing(_) | Self::LoginUnreadable => Code::LoginInvalid,
            Self::LaunchUnreadable => Code::LaunchInvalid,
            Self::LaunchTooLarge => Code::TokenTooLarge,
            Self::PlatformError { .. } => Code::PlatformError,
            Self::PlatformNotFound => Code::PlatformNotFound,
            Self::ClientIdAmbiguous => Code::ClientIdAmbiguous,
            Self::PlatformPending => Code::PlatformPending,
            Self::PlatformInactive => Code::PlatformInactive,
            Self::PlatformInvalid(_) => Code::PlatformMisconfigured,
            Self::StateMissing => Code::StateMissing,
            Self::StateInvalid => Code::StateInvalid,
            Self::StateExpired => Code::StateExpired,
            Self::StateStorageNotUsed => Code::StateStorageNotUsed,
            Self::StateBindingCrossSite => Code::StateBindingCrossSite,
            Self::StateNotBound => Code::StateNotBound,
            Self::StateMismatch => Code::StateMismatch,
            Self::TokenMissing => Code::TokenMissing,
            Self::KidMissing => Code::KidMissing,
            Self::KidUnknown => Code::KidUnknown,
            Self::JwksUnavailable(_) => Code::JwksUnavailable,
            Self::DeploymentUnknown => Code::DeploymentUnknown,
            Self::NonceReplayed => Code::NonceReplayed,
            Self::AppNotConfigured => Code::AppNotConfigured,
            Self::Token(e) => Code::of_core(e.code(), Code::LaunchInvalid),
            Self::Store(_) | Self::ServiceKey(_) => Code::InternalError,
        }
    }

    /// The check that failed, for the log line.
    pub fn check(&self) -> &'static str {
        match self {
            Self::LoginParamMissing(_) | Self::LoginUnreadable => "login_params",
            Self::LaunchUnreadable => "form",
            Self::LaunchTooLarge => "size",
            Self::PlatformError { .. } => "platform_error",
            Self::PlatformNotFound => "platform",
            Self::ClientIdAmbiguous => "client_id",
            Self::PlatformPending | Self::PlatformInactive => "platform_status",
            Self::PlatformInvalid(_) => "platform",
            Self::StateMissing | Self::StateInvalid | Self::StateExpired => "state",
            Self::StateStorageNotUsed
            | Self::StateBindingCrossSite
            | Self::StateNotBound
            | Self::StateMismatch => "state_binding",
            Self::TokenMissing => "id_token",
            Self::KidMissing | Self::KidUnknown => "kid",
            Self::JwksUnavailable(_) => "jwks",
            Self::DeploymentUnknown => "deployment_id",
            Self::NonceReplayed => "nonce",
            Self::AppNotConfigured => "app_url",
            Self::Token(e) => e.check(),
            Self::Store(_) | Self::ServiceKey(_) => "internal",
        }
    }
}
