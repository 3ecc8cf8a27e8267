//! Dynamic Registration, tool side (1EdTech LTI Dynamic Registration 1.0), as pure data.
//!
//! The server does the HTTP; this module decides what the documents mean and what to send:
//!
//! 1. [`PlatformConfiguration::parse`] reads the platform's OpenID configuration (DR §3.5/§3.6)
//!    and refuses a document that lacks what a launch needs. It is liberal where real platforms
//!    deviate: Moodle 3.10's platform-configuration key with a trailing space, Moodle 3.x's
//!    `messages_supported` as plain strings with a separate `placements` array, the
//!    `LtiResourceLink` misspelling, placements as URIs, short names or absent.
//! 2. [`check_issuer`] applies the issuer rule: the issuer's host is the configuration URL's
//!    host, except for a table of hosted issuers ([`default_hosted_issuers`]) whose keys and
//!    login endpoint are pinned to the vendor's own domains instead.
//! 3. [`registration_request`] builds the registration body (OIDC Dynamic Client Registration
//!    plus `https://purl.imsglobal.org/spec/lti-tool-configuration`, DR §3.3/§3.4) from what
//!    the tool says about itself ([`ToolDescription`]), keeping only what the platform declares
//!    it supports, plus the per-product additions of one table (`products`).
//! 4. [`parse_registration_response`] reads the platform's answer (DR §3.6): the client_id and,
//!    wherever the platform put it, the deployment id.
//!
//! Every refusal is a [`RegistrationError`] with a stable SCREAMING_SNAKE
//! [`code`](RegistrationError::code). `Display` is built from this crate's static text only
//! (field names included); quoting what the platform said is the server's job.
//!
//! | code                      | meaning                                                                      |
//! |---------------------------|------------------------------------------------------------------------------|
//! | `DOCUMENT_TOO_LARGE`      | a configuration or response longer than [`MAX_DOCUMENT_LEN`]                 |
//! | `CONFIG_INVALID`          | the configuration is not a JSON object                                       |
//! | `CONFIG_FIELD_MISSING`    | a required configuration member is absent (the field is named)              |
//! | `CONFIG_FIELD_INVALID`    | a configuration member has the wrong shape or is not a usable URL (named)   |
//! | `ALG_RS256_UNSUPPORTED`   | `id_token_signing_alg_values_supported` does not list RS256                  |
//! | `URL_NOT_HTTPS`           | the issuer, an endpoint or the configuration URL is not https (named)       |
//! | `ISSUER_HOST_MISMATCH`    | the issuer's host (or port) differs from the configuration URL's            |
//! | `HOSTED_ENDPOINT_FOREIGN` | a hosted issuer's JWKS or authorization endpoint is off the vendor's domains |
//! | `RESPONSE_INVALID`        | the registration response is not a JSON object                               |
//! | `RESPONSE_FIELD_MISSING`  | the registration response has no `client_id`                                 |
//! | `RESPONSE_FIELD_INVALID`  | a response member has the wrong shape (named)                                |

mod issuer;
mod platform;
mod products;
mod request;
mod response;

pub use issuer::{HostedIssuer, check_issuer, default_hosted_issuers};
pub use platform::{PlatformConfiguration, SupportedMessage, placements_match};
pub use request::{ToolDescription, ToolMessage, registration_request};
pub use response::{RegistrationResponse, parse_registration_response};

/// Longest configuration or registration response accepted, in bytes. Real documents are a
/// few tens of kilobytes (Canvas's, with its variable list, is the largest seen: about 11 KB).
pub const MAX_DOCUMENT_LEN: usize = 256 * 1024;

/// The member of the OpenID configuration that describes the LTI platform (DR §3.6.1).
pub const PLATFORM_CONFIGURATION_KEY: &str =
    "https://purl.imsglobal.org/spec/lti-platform-configuration";

/// The member of the registration request and response that describes the tool (DR §3.4).
pub const TOOL_CONFIGURATION_KEY: &str = "https://purl.imsglobal.org/spec/lti-tool-configuration";

/// The resource link launch message type.
pub const RESOURCE_LINK_REQUEST: &str = "LtiResourceLinkRequest";

/// The deep linking request message type.
pub const DEEP_LINKING_REQUEST: &str = "LtiDeepLinkingRequest";

/// Why a platform configuration or registration response was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The document exceeds [`MAX_DOCUMENT_LEN`].
    #[error("the platform's document is larger than {max} bytes")]
    DocumentTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The configuration is not a JSON object.
    #[error("the platform configuration is not a JSON object")]
    ConfigInvalid,
    /// A required member is absent.
    #[error("the platform configuration has no `{field}`")]
    ConfigFieldMissing {
        /// The member's name (nested members as `lti-platform-configuration.<name>`).
        field: &'static str,
    },
    /// A member has the wrong shape, or is not a usable URL.
    #[error("the platform configuration's `{field}` is invalid")]
    ConfigFieldInvalid {
        /// The member's name (nested members as `lti-platform-configuration.<name>`).
        field: &'static str,
    },
    /// The platform does not sign id_tokens with RS256.
    #[error("the platform does not list RS256 in id_token_signing_alg_values_supported")]
    AlgRs256Unsupported,
    /// A URL that must be https is not.
    #[error("the platform's `{field}` is not an https URL")]
    UrlNotHttps {
        /// `issuer`, an endpoint member name, or `openid_configuration` (the URL itself).
        field: &'static str,
    },
    /// The issuer is not on the host the configuration was fetched from.
    #[error("the platform's issuer is not on the host its configuration was fetched from")]
    IssuerHostMismatch,
    /// A hosted issuer's key set or login endpoint is outside the vendor's domains.
    #[error("the platform's `{field}` is not on the hosted issuer's own domains")]
    HostedEndpointForeign {
        /// `jwks_uri` or `authorization_endpoint`.
        field: &'static str,
    },
    /// The registration response is not a JSON object.
    #[error("the platform's registration response is not a JSON object")]
    ResponseInvalid,
    /// A required member of the registration response is absent.
    #[error("the platform's registration response has no `{field}`")]
    ResponseFieldMissing {
        /// The member's name.
        field: &'static str,
    },
    /// A member of the registration response has the wrong shape.
    #[error("the platform's registration response has an invalid `{field}`")]
    ResponseFieldInvalid {
        /// The member's name.
        field: &'static str,
    },
}

impl RegistrationError {
    /// The stable SCREAMING_SNAKE code (see the table in the module docs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::DocumentTooLarge { .. } => "DOCUMENT_TOO_LARGE",
            Self::ConfigInvalid => "CONFIG_INVALID",
            Self::ConfigFieldMissing { .. } => "CONFIG_FIELD_MISSING",
            Self::ConfigFieldInvalid { .. } => "CONFIG_FIELD_INVALID",
            Self::AlgRs256Unsupported => "ALG_RS256_UNSUPPORTED",
            Self::UrlNotHttps { .. } => "URL_NOT_HTTPS",
            Self::IssuerHostMismatch => "ISSUER_HOST_MISMATCH",
            Self::HostedEndpointForeign { .. } => "HOSTED_ENDPOINT_FOREIGN",
            Self::ResponseInvalid => "RESPONSE_INVALID",
            Self::ResponseFieldMissing { .. } => "RESPONSE_FIELD_MISSING",
            Self::ResponseFieldInvalid { .. } => "RESPONSE_FIELD_INVALID",
        }
    }

    /// The document member the error is about, when there is one (for log lines and pages).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::ConfigFieldMissing { field }
            | Self::ConfigFieldInvalid { field }
            | Self::UrlNotHttps { field }
            | Self::HostedEndpointForeign { field }
            | Self::ResponseFieldMissing { field }
            | Self::ResponseFieldInvalid { field } => Some(field),
            Self::AlgRs256Unsupported => Some("id_token_signing_alg_values_supported"),
            Self::IssuerHostMismatch => Some("issuer"),
            Self::DocumentTooLarge { .. } | Self::ConfigInvalid | Self::ResponseInvalid => None,
        }
    }
}

/// A member of `object` named `key`, or, failing that, one whose name is `key` once trimmed:
/// Moodle 3.10.0 emitted the platform-configuration key with a trailing space (fixed in
/// MDL-70074), so a key is looked up exactly first and tolerantly second.
fn member<'a>(
    object: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<&'a serde_json::Value> {
    object
        .get(key)
        .or_else(|| object.iter().find(|(k, _)| k.trim() == key).map(|(_, v)| v))
}

/// The strings of a JSON array, trimmed, without empty ones and duplicates, in order. Items
/// that are not strings are skipped (be liberal in what you accept).
fn string_list(value: &serde_json::Value) -> Option<Vec<String>> {
    let items = value.as_array()?;
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(s) = item.as_str().map(str::trim)
            && !s.is_empty()
            && !out.iter().any(|o| o == s)
        {
            out.push(s.to_owned());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
