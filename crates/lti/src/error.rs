//! The one error type of the protocol core.
//!
//! Every refusal of an id_token or of a platform key is a [`LaunchError`]: there is no catch-all
//! and no panic path, so a server can map each failure to a client error, never to a 500. Each
//! variant has a stable SCREAMING_SNAKE [`code`](LaunchError::code) (sent to clients and shown
//! on error pages) and a short [`check`](LaunchError::check) name (for log lines). `Display`
//! is a human sentence built only from this crate's own static text: it never contains any part
//! of the token, a claim value or a key.
//!
//! Which HTTP status a code maps to is the server's decision, not this crate's.
//!
//! | code                            | check                   | meaning                                                           |
//! |---------------------------------|-------------------------|-------------------------------------------------------------------|
//! | `TOKEN_TOO_LARGE`               | `size`                  | the id_token is longer than [`UnverifiedIdToken::MAX_LEN`]        |
//! | `TOKEN_TOO_DEEP`                | `depth`                 | the payload nests arrays and objects deeper than [`UnverifiedIdToken::MAX_DEPTH`] |
//! | `TOKEN_MALFORMED`               | `format`                | not three base64url parts, header not a JSON object or with `crit`, payload not a JSON object |
//! | `ALG_NOT_ALLOWED`               | `alg`                   | header `alg` not one of RS256, RS384, RS512, ES256 (`none`, HS*, PS*, ...) |
//! | `JWKS_INVALID`                  | `jwks`                  | a key set document is not a JSON object with a `keys` array       |
//! | `KEY_UNSUPPORTED`               | `key`                   | a platform key that cannot verify any allowed algorithm           |
//! | `KEY_ALG_MISMATCH`              | `key_alg`               | header `alg` does not fit the key's family or its declared `alg`  |
//! | `SIGNATURE_INVALID`             | `signature`             | the signature does not verify with the platform key               |
//! | `ISS_MISMATCH`                  | `iss`                   | `iss` absent or not the registered issuer                         |
//! | `AUD_MISMATCH`                  | `aud`                   | `aud` absent, or neither equal to nor containing our client_id    |
//! | `AZP_MISSING`                   | `azp`                   | `aud` has two or more values and `azp` is absent                  |
//! | `AZP_MISMATCH`                  | `azp`                   | `azp` present and not our client_id                               |
//! | `EXP_MISSING`                   | `exp`                   | no `exp` claim                                                    |
//! | `TOKEN_EXPIRED`                 | `exp`                   | `exp` (plus leeway) is not after now                              |
//! | `IAT_MISSING`                   | `iat`                   | no `iat` claim                                                    |
//! | `IAT_IN_FUTURE`                 | `iat`                   | `iat` is after now (plus leeway)                                  |
//! | `IAT_BEFORE_LOGIN`              | `iat`                   | `iat` (plus leeway) is before the login this launch answers started |
//! | `TOKEN_NOT_YET_VALID`           | `nbf`                   | an `nbf` claim is after now (plus leeway)                         |
//! | `NONCE_MISSING`                 | `nonce`                 | no `nonce` claim                                                  |
//! | `NONCE_MISMATCH`                | `nonce`                 | `nonce` differs from the one issued with the login                |
//! | `VERSION_MISSING`               | `version`               | no LTI `version` claim                                            |
//! | `VERSION_INVALID`               | `version`               | LTI `version` is not `1.3.0`                                      |
//! | `MESSAGE_TYPE_MISSING`          | `message_type`          | no LTI `message_type` claim                                       |
//! | `MESSAGE_TYPE_UNSUPPORTED`      | `message_type`          | a message type other than LtiResourceLinkRequest / LtiDeepLinkingRequest |
//! | `DEPLOYMENT_ID_MISSING`         | `deployment_id`         | `deployment_id` absent or empty                                   |
//! | `RESOURCE_LINK_MISSING`         | `resource_link`         | resource link launch without `resource_link.id`                   |
//! | `TARGET_LINK_URI_MISSING`       | `target_link_uri`       | resource link launch without `target_link_uri`                    |
//! | `ROLES_MISSING`                 | `roles`                 | resource link launch without a `roles` array                      |
//! | `SUB_MISSING`                   | `sub`                   | deep linking request without `sub`                                |
//! | `DEEP_LINKING_SETTINGS_MISSING` | `deep_linking_settings` | deep linking request without `deep_link_return_url`               |
//! | `CLAIM_INVALID`                 | the claim's short name  | a claim of the wrong JSON shape (or an empty `sub`, an over-long `deployment_id`, an unparsable URL) |
//!
//! The deep linking response builder refuses an app's content items with its own error,
//! [`DeepLinkingError`](crate::deep_linking::DeepLinkingError): one code,
//! `DEEP_LINKING_ITEM_REFUSED`, whose message names the broken rule (`accept_types`,
//! `accept_multiple`, `accept_lineitem` or the item's own shape) and the item's index.
//!
//! [`UnverifiedIdToken::MAX_LEN`]: crate::id_token::UnverifiedIdToken::MAX_LEN
//! [`UnverifiedIdToken::MAX_DEPTH`]: crate::id_token::UnverifiedIdToken::MAX_DEPTH

/// Why an id_token (or a platform key used to verify one) was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The token exceeds the size limit.
    #[error("the id_token is larger than {max} bytes")]
    TokenTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The payload nests arrays and objects deeper than the limit.
    #[error("the id_token's payload is nested deeper than {max} levels")]
    TokenTooDeep {
        /// The deepest accepted nesting.
        max: usize,
    },
    /// The token is not a well-formed compact JWS.
    #[error("the id_token is malformed ({part})")]
    Malformed {
        /// Which part is malformed, in this crate's words.
        part: &'static str,
    },
    /// The header names an algorithm outside the allowlist.
    #[error("the id_token's signing algorithm is not allowed")]
    AlgNotAllowed,
    /// A key set document could not be read.
    #[error("the platform key set is not a valid JWK set")]
    JwksInvalid,
    /// A platform key cannot be used to verify id_tokens.
    #[error("the platform key is not usable: {reason}")]
    KeyUnsupported {
        /// Why, in this crate's words.
        reason: &'static str,
    },
    /// The header algorithm does not fit the key.
    #[error("the id_token's algorithm does not match the platform key")]
    KeyAlgMismatch,
    /// The signature does not verify.
    #[error("the id_token's signature is invalid")]
    SignatureInvalid,
    /// `iss` is absent or not the registered issuer.
    #[error("the id_token was not issued by the registered platform")]
    IssMismatch,
    /// `aud` does not name this tool.
    #[error("the id_token is not addressed to this tool's client_id")]
    AudMismatch,
    /// Several audiences but no `azp`.
    #[error("the id_token has several audiences but no authorized party (azp)")]
    AzpMissing,
    /// `azp` is not this tool.
    #[error("the id_token's authorized party (azp) is not this tool's client_id")]
    AzpMismatch,
    /// No `exp`.
    #[error("the id_token has no expiry (exp)")]
    ExpMissing,
    /// `exp` has passed.
    #[error("the id_token has expired")]
    TokenExpired,
    /// No `iat`.
    #[error("the id_token has no issue time (iat)")]
    IatMissing,
    /// `iat` is in the future.
    #[error("the id_token was issued in the future")]
    IatInFuture,
    /// `iat` is before the login started.
    #[error("the id_token was issued before the login it answers")]
    IatBeforeLogin,
    /// `nbf` is in the future.
    #[error("the id_token is not valid yet (nbf)")]
    NotYetValid,
    /// No `nonce`.
    #[error("the id_token has no nonce")]
    NonceMissing,
    /// `nonce` is not the one this login issued.
    #[error("the id_token's nonce does not match the login")]
    NonceMismatch,
    /// No LTI version claim.
    #[error("the launch has no LTI version")]
    VersionMissing,
    /// LTI version other than 1.3.0.
    #[error("the launch's LTI version is not 1.3.0")]
    VersionInvalid,
    /// No message type claim.
    #[error("the launch has no message type")]
    MessageTypeMissing,
    /// A message type this tool does not handle.
    #[error("the launch's message type is not supported")]
    MessageTypeUnsupported,
    /// No (or an empty) deployment id.
    #[error("the launch has no deployment id")]
    DeploymentIdMissing,
    /// Resource link launch without `resource_link.id`.
    #[error("the resource link launch has no resource link id")]
    ResourceLinkMissing,
    /// Resource link launch without `target_link_uri`.
    #[error("the resource link launch has no target link URI")]
    TargetLinkUriMissing,
    /// Resource link launch without `roles`.
    #[error("the resource link launch has no roles claim")]
    RolesMissing,
    /// Deep linking request without `sub`.
    #[error("the deep linking request has no subject (sub)")]
    SubMissing,
    /// Deep linking request without usable settings.
    #[error("the deep linking request has no deep linking settings with a return URL")]
    DeepLinkingSettingsMissing,
    /// A claim has the wrong shape.
    #[error("the id_token claim `{claim}` is invalid")]
    ClaimInvalid {
        /// The claim's short name (`aud`, `context`, `roles`, ...).
        claim: &'static str,
    },
}

impl LaunchError {
    /// The stable SCREAMING_SNAKE code (see the table in the module docs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TokenTooLarge { .. } => "TOKEN_TOO_LARGE",
            Self::TokenTooDeep { .. } => "TOKEN_TOO_DEEP",
            Self::Malformed { .. } => "TOKEN_MALFORMED",
            Self::AlgNotAllowed => "ALG_NOT_ALLOWED",
            Self::JwksInvalid => "JWKS_INVALID",
            Self::KeyUnsupported { .. } => "KEY_UNSUPPORTED",
            Self::KeyAlgMismatch => "KEY_ALG_MISMATCH",
            Self::SignatureInvalid => "SIGNATURE_INVALID",
            Self::IssMismatch => "ISS_MISMATCH",
            Self::AudMismatch => "AUD_MISMATCH",
            Self::AzpMissing => "AZP_MISSING",
            Self::AzpMismatch => "AZP_MISMATCH",
            Self::ExpMissing => "EXP_MISSING",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::IatMissing => "IAT_MISSING",
            Self::IatInFuture => "IAT_IN_FUTURE",
            Self::IatBeforeLogin => "IAT_BEFORE_LOGIN",
            Self::NotYetValid => "TOKEN_NOT_YET_VALID",
            Self::NonceMissing => "NONCE_MISSING",
            Self::NonceMismatch => "NONCE_MISMATCH",
            Self::VersionMissing => "VERSION_MISSING",
            Self::VersionInvalid => "VERSION_INVALID",
            Self::MessageTypeMissing => "MESSAGE_TYPE_MISSING",
            Self::MessageTypeUnsupported => "MESSAGE_TYPE_UNSUPPORTED",
            Self::DeploymentIdMissing => "DEPLOYMENT_ID_MISSING",
            Self::ResourceLinkMissing => "RESOURCE_LINK_MISSING",
            Self::TargetLinkUriMissing => "TARGET_LINK_URI_MISSING",
            Self::RolesMissing => "ROLES_MISSING",
            Self::SubMissing => "SUB_MISSING",
            Self::DeepLinkingSettingsMissing => "DEEP_LINKING_SETTINGS_MISSING",
            Self::ClaimInvalid { .. } => "CLAIM_INVALID",
        }
    }

    /// The name of the check that failed, for log lines (`check=aud code=AUD_MISMATCH`).
    /// For [`LaunchError::ClaimInvalid`] it is the claim's short name.
    pub fn check(&self) -> &'static str {
        match self {
            Self::TokenTooLarge { .. } => "size",
            Self::TokenTooDeep { .. } => "depth",
            Self::Malformed { .. } => "format",
            Self::AlgNotAllowed => "alg",
            Self::JwksInvalid => "jwks",
            Self::KeyUnsupported { .. } => "key",
            Self::KeyAlgMismatch => "key_alg",
            Self::SignatureInvalid => "signature",
            Self::IssMismatch => "iss",
            Self::AudMismatch => "aud",
            Self::AzpMissing | Self::AzpMismatch => "azp",
            Self::ExpMissing | Self::TokenExpired => "exp",
            Self::IatMissing | Self::IatInFuture | Self::IatBeforeLogin => "iat",
            Self::NotYetValid => "nbf",
            Self::NonceMissing | Self::NonceMismatch => "nonce",
            Self::VersionMissing | Self::VersionInvalid => "version",
            Self::MessageTypeMissing | Self::MessageTypeUnsupported => "message_type",
            Self::DeploymentIdMissing => "deployment_id",
            Self::ResourceLinkMissing => "resource_link",
            Self::TargetLinkUriMissing => "target_link_uri",
            Self::RolesMissing => "roles",
            Self::SubMissing => "sub",
            Self::DeepLinkingSettingsMissing => "deep_linking_settings",
            Self::ClaimInvalid { claim } => claim,
        }
    }
}

#[cfg(test)]
mod tests;
