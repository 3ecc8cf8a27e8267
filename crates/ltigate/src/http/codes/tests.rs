use std::collections::HashSet;

use super::*;

/// Every code with the status it is answered with. Adding a code to [`Code`] without adding
/// it here fails `every_code_is_listed_with_its_status`.
const STATUSES: &[(&str, u16)] = &[
    ("LOGIN_INVALID", 400),
    ("LAUNCH_INVALID", 400),
    ("PLATFORM_ERROR", 400),
    ("PLATFORM_NOT_FOUND", 404),
    ("CLIENT_ID_AMBIGUOUS", 400),
    ("PLATFORM_PENDING", 403),
    ("PLATFORM_INACTIVE", 401),
    ("PLATFORM_MISCONFIGURED", 400),
    ("DEPLOYMENT_UNKNOWN", 403),
    ("STATE_MISSING", 400),
    ("STATE_INVALID", 400),
    ("STATE_EXPIRED", 400),
    ("STATE_MISMATCH", 400),
    ("STATE_NOT_BOUND", 400),
    ("STATE_STORAGE_NOT_USED", 400),
    ("STATE_BINDING_CROSS_SITE", 400),
    ("NONCE_REPLAYED", 400),
    ("TOKEN_MISSING", 400),
    ("KID_MISSING", 400),
    ("KID_UNKNOWN", 400),
    ("JWKS_UNAVAILABLE", 502),
    ("APP_NOT_CONFIGURED", 503),
    ("TOKEN_TOO_LARGE", 413),
    ("TOKEN_TOO_DEEP", 400),
    ("TOKEN_MALFORMED", 400),
    ("ALG_NOT_ALLOWED", 400),
    ("JWKS_INVALID", 400),
    ("KEY_UNSUPPORTED", 400),
    ("KEY_ALG_MISMATCH", 400),
    ("SIGNATURE_INVALID", 400),
    ("ISS_MISMATCH", 400),
    ("AUD_MISMATCH", 400),
    ("AZP_MISSING", 400),
    ("AZP_MISMATCH", 400),
    ("EXP_MISSING", 400),
    ("TOKEN_EXPIRED", 400),
    ("IAT_MISSING", 400),
    ("IAT_IN_FUTURE", 400),
    ("IAT_BEFORE_LOGIN", 400),
    ("TOKEN_NOT_YET_VALID", 400),
    ("NONCE_MISSING", 400),
    ("NONCE_MISMATCH", 400),
    ("VERSION_MISSING", 400),
    ("VERSION_INVALID", 400),
    ("MESSAGE_TYPE_MISSING", 400),
    ("MESSAGE_TYPE_UNSUPPORTED", 400),
    ("DEPLOYMENT_ID_MISSING", 400),
    ("RESOURCE_LINK_MISSING", 400),
    ("TARGET_LINK_URI_MISSING", 400),
    ("ROLES_MISSING", 400),
    ("SUB_MISSING", 400),
    ("DEEP_LINKING_SETTINGS_MISSING", 400),
    ("CLAIM_INVALID", 400),
    ("REGISTRATION_RATE_LIMITED", 429),
    ("TOO_MANY_PENDING_REGISTRATIONS", 503),
    ("CHANGE_ALREADY_PENDING", 409),
    ("REGISTRATION_INVALID", 400),
    ("CONFIGURATION_URL_INVALID", 400),
    ("CONFIGURATION_UNAVAILABLE", 502),
    ("PLATFORM_REFUSED_REGISTRATION", 502),
    ("REGISTRATION_NOT_FOUND", 404),
    ("REGISTRATION_GONE", 410),
    ("MESSAGE_NOT_SUPPORTED", 400),
    ("PLACEMENT_NOT_SUPPORTED", 400),
    ("DOCUMENT_TOO_LARGE", 502),
    ("CONFIG_INVALID", 502),
    ("CONFIG_FIELD_MISSING", 502),
    ("CONFIG_FIELD_INVALID", 502),
    ("ALG_RS256_UNSUPPORTED", 502),
    ("URL_NOT_HTTPS", 502),
    ("ISSUER_HOST_MISMATCH", 502),
    ("HOSTED_ENDPOINT_FOREIGN", 502),
    ("RESPONSE_INVALID", 502),
    ("RESPONSE_FIELD_MISSING", 502),
    ("RESPONSE_FIELD_INVALID", 502),
    ("URL_REFUSED", 502),
    ("PRIVATE_ADDRESS", 502),
    ("FETCH_TIMEOUT", 502),
    ("RESPONSE_TOO_LARGE", 502),
    ("NOT_JSON", 502),
    ("TOO_MANY_REDIRECTS", 502),
    ("HTTP_STATUS", 502),
    ("FETCH_FAILED", 502),
    ("HTTP_CLIENT", 502),
    ("MISSING_AUTHORIZATION", 401),
    ("INVALID_AUTHORIZATION", 401),
    ("INVALID_ADMIN_KEY", 401),
    ("INVALID_API_KEY", 401),
    ("INVALID_LTIK", 401),
    ("ADMIN_API_DISABLED", 403),
    ("PLATFORM_EXISTS", 409),
    ("NO_PENDING_CHANGE", 404),
    ("INVALID_CONTENT_TYPE", 415),
    ("BODY_TOO_LARGE", 413),
    ("INVALID_BODY", 400),
    ("INVALID_QUERY", 400),
    ("INVALID_PARAMETER", 400),
    ("MISSING_FIELD", 400),
    ("INVALID_URL", 400),
    ("INSECURE_URL", 400),
    ("INVALID_FIELD", 400),
    ("INVALID_AUTH_CONFIG", 400),
    ("INVALID_SERVICE_KEY", 401),
    ("SERVICE_KEY_NOT_FOUND", 404),
    ("SCOPE_NOT_GRANTED", 403),
    ("TOKEN_REQUEST_FAILED", 502),
    ("TOKEN_ANSWER_INVALID", 502),
    ("PLATFORM_SERVICE_ERROR", 502),
    ("SERVICE_NOT_AVAILABLE", 400),
    ("URL_NOT_ALLOWED", 400),
    ("SERVICE_ANSWER_INVALID", 502),
    ("NOT_DEEP_LINKING_LAUNCH", 400),
    ("DEEP_LINKING_ITEM_REFUSED", 400),
    ("ADMIN_SIGN_IN_REQUIRED", 401),
    ("ADMIN_SIGN_IN_RATE_LIMITED", 429),
    ("CSRF_TOKEN_INVALID", 403),
    ("ORIGIN_NOT_ALLOWED", 403),
    ("KEY_ROTATION_IN_PROGRESS", 409),
    ("REQUEST_TIMEOUT", 408),
    ("INTERNAL_ERROR", 500),
];

#[test]
fn every_code_is_listed_with_its_status() {
    let listed: Vec<&str> = STATUSES.iter().map(|(code, _)| *code).collect();
    let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, all, "the list above follows Code's order");
    for (code, (text, status)) in Code::ALL.iter().zip(STATUSES) {
        assert_eq!(public(*code).status.as_u16(), *status, "{text}");
    }
}

#[test]
fn codes_are_distinct_screaming_snake_and_documented() {
    let readme = include_str!("../../../../../README.md");
    let core = include_str!("../../../../lti/src/error.rs");
    let mut seen = HashSet::new();
    for code in Code::ALL {
        let text = code.as_str();
        assert!(seen.insert(text), "{text} is listed twice");
        assert!(
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !text.starts_with('_')
                && !text.ends_with('_'),
            "{text} is not SCREAMING_SNAKE"
        );
        // The core's launch codes are documented in its table, which the README points to.
        let quoted = format!("`{text}`");
        assert!(
            readme.contains(&quoted) || core.contains(&quoted),
            "{text} is not documented in README.md"
        );
        assert_eq!(Code::of_core(text, Code::InternalError), *code);
    }
}

#[test]
fn sentences_carry_no_configuration_key_names() {
    for code in Code::ALL {
        let p = public(*code);
        for text in [p.sentence, p.advice] {
            assert!(!text.contains("allow_"), "{code}");
            assert!(!text.contains("admin_key"), "{code}");
            assert!(!text.contains('`'), "{code}");
        }
    }
}

#[test]
fn internal_errors_are_500_on_pages_and_in_the_api() {
    use axum::response::IntoResponse;

    let page = super::super::pages::refusal_page("t", Code::InternalError, "internal", "cause");
    assert_eq!(page.status().as_u16(), 500);
    let cause = std::io::Error::other("disk full");
    let api = super::super::error::ApiError::internal(&cause).into_response();
    assert_eq!(api.status().as_u16(), 500);
}

/// Services return domain errors; only `http` knows statuses, axum and the renderers.
#[test]
fn services_do_not_know_http() {
    let services = [
        ("launch/mod.rs", include_str!("../../launch/mod.rs")),
        ("launch/failure.rs", include_str!("../../launch/failure.rs")),
        ("launch/state.rs", include_str!("../../launch/state.rs")),
        (
            "launch/platform_keys.rs",
            include_str!("../../launch/platform_keys.rs"),
        ),
        ("registration.rs", include_str!("../../registration.rs")),
        ("platform_input.rs", include_str!("../../platform_input.rs")),
        ("platforms.rs", include_str!("../../platforms.rs")),
        ("keys.rs", include_str!("../../keys.rs")),
        (
            "services/deep_linking.rs",
            include_str!("../../services/deep_linking.rs"),
        ),
    ];
    for (file, source) in services {
        for forbidden in ["crate::http", "axum", "StatusCode"] {
            assert!(!source.contains(forbidden), "{file} uses {forbidden}");
        }
    }
}
