//! Property tests of the parsers that read what a stranger sends: the id_token (parsed and
//! verified with a real RSA key) and the Dynamic Registration documents. Hostile input is an
//! error, never a panic, and an id_token is accepted only when every checked claim is right.
//!
//! `never_panics.rs` covers `parse` and the claim reader alone; here tokens are signed with the
//! platform's real key, so every refusal past the signature is exercised too.

#[allow(dead_code)] // the EC key and header helpers serve other test binaries
mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{OTHER, PLATFORM, TestKey, fixture_claims, fixture_document};
use jsonwebtoken::EncodingKey;
use lti::LaunchError;
use lti::claims::uri;
use lti::id_token::{Expectations, UnverifiedIdToken, VerifiedLaunch, verify};
use lti::ids::{ClientId, Issuer, Nonce};
use lti::jwk::{Jwk, VerificationKey};
use lti::registration::{
    PlatformConfiguration, RegistrationError, check_issuer, default_hosted_issuers,
    parse_registration_response,
};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

const NOW: u64 = 1_700_000_000;
/// When the login that asked for these tokens started.
const LOGIN_STARTED: u64 = NOW - 60;
const ISSUER: &str = "https://lms.example.edu";
const CLIENT_ID: &str = "tool-client-1";
const NONCE: &str = "nonce-4f0c2a";
/// Enough to find shape bugs while the suite stays fast on two cores (RSA signing dominates).
const CASES: u32 = 256;

fn config() -> Config {
    Config::with_cases(CASES)
}

/// Any JSON value, with the strings a launch or a registration document cares about mixed in.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,16}".prop_map(Value::String),
        prop::sample::select(vec![
            ISSUER,
            CLIENT_ID,
            NONCE,
            "1.3.0",
            "RS256",
            "LtiResourceLinkRequest",
            "LtiDeepLinkingRequest",
            "https://lms.example.edu/jwks",
            "http://127.0.0.1/x",
            "javascript:alert(1)",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}|id|type|placements", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------- id_token

/// The expectations every token here is verified against.
fn verify_token(token: &str) -> Result<VerifiedLaunch, LaunchError> {
    let jwk: Jwk = serde_json::from_value(PLATFORM.jwk.clone()).expect("jwk");
    let key = VerificationKey::from_jwk(&jwk).expect("platform key");
    verify(
        &UnverifiedIdToken::parse(token)?,
        &key,
        &Expectations {
            issuer: &Issuer::new(ISSUER),
            client_id: &ClientId::new(CLIENT_ID),
            nonce: &Nonce::new(NONCE),
            now: NOW,
            issued_after: LOGIN_STARTED,
            leeway_secs: 0,
        },
    )
}

/// A compact JWS of exactly this header and payload text, signed RS256 with `key`.
fn sign_raw(header: &Value, payload: &Value, key: &EncodingKey) -> String {
    lti::install_crypto_provider();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), key, jsonwebtoken::Algorithm::RS256)
            .expect("sign");
    format!("{input}.{signature}")
}

/// A valid launch: a real platform's claims (or a minimal set) with this test's OIDC claims.
fn valid_claims(base: &str) -> Map<String, Value> {
    let mut claims = match base {
        "minimal" => json!({
            "sub": "user-1",
            uri::VERSION: "1.3.0",
            uri::MESSAGE_TYPE: "LtiResourceLinkRequest",
            uri::DEPLOYMENT_ID: "deployment-1",
            uri::TARGET_LINK_URI: "https://tool.example.com/launch",
            uri::RESOURCE_LINK: {"id": "link-1"},
            uri::ROLES: [],
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
        platform => fixture_claims(platform),
    };
    claims.remove("azp");
    for (name, value) in [
        ("iss", json!(ISSUER)),
        ("aud", json!(CLIENT_ID)),
        ("nonce", json!(NONCE)),
        ("iat", json!(NOW)),
        ("exp", json!(NOW + 300)),
    ] {
        claims.insert(name.to_owned(), value);
    }
    claims
}

/// One change that must make the token unacceptable: a claim removed (`None`) or set to a
/// value the rules refuse.
#[derive(Clone, Debug)]
struct Breakage {
    claim: &'static str,
    value: Option<Value>,
}

fn removed(claim: &'static str) -> BoxedStrategy<Breakage> {
    Just(Breakage { claim, value: None }).boxed()
}

fn set_to(
    claim: &'static str,
    values: impl Strategy<Value = Value> + 'static,
) -> BoxedStrategy<Breakage> {
    values
        .prop_map(move |v| Breakage {
            claim,
            value: Some(v),
        })
        .boxed()
}

/// A JSON value that is not a number (null counts as absent, which is refused as well).
fn not_a_number() -> impl Strategy<Value = Value> {
    json_value().prop_filter("not a number", |v| !v.is_number())
}

/// One claim broken, each claim as likely as the others.
fn breakage() -> impl Strategy<Value = Breakage> {
    let not = |good: Value| json_value().prop_filter("a wrong value", move |v| *v != good);
    prop_oneof![
        prop_oneof![
            removed("iss"),
            set_to("iss", not(json!(ISSUER))),
            set_to("iss", Just(json!(format!("{ISSUER}/")))),
        ],
        prop_oneof![
            removed("aud"),
            set_to(
                "aud",
                json_value().prop_filter("does not name the client", |v| match v {
                    Value::String(s) => s != CLIENT_ID,
                    Value::Array(items) => !items.contains(&json!(CLIENT_ID)),
                    _ => true,
                })
            ),
            // Two audiences need an azp naming the client; these tokens carry none.
            set_to("aud", Just(json!([CLIENT_ID, "another-tool"]))),
            set_to("aud", Just(json!(["another-tool", CLIENT_ID]))),
        ],
        set_to(
            "azp",
            not(json!(CLIENT_ID)).prop_filter("present", |v| !v.is_null())
        ),
        prop_oneof![
            removed("exp"),
            set_to("exp", (0..=NOW).prop_map(Value::from)),
            set_to("exp", (i64::MIN..0).prop_map(Value::from)),
            set_to("exp", not_a_number()),
        ],
        prop_oneof![
            removed("iat"),
            set_to("iat", (NOW + 1..=u64::MAX).prop_map(Value::from)),
            set_to("iat", ((NOW + 1) as f64..1e300).prop_map(Value::from)),
            set_to("iat", not_a_number()),
            set_to("iat", (0..LOGIN_STARTED).prop_map(Value::from)),
        ],
        prop_oneof![
            set_to("nbf", (NOW + 1..=u64::MAX).prop_map(Value::from)),
            set_to(
                "nbf",
                not_a_number().prop_filter("present", |v| !v.is_null())
            ),
        ],
        prop_oneof![removed("nonce"), set_to("nonce", not(json!(NONCE)))],
        prop_oneof![
            removed(uri::VERSION),
            set_to(uri::VERSION, not(json!("1.3.0"))),
        ],
        prop_oneof![
            removed(uri::MESSAGE_TYPE),
            set_to(
                uri::MESSAGE_TYPE,
                json_value().prop_filter("not a supported type", |v| {
                    v.as_str().is_none_or(|t| {
                        t != "LtiResourceLinkRequest" && t != "LtiDeepLinkingRequest"
                    })
                })
            ),
        ],
        prop_oneof![
            removed(uri::DEPLOYMENT_ID),
            set_to(
                uri::DEPLOYMENT_ID,
                json_value().prop_filter("not a usable id", |v| {
                    v.as_str().is_none_or(str::is_empty)
                })
            ),
            set_to(uri::DEPLOYMENT_ID, "[a-z]{256,300}".prop_map(Value::String)),
        ],
    ]
}

/// The header: `alg` RS256 (`None`) or another name the RSA key must never verify under, plus
/// members an attacker adds to steer key selection, which must be ignored.
fn header_and_alg_breakage() -> impl Strategy<Value = (Value, bool)> {
    let alg = prop_oneof![
        8 => Just(None),
        1 => prop::sample::select(vec![
            "none", "None", "HS256", "HS384", "ES256", "PS256", "rs256", "RS256 ", "",
        ])
        .prop_map(|a| Some(a.to_owned())),
        1 => ".{0,8}".prop_filter("not an RSA alg", |a| !a.starts_with("RS"))
            .prop_map(Some),
    ];
    let noise = prop::collection::btree_map(
        prop::sample::select(vec!["kid", "typ", "jku", "x5u", "cty"]),
        ".{0,24}".prop_map(Value::String),
        0..3,
    );
    (alg, noise, any::<bool>()).prop_map(|(alg, noise, embed_other_key)| {
        let mut header: Map<String, Value> =
            noise.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let broken = alg.is_some();
        header.insert("alg".into(), json!(alg.unwrap_or_else(|| "RS256".into())));
        if embed_other_key {
            // A key carried by the token itself is never a reason to trust it.
            header.insert("jwk".into(), OTHER.jwk.clone());
        }
        (Value::Object(header), broken)
    })
}

proptest! {
    #![proptest_config(config())]

    /// Signed with the platform's real key: accepted exactly when nothing was broken and the
    /// platform (not another key holder) signed it.
    #[test]
    fn a_signed_token_is_accepted_only_when_every_checked_claim_is_right(
        base in prop::sample::select(vec!["minimal", "canvas", "moodle", "spec-example"]),
        // Mostly one claim broken, so each rule is the only reason for a refusal in many cases.
        breakages in prop_oneof![
            1 => Just(Vec::new()),
            3 => breakage().prop_map(|b| vec![b]),
            1 => prop::collection::vec(breakage(), 2..4),
        ],
        (header, alg_broken) in header_and_alg_breakage(),
        noise in prop::collection::btree_map("x-[a-z]{1,8}", json_value(), 0..3),
        signed_by_other in prop::bool::weighted(0.1),
    ) {
        let mut claims = valid_claims(base);
        claims.extend(noise);
        for b in &breakages {
            match &b.value {
                None => claims.remove(b.claim),
                Some(v) => claims.insert(b.claim.to_owned(), v.clone()),
            };
        }
        let key: &TestKey = if signed_by_other { &OTHER } else { &PLATFORM };
        let token = sign_raw(&header, &Value::Object(claims), &key.encoding);
        let result = verify_token(&token);
        let must_refuse = !breakages.is_empty() || alg_broken || signed_by_other;
        prop_assert_eq!(
            result.is_ok(),
            !must_refuse,
            "breakages {:?}, alg broken {}, other key {}: {:?}",
            breakages, alg_broken, signed_by_other, result.map(|_| "accepted")
        );
    }

    /// Three base64url parts around a header that names the platform's alg: the payload and
    /// signature are arbitrary, so the signature never verifies.
    #[test]
    fn arbitrary_three_part_base64url_is_never_a_launch(
        header in prop::sample::select(vec![
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"RS256","kid":"platform-key-1"}"#,
            r#"{"alg":"RS512","typ":"JWT"}"#,
            r#"{"alg":"none"}"#,
            r#"{"alg":"HS256"}"#,
        ]),
        payload in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            json_value().prop_map(|v| v.to_string().into_bytes()),
        ],
        signature in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&signature),
        );
        prop_assert!(verify_token(&token).is_err());
    }

    /// Any text at all, including base64url-looking text with dots.
    #[test]
    fn arbitrary_text_is_never_a_launch(
        token in prop_oneof![".{0,400}", "[A-Za-z0-9_.=-]{0,400}"],
    ) {
        prop_assert!(verify_token(&token).is_err());
    }
}

// ---------------------------------------------------------------- registration documents

/// A change to one place of a document.
#[derive(Clone, Debug)]
enum Edit {
    Replace(Value),
    Remove,
    Insert(String, Value),
}

/// Applies `edit` where `path` leads: each step picks a child (index modulo the children
/// there), descending while there are children.
fn mutate(doc: &mut Value, path: &[usize], edit: Edit) {
    let (child_count, step) = match doc {
        Value::Object(map) => (map.len(), path.first()),
        Value::Array(items) => (items.len(), path.first()),
        _ => (0, None),
    };
    let Some(&step) = step.filter(|_| child_count > 0) else {
        match (edit, doc) {
            (Edit::Insert(k, v), Value::Object(map)) => {
                map.insert(k, v);
            }
            (Edit::Insert(_, v) | Edit::Replace(v), doc) => *doc = v,
            (Edit::Remove, doc) => *doc = Value::Null,
        }
        return;
    };
    let index = step % child_count;
    let last = path.len() == 1;
    match doc {
        Value::Object(map) => {
            let Some(key) = map.keys().nth(index).cloned() else {
                return;
            };
            if last && matches!(edit, Edit::Remove) {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                mutate(child, &path[1..], edit);
            }
        }
        Value::Array(items) => {
            if last && matches!(edit, Edit::Remove) {
                items.remove(index);
            } else if let Some(child) = items.get_mut(index) {
                mutate(child, &path[1..], edit);
            }
        }
        _ => {}
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        json_value().prop_map(Edit::Replace),
        Just(Edit::Remove),
        ("[a-z_ ]{1,12}", json_value()).prop_map(|(k, v)| Edit::Insert(k, v)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<(Vec<usize>, Edit)>> {
    prop::collection::vec((prop::collection::vec(any::<usize>(), 0..5), edit()), 1..4)
}

fn fixture_member(platform: &str, member: &str) -> Value {
    fixture_document(platform)
        .remove(member)
        .unwrap_or_else(|| panic!("{platform} fixture has no {member}"))
}

/// `member` of a platform fixture with `edits` applied.
fn mutated_fixture(platform: &str, member: &str, edits: Vec<(Vec<usize>, Edit)>) -> Value {
    let mut doc = fixture_member(platform, member);
    for (path, edit) in edits {
        mutate(&mut doc, &path, edit);
    }
    doc
}

fn platforms() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["canvas", "moodle", "spec-example"])
}

/// A parsed configuration says what its document says, and the issuer check never panics on it.
fn check_configuration(
    parsed: &Result<PlatformConfiguration, RegistrationError>,
) -> Result<(), TestCaseError> {
    if let Ok(config) = parsed {
        prop_assert_eq!(config.raw["issuer"].as_str(), Some(config.issuer.as_str()));
        for url in [
            &config.authorization_endpoint,
            &config.token_endpoint,
            &config.jwks_uri,
            &config.registration_endpoint,
        ] {
            prop_assert!(matches!(url.scheme(), "http" | "https"), "{}", url);
        }
        let configuration_url = url::Url::parse(&format!(
            "{}/.well-known/openid-configuration",
            config.issuer
        ))
        .unwrap_or_else(|_| config.token_endpoint.clone());
        let _ = check_issuer(config, &configuration_url, &default_hosted_issuers(), true);
    } else if let Err(e) = parsed {
        prop_assert!(!e.code().is_empty());
    }
    Ok(())
}

fn check_response(
    parsed: &Result<lti::registration::RegistrationResponse, RegistrationError>,
) -> Result<(), TestCaseError> {
    if let Ok(response) = parsed {
        prop_assert!(!response.client_id.is_empty());
        prop_assert!(
            response
                .deployment_id
                .as_deref()
                .is_none_or(|d| !d.is_empty())
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_json_as_a_platform_configuration_is_an_error_or_a_consistent_document(
        doc in json_value(),
    ) {
        check_configuration(&PlatformConfiguration::parse(doc.to_string().as_bytes()))?;
    }

    #[test]
    fn mutated_real_configurations_never_panic(
        platform in platforms(),
        edits in mutations(),
    ) {
        let doc = mutated_fixture(platform, "openid_configuration", edits);
        check_configuration(&PlatformConfiguration::parse(doc.to_string().as_bytes()))?;
    }

    #[test]
    fn any_json_as_a_registration_response_is_an_error_or_names_a_client(
        doc in json_value(),
    ) {
        check_response(&parse_registration_response(doc.to_string().as_bytes()))?;
    }

    #[test]
    fn mutated_real_registration_responses_never_panic(
        platform in platforms(),
        edits in mutations(),
    ) {
        let doc = mutated_fixture(platform, "registration_response", edits);
        check_response(&parse_registration_response(doc.to_string().as_bytes()))?;
    }

    #[test]
    fn arbitrary_bytes_are_refused_by_both_document_parsers(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        check_configuration(&PlatformConfiguration::parse(&bytes))?;
        check_response(&parse_registration_response(&bytes))?;
    }
}

#[test]
fn the_unmutated_fixtures_parse() {
    for platform in ["canvas", "moodle", "spec-example"] {
        PlatformConfiguration::parse(
            fixture_member(platform, "openid_configuration")
                .to_string()
                .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{platform}: {e}"));
        parse_registration_response(
            fixture_member(platform, "registration_response")
                .to_string()
                .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{platform}: {e}"));
    }
}

#[test]
fn the_unbroken_tokens_verify() {
    // The positive side of the property, for each base, so the property cannot pass by
    // refusing everything.
    for base in ["minimal", "canvas", "moodle", "spec-example"] {
        let token = sign_raw(
            &json!({"alg": "RS256", "kid": "platform-key-1"}),
            &Value::Object(valid_claims(base)),
            &PLATFORM.encoding,
        );
        verify_token(&token).unwrap_or_else(|e| panic!("{base}: {e}"));
    }
}
