use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use serde_json::{Value, json};
use url::Url;

use super::*;

const CANVAS: &str = include_str!("../../../ltisim/fixtures/canvas.json");
const MOODLE: &str = include_str!("../../../ltisim/fixtures/moodle.json");
const SPEC: &str = include_str!("../../../ltisim/fixtures/spec-example.json");

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn doc(fixture_text: &str, pointer: &str) -> Value {
    fixture(fixture_text)
        .pointer(pointer)
        .unwrap_or_else(|| panic!("fixture has {pointer}"))
        .clone()
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialises")
}

fn parse(value: &Value) -> Result<PlatformConfiguration, RegistrationError> {
    PlatformConfiguration::parse(&bytes(value))
}

fn canvas_config() -> Value {
    doc(CANVAS, "/openid_configuration")
}
fn moodle_config() -> Value {
    doc(MOODLE, "/openid_configuration")
}
fn moodle_311_config() -> Value {
    doc(MOODLE, "/openid_configuration_variants/moodle_3_11")
}
fn moodle_310_config() -> Value {
    doc(MOODLE, "/openid_configuration_variants/moodle_3_10_0")
}
fn spec_config() -> Value {
    doc(SPEC, "/openid_configuration")
}

fn url(text: &str) -> Url {
    Url::parse(text).expect("test URL")
}

fn configuration_url(fixture_text: &str) -> Url {
    url(doc(fixture_text, "/openid_configuration_url")
        .as_str()
        .expect("string"))
}

// ---------------------------------------------------------------------------------------------
// Errors

fn every_variant() -> Vec<RegistrationError> {
    vec![
        RegistrationError::DocumentTooLarge { max: 1 },
        RegistrationError::ConfigInvalid,
        RegistrationError::ConfigFieldMissing { field: "issuer" },
        RegistrationError::ConfigFieldInvalid { field: "issuer" },
        RegistrationError::AlgRs256Unsupported,
        RegistrationError::UrlNotHttps { field: "issuer" },
        RegistrationError::IssuerHostMismatch,
        RegistrationError::HostedEndpointForeign { field: "jwks_uri" },
        RegistrationError::ResponseInvalid,
        RegistrationError::ResponseFieldMissing { field: "client_id" },
        RegistrationError::ResponseFieldInvalid { field: "client_id" },
    ]
}

#[test]
fn codes_are_distinct_screaming_snake_and_documented() {
    let module_docs = include_str!("../registration.rs");
    let mut seen = HashSet::new();
    for error in every_variant() {
        let code = error.code();
        assert!(seen.insert(code), "duplicate code {code}");
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "{code} is not SCREAMING_SNAKE"
        );
        assert!(
            module_docs.contains(&format!("`{code}`")),
            "{code} missing from the module docs table"
        );
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn display_names_the_field() {
    let error = RegistrationError::ConfigFieldMissing {
        field: "registration_endpoint",
    };
    assert!(error.to_string().contains("registration_endpoint"));
    assert_eq!(error.field(), Some("registration_endpoint"));
    assert_eq!(error.code(), "CONFIG_FIELD_MISSING");
}

// ---------------------------------------------------------------------------------------------
// PlatformConfiguration::parse

#[test]
fn parses_canvas() {
    let config = parse(&canvas_config()).expect("canvas parses");
    assert_eq!(config.issuer, "https://canvas.example.edu");
    assert_eq!(
        config.authorization_endpoint.as_str(),
        "https://canvas.example.edu/api/lti/authorize_redirect"
    );
    assert_eq!(
        config.token_endpoint.as_str(),
        "https://canvas.example.edu/login/oauth2/token"
    );
    assert_eq!(
        config.jwks_uri.as_str(),
        "https://canvas.example.edu/api/lti/security/jwks"
    );
    assert_eq!(
        config.registration_endpoint.as_str(),
        "https://canvas.example.edu/api/lti/registrations"
    );
    assert_eq!(config.product_family_code, "canvas");
    assert_eq!(
        config.authorization_server.as_deref(),
        Some("canvas.example.edu"),
        "Canvas names its authorization server by host"
    );
    assert_eq!(config.version.as_deref(), Some("OpenSource"));
    assert!(config.supports_scope("https://purl.imsglobal.org/spec/lti-ags/scope/score"));
    assert!(config.claims_supported.contains(&"email".to_owned()));
    let types: Vec<&str> = config
        .messages_supported
        .iter()
        .map(|m| m.message_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "LtiResourceLinkRequest",
            "LtiDeepLinkingRequest",
            "LtiEulaRequest"
        ]
    );
    let resource_link = config.message("LtiResourceLinkRequest").expect("RL");
    assert_eq!(
        resource_link.find_placement("course_navigation"),
        Some("https://canvas.instructure.com/lti/course_navigation")
    );
    assert!(
        config
            .message("LtiEulaRequest")
            .expect("eula")
            .placements
            .is_empty()
    );
    assert!(config.variables.contains(&"Canvas.course.id".to_owned()));
    assert_eq!(config.raw, canvas_config(), "raw keeps the document");
}

#[test]
fn parses_moodle_4() {
    assert_eq!(parse(&moodle_config()).unwrap().authorization_server, None);
    let config = parse(&moodle_config()).expect("moodle parses");
    assert_eq!(config.issuer, "https://moodle.example.edu");
    assert_eq!(config.product_family_code, "moodle");
    assert_eq!(config.version.as_deref(), Some("4.5.2 (Build: 20250210)"));
    assert!(
        config
            .message("LtiResourceLinkRequest")
            .expect("RL")
            .placements
            .is_empty()
    );
    assert_eq!(
        config
            .message("LtiDeepLinkingRequest")
            .expect("DL")
            .placements,
        ["ContentArea"]
    );
    assert_eq!(config.variables.len(), 40);
}

#[test]
fn parses_moodle_3_11_string_messages_with_legacy_placements() {
    let config = parse(&moodle_311_config()).expect("moodle 3.11 parses");
    assert_eq!(
        config.messages_supported,
        [
            SupportedMessage {
                message_type: "LtiResourceLinkRequest".into(),
                placements: vec!["AddContentMenu".into()],
            },
            SupportedMessage {
                message_type: "LtiDeepLinkingRequest".into(),
                placements: vec!["AddContentMenu".into()],
            },
        ]
    );
}

#[test]
fn parses_moodle_3_10_0_despite_its_three_quirks() {
    let raw = moodle_310_config();
    assert!(
        raw.get(PLATFORM_CONFIGURATION_KEY).is_none(),
        "the fixture has the key with a trailing space"
    );
    assert!(raw.get("authorization_endpoint").is_none());
    let config = parse(&raw).expect("moodle 3.10.0 parses");
    assert_eq!(config.product_family_code, "moodle");
    assert_eq!(config.version.as_deref(), Some("3.10 (Build: 20201109)"));
    // `LtiResourceLink` normalised.
    assert!(config.message("LtiResourceLinkRequest").is_some());
    assert!(
        config.message("LtiResourceLink").is_some(),
        "lookup normalises too"
    );
    // Derived from the issuer, where Moodle serves it.
    assert_eq!(
        config.authorization_endpoint.as_str(),
        "https://moodle.example.edu/mod/lti/auth.php"
    );
    assert_eq!(
        config.authorization_endpoint,
        parse(&moodle_311_config())
            .expect("3.11")
            .authorization_endpoint
    );
}

#[test]
fn derives_moodle_endpoint_under_an_issuer_path() {
    let mut raw = moodle_310_config();
    raw["issuer"] = json!("https://school.example.edu/moodle/");
    let config = parse(&raw).expect("parses");
    assert_eq!(
        config.authorization_endpoint.as_str(),
        "https://school.example.edu/moodle/mod/lti/auth.php"
    );
}

#[test]
fn missing_authorization_endpoint_is_refused_for_other_products() {
    let mut raw = spec_config();
    raw.as_object_mut()
        .expect("object")
        .remove("authorization_endpoint");
    assert_eq!(
        parse(&raw),
        Err(RegistrationError::ConfigFieldMissing {
            field: "authorization_endpoint"
        })
    );
}

#[test]
fn parses_spec_example() {
    let config = parse(&spec_config()).expect("spec example parses");
    assert_eq!(config.issuer, "https://server.example.com");
    assert_eq!(config.product_family_code, "ExampleLMS");
    assert_eq!(config.version, None);
    assert_eq!(config.messages_supported.len(), 2);
    assert!(
        config
            .messages_supported
            .iter()
            .all(|m| m.placements.is_empty())
    );
}

#[test]
fn each_required_top_level_field_is_named_when_missing() {
    for field in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
        "id_token_signing_alg_values_supported",
    ] {
        for fixture in [canvas_config(), spec_config()] {
            let mut raw = fixture;
            raw.as_object_mut().expect("object").remove(field);
            let error = parse(&raw).expect_err(field);
            assert_eq!(
                error,
                RegistrationError::ConfigFieldMissing { field },
                "{field}"
            );
            assert_eq!(error.code(), "CONFIG_FIELD_MISSING");
            assert!(error.to_string().contains(field));
        }
    }
}

#[test]
fn each_required_platform_configuration_field_is_named_when_missing() {
    let mut raw = canvas_config();
    raw.as_object_mut()
        .expect("object")
        .remove(PLATFORM_CONFIGURATION_KEY);
    assert_eq!(
        parse(&raw),
        Err(RegistrationError::ConfigFieldMissing {
            field: "lti-platform-configuration"
        })
    );

    for (member, field) in [
        (
            "product_family_code",
            "lti-platform-configuration.product_family_code",
        ),
        (
            "messages_supported",
            "lti-platform-configuration.messages_supported",
        ),
    ] {
        let mut raw = canvas_config();
        raw[PLATFORM_CONFIGURATION_KEY]
            .as_object_mut()
            .expect("object")
            .remove(member);
        let error = parse(&raw).expect_err(member);
        assert_eq!(error, RegistrationError::ConfigFieldMissing { field });
        assert!(error.to_string().contains(member));
    }
}

#[test]
fn invalid_fields_are_named() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/issuer", json!(42), "issuer"),
        ("/issuer", json!("not a url"), "issuer"),
        ("/issuer", json!("https://x.example?tenant=1"), "issuer"),
        ("/issuer", json!("https://x.example#f"), "issuer"),
        ("/issuer", json!(" https://canvas.example.edu"), "issuer"),
        ("/issuer", json!("ftp://canvas.example.edu"), "issuer"),
        ("/issuer", json!(""), "issuer"),
        ("/jwks_uri", json!("/api/lti/security/jwks"), "jwks_uri"),
        ("/jwks_uri", json!(["https://x"]), "jwks_uri"),
        (
            "/token_endpoint",
            json!("javascript:alert(1)"),
            "token_endpoint",
        ),
        (
            "/authorization_endpoint",
            json!("file:///etc/passwd"),
            "authorization_endpoint",
        ),
        ("/registration_endpoint", json!(""), "registration_endpoint"),
        (
            "/id_token_signing_alg_values_supported",
            json!("RS256"),
            "id_token_signing_alg_values_supported",
        ),
        ("/scopes_supported", json!("openid"), "scopes_supported"),
        ("/claims_supported", json!({}), "claims_supported"),
    ];
    for (pointer, value, field) in cases {
        let mut raw = canvas_config();
        *raw.pointer_mut(pointer).expect("pointer exists") = value.clone();
        assert_eq!(
            parse(&raw),
            Err(RegistrationError::ConfigFieldInvalid { field }),
            "{pointer} = {value}"
        );
    }

    let nested: Vec<(&str, Value, &str)> = vec![
        (
            "product_family_code",
            json!(""),
            "lti-platform-configuration.product_family_code",
        ),
        (
            "product_family_code",
            json!(7),
            "lti-platform-configuration.product_family_code",
        ),
        (
            "messages_supported",
            json!({}),
            "lti-platform-configuration.messages_supported",
        ),
        ("version", json!([]), "lti-platform-configuration.version"),
        (
            "variables",
            json!("x"),
            "lti-platform-configuration.variables",
        ),
    ];
    for (member, value, field) in nested {
        let mut raw = canvas_config();
        raw[PLATFORM_CONFIGURATION_KEY][member] = value.clone();
        assert_eq!(
            parse(&raw),
            Err(RegistrationError::ConfigFieldInvalid { field }),
            "{member} = {value}"
        );
    }

    let mut raw = canvas_config();
    raw[PLATFORM_CONFIGURATION_KEY] = json!(["canvas"]);
    assert_eq!(
        parse(&raw),
        Err(RegistrationError::ConfigFieldInvalid {
            field: "lti-platform-configuration"
        })
    );
}

#[test]
fn rs256_is_required() {
    let mut raw = spec_config();
    raw["id_token_signing_alg_values_supported"] = json!(["ES256", "RS384"]);
    let error = parse(&raw).expect_err("no RS256");
    assert_eq!(error, RegistrationError::AlgRs256Unsupported);
    assert_eq!(error.code(), "ALG_RS256_UNSUPPORTED");

    raw["id_token_signing_alg_values_supported"] = json!([]);
    assert_eq!(parse(&raw), Err(RegistrationError::AlgRs256Unsupported));

    raw["id_token_signing_alg_values_supported"] = json!(["ES256", "RS256"]);
    assert!(parse(&raw).is_ok());
}

#[test]
fn not_a_json_object_is_config_invalid() {
    for body in [
        &b"<html>nope</html>"[..],
        b"",
        b"[]",
        b"\"issuer\"",
        b"null",
        b"{",
    ] {
        let error = PlatformConfiguration::parse(body).expect_err("refused");
        assert_eq!(error, RegistrationError::ConfigInvalid);
        assert_eq!(error.code(), "CONFIG_INVALID");
    }
}

#[test]
fn oversized_documents_are_refused_before_parsing() {
    let body = vec![b' '; MAX_DOCUMENT_LEN + 1];
    assert_eq!(
        PlatformConfiguration::parse(&body),
        Err(RegistrationError::DocumentTooLarge {
            max: MAX_DOCUMENT_LEN
        })
    );
    assert_eq!(
        parse_registration_response(&body),
        Err(RegistrationError::DocumentTooLarge {
            max: MAX_DOCUMENT_LEN
        })
    );
    let canvas = bytes(&canvas_config());
    assert!(
        canvas.len() < MAX_DOCUMENT_LEN / 8,
        "real documents are far below the limit"
    );
}

#[test]
fn liberal_messages_supported() {
    let mut raw = spec_config();
    raw[PLATFORM_CONFIGURATION_KEY]["messages_supported"] = json!([
        "LtiResourceLink",
        {"type": "LtiDeepLinkingRequest", "placements": null},
        {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea", " ", 7, "ContentArea"]},
        {"type": "LtiDeepLinkingRequest", "placements": ["RichTextEditor"]},
        {"placements": ["orphan"]},
        {"type": 12},
        42,
        null,
        {"type": "LtiSubmissionReviewRequest", "placements": []},
        {"type": "LtiEulaRequest", "unknown": true}
    ]);
    let config = parse(&raw).expect("parses");
    assert_eq!(
        config.messages_supported,
        [
            SupportedMessage {
                message_type: "LtiResourceLinkRequest".into(),
                placements: vec![],
            },
            SupportedMessage {
                message_type: "LtiDeepLinkingRequest".into(),
                placements: vec!["ContentArea".into(), "RichTextEditor".into()],
            },
            SupportedMessage {
                message_type: "LtiSubmissionReviewRequest".into(),
                placements: vec![],
            },
            SupportedMessage {
                message_type: "LtiEulaRequest".into(),
                placements: vec![],
            },
        ]
    );
}

#[test]
fn unknown_members_are_ignored_and_optional_lists_default_to_empty() {
    let mut raw = spec_config();
    let object = raw.as_object_mut().expect("object");
    object.remove("scopes_supported");
    object.remove("claims_supported");
    object.insert("x-vendor".into(), json!({"anything": [1, 2, 3]}));
    raw[PLATFORM_CONFIGURATION_KEY]
        .as_object_mut()
        .expect("object")
        .remove("variables");
    raw[PLATFORM_CONFIGURATION_KEY]["version"] = json!(2024.1);
    let config = parse(&raw).expect("parses");
    assert!(config.scopes_supported.is_empty());
    assert!(config.claims_supported.is_empty());
    assert!(config.variables.is_empty());
    assert_eq!(config.version.as_deref(), Some("2024.1"));
    assert_eq!(config.raw["x-vendor"]["anything"][2], 3);
}

#[test]
fn exact_platform_configuration_key_wins_over_a_padded_one() {
    let mut raw = spec_config();
    let padded = format!("{PLATFORM_CONFIGURATION_KEY} ");
    raw[padded.as_str()] = json!({"product_family_code": "impostor", "messages_supported": []});
    assert_eq!(
        parse(&raw).expect("parses").product_family_code,
        "ExampleLMS"
    );
}

#[test]
fn placement_matching() {
    assert!(placements_match(
        "https://canvas.instructure.com/lti/course_navigation",
        "course_navigation"
    ));
    assert!(placements_match(
        "course_navigation",
        "https://canvas.instructure.com/lti/course_navigation"
    ));
    assert!(placements_match("ContentArea", "contentarea"));
    assert!(placements_match(" ContentArea ", "ContentArea"));
    assert!(!placements_match("course_navigation", "account_navigation"));
    assert!(!placements_match("", ""));
    assert!(!placements_match("https://canvas.instructure.com/lti/", ""));
    assert!(!placements_match(
        "course_navigation",
        "course_navigation_extra"
    ));
}

proptest! {
    #[test]
    fn parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = PlatformConfiguration::parse(&body);
        let _ = parse_registration_response(&body);
    }

    #[test]
    fn parse_never_panics_on_mangled_messages(
        items in proptest::collection::vec(
            prop_oneof![
                Just(json!(null)),
                any::<i64>().prop_map(|n| json!(n)),
                "[a-zA-Z ]{0,12}".prop_map(|s| json!(s)),
                "[a-zA-Z:/ ]{0,24}".prop_map(|s| json!({"type": s, "placements": [s]})),
            ],
            0..8,
        )
    ) {
        let mut raw = spec_config();
        raw[PLATFORM_CONFIGURATION_KEY]["messages_supported"] = Value::Array(items);
        if let Ok(config) = parse(&raw) {
            for message in &config.messages_supported {
                prop_assert!(!message.message_type.is_empty());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// check_issuer

fn hosted() -> Vec<HostedIssuer> {
    default_hosted_issuers()
}

#[test]
fn fixtures_pass_the_issuer_rule() {
    for (fixture_text, raw) in [
        (CANVAS, canvas_config()),
        (MOODLE, moodle_config()),
        (MOODLE, moodle_311_config()),
        (MOODLE, moodle_310_config()),
    ] {
        let config = parse(&raw).expect("parses");
        check_issuer(&config, &configuration_url(fixture_text), &hosted(), false)
            .expect("issuer rule holds");
    }
    let spec = parse(&spec_config()).expect("parses");
    let spec_url = url(doc(SPEC, "/initiation_request/query/openid_configuration")
        .as_str()
        .expect("string"));
    check_issuer(&spec, &spec_url, &hosted(), false).expect("spec example holds");
}

#[test]
fn issuer_on_another_host_is_refused() {
    let config = parse(&canvas_config()).expect("parses");
    let error = check_issuer(
        &config,
        &url("https://evil.example.com/api/lti/security/openid-configuration"),
        &hosted(),
        false,
    )
    .expect_err("foreign host");
    assert_eq!(error, RegistrationError::IssuerHostMismatch);
    assert_eq!(error.code(), "ISSUER_HOST_MISMATCH");

    // A subdomain is another host.
    let error = check_issuer(
        &config,
        &url("https://www.canvas.example.edu/.well-known/openid-configuration"),
        &hosted(),
        false,
    );
    assert_eq!(error, Err(RegistrationError::IssuerHostMismatch));
}

#[test]
fn host_comparison_ignores_case_but_not_port() {
    let mut raw = canvas_config();
    raw["issuer"] = json!("https://Canvas.Example.EDU");
    let config = parse(&raw).expect("parses");
    assert_eq!(
        config.issuer, "https://Canvas.Example.EDU",
        "kept as written"
    );
    check_issuer(
        &config,
        &url("https://canvas.example.edu/api/lti/security/openid-configuration"),
        &hosted(),
        false,
    )
    .expect("case-insensitive");
    check_issuer(
        &config,
        &url("https://canvas.example.edu:443/x"),
        &hosted(),
        false,
    )
    .expect("default port spelled out");
    assert_eq!(
        check_issuer(
            &config,
            &url("https://canvas.example.edu:8443/x"),
            &hosted(),
            false
        ),
        Err(RegistrationError::IssuerHostMismatch)
    );

    raw["issuer"] = json!("https://canvas.example.edu:8443");
    let config = parse(&raw).expect("parses");
    check_issuer(
        &config,
        &url("https://canvas.example.edu:8443/x"),
        &hosted(),
        false,
    )
    .expect("same explicit port");
    assert_eq!(
        check_issuer(
            &config,
            &url("https://canvas.example.edu/x"),
            &hosted(),
            false
        ),
        Err(RegistrationError::IssuerHostMismatch)
    );
}

#[test]
fn moodle_issuer_with_a_path_is_fine() {
    let mut raw = moodle_config();
    raw["issuer"] = json!("https://moodle.example.edu/moodle");
    let config = parse(&raw).expect("parses");
    check_issuer(
        &config,
        &url("https://moodle.example.edu/moodle/mod/lti/openid-configuration.php"),
        &hosted(),
        false,
    )
    .expect("path on the issuer");
}

fn hosted_canvas(issuer: &str, jwks: &str, authorize: &str) -> PlatformConfiguration {
    let mut raw = canvas_config();
    raw["issuer"] = json!(issuer);
    raw["jwks_uri"] = json!(jwks);
    raw["authorization_endpoint"] = json!(authorize);
    // Token and registration endpoints stay on the school's (vanity) host.
    raw["token_endpoint"] = json!("https://lms.school.example.edu/login/oauth2/token");
    raw["registration_endpoint"] = json!("https://lms.school.example.edu/api/lti/registrations");
    parse(&raw).expect("parses")
}

#[test]
fn hosted_canvas_is_accepted_from_a_school_host() {
    let school = url("https://lms.school.example.edu/api/lti/security/openid-configuration");
    for (issuer, sso) in [
        ("https://canvas.instructure.com", "sso.canvaslms.com"),
        (
            "https://canvas.beta.instructure.com",
            "sso.beta.canvaslms.com",
        ),
        (
            "https://canvas.test.instructure.com",
            "sso.test.canvaslms.com",
        ),
    ] {
        let config = hosted_canvas(
            issuer,
            &format!("https://{sso}/api/lti/security/jwks"),
            &format!("https://{sso}/api/lti/authorize_redirect"),
        );
        check_issuer(&config, &school, &hosted(), false).expect(issuer);
    }
    // The older endpoints on canvas.instructure.com itself.
    let config = hosted_canvas(
        "https://canvas.instructure.com",
        "https://canvas.instructure.com/api/lti/security/jwks",
        "https://SSO.CanvasLMS.com/api/lti/authorize_redirect",
    );
    check_issuer(&config, &school, &hosted(), false).expect("instructure.com and case");
}

#[test]
fn forged_hosted_issuer_with_foreign_endpoints_is_refused() {
    let school = url("https://evil.example.net/api/lti/security/openid-configuration");
    let cases = [
        (
            "https://evil.example.net/jwks",
            "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "jwks_uri",
        ),
        (
            "https://sso.canvaslms.com/api/lti/security/jwks",
            "https://evil.example.net/authorize",
            "authorization_endpoint",
        ),
        (
            "https://notcanvaslms.com/api/lti/security/jwks",
            "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "jwks_uri",
        ),
        (
            "https://canvaslms.com.evil.example.net/jwks",
            "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "jwks_uri",
        ),
        (
            "https://203.0.113.7/jwks",
            "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "jwks_uri",
        ),
    ];
    for (jwks, authorize, field) in cases {
        let config = hosted_canvas("https://canvas.instructure.com", jwks, authorize);
        let error = check_issuer(&config, &school, &hosted(), false).expect_err(jwks);
        assert_eq!(error, RegistrationError::HostedEndpointForeign { field });
        assert_eq!(error.code(), "HOSTED_ENDPOINT_FOREIGN");
    }
}

#[test]
fn hosted_match_is_on_the_exact_issuer_string() {
    // Not in the table: the host rule applies, and fails.
    let config = hosted_canvas(
        "https://canvas.instructure.com/",
        "https://sso.canvaslms.com/api/lti/security/jwks",
        "https://sso.canvaslms.com/api/lti/authorize_redirect",
    );
    assert_eq!(
        check_issuer(
            &config,
            &url("https://lms.school.example.edu/x"),
            &hosted(),
            false
        ),
        Err(RegistrationError::IssuerHostMismatch)
    );
    // Without a table, hosted Canvas is just a mismatch.
    let config = hosted_canvas(
        "https://canvas.instructure.com",
        "https://sso.canvaslms.com/api/lti/security/jwks",
        "https://sso.canvaslms.com/api/lti/authorize_redirect",
    );
    assert_eq!(
        check_issuer(
            &config,
            &url("https://lms.school.example.edu/x"),
            &[],
            false
        ),
        Err(RegistrationError::IssuerHostMismatch)
    );
}

#[test]
fn blackboard_and_injected_tables() {
    let mut raw = spec_config();
    raw["issuer"] = json!("https://blackboard.com");
    raw["jwks_uri"] =
        json!("https://developer.blackboard.com/api/v1/management/applications/x/jwks.json");
    raw["authorization_endpoint"] =
        json!("https://developer.blackboard.com/api/v1/gateway/oidcauth");
    raw["token_endpoint"] =
        json!("https://developer.blackboard.com/api/v1/gateway/oauth2/jwttoken");
    raw["registration_endpoint"] = json!("https://school.blackboard.example.edu/register");
    let config = parse(&raw).expect("parses");
    check_issuer(
        &config,
        &url("https://developer.blackboard.com/api/v1/config"),
        &hosted(),
        false,
    )
    .expect("blackboard");

    // An operator's own entry, with a dotted, upper-case domain.
    let table = vec![HostedIssuer {
        issuers: vec!["https://lms.vendor.example".into()],
        endpoint_domains: vec![".Vendor-Keys.example".into()],
    }];
    let mut raw = spec_config();
    raw["issuer"] = json!("https://lms.vendor.example");
    raw["jwks_uri"] = json!("https://keys.vendor-keys.example/jwks");
    raw["authorization_endpoint"] = json!("https://vendor-keys.example/auth");
    let config = parse(&raw).expect("parses");
    check_issuer(
        &config,
        &url("https://tenant.example.org/config"),
        &table,
        false,
    )
    .expect("operator table");
    assert_eq!(
        check_issuer(
            &config,
            &url("https://tenant.example.org/config"),
            &hosted(),
            false
        ),
        Err(RegistrationError::IssuerHostMismatch),
        "not in the default table"
    );
}

#[test]
fn http_is_refused_unless_allowed() {
    let mut raw = moodle_config();
    for key in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
    ] {
        let text = raw[key]
            .as_str()
            .expect("string")
            .replace("https://", "http://");
        raw[key] = json!(text);
    }
    let config = parse(&raw).expect("http parses");
    let config_url = url("http://moodle.example.edu/mod/lti/openid-configuration.php");
    let error = check_issuer(&config, &config_url, &hosted(), false).expect_err("http");
    assert_eq!(
        error,
        RegistrationError::UrlNotHttps {
            field: "openid_configuration"
        }
    );
    assert_eq!(error.code(), "URL_NOT_HTTPS");
    check_issuer(&config, &config_url, &hosted(), true).expect("allowed");

    // Only the issuer on http, fetched over https.
    let mut raw = moodle_config();
    raw["issuer"] = json!("http://moodle.example.edu");
    let config = parse(&raw).expect("parses");
    assert_eq!(
        check_issuer(&config, &configuration_url(MOODLE), &hosted(), false),
        Err(RegistrationError::UrlNotHttps { field: "issuer" })
    );

    // One endpoint on http.
    let mut raw = moodle_config();
    raw["authorization_endpoint"] = json!("http://moodle.example.edu/mod/lti/auth.php");
    let config = parse(&raw).expect("parses");
    assert_eq!(
        check_issuer(&config, &configuration_url(MOODLE), &hosted(), false),
        Err(RegistrationError::UrlNotHttps {
            field: "authorization_endpoint"
        })
    );
}

// ---------------------------------------------------------------------------------------------
// registration_request

const AGS_SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
const AGS_LINEITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
const AGS_RESULT: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly";
const NRPS: &str = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

fn ltigate() -> ToolDescription {
    ToolDescription {
        client_name: "ltigate".into(),
        description: Some("An LTI gateway".into()),
        logo_uri: Some("https://tool.example.com/logo.png".into()),
        client_uri: None,
        tos_uri: Some("https://tool.example.com/tos".into()),
        policy_uri: Some("https://tool.example.com/privacy".into()),
        contacts: vec!["admin@example.com".into()],
        initiate_login_uri: "https://tool.example.com/lti/login".into(),
        redirect_uris: vec!["https://tool.example.com/lti/launch".into()],
        target_link_uri: "https://tool.example.com/lti/launch".into(),
        jwks_uri: "https://tool.example.com/lti/keys".into(),
        domain: "tool.example.com".into(),
        scopes: vec![
            AGS_LINEITEM.into(),
            AGS_RESULT.into(),
            AGS_SCORE.into(),
            NRPS.into(),
            "openid".into(),
            "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly".into(),
        ],
        claims: vec![
            "name".into(),
            "given_name".into(),
            "family_name".into(),
            "email".into(),
            "picture".into(),
            "locale".into(),
            "sub".into(),
        ],
        messages: vec![
            ToolMessage {
                message_type: "LtiResourceLinkRequest".into(),
                placements: vec!["course_navigation".into(), "not_a_placement".into()],
                label: Some("ltigate".into()),
                target_link_uri: None,
            },
            ToolMessage {
                message_type: "LtiDeepLinkingRequest".into(),
                placements: vec![],
                label: None,
                target_link_uri: Some("https://tool.example.com/lti/launch".into()),
            },
            ToolMessage {
                message_type: "LtiSubmissionReviewRequest".into(),
                placements: vec![],
                label: None,
                target_link_uri: None,
            },
        ],
        custom_parameters: BTreeMap::from([(
            "context_history".into(),
            "$Context.id.history".into(),
        )]),
    }
}

fn tool_configuration(request: &Value) -> &serde_json::Map<String, Value> {
    request[TOOL_CONFIGURATION_KEY]
        .as_object()
        .expect("tool configuration object")
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect()
}

/// What every platform gets, whatever it supports.
fn assert_core_members(request: &Value) {
    assert_eq!(request["application_type"], "web");
    assert_eq!(request["response_types"], json!(["id_token"]));
    assert_eq!(
        request["grant_types"],
        json!(["implicit", "client_credentials"])
    );
    assert_eq!(
        request["initiate_login_uri"],
        "https://tool.example.com/lti/login"
    );
    assert_eq!(
        request["redirect_uris"],
        json!(["https://tool.example.com/lti/launch"])
    );
    assert_eq!(request["client_name"], "ltigate");
    assert_eq!(request["jwks_uri"], "https://tool.example.com/lti/keys");
    assert_eq!(request["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(request["logo_uri"], "https://tool.example.com/logo.png");
    assert_eq!(request["tos_uri"], "https://tool.example.com/tos");
    assert_eq!(request["policy_uri"], "https://tool.example.com/privacy");
    assert!(request.get("client_uri").is_none(), "unset is not sent");
    assert_eq!(request["contacts"], json!(["admin@example.com"]));
    assert!(request["scope"].is_string(), "scope is always a string");
    let tool = tool_configuration(request);
    assert_eq!(tool["domain"], "tool.example.com");
    assert_eq!(
        tool["target_link_uri"],
        "https://tool.example.com/lti/launch"
    );
    assert_eq!(tool["description"], "An LTI gateway");
    assert_eq!(
        tool["custom_parameters"],
        json!({"context_history": "$Context.id.history"})
    );
    let claims = strings(&tool["claims"]);
    assert_eq!(&claims[..2], ["iss", "sub"]);
    assert!(tool["messages"].is_array());
    for message in tool["messages"].as_array().expect("array") {
        assert_ne!(
            message["type"], "LtiSubmissionReviewRequest",
            "unsupported type sent"
        );
    }
}

/// The fixture's own request carries the same members (where the tool had them).
fn assert_same_members_as_fixture(request: &Value, fixture_text: &str) {
    let theirs = doc(fixture_text, "/registration_request");
    for key in theirs.as_object().expect("object").keys() {
        if key.contains('#') {
            continue;
        }
        assert!(request.get(key).is_some(), "{key} missing from our request");
    }
    let their_tool = theirs[TOOL_CONFIGURATION_KEY].as_object().expect("object");
    let ours = tool_configuration(request);
    for key in their_tool.keys().filter(|k| !k.contains('#')) {
        assert!(ours.contains_key(key), "tool configuration {key} missing");
    }
}

#[test]
fn canvas_request() {
    let platform = parse(&canvas_config()).expect("parses");
    let request = registration_request(&ltigate(), &platform);
    assert_core_members(&request);
    assert_same_members_as_fixture(&request, CANVAS);

    // Scopes Canvas lists, in the tool's order; no openid, no group scope Canvas lacks.
    assert_eq!(
        request["scope"],
        [AGS_LINEITEM, AGS_RESULT, AGS_SCORE, NRPS].join(" ")
    );
    let tool = tool_configuration(&request);
    // Canvas does not list iss, but it is always sent; every other wanted claim Canvas lists.
    assert_eq!(
        strings(&tool["claims"]),
        [
            "iss",
            "sub",
            "name",
            "given_name",
            "family_name",
            "email",
            "picture",
            "locale"
        ]
    );
    assert_eq!(
        tool["https://canvas.instructure.com/lti/privacy_level"],
        "public"
    );
    assert_eq!(
        tool["https://canvas.instructure.com/lti/tool_id"],
        "tool.example.com"
    );
    // The fixture tool's claims give Canvas's privacy level `public` too.
    let their_claims: Vec<String> = strings(&doc(
        CANVAS,
        &format!(
            "/registration_request/{}/claims",
            TOOL_CONFIGURATION_KEY.replace('/', "~1")
        ),
    ))
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(products::privacy_level(&their_claims), "public");

    assert_eq!(
        tool["messages"],
        json!([
            {
                "type": "LtiResourceLinkRequest",
                "label": "ltigate",
                "placements": ["https://canvas.instructure.com/lti/course_navigation"]
            },
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": "https://tool.example.com/lti/launch"
            }
        ])
    );
}

#[test]
fn moodle_request() {
    for raw in [moodle_config(), moodle_311_config(), moodle_310_config()] {
        let platform = parse(&raw).expect("parses");
        let request = registration_request(&ltigate(), &platform);
        assert_core_members(&request);
        assert_same_members_as_fixture(&request, MOODLE);
        assert_eq!(
            request["scope"],
            [AGS_LINEITEM, AGS_RESULT, AGS_SCORE, NRPS].join(" ")
        );
        let tool = tool_configuration(&request);
        assert_eq!(
            strings(&tool["claims"]),
            ["iss", "sub", "name", "given_name", "family_name", "email"]
        );
        assert!(
            !tool
                .keys()
                .any(|k| k.starts_with("https://canvas.instructure.com")),
            "no Canvas members for Moodle"
        );
        let messages = tool["messages"].as_array().expect("array");
        let deep_linking = messages
            .iter()
            .find(|m| m["type"] == "LtiDeepLinkingRequest")
            .expect("deep linking sent");
        assert_eq!(deep_linking["placements"], json!(["ContentArea"]));
        // Moodle 4 takes the deep linking launch URL from here; it must be on `domain`.
        assert_eq!(
            deep_linking["target_link_uri"],
            "https://tool.example.com/lti/launch"
        );
        let resource_link = messages
            .iter()
            .find(|m| m["type"] == "LtiResourceLinkRequest")
            .expect("resource link sent");
        assert!(
            resource_link.get("placements").is_none(),
            "course_navigation is not a Moodle placement"
        );
    }
}

#[test]
fn moodle_keeps_the_tools_own_deep_linking_placement() {
    let platform = parse(&moodle_config()).expect("parses");
    let mut tool = ltigate();
    tool.messages = vec![ToolMessage {
        message_type: "LtiDeepLinkingRequest".into(),
        placements: vec!["contentarea".into()],
        label: None,
        target_link_uri: None,
    }];
    let request = registration_request(&tool, &platform);
    assert_eq!(
        tool_configuration(&request)["messages"],
        json!([{"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]}])
    );
}

#[test]
fn spec_example_request() {
    let platform = parse(&spec_config()).expect("parses");
    let request = registration_request(&ltigate(), &platform);
    assert_core_members(&request);
    assert_same_members_as_fixture(&request, SPEC);
    // The spec platform lists the group scope and no NRPS or lineitem.readonly.
    assert_eq!(
        request["scope"],
        [
            AGS_LINEITEM,
            AGS_RESULT,
            AGS_SCORE,
            "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly"
        ]
        .join(" ")
    );
    let tool = tool_configuration(&request);
    assert!(
        !tool
            .keys()
            .any(|k| k.starts_with("https://canvas.instructure.com"))
    );
    // No placements declared by the platform: none sent, and no product default.
    assert_eq!(
        tool["messages"],
        json!([
            {"type": "LtiResourceLinkRequest", "label": "ltigate"},
            {"type": "LtiDeepLinkingRequest", "target_link_uri": "https://tool.example.com/lti/launch"}
        ])
    );
    // The spec example's `implict` is not copied.
    assert_eq!(doc(SPEC, "/registration_request/grant_types/0"), "implict");
    assert_eq!(request["grant_types"][0], "implicit");
}

#[test]
fn minimal_tool_sends_empty_scope_and_messages_and_no_optionals() {
    let platform = parse(&canvas_config()).expect("parses");
    let tool = ToolDescription {
        client_name: "bare".into(),
        initiate_login_uri: "https://t.example/lti/login".into(),
        redirect_uris: vec!["https://t.example/lti/launch".into()],
        target_link_uri: "https://t.example/lti/launch".into(),
        jwks_uri: "https://t.example/lti/keys".into(),
        domain: "t.example".into(),
        logo_uri: Some(String::new()),
        policy_uri: Some("  ".into()),
        contacts: vec![" ".into()],
        description: Some(String::new()),
        ..ToolDescription::default()
    };
    let request = registration_request(&tool, &platform);
    assert_eq!(request["scope"], "");
    for absent in [
        "logo_uri",
        "client_uri",
        "tos_uri",
        "policy_uri",
        "contacts",
    ] {
        assert!(request.get(absent).is_none(), "{absent}");
    }
    let configuration = tool_configuration(&request);
    assert_eq!(configuration["messages"], json!([]));
    assert_eq!(strings(&configuration["claims"]), ["iss", "sub"]);
    assert!(!configuration.contains_key("custom_parameters"));
    assert!(!configuration.contains_key("description"));
    assert_eq!(
        configuration["https://canvas.instructure.com/lti/privacy_level"],
        "anonymous"
    );
}

#[test]
fn canvas_privacy_levels_follow_the_claims_sent() {
    let level = |claims: &[&str]| {
        let claims: Vec<String> = claims.iter().map(|c| (*c).to_owned()).collect();
        products::privacy_level(&claims)
    };
    assert_eq!(level(&["iss", "sub"]), "anonymous");
    assert_eq!(level(&["iss", "sub", "name"]), "name_only");
    assert_eq!(level(&["iss", "sub", "email"]), "email_only");
    assert_eq!(level(&["iss", "sub", "given_name", "email"]), "public");
    assert_eq!(level(&["iss", "sub", "picture"]), "public");
}

#[test]
fn product_table_is_keyed_by_distinct_codes() {
    let mut seen = HashSet::new();
    for product in products::PRODUCTS {
        assert!(seen.insert(product.family_code.to_ascii_lowercase()));
    }
    assert!(products::product("Canvas").is_some(), "case ignored");
    assert!(products::product("ExampleLMS").is_none());
}

#[test]
fn request_for_a_fixture_platform_is_stable_json() {
    // Serialising and reparsing gives the same value: no NaN, no non-string keys.
    let platform = parse(&canvas_config()).expect("parses");
    let request = registration_request(&ltigate(), &platform);
    let text = serde_json::to_string(&request).expect("serialises");
    let back: Value = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, request);
}

// ---------------------------------------------------------------------------------------------
// parse_registration_response

fn response(fixture_text: &str) -> RegistrationResponse {
    parse_registration_response(&bytes(&doc(fixture_text, "/registration_response")))
        .expect("fixture response parses")
}

#[test]
fn canvas_response_has_a_top_level_deployment_id() {
    let parsed = response(CANVAS);
    assert_eq!(parsed.client_id, "10000000000005");
    assert_eq!(
        parsed.deployment_id.as_deref(),
        Some("9:8865aa05b4b79b64a91a86042e43af5ea8ae79eb")
    );
    assert_eq!(parsed.scopes, [AGS_SCORE]);
    assert_eq!(parsed.raw, doc(CANVAS, "/registration_response"));
}

#[test]
fn moodle_response_has_the_deployment_id_in_the_tool_configuration() {
    let parsed = response(MOODLE);
    assert_eq!(parsed.client_id, "MwX2PFUCgZCTjol");
    assert_eq!(parsed.deployment_id.as_deref(), Some("2"));
    assert!(parsed.scopes.is_empty(), "Moodle answered \"\"");
}

#[test]
fn spec_response_has_no_deployment_id() {
    let parsed = response(SPEC);
    assert_eq!(parsed.client_id, "709sdfnjkds12");
    assert_eq!(parsed.deployment_id, None);
    assert_eq!(parsed.scopes, [AGS_SCORE]);
}

#[test]
fn liberal_responses() {
    let parsed = parse_registration_response(
        br#"{"client_id": 10000000000007, "scope": " a  b\tc ",
             "https://purl.imsglobal.org/spec/lti-tool-configuration ": {"deployment_id": 3},
             "deployment_id": "ignored: the tool configuration wins"}"#,
    )
    .expect("parses");
    assert_eq!(parsed.client_id, "10000000000007");
    assert_eq!(parsed.deployment_id.as_deref(), Some("3"));
    assert_eq!(parsed.scopes, ["a", "b", "c"]);

    let parsed = parse_registration_response(
        br#"{"client_id": "x", "scope": ["a b", "c"],
             "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": ""},
             "deployment_id": "top"}"#,
    )
    .expect("parses");
    assert_eq!(
        parsed.deployment_id.as_deref(),
        Some("top"),
        "empty inner falls through"
    );
    assert_eq!(parsed.scopes, ["a", "b", "c"]);

    let parsed = parse_registration_response(br#"{"client_id": "x", "scope": null}"#).expect("ok");
    assert!(parsed.scopes.is_empty());
    assert_eq!(parsed.deployment_id, None);
}

#[test]
fn response_refusals() {
    let cases: Vec<(&[u8], RegistrationError)> = vec![
        (b"missing_registration_token", RegistrationError::ResponseInvalid),
        (b"[]", RegistrationError::ResponseInvalid),
        (b"", RegistrationError::ResponseInvalid),
        (
            br#"{"client_name": "x"}"#,
            RegistrationError::ResponseFieldMissing { field: "client_id" },
        ),
        (
            br#"{"client_id": null}"#,
            RegistrationError::ResponseFieldMissing { field: "client_id" },
        ),
        (
            br#"{"client_id": ""}"#,
            RegistrationError::ResponseFieldInvalid { field: "client_id" },
        ),
        (
            br#"{"client_id": 1.5}"#,
            RegistrationError::ResponseFieldInvalid { field: "client_id" },
        ),
        (
            br#"{"client_id": {"id": 1}}"#,
            RegistrationError::ResponseFieldInvalid { field: "client_id" },
        ),
        (
            br#"{"client_id": "x", "scope": 3}"#,
            RegistrationError::ResponseFieldInvalid { field: "scope" },
        ),
        (
            br#"{"client_id": "x", "deployment_id": ["d"]}"#,
            RegistrationError::ResponseFieldInvalid {
                field: "deployment_id",
            },
        ),
        (
            br#"{"client_id": "x", "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": true}}"#,
            RegistrationError::ResponseFieldInvalid {
                field: "lti-tool-configuration.deployment_id",
            },
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            parse_registration_response(body),
            Err(expected.clone()),
            "{}",
            String::from_utf8_lossy(body)
        );
        assert!(expected.to_string().len() > 10);
    }
}
