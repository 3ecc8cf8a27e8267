//! Every stable error code ltigate answers with, in one list.
//!
//! A layer's error enum says which [`Code`] each of its variants is (an exhaustive `code()`);
//! `http::codes` maps each code to its HTTP status and the fixed sentences strangers are
//! shown. The text of a code appears nowhere else in the server.

use std::fmt;

/// Declares [`Code`], its text and the list of all codes from one table, so the three
/// cannot drift apart.
macro_rules! codes {
    ($($variant:ident => $text:literal,)*) => {
        /// A stable SCREAMING_SNAKE error code (shown to users and API clients, and logged).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $(#[doc = $text] $variant,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code's text, as clients and logs see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    // Login and launch.
    LoginInvalid => "LOGIN_INVALID",
    LaunchInvalid => "LAUNCH_INVALID",
    PlatformError => "PLATFORM_ERROR",
    PlatformNotFound => "PLATFORM_NOT_FOUND",
    ClientIdAmbiguous => "CLIENT_ID_AMBIGUOUS",
    PlatformPending => "PLATFORM_PENDING",
    PlatformInactive => "PLATFORM_INACTIVE",
    PlatformMisconfigured => "PLATFORM_MISCONFIGURED",
    DeploymentUnknown => "DEPLOYMENT_UNKNOWN",
    StateMissing => "STATE_MISSING",
    StateInvalid => "STATE_INVALID",
    StateExpired => "STATE_EXPIRED",
    StateMismatch => "STATE_MISMATCH",
    StateNotBound => "STATE_NOT_BOUND",
    StateStorageNotUsed => "STATE_STORAGE_NOT_USED",
    StateBindingCrossSite => "STATE_BINDING_CROSS_SITE",
    NonceReplayed => "NONCE_REPLAYED",
    TokenMissing => "TOKEN_MISSING",
    KidMissing => "KID_MISSING",
    KidUnknown => "KID_UNKNOWN",
    JwksUnavailable => "JWKS_UNAVAILABLE",
    AppNotConfigured => "APP_NOT_CONFIGURED",
    // The protocol core's launch codes (`lti::LaunchError::code`).
    TokenTooLarge => "TOKEN_TOO_LARGE",
    TokenTooDeep => "TOKEN_TOO_DEEP",
    TokenMalformed => "TOKEN_MALFORMED",
    AlgNotAllowed => "ALG_NOT_ALLOWED",
    JwksInvalid => "JWKS_INVALID",
    KeyUnsupported => "KEY_UNSUPPORTED",
    KeyAlgMismatch => "KEY_ALG_MISMATCH",
    SignatureInvalid => "SIGNATURE_INVALID",
    IssMismatch => "ISS_MISMATCH",
    AudMismatch => "AUD_MISMATCH",
    AzpMissing => "AZP_MISSING",
    AzpMismatch => "AZP_MISMATCH",
    ExpMissing => "EXP_MISSING",
    TokenExpired => "TOKEN_EXPIRED",
    IatMissing => "IAT_MISSING",
    IatInFuture => "IAT_IN_FUTURE",
    IatBeforeLogin => "IAT_BEFORE_LOGIN",
    TokenNotYetValid => "TOKEN_NOT_YET_VALID",
    NonceMissing => "NONCE_MISSING",
    NonceMismatch => "NONCE_MISMATCH",
    VersionMissing => "VERSION_MISSING",
    VersionInvalid => "VERSION_INVALID",
    MessageTypeMissing => "MESSAGE_TYPE_MISSING",
    MessageTypeUnsupported => "MESSAGE_TYPE_UNSUPPORTED",
    DeploymentIdMissing => "DEPLOYMENT_ID_MISSING",
    ResourceLinkMissing => "RESOURCE_LINK_MISSING",
    TargetLinkUriMissing => "TARGET_LINK_URI_MISSING",
    RolesMissing => "ROLES_MISSING",
    SubMissing => "SUB_MISSING",
    DeepLinkingSettingsMissing => "DEEP_LINKING_SETTINGS_MISSING",
    ClaimInvalid => "CLAIM_INVALID",
    // Dynamic registration.
    RegistrationRateLimited => "REGISTRATION_RATE_LIMITED",
    TooManyPendingRegistrations => "TOO_MANY_PENDING_REGISTRATIONS",
    ChangeAlreadyPending => "CHANGE_ALREADY_PENDING",
    RegistrationInvalid => "REGISTRATION_INVALID",
    ConfigurationUrlInvalid => "CONFIGURATION_URL_INVALID",
    ConfigurationUnavailable => "CONFIGURATION_UNAVAILABLE",
    PlatformRefusedRegistration => "PLATFORM_REFUSED_REGISTRATION",
    RegistrationNotFound => "REGISTRATION_NOT_FOUND",
    RegistrationGone => "REGISTRATION_GONE",
    MessageNotSupported => "MESSAGE_NOT_SUPPORTED",
    PlacementNotSupported => "PLACEMENT_NOT_SUPPORTED",
    // The protocol core's registration codes (`lti::registration::RegistrationError::code`).
    DocumentTooLarge => "DOCUMENT_TOO_LARGE",
    ConfigInvalid => "CONFIG_INVALID",
    ConfigFieldMissing => "CONFIG_FIELD_MISSING",
    ConfigFieldInvalid => "CONFIG_FIELD_INVALID",
    AlgRs256Unsupported => "ALG_RS256_UNSUPPORTED",
    UrlNotHttps => "URL_NOT_HTTPS",
    IssuerHostMismatch => "ISSUER_HOST_MISMATCH",
    HostedEndpointForeign => "HOSTED_ENDPOINT_FOREIGN",
    ResponseInvalid => "RESPONSE_INVALID",
    ResponseFieldMissing => "RESPONSE_FIELD_MISSING",
    ResponseFieldInvalid => "RESPONSE_FIELD_INVALID",
    // Outbound requests (`outbound::FetchError::code`).
    UrlRefused => "URL_REFUSED",
    PrivateAddress => "PRIVATE_ADDRESS",
    FetchTimeout => "FETCH_TIMEOUT",
    ResponseTooLarge => "RESPONSE_TOO_LARGE",
    NotJson => "NOT_JSON",
    TooManyRedirects => "TOO_MANY_REDIRECTS",
    HttpStatus => "HTTP_STATUS",
    FetchFailed => "FETCH_FAILED",
    HttpClient => "HTTP_CLIENT",
    // The JSON APIs.
    MissingAuthorization => "MISSING_AUTHORIZATION",
    InvalidAuthorization => "INVALID_AUTHORIZATION",
    InvalidAdminKey => "INVALID_ADMIN_KEY",
    InvalidApiKey => "INVALID_API_KEY",
    InvalidLtik => "INVALID_LTIK",
    AdminApiDisabled => "ADMIN_API_DISABLED",
    PlatformExists => "PLATFORM_EXISTS",
    NoPendingChange => "NO_PENDING_CHANGE",
    InvalidContentType => "INVALID_CONTENT_TYPE",
    BodyTooLarge => "BODY_TOO_LARGE",
    InvalidBody => "INVALID_BODY",
    InvalidQuery => "INVALID_QUERY",
    InvalidParameter => "INVALID_PARAMETER",
    MissingField => "MISSING_FIELD",
    InvalidUrl => "INVALID_URL",
    InsecureUrl => "INSECURE_URL",
    InvalidField => "INVALID_FIELD",
    InvalidAuthConfig => "INVALID_AUTH_CONFIG",
    // LTI Advantage services: access tokens and service keys.
    InvalidServiceKey => "INVALID_SERVICE_KEY",
    ServiceKeyNotFound => "SERVICE_KEY_NOT_FOUND",
    ScopeNotGranted => "SCOPE_NOT_GRANTED",
    TokenRequestFailed => "TOKEN_REQUEST_FAILED",
    TokenAnswerInvalid => "TOKEN_ANSWER_INVALID",
    PlatformServiceError => "PLATFORM_SERVICE_ERROR",
    // LTI Advantage services for the app (AGS, NRPS).
    ServiceNotAvailable => "SERVICE_NOT_AVAILABLE",
    UrlNotAllowed => "URL_NOT_ALLOWED",
    ServiceAnswerInvalid => "SERVICE_ANSWER_INVALID",
    // Deep linking (`services::deep_linking::DeepLinkingFailure::code`).
    NotDeepLinkingLaunch => "NOT_DEEP_LINKING_LAUNCH",
    DeepLinkingItemRefused => "DEEP_LINKING_ITEM_REFUSED",
    // The admin web page.
    AdminSignInRequired => "ADMIN_SIGN_IN_REQUIRED",
    AdminSignInRateLimited => "ADMIN_SIGN_IN_RATE_LIMITED",
    CsrfTokenInvalid => "CSRF_TOKEN_INVALID",
    OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
    KeyRotationInProgress => "KEY_ROTATION_IN_PROGRESS",
    // Any route.
    RequestTimeout => "REQUEST_TIMEOUT",
    InternalError => "INTERNAL_ERROR",
}

impl Code {
    /// The code of a protocol core error, given its text (`lti::LaunchError::code`,
    /// `RegistrationError::code`). The core's enums are `#[non_exhaustive]`, so a code the
    /// core adds later and this list lacks becomes `fallback` rather than a panic.
    pub fn of_core(text: &str, fallback: Code) -> Code {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .unwrap_or(fallback)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

/// Formats an error with its chain of causes, for logs.
#[derive(Debug)]
pub struct DisplayChain<'a>(pub &'a dyn std::error::Error);

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
