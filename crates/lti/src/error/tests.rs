use std::collections::HashSet;

use super::LaunchError;

fn every_variant() -> Vec<LaunchError> {
    vec![
        LaunchError::TokenTooLarge { max: 10 },
        LaunchError::TokenTooDeep { max: 64 },
        LaunchError::Malformed { part: "header" },
        LaunchError::AlgNotAllowed,
        LaunchError::JwksInvalid,
        LaunchError::KeyUnsupported { reason: "x" },
        LaunchError::KeyAlgMismatch,
        LaunchError::SignatureInvalid,
        LaunchError::IssMismatch,
        LaunchError::AudMismatch,
        LaunchError::AzpMissing,
        LaunchError::AzpMismatch,
        LaunchError::ExpMissing,
        LaunchError::TokenExpired,
        LaunchError::IatMissing,
        LaunchError::IatInFuture,
        LaunchError::IatBeforeLogin,
        LaunchError::NotYetValid,
        LaunchError::NonceMissing,
        LaunchError::NonceMismatch,
        LaunchError::VersionMissing,
        LaunchError::VersionInvalid,
        LaunchError::MessageTypeMissing,
        LaunchError::MessageTypeUnsupported,
        LaunchError::DeploymentIdMissing,
        LaunchError::ResourceLinkMissing,
        LaunchError::TargetLinkUriMissing,
        LaunchError::RolesMissing,
        LaunchError::SubMissing,
        LaunchError::DeepLinkingSettingsMissing,
        LaunchError::ClaimInvalid { claim: "context" },
    ]
}

#[test]
fn codes_are_distinct_screaming_snake_and_documented() {
    let docs = include_str!("../error.rs");
    let mut seen = HashSet::new();
    for err in every_variant() {
        let code = err.code();
        assert!(seen.insert(code), "duplicate code {code}");
        assert!(
            code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{code} is not SCREAMING_SNAKE"
        );
        assert!(
            docs.contains(&format!("//! | `{code}`")),
            "{code} missing from the table"
        );
        assert!(!err.check().is_empty());
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn claim_invalid_names_the_claim_in_check_and_display() {
    let err = LaunchError::ClaimInvalid { claim: "roles" };
    assert_eq!(err.code(), "CLAIM_INVALID");
    assert_eq!(err.check(), "roles");
    assert_eq!(err.to_string(), "the id_token claim `roles` is invalid");
}
