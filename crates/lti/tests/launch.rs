//! Signed id_tokens end to end through `parse` and `verify`: one test per refusal, and the
//! launches real platforms send.

mod common;

use common::{OTHER, PLATFORM, PLATFORM_EC, b64, fixture_claims, rs256_header, sign};
use jsonwebtoken::{EncodingKey, Header};
use lti::LaunchError;
use lti::claims::{MessageType, uri};
use lti::id_token::{Algorithm, Expectations, UnverifiedIdToken, VerifiedLaunch, verify};
use lti::ids::{ClientId, Issuer, Kid, Nonce};
use lti::jwk::{Jwk, JwkSet, VerificationKey};
use serde_json::{Map, Value, json};

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://lms.example.edu";
const CLIENT_ID: &str = "tool-client-1";
const NONCE: &str = "nonce-4f0c2a";

fn resource_link_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "user-1",
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": NONCE,
        uri::VERSION: "1.3.0",
        uri::MESSAGE_TYPE: "LtiResourceLinkRequest",
        uri::DEPLOYMENT_ID: "deployment-1",
        uri::TARGET_LINK_URI: "https://tool.example.com/launch",
        uri::RESOURCE_LINK: {"id": "link-1", "title": "Week 1"},
        uri::ROLES: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    })
}

fn deep_linking_claims() -> Value {
    let mut claims = resource_link_claims();
    claims[uri::MESSAGE_TYPE] = json!("LtiDeepLinkingRequest");
    claims[uri::DEEP_LINKING_SETTINGS] = json!({
        "deep_link_return_url": "https://lms.example.edu/deep_links/return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "data": "csrf-token-from-platform",
    });
    remove(&mut claims, uri::RESOURCE_LINK);
    claims
}

fn remove(claims: &mut Value, key: &str) {
    if let Some(map) = claims.as_object_mut() {
        map.remove(key);
    }
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    remove(&mut claims, key);
    claims
}

fn platform_key() -> VerificationKey {
    let jwk: Jwk = serde_json::from_value(PLATFORM.jwk.clone()).expect("jwk");
    VerificationKey::from_jwk(&jwk).expect("platform key")
}

/// Parses and verifies with the platform's RSA key and the default expectations.
fn do_launch(token: &str) -> Result<VerifiedLaunch, LaunchError> {
    do_launch_with(token, &platform_key(), NOW, 0)
}

fn do_launch_with(
    token: &str,
    key: &VerificationKey,
    now: u64,
    leeway_secs: u64,
) -> Result<VerifiedLaunch, LaunchError> {
    let parsed = UnverifiedIdToken::parse(token)?;
    verify(
        &parsed,
        key,
        &Expectations {
            issuer: &Issuer::new(ISSUER),
            client_id: &ClientId::new(CLIENT_ID),
            nonce: &Nonce::new(NONCE),
            now,
            // The login started a moment before the token was issued.
            issued_after: NOW - 10,
            leeway_secs,
        },
    )
}

/// Signs the claims with the platform key and expects the launch to be refused.
fn do_launch_until_error(claims: Value) -> LaunchError {
    let token = sign(&rs256_header(), &claims, &PLATFORM.encoding);
    let err = do_launch(&token).expect_err("launch must be refused");
    assert_display_is_clean(&err);
    err
}

/// Refusal messages never carry token contents.
fn assert_display_is_clean(err: &LaunchError) {
    let text = err.to_string();
    for secret in [NONCE, "user-1", "deployment-1", "link-1", ISSUER, CLIENT_ID] {
        assert!(!text.contains(secret), "{text:?} leaks {secret:?}");
    }
}

fn splice(token: &str, part: usize, replacement: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[part] = replacement;
    parts.join(".")
}

// ---------------------------------------------------------------- accepted launches

#[test]
fn minimal_resource_link_launch_verifies() {
    let token = sign(&rs256_header(), &resource_link_claims(), &PLATFORM.encoding);
    let parsed = UnverifiedIdToken::parse(&token).expect("parse");
    assert_eq!(parsed.kid(), Some(&Kid::new("platform-key-1")));
    assert_eq!(parsed.alg(), Algorithm::RS256);

    let launch = do_launch(&token).expect("valid launch");
    let claims = launch.claims();
    assert_eq!(claims.message_type(), MessageType::ResourceLink);
    assert_eq!(claims.deployment_id().as_str(), "deployment-1");
    assert_eq!(claims.sub().map(|s| s.as_str()), Some("user-1"));
    assert_eq!(
        claims.resource_link().map(|l| l.id.as_str()),
        Some("link-1")
    );
    assert_eq!(launch.raw()["nonce"], json!(NONCE));

    let (typed, raw) = launch.into_parts();
    assert_eq!(typed.roles().len(), 1);
    assert_eq!(Value::Object(raw), resource_link_claims());
}

#[test]
fn anonymous_launch_without_sub_verifies() {
    let token = sign(
        &rs256_header(),
        &without(resource_link_claims(), "sub"),
        &PLATFORM.encoding,
    );
    let launch = do_launch(&token).expect("anonymous launch");
    assert!(launch.claims().sub().is_none());
}

#[test]
fn launch_with_empty_roles_verifies() {
    let token = sign(
        &rs256_header(),
        &with(resource_link_claims(), uri::ROLES, json!([])),
        &PLATFORM.encoding,
    );
    assert!(
        do_launch(&token)
            .expect("launch")
            .claims()
            .roles()
            .is_empty()
    );
}

#[test]
fn deep_linking_request_verifies() {
    let token = sign(&rs256_header(), &deep_linking_claims(), &PLATFORM.encoding);
    let launch = do_launch(&token).expect("deep linking request");
    let claims = launch.claims();
    assert_eq!(claims.message_type(), MessageType::DeepLinking);
    let settings = claims.deep_linking_settings().expect("settings");
    assert_eq!(
        settings.deep_link_return_url.host_str(),
        Some("lms.example.edu")
    );
    assert_eq!(
        settings.data,
        Some(serde_json::json!("csrf-token-from-platform"))
    );
}

#[test]
fn token_without_kid_verifies_at_this_layer() {
    let header = Header::new(jsonwebtoken::Algorithm::RS256);
    let token = sign(&header, &resource_link_claims(), &PLATFORM.encoding);
    assert!(
        UnverifiedIdToken::parse(&token)
            .expect("parse")
            .kid()
            .is_none()
    );
    assert!(do_launch(&token).is_ok());
}

#[test]
fn key_found_by_kid_in_a_jwk_set_verifies() {
    let mut published = PLATFORM.jwk.clone();
    published["kid"] = json!("platform-key-1");
    let mut rotated_out = OTHER.jwk.clone();
    rotated_out["kid"] = json!("platform-key-0");
    rotated_out["alg"] = json!("RS256");
    let set = json!({"keys": [rotated_out, published]});
    let set = JwkSet::from_json(set.to_string().as_bytes()).expect("jwks");

    let token = sign(&rs256_header(), &resource_link_claims(), &PLATFORM.encoding);
    let parsed = UnverifiedIdToken::parse(&token).expect("parse");
    let jwk = parsed
        .kid()
        .and_then(|kid| set.find(kid))
        .expect("key by kid");
    let key = VerificationKey::from_jwk(jwk).expect("key");
    assert!(do_launch_with(&token, &key, NOW, 0).is_ok());
}

#[test]
fn static_rsa_pem_key_verifies() {
    let pem = PLATFORM.public_pem.as_deref().expect("pem");
    let key = VerificationKey::from_rsa_pem(pem.as_bytes()).expect("pem key");
    let token = sign(&rs256_header(), &resource_link_claims(), &PLATFORM.encoding);
    assert!(do_launch_with(&token, &key, NOW, 0).is_ok());
}

#[test]
fn rs384_and_rs512_verify_with_a_jwk_that_declares_no_alg() {
    for alg in [
        jsonwebtoken::Algorithm::RS384,
        jsonwebtoken::Algorithm::RS512,
    ] {
        let token = sign(
            &Header::new(alg),
            &resource_link_claims(),
            &PLATFORM.encoding,
        );
        assert!(do_launch(&token).is_ok(), "{alg:?}");
    }
}

#[test]
fn es256_platform_key_verifies() {
    let jwk: Jwk = serde_json::from_value(PLATFORM_EC.jwk.clone()).expect("jwk");
    let key = VerificationKey::from_jwk(&jwk).expect("EC key");
    let token = sign(
        &Header::new(jsonwebtoken::Algorithm::ES256),
        &resource_link_claims(),
        &PLATFORM_EC.encoding,
    );
    assert!(do_launch_with(&token, &key, NOW, 0).is_ok());
}

#[test]
fn leeway_accepts_small_clock_skew() {
    let skewed = with(
        with(resource_link_claims(), "iat", json!(NOW + 20)),
        "exp",
        json!(NOW - 20),
    );
    let token = sign(&rs256_header(), &skewed, &PLATFORM.encoding);
    assert!(do_launch_with(&token, &platform_key(), NOW, 30).is_ok());
    assert!(do_launch_with(&token, &platform_key(), NOW, 10).is_err());
}

#[test]
fn verified_launch_debug_shows_no_personal_data() {
    let claims = with(resource_link_claims(), "email", json!("jane@example.edu"));
    let token = sign(&rs256_header(), &claims, &PLATFORM.encoding);
    let printed = format!("{:?}", do_launch(&token).expect("launch"));
    assert!(printed.contains("ResourceLink"));
    assert!(!printed.contains("jane@example.edu") && !printed.contains("user-1"));
}

/// Signs a fixture payload unchanged and verifies it at the time it was issued.
fn verify_fixture(platform: &str) -> VerifiedLaunch {
    let claims = fixture_claims(platform);
    let text = |key: &str| claims[key].as_str().expect("string claim").to_owned();
    let issuer = Issuer::new(text("iss"));
    let client_id = ClientId::new(match &claims["aud"] {
        Value::Array(auds) => auds[0].as_str().expect("aud").to_owned(),
        aud => aud.as_str().expect("aud").to_owned(),
    });
    let nonce = Nonce::new(text("nonce"));
    let iat = claims["iat"].as_u64().expect("iat");
    let token = sign(
        &rs256_header(),
        &Value::Object(claims.clone()),
        &PLATFORM.encoding,
    );
    let launch = verify(
        &UnverifiedIdToken::parse(&token).expect("parse"),
        &platform_key(),
        &Expectations {
            issuer: &issuer,
            client_id: &client_id,
            nonce: &nonce,
            now: iat + 1,
            issued_after: iat - 1,
            leeway_secs: 5,
        },
    )
    .expect("fixture launch verifies");
    assert_eq!(launch.raw(), &claims, "raw keeps every claim");
    launch
}

#[test]
fn canvas_launch_verifies() {
    let launch = verify_fixture("canvas");
    let claims = launch.claims();
    assert_eq!(claims.message_type(), MessageType::ResourceLink);
    assert_eq!(
        claims.deployment_id().as_str(),
        "7:d3a2504bba5184799a38f141e8df2335cfa8206d"
    );
    assert_eq!(claims.email(), Some("teacher@example.edu"));
    assert_eq!(
        claims
            .tool_platform()
            .and_then(|p| p.product_family_code.as_deref()),
        Some("canvas")
    );
    let ags = claims.ags().expect("ags");
    assert_eq!(ags.scope.len(), 5);
    assert!(claims.nrps().is_some());
    assert_eq!(claims.custom()["custom1"], json!("value1"));
    assert_eq!(
        claims
            .lis()
            .and_then(|l| l.course_offering_sourcedid.as_deref()),
        Some("$CourseSection.sourcedId")
    );
    // Canvas's own placement claim is null; kept raw, not a failure.
    assert_eq!(
        launch.raw().get("https://www.instructure.com/placement"),
        Some(&Value::Null)
    );
}

#[test]
fn moodle_launch_verifies() {
    let launch = verify_fixture("moodle");
    let claims = launch.claims();
    assert_eq!(claims.deployment_id().as_str(), "4");
    assert_eq!(
        claims.context().map(|c| c.types.clone()),
        Some(vec!["CourseSection".to_owned()])
    );
    assert_eq!(
        claims
            .resource_link()
            .and_then(|l| l.description.as_deref()),
        Some("")
    );
    assert_eq!(claims.nrps().map(|n| n.service_versions.len()), Some(2));
    assert!(
        launch
            .raw()
            .contains_key("https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome")
    );
}

#[test]
fn spec_example_launch_with_aud_array_and_azp_verifies() {
    let launch = verify_fixture("spec-example");
    let claims = launch.claims();
    assert_eq!(claims.middle_name(), Some("Marie"));
    assert_eq!(claims.role_scope_mentor().len(), 3);
    let presentation = claims.launch_presentation().expect("presentation");
    assert_eq!(
        (presentation.width, presentation.height),
        (Some(240), Some(320))
    );
    assert_eq!(
        claims
            .lis()
            .and_then(|l| l.course_section_sourcedid.as_deref()),
        Some("example.edu:SI182-001-F16")
    );
}

#[test]
fn verified_payload_re_reads_with_from_raw() {
    let launch = verify_fixture("canvas");
    let stored = serde_json::to_string(launch.raw()).expect("store");
    let reread: Map<String, Value> = serde_json::from_str(&stored).expect("load");
    let claims = lti::claims::LaunchClaims::from_raw(&reread).expect("re-read");
    assert_eq!(&claims, launch.claims());
}

#[test]
fn verified_payload_text_is_the_signed_payload_and_re_reads() {
    let claims = resource_link_claims();
    let token = sign(&rs256_header(), &claims, &PLATFORM.encoding);
    let launch = do_launch(&token).expect("launch");
    let text = launch.raw_json();
    assert_eq!(serde_json::from_str::<Value>(text).expect("json"), claims);
    let reread = lti::claims::LaunchClaims::from_json(text).expect("re-read");
    assert_eq!(&reread, launch.claims());
    // The map is parsed on demand and handed over whole.
    assert_eq!(
        launch.raw().len(),
        claims.as_object().map(Map::len).unwrap_or(0)
    );
    let (_, raw) = launch.into_parts();
    assert_eq!(Value::Object(raw), claims);
}

#[test]
fn payload_with_a_duplicated_claim_is_refused() {
    // Two nonces: which one a reader takes must not matter, so the token is refused.
    let header = r#"{"alg":"RS256"}"#;
    let body = resource_link_claims().to_string();
    let body = format!(r#"{{"nonce":"other-nonce",{}"#, &body[1..]);
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(body.as_bytes()));
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &PLATFORM.encoding,
        jsonwebtoken::Algorithm::RS256,
    )
    .expect("sign");
    let token = format!("{signing_input}.{signature}");
    assert!(matches!(
        do_launch(&token).expect_err("refused"),
        LaunchError::Malformed { .. }
    ));
}

// ---------------------------------------------------------------- refused: token and key

#[test]
fn alg_none_is_refused() {
    let payload = b64(resource_link_claims().to_string().as_bytes());
    for header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"none","kid":"platform-key-1"}"#,
    ] {
        let header = b64(header.as_bytes());
        for signature in ["", "c2ln"] {
            let token = format!("{header}.{payload}.{signature}");
            assert_eq!(
                do_launch(&token).expect_err("refused"),
                LaunchError::AlgNotAllowed
            );
        }
    }
}

#[test]
fn hs256_signed_with_the_platform_public_key_is_refused() {
    let pem = PLATFORM.public_pem.as_deref().expect("pem");
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("platform-key-1".to_owned());
    let token = sign(
        &header,
        &resource_link_claims(),
        &EncodingKey::from_secret(pem.as_bytes()),
    );
    let static_key = VerificationKey::from_rsa_pem(pem.as_bytes()).expect("pem key");
    for key in [platform_key(), static_key] {
        assert_eq!(
            do_launch_with(&token, &key, NOW, 0).expect_err("refused"),
            LaunchError::AlgNotAllowed
        );
    }
}

#[test]
fn key_in_jwk_header_is_ignored() {
    let mut header = rs256_header();
    header.jwk = Some(serde_json::from_value(OTHER.jwk.clone()).expect("attacker jwk"));
    let token = sign(&header, &resource_link_claims(), &OTHER.encoding);
    assert_eq!(
        do_launch(&token).expect_err("refused"),
        LaunchError::SignatureInvalid
    );
}

#[test]
fn key_url_in_jku_and_x5u_headers_is_ignored() {
    let mut header = rs256_header();
    header.jku = Some("https://attacker.example/jwks.json".to_owned());
    header.x5u = Some("https://attacker.example/cert.pem".to_owned());
    let token = sign(&header, &resource_link_claims(), &OTHER.encoding);
    assert_eq!(
        do_launch(&token).expect_err("refused"),
        LaunchError::SignatureInvalid
    );
}

#[test]
fn es256_header_with_rsa_key_is_refused() {
    let token = sign(
        &Header::new(jsonwebtoken::Algorithm::ES256),
        &resource_link_claims(),
        &PLATFORM_EC.encoding,
    );
    assert_eq!(
        do_launch(&token).expect_err("refused"),
        LaunchError::KeyAlgMismatch
    );
}

#[test]
fn rs256_header_with_ec_key_is_refused() {
    let jwk: Jwk = serde_json::from_value(PLATFORM_EC.jwk.clone()).expect("jwk");
    let ec = VerificationKey::from_jwk(&jwk).expect("EC key");
    let token = sign(&rs256_header(), &resource_link_claims(), &PLATFORM.encoding);
    assert_eq!(
        do_launch_with(&token, &ec, NOW, 0).expect_err("refused"),
        LaunchError::KeyAlgMismatch
    );
}

#[test]
fn header_alg_other_than_the_jwk_alg_is_refused() {
    let mut declared = PLATFORM.jwk.clone();
    declared["alg"] = json!("RS256");
    let key =
        VerificationKey::from_jwk(&serde_json::from_value(declared).expect("jwk")).expect("key");
    let token = sign(
        &Header::new(jsonwebtoken::Algorithm::RS512),
        &resource_link_claims(),
        &PLATFORM.encoding,
    );
    assert_eq!(
        do_launch_with(&token, &key, NOW, 0).expect_err("refused"),
        LaunchError::KeyAlgMismatch
    );
}

#[test]
fn tampered_payload_is_refused() {
    let token = sign(&rs256_header(), &resource_link_claims(), &PLATFORM.encoding);
    let forged = with(
        resource_link_claims(),
        uri::ROLES,
        json!(["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"]),
    );
    let tampered = splice(&token, 1, &b64(forged.to_string().as_bytes()));
    assert_eq!(
        do_launch(&tampered).expect_err("refused"),
        LaunchError::SignatureInvalid
    );
}

#[test]
fn tampered_signature_is_refused() {
    let token = sign(&rs256_header(), &resource_link_claims(), &PLATFORM.encoding);
    let signature = token.rsplit('.').next().expect("signature");
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = splice(&token, 2, &format!("{flipped}{}", &signature[1..]));
    assert_eq!(
        do_launch(&tampered).expect_err("refused"),
        LaunchError::SignatureInvalid
    );
    let truncated = splice(&token, 2, &signature[..signature.len() - 4]);
    assert_eq!(
        do_launch(&truncated).expect_err("refused"),
        LaunchError::SignatureInvalid
    );
}

#[test]
fn token_signed_by_another_key_is_refused() {
    let token = sign(&rs256_header(), &resource_link_claims(), &OTHER.encoding);
    assert_eq!(
        do_launch(&token).expect_err("refused"),
        LaunchError::SignatureInvalid
    );
}

#[test]
fn signed_payload_that_is_not_a_json_object_is_refused() {
    for payload in [json!(["not", "an", "object"]), json!("text")] {
        let token = sign(&rs256_header(), &payload, &PLATFORM.encoding);
        assert!(matches!(
            do_launch(&token).expect_err("refused"),
            LaunchError::Malformed { .. }
        ));
    }
}

#[test]
fn garbage_token_is_refused() {
    for garbage in [
        "",
        "garbage",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9",
        "🦀.🦀.🦀",
    ] {
        let err = do_launch(garbage).expect_err("refused");
        assert_eq!(err.code(), "TOKEN_MALFORMED", "{garbage:?}");
    }
}

#[test]
fn oversized_token_is_refused() {
    let padding = "x".repeat(UnverifiedIdToken::MAX_LEN);
    let claims = with(resource_link_claims(), "padding", json!(padding));
    let token = sign(&rs256_header(), &claims, &PLATFORM.encoding);
    assert_eq!(
        do_launch(&token).expect_err("refused").code(),
        "TOKEN_TOO_LARGE"
    );
}

// ---------------------------------------------------------------- refused: claims

#[test]
fn expired_token_is_refused() {
    let claims = with(resource_link_claims(), "exp", json!(NOW - 1));
    assert_eq!(do_launch_until_error(claims), LaunchError::TokenExpired);
}

#[test]
fn token_without_exp_is_refused() {
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), "exp")),
        LaunchError::ExpMissing
    );
}

#[test]
fn token_without_iat_is_refused() {
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), "iat")),
        LaunchError::IatMissing
    );
}

#[test]
fn token_issued_in_the_future_is_refused() {
    let claims = with(resource_link_claims(), "iat", json!(NOW + 120));
    assert_eq!(do_launch_until_error(claims), LaunchError::IatInFuture);
}

#[test]
fn token_not_yet_valid_is_refused() {
    let claims = with(resource_link_claims(), "nbf", json!(NOW + 120));
    assert_eq!(do_launch_until_error(claims), LaunchError::NotYetValid);
}

#[test]
fn wrong_issuer_is_refused() {
    let claims = with(
        resource_link_claims(),
        "iss",
        json!("https://evil.example.edu"),
    );
    assert_eq!(do_launch_until_error(claims), LaunchError::IssMismatch);
}

#[test]
fn wrong_audience_is_refused() {
    let claims = with(resource_link_claims(), "aud", json!("another-tool"));
    assert_eq!(do_launch_until_error(claims), LaunchError::AudMismatch);
}

#[test]
fn audience_array_without_our_client_is_refused() {
    let claims = with(
        with(
            resource_link_claims(),
            "aud",
            json!(["another-tool", "third"]),
        ),
        "azp",
        json!("another-tool"),
    );
    assert_eq!(do_launch_until_error(claims), LaunchError::AudMismatch);
}

#[test]
fn two_audiences_without_azp_are_refused() {
    let claims = with(
        resource_link_claims(),
        "aud",
        json!([CLIENT_ID, "another-tool"]),
    );
    assert_eq!(do_launch_until_error(claims), LaunchError::AzpMissing);
}

#[test]
fn wrong_azp_is_refused() {
    let claims = with(
        with(
            resource_link_claims(),
            "aud",
            json!([CLIENT_ID, "another-tool"]),
        ),
        "azp",
        json!("another-tool"),
    );
    assert_eq!(do_launch_until_error(claims), LaunchError::AzpMismatch);
}

#[test]
fn nonce_from_another_login_is_refused() {
    let claims = with(
        resource_link_claims(),
        "nonce",
        json!("nonce-of-another-login"),
    );
    assert_eq!(do_launch_until_error(claims), LaunchError::NonceMismatch);
}

#[test]
fn token_without_nonce_is_refused() {
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), "nonce")),
        LaunchError::NonceMissing
    );
}

#[test]
fn wrong_lti_version_is_refused() {
    let claims = with(resource_link_claims(), uri::VERSION, json!("1.1.0"));
    assert_eq!(do_launch_until_error(claims), LaunchError::VersionInvalid);
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), uri::VERSION)),
        LaunchError::VersionMissing
    );
}

#[test]
fn missing_message_type_is_refused() {
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), uri::MESSAGE_TYPE)),
        LaunchError::MessageTypeMissing
    );
}

#[test]
fn unsupported_message_type_is_refused() {
    let claims = with(
        resource_link_claims(),
        uri::MESSAGE_TYPE,
        json!("LtiSubmissionReviewRequest"),
    );
    assert_eq!(
        do_launch_until_error(claims),
        LaunchError::MessageTypeUnsupported
    );
}

#[test]
fn missing_deployment_id_is_refused() {
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), uri::DEPLOYMENT_ID)),
        LaunchError::DeploymentIdMissing
    );
    assert_eq!(
        do_launch_until_error(with(resource_link_claims(), uri::DEPLOYMENT_ID, json!(""))),
        LaunchError::DeploymentIdMissing
    );
}

#[test]
fn resource_link_without_id_is_refused() {
    let claims = with(
        resource_link_claims(),
        uri::RESOURCE_LINK,
        json!({"title": "x"}),
    );
    assert_eq!(
        do_launch_until_error(claims),
        LaunchError::ResourceLinkMissing
    );
}

#[test]
fn resource_link_without_target_link_uri_is_refused() {
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), uri::TARGET_LINK_URI)),
        LaunchError::TargetLinkUriMissing
    );
}

#[test]
fn resource_link_without_roles_is_refused() {
    assert_eq!(
        do_launch_until_error(without(resource_link_claims(), uri::ROLES)),
        LaunchError::RolesMissing
    );
}

#[test]
fn deep_linking_without_sub_is_refused() {
    assert_eq!(
        do_launch_until_error(without(deep_linking_claims(), "sub")),
        LaunchError::SubMissing
    );
}

#[test]
fn deep_linking_without_settings_is_refused() {
    assert_eq!(
        do_launch_until_error(without(deep_linking_claims(), uri::DEEP_LINKING_SETTINGS)),
        LaunchError::DeepLinkingSettingsMissing
    );
}

#[test]
fn wrong_claim_types_are_refused_naming_the_claim() {
    let cases = [
        ("aud", json!(42), "aud"),
        ("exp", json!("tomorrow"), "exp"),
        ("nonce", json!([NONCE]), "nonce"),
        ("sub", json!(""), "sub"),
        (uri::ROLES, json!("Learner"), "roles"),
        (uri::CONTEXT, json!(["course"]), "context"),
        (uri::RESOURCE_LINK, json!({"id": 1}), "resource_link"),
        (uri::CUSTOM, json!("a=b"), "custom"),
        (uri::TARGET_LINK_URI, json!("not a url"), "target_link_uri"),
    ];
    for (key, value, claim) in cases {
        let err = do_launch_until_error(with(resource_link_claims(), key, value));
        assert_eq!(err, LaunchError::ClaimInvalid { claim }, "{key}");
        assert_eq!(err.check(), claim);
    }
}
