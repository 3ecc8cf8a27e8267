//! One table: each stable code's HTTP status and the fixed sentences a browser or a caller
//! without the admin key is shown (what happened, what can be done about it).
//!
//! Nothing here is built from input: upstream bodies, OS errors, addresses and configuration
//! key names are the failure's detail, which goes to the log with the request id. The JSON
//! renderer ([`super::error::ApiError`]) and the HTML renderer ([`super::pages`]) both read
//! this table.

use axum::http::StatusCode;

use crate::code::Code;

/// What the public is told about a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Public {
    pub status: StatusCode,
    /// What happened.
    pub sentence: &'static str,
    /// What the reader (or the administrator they ask) can do.
    pub advice: &'static str,
}

const RELAUNCH: &str = "Go back to the LMS and launch again. If it keeps failing, give the error code and request id below to an administrator of the tool.";
const LMS_ADMIN: &str = "The LMS sent something this tool refuses. Give the error code and request id below to an administrator of the LMS or of the tool.";
const TOOL_ADMIN: &str =
    "An administrator of the tool can find the details in its log under the request id below.";
const REGISTER_AGAIN: &str = "Nothing was stored. An administrator of the tool can find the details in its log under the request id below; then start the registration again from the LMS.";
const FIX_REQUEST: &str = "Correct the request and send it again.";

/// The status and fixed sentences of `code`, for pages and the JSON APIs alike.
///
/// `INTERNAL_ERROR` is 500 everywhere (a failure of ltigate, not an overload: 503 stays for
/// `APP_NOT_CONFIGURED` and `TOO_MANY_PENDING_REGISTRATIONS`, which an administrator clears).
/// `BODY_TOO_LARGE` is a request body over the limit (413); an upstream answer over the limit
/// is `RESPONSE_TOO_LARGE` (502).
pub fn public(code: Code) -> Public {
    use Code as C;
    use StatusCode as S;
    let (status, sentence, advice) = match code {
        // Login and launch.
        C::LoginInvalid => (
            S::BAD_REQUEST,
            "The LMS's login request is incomplete or could not be read.",
            LMS_ADMIN,
        ),
        C::LaunchInvalid => (
            S::BAD_REQUEST,
            "The launch request could not be read.",
            RELAUNCH,
        ),
        C::TokenTooLarge => (
            S::PAYLOAD_TOO_LARGE,
            "The launch request is larger than this tool accepts.",
            LMS_ADMIN,
        ),
        C::PlatformError => (
            S::BAD_REQUEST,
            "The LMS answered the login with an error.",
            "Go back and try again, or ask an administrator of the LMS.",
        ),
        C::PlatformNotFound => (
            S::NOT_FOUND,
            "This LMS is not registered with the tool.",
            "An administrator of the tool can register it.",
        ),
        C::ClientIdAmbiguous => (
            S::BAD_REQUEST,
            "The LMS did not say which of its registrations (client id) this login is for.",
            "An administrator of the LMS can configure the tool to send its client id.",
        ),
        C::PlatformPending => (
            S::FORBIDDEN,
            "The registration of this LMS is waiting for approval.",
            "An administrator of the tool can approve it.",
        ),
        C::PlatformInactive => (
            S::UNAUTHORIZED,
            "An administrator of the tool has turned this LMS off.",
            "An administrator of the tool can turn it on again.",
        ),
        C::PlatformMisconfigured => (
            S::BAD_REQUEST,
            "The registration of this LMS is incomplete.",
            TOOL_ADMIN,
        ),
        C::DeploymentUnknown => (
            S::FORBIDDEN,
            "This deployment of the tool is not registered for the LMS.",
            "An administrator of the tool can add its deployment id.",
        ),
        C::StateMissing | C::StateInvalid | C::StateStorageNotUsed | C::StateBindingCrossSite => (
            S::BAD_REQUEST,
            "The launch does not carry a login this tool started.",
            RELAUNCH,
        ),
        C::StateExpired => (
            S::BAD_REQUEST,
            "The launch took too long.",
            "Go back to the LMS and launch again.",
        ),
        C::StateMismatch => (
            S::BAD_REQUEST,
            "The login belongs to another browser session.",
            "Go back to the LMS and launch again.",
        ),
        C::StateNotBound => (
            S::BAD_REQUEST,
            "Your browser did not keep the login cookie (often blocked in frames).",
            "Try opening the tool in a new window from the LMS.",
        ),
        C::NonceReplayed => (
            S::BAD_REQUEST,
            "This launch was already used.",
            "Go back to the LMS and launch again.",
        ),
        C::TokenMissing => (S::BAD_REQUEST, "The launch carries no id_token.", RELAUNCH),
        C::KidMissing | C::KidUnknown => (
            S::BAD_REQUEST,
            "The launch is signed with a key the LMS does not publish.",
            LMS_ADMIN,
        ),
        C::JwksUnavailable => (
            S::BAD_GATEWAY,
            "The tool could not fetch the LMS's signing keys.",
            "Try again in a moment. If it keeps failing, an administrator of the tool can find the details in its log under the request id below.",
        ),
        C::JwksInvalid | C::KeyUnsupported | C::KeyAlgMismatch | C::AlgNotAllowed => (
            S::BAD_REQUEST,
            "The LMS's signing keys or algorithm are not ones this tool accepts.",
            LMS_ADMIN,
        ),
        C::TokenMalformed | C::TokenTooDeep | C::SignatureInvalid => (
            S::BAD_REQUEST,
            "The launch's id_token is malformed or its signature does not verify.",
            LMS_ADMIN,
        ),
        C::IssMismatch
        | C::AudMismatch
        | C::AzpMissing
        | C::AzpMismatch
        | C::NonceMissing
        | C::NonceMismatch => (
            S::BAD_REQUEST,
            "The launch's id_token was not issued for this login of this tool.",
            LMS_ADMIN,
        ),
        C::ExpMissing
        | C::TokenExpired
        | C::IatMissing
        | C::IatInFuture
        | C::IatBeforeLogin
        | C::TokenNotYetValid => (
            S::BAD_REQUEST,
            "The launch's id_token is expired or not valid yet.",
            "Check that the clocks of the LMS and the tool are right, then launch again.",
        ),
        C::VersionMissing
        | C::VersionInvalid
        | C::MessageTypeMissing
        | C::MessageTypeUnsupported
        | C::DeploymentIdMissing
        | C::ResourceLinkMissing
        | C::TargetLinkUriMissing
        | C::RolesMissing
        | C::SubMissing
        | C::DeepLinkingSettingsMissing
        | C::ClaimInvalid => (
            S::BAD_REQUEST,
            "The launch lacks a claim LTI 1.3 requires, or carries an invalid one.",
            LMS_ADMIN,
        ),
        C::AppNotConfigured => (
            S::SERVICE_UNAVAILABLE,
            "The tool has no app to hand the launch to.",
            TOOL_ADMIN,
        ),
        C::InternalError => (
            S::INTERNAL_SERVER_ERROR,
            "Something went wrong on the tool's server.",
            TOOL_ADMIN,
        ),
        // Dynamic registration: what the LMS sent, and the exchange with it.
        C::RegistrationRateLimited => (
            S::TOO_MANY_REQUESTS,
            "Too many registration attempts came from this address.",
            "Nothing was stored. Wait for the time the answer gives, then start the registration again from the LMS.",
        ),
        C::TooManyPendingRegistrations => (
            S::SERVICE_UNAVAILABLE,
            "Too many registrations are waiting for an administrator of the tool.",
            "Nothing was stored. Ask an administrator of the tool to approve or remove the waiting registrations, then start again from the LMS.",
        ),
        C::ChangeAlreadyPending => (
            S::CONFLICT,
            "A change to this registration already waits for an administrator of the tool.",
            "Nothing was changed. Ask an administrator of the tool to approve or reject the waiting change, then start again from the LMS.",
        ),
        C::RegistrationInvalid => (
            S::BAD_REQUEST,
            "The registration request is incomplete (openid_configuration is required).",
            "Start the registration again from the LMS.",
        ),
        C::ConfigurationUrlInvalid => (
            S::BAD_REQUEST,
            "The openid_configuration parameter is not a valid URL.",
            "Start the registration again from the LMS.",
        ),
        C::ConfigurationUnavailable => (
            S::BAD_GATEWAY,
            "The LMS answered the request for its configuration with an error.",
            REGISTER_AGAIN,
        ),
        C::PlatformRefusedRegistration => (
            S::BAD_GATEWAY,
            "The LMS refused the tool's registration.",
            REGISTER_AGAIN,
        ),
        C::UrlRefused | C::PrivateAddress => (
            S::BAD_GATEWAY,
            "The tool does not fetch from the address the LMS gave.",
            REGISTER_AGAIN,
        ),
        C::FetchTimeout => (
            S::BAD_GATEWAY,
            "The LMS did not answer in time.",
            REGISTER_AGAIN,
        ),
        C::FetchFailed | C::HttpStatus | C::TooManyRedirects => (
            S::BAD_GATEWAY,
            "The tool could not get an answer from the LMS.",
            REGISTER_AGAIN,
        ),
        C::HttpClient => (
            S::BAD_GATEWAY,
            "The tool could not make a request to the LMS.",
            TOOL_ADMIN,
        ),
        C::ResponseTooLarge | C::DocumentTooLarge => (
            S::BAD_GATEWAY,
            "The LMS's answer is larger than the tool accepts.",
            REGISTER_AGAIN,
        ),
        C::NotJson
        | C::ConfigInvalid
        | C::ConfigFieldMissing
        | C::ConfigFieldInvalid
        | C::ResponseInvalid
        | C::ResponseFieldMissing
        | C::ResponseFieldInvalid => (
            S::BAD_GATEWAY,
            "The LMS's answer is not a valid LTI registration document.",
            REGISTER_AGAIN,
        ),
        C::AlgRs256Unsupported => (
            S::BAD_GATEWAY,
            "The LMS does not support RS256 signatures, which the tool requires.",
            REGISTER_AGAIN,
        ),
        C::UrlNotHttps | C::IssuerHostMismatch | C::HostedEndpointForeign => (
            S::BAD_GATEWAY,
            "The LMS's configuration breaks the registration rules (https endpoints on the issuer's host).",
            REGISTER_AGAIN,
        ),
        // The JSON API.
        C::InvalidBody => (
            S::BAD_REQUEST,
            "The request body is not valid JSON of the expected shape.",
            FIX_REQUEST,
        ),
        C::InvalidQuery => (
            S::BAD_REQUEST,
            "The query string is not valid for this endpoint.",
            FIX_REQUEST,
        ),
        C::RegistrationNotFound => (
            S::NOT_FOUND,
            "No registration waits under this id.",
            "Start the registration again from the LMS.",
        ),
        C::RegistrationGone => (
            S::GONE,
            "This registration was already completed or has expired.",
            "Start the registration again from the LMS.",
        ),
        C::MessageNotSupported | C::PlacementNotSupported => (
            S::BAD_REQUEST,
            "The LMS does not offer a message type or placement the request names.",
            FIX_REQUEST,
        ),
        C::MissingAuthorization | C::InvalidAuthorization => (
            S::UNAUTHORIZED,
            "The request carries no usable Authorization header.",
            FIX_REQUEST,
        ),
        C::InvalidAdminKey => (S::UNAUTHORIZED, "The admin key is not valid.", FIX_REQUEST),
        C::InvalidApiKey => (S::UNAUTHORIZED, "The API key is not valid.", FIX_REQUEST),
        C::InvalidLtik => (
            S::UNAUTHORIZED,
            "Invalid or expired ltik.",
            "Launch the tool again from the LMS to get a new one.",
        ),
        C::AdminApiDisabled => (
            S::FORBIDDEN,
            "The admin API is disabled.",
            "An administrator of the tool can enable it by configuring an admin key.",
        ),
        C::PlatformExists => (
            S::CONFLICT,
            "A platform with this issuer (url) and clientId is already registered.",
            "Edit the existing platform instead.",
        ),
        C::NoPendingChange => (
            S::NOT_FOUND,
            "This platform has no re-registration waiting for approval.",
            FIX_REQUEST,
        ),
        C::InvalidContentType => (
            S::UNSUPPORTED_MEDIA_TYPE,
            "The request body is not sent as JSON.",
            "Send the body with Content-Type: application/json.",
        ),
        C::BodyTooLarge => (
            S::PAYLOAD_TOO_LARGE,
            "The request body is too large or could not be read.",
            FIX_REQUEST,
        ),
        C::InvalidParameter
        | C::MissingField
        | C::InvalidUrl
        | C::InsecureUrl
        | C::InvalidField
        | C::InvalidAuthConfig => (
            S::BAD_REQUEST,
            "A field or parameter of the request is missing or invalid.",
            FIX_REQUEST,
        ),
        // LTI Advantage services.
        C::InvalidServiceKey => (
            S::UNAUTHORIZED,
            "The service key is not valid or was revoked.",
            "Launch the tool again from the LMS to get the context's current key.",
        ),
        C::ServiceKeyNotFound => (S::NOT_FOUND, "No service key matches.", FIX_REQUEST),
        C::ScopeNotGranted => (
            S::FORBIDDEN,
            "The LMS has not granted this tool the service this call needs.",
            "An administrator of the LMS can grant the service in the tool's registration.",
        ),
        C::TokenRequestFailed | C::TokenAnswerInvalid => (
            S::BAD_GATEWAY,
            "The LMS did not give the tool an access token for its services.",
            TOOL_ADMIN,
        ),
        C::PlatformServiceError => (
            S::BAD_GATEWAY,
            "The LMS's service refused the call or could not be reached.",
            TOOL_ADMIN,
        ),
        // LTI Advantage services for the app.
        C::ServiceNotAvailable => (
            S::BAD_REQUEST,
            "The launch does not offer this service (or the endpoint it needs).",
            "Check services in /api/idtoken before calling it.",
        ),
        C::UrlNotAllowed => (
            S::BAD_REQUEST,
            "The URL is not on this context's service endpoint.",
            "Send back only the ids and page links the API returned for this context.",
        ),
        C::ServiceAnswerInvalid => (
            S::BAD_GATEWAY,
            "The LMS answered the service call with a document the tool cannot read.",
            TOOL_ADMIN,
        ),
        // Deep linking.
        C::NotDeepLinkingLaunch => (
            S::BAD_REQUEST,
            "This launch is not a deep linking request, so it cannot return content items.",
            "Call the deep linking endpoints only with the ltik of a deep linking launch.",
        ),
        C::DeepLinkingItemRefused => (
            S::BAD_REQUEST,
            "A content item breaks a rule of the deep linking request.",
            FIX_REQUEST,
        ),
        // The admin web page.
        C::AdminSignInRequired => (
            S::UNAUTHORIZED,
            "Sign in with the admin key first, or again: the session ended.",
            "Open the admin page and sign in.",
        ),
        C::AdminSignInRateLimited => (
            S::TOO_MANY_REQUESTS,
            "Too many wrong admin keys came from this address.",
            "Wait for the time the answer gives (Retry-After), then try again with the right key.",
        ),
        C::CsrfTokenInvalid => (
            S::FORBIDDEN,
            "The form did not carry this session's token, so nothing was changed.",
            "Reload the admin page and use its buttons.",
        ),
        C::OriginNotAllowed => (
            S::FORBIDDEN,
            "The form was sent from another site, so nothing was changed.",
            "Use the admin page at the tool's own address.",
        ),
        C::KeyRotationInProgress => (
            S::CONFLICT,
            "A tool key rotation is already in progress: the next key is published but not yet signing.",
            "Wait until the next key signs, then rotate again.",
        ),
        C::RequestTimeout => (
            S::REQUEST_TIMEOUT,
            "The request took too long to arrive or to answer.",
            "Send it again.",
        ),
    };
    Public {
        status,
        sentence,
        advice,
    }
}

#[cfg(test)]
mod tests;
