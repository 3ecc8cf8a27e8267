//! Parsing and the OIDC claim checks on plain payloads; signed end-to-end cases are in
//! `tests/launch.rs`.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token_with_header(header: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(b"{}"),
        b64(b"sig")
    )
}

fn parse_err(token: &str) -> LaunchError {
    UnverifiedIdToken::parse(token).expect_err("must be refused")
}

#[test]
fn parse_reads_alg_and_kid_only() {
    let token = token_with_header(&json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}));
    let parsed = UnverifiedIdToken::parse(&token).expect("parse");
    assert_eq!(parsed.alg(), Algorithm::RS256);
    assert_eq!(parsed.kid().map(Kid::as_str), Some("k1"));
    let es = UnverifiedIdToken::parse(&token_with_header(&json!({"alg": "ES256"}))).expect("parse");
    assert_eq!(es.alg(), Algorithm::ES256);
    assert!(es.kid().is_none());
}

#[test]
fn parse_refuses_algorithms_outside_the_allowlist() {
    for alg in ["none", "HS256", "HS512", "PS256", "ES384", "EdDSA", "rs256"] {
        assert_eq!(
            parse_err(&token_with_header(&json!({"alg": alg}))),
            LaunchError::AlgNotAllowed,
            "{alg}"
        );
    }
}

#[test]
fn parse_refuses_unsigned_tokens() {
    let payload = b64(br#"{"sub":"x"}"#);
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none"}"#));
    assert_eq!(parse_err(&none), LaunchError::AlgNotAllowed);
    let empty_signature = format!("{}.{payload}.", b64(br#"{"alg":"RS256"}"#));
    assert!(matches!(
        parse_err(&empty_signature),
        LaunchError::Malformed { .. }
    ));
}

#[test]
fn parse_ignores_key_headers() {
    // The key material in these headers is never read, so its shape does not matter.
    let token = token_with_header(&json!({
        "alg": "RS256", "kid": "k1",
        "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        "jku": "https://attacker.example/jwks", "x5u": "https://attacker.example/cert",
        "x5c": ["MIIB"],
    }));
    let parsed = UnverifiedIdToken::parse(&token).expect("parse");
    assert_eq!(parsed.kid().map(Kid::as_str), Some("k1"));
}

#[test]
fn parse_refuses_critical_extensions() {
    // RFC 7515 §4.1.11: a `crit` naming extensions the recipient does not support makes the
    // JWS invalid, and this crate supports none (not even the unencoded-payload `b64`).
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("exp")] {
        let token = token_with_header(&json!({"alg": "RS256", "kid": "k1", "crit": crit}));
        assert!(
            matches!(parse_err(&token), LaunchError::Malformed { .. }),
            "{crit}"
        );
    }
}

#[test]
fn parse_refuses_malformed_tokens() {
    let header = b64(br#"{"alg":"RS256"}"#);
    let payload = b64(b"{}");
    let cases = [
        String::new(),
        "garbage".to_owned(),
        "a.b".to_owned(),
        format!("{header}.{payload}.c2ln.extra"),
        format!("{header}.{payload}.c2ln=="),
        format!("{header}.{payload}.c2l+"),
        format!("{header}.p@yload.c2ln"),
        format!("{header}.A.c2ln"),
        format!("!!!.{payload}.c2ln"),
        format!("{}.{payload}.c2ln", b64(b"not json")),
        format!("{}.{payload}.c2ln", b64(b"[\"RS256\"]")),
        format!("{}.{payload}.c2ln", b64(br#"{"kid":"k"}"#)),
        format!("{}.{payload}.c2ln", b64(br#"{"alg":256}"#)),
        format!("{}.{payload}.c2ln", b64(br#"{"alg":"RS256","kid":5}"#)),
        format!("{}.{payload}.c2ln", b64(br#"{"alg":"RS256","alg":"none"}"#)),
    ];
    for token in cases {
        assert!(
            matches!(parse_err(&token), LaunchError::Malformed { .. }),
            "{token:?}"
        );
    }
}

#[test]
fn parse_refuses_oversized_tokens_before_reading_them() {
    let header = b64(br#"{"alg":"RS256"}"#);
    let filler = "A".repeat(UnverifiedIdToken::MAX_LEN);
    let token = format!("{header}.{filler}.c2ln");
    assert_eq!(
        parse_err(&token),
        LaunchError::TokenTooLarge {
            max: UnverifiedIdToken::MAX_LEN
        }
    );
}

/// A payload object whose `deep` claim nests arrays so the whole payload has `depth` levels.
fn nested_payload(depth: usize) -> String {
    let inner = depth - 1;
    format!("{{\"deep\":{}{}}}", "[".repeat(inner), "]".repeat(inner))
}

fn token_with_payload(payload: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256"}"#),
        b64(payload.as_bytes()),
        b64(b"sig")
    )
}

#[test]
fn parse_refuses_payloads_nested_deeper_than_the_limit() {
    let max = UnverifiedIdToken::MAX_DEPTH;
    let at_limit = nested_payload(max);
    assert!(UnverifiedIdToken::parse(&token_with_payload(&at_limit)).is_ok());
    // Whatever passes the limit can be read back later (serde_json stops at 128 levels).
    serde_json::from_str::<Map<String, Value>>(&at_limit).expect("readable at the limit");
    for depth in [max + 1, 127, 129, 5000] {
        assert_eq!(
            parse_err(&token_with_payload(&nested_payload(depth))),
            LaunchError::TokenTooDeep { max },
            "{depth}"
        );
    }
    // Unbalanced or invalid text is not this check's business: it fails later as malformed.
    assert!(UnverifiedIdToken::parse(&token_with_payload("]]]}{")).is_ok());
}

#[test]
fn brackets_inside_strings_are_not_nesting() {
    let brackets = "[{".repeat(100);
    let payload = json!({
        "a": brackets,
        "b": format!("\\\"{brackets}"),
        "c": "\\",
        "d": format!("\"{brackets}\""),
    })
    .to_string();
    assert!(UnverifiedIdToken::parse(&token_with_payload(&payload)).is_ok());
    // A string ending in a backslash closes normally: the brackets after it count.
    let after = format!(
        "{{\"c\":\"\\\\\",\"d\":{}{}}}",
        "[".repeat(70),
        "]".repeat(70)
    );
    assert_eq!(
        parse_err(&token_with_payload(&after)),
        LaunchError::TokenTooDeep {
            max: UnverifiedIdToken::MAX_DEPTH
        }
    );
}

fn depth_of(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    // Strings full of brackets, quotes and backslashes: the scanner must skip them all.
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        r#"[\[\]{}"\\a-z ]{0,8}"#.prop_map(Value::String),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(12, 64, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(r#"[\[{"\\a-z]{0,4}"#, inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn the_depth_scan_agrees_with_the_json_structure(value in any_json(), max in 0usize..14) {
        let text = value.to_string();
        prop_assert_eq!(nests_deeper_than(&text, max), depth_of(&value) > max);
        let pretty = serde_json::to_string_pretty(&value).expect("serialises");
        prop_assert_eq!(nests_deeper_than(&pretty, max), depth_of(&value) > max);
    }
}

#[test]
fn debug_never_prints_the_token() {
    let token = token_with_header(&json!({"alg": "RS256", "kid": "k1"}));
    let parsed = UnverifiedIdToken::parse(&token).expect("parse");
    let printed = format!("{parsed:?}");
    assert!(!printed.contains(&token[..10]));
    assert!(printed.contains("RS256"));
}

// --- Steps 2 to 5 on plain payloads ---

const NOW: u64 = 1_700_000_000;
/// When the login the fixture's launch answers started.
const LOGIN_STARTED: u64 = NOW - 30;

struct Fixture {
    issuer: Issuer,
    client_id: ClientId,
    nonce: Nonce,
}

impl Fixture {
    fn new() -> Self {
        Self {
            issuer: Issuer::new("https://lms.example.edu"),
            client_id: ClientId::new("client-1"),
            nonce: Nonce::new("n-123"),
        }
    }

    fn expect(&self, leeway_secs: u64) -> Expectations<'_> {
        Expectations {
            issuer: &self.issuer,
            client_id: &self.client_id,
            nonce: &self.nonce,
            now: NOW,
            issued_after: LOGIN_STARTED,
            leeway_secs,
        }
    }

    fn check(&self, payload: Value) -> Result<(), LaunchError> {
        self.check_with_leeway(payload, 0)
    }

    fn check_with_leeway(&self, payload: Value, leeway: u64) -> Result<(), LaunchError> {
        let Value::Object(raw) = payload else {
            panic!("payload must be an object");
        };
        check_oidc_claims(&ClaimRefs::from_map(&raw), &self.expect(leeway))?;
        // The launch path reads the payload text instead of a map: same outcome.
        let text = Value::Object(raw).to_string();
        check_oidc_claims(&ClaimRefs::from_json(&text)?, &self.expect(leeway))
    }
}

fn payload() -> Value {
    json!({
        "iss": "https://lms.example.edu",
        "aud": "client-1",
        "exp": NOW + 60,
        "iat": NOW,
        "nonce": "n-123",
    })
}

fn set(mut payload: Value, key: &str, value: Value) -> Value {
    payload[key] = value;
    payload
}

fn unset(mut payload: Value, key: &str) -> Value {
    if let Some(map) = payload.as_object_mut() {
        map.remove(key);
    }
    payload
}

#[test]
fn valid_oidc_claims_pass() {
    assert_eq!(Fixture::new().check(payload()), Ok(()));
}

#[test]
fn iss_must_match_exactly() {
    let f = Fixture::new();
    for iss in [
        "https://lms.example.edu/",
        "https://LMS.example.edu",
        "",
        "https://evil",
    ] {
        assert_eq!(
            f.check(set(payload(), "iss", json!(iss))),
            Err(LaunchError::IssMismatch)
        );
    }
    assert_eq!(
        f.check(unset(payload(), "iss")),
        Err(LaunchError::IssMismatch)
    );
    assert_eq!(
        f.check(set(payload(), "iss", json!(["https://lms.example.edu"]))),
        Err(LaunchError::ClaimInvalid { claim: "iss" })
    );
}

#[test]
fn aud_is_a_string_or_an_array_containing_the_client_id() {
    let f = Fixture::new();
    assert_eq!(f.check(set(payload(), "aud", json!(["client-1"]))), Ok(()));
    assert_eq!(
        f.check(set(payload(), "aud", json!("client-2"))),
        Err(LaunchError::AudMismatch)
    );
    assert_eq!(
        f.check(set(payload(), "aud", json!(["client-2", "client-3"]))),
        Err(LaunchError::AudMismatch)
    );
    assert_eq!(
        f.check(set(payload(), "aud", json!([]))),
        Err(LaunchError::AudMismatch)
    );
    assert_eq!(
        f.check(unset(payload(), "aud")),
        Err(LaunchError::AudMismatch)
    );
    assert_eq!(
        f.check(set(payload(), "aud", json!(7))),
        Err(LaunchError::ClaimInvalid { claim: "aud" })
    );
    assert_eq!(
        f.check(set(payload(), "aud", json!(["client-1", 7]))),
        Err(LaunchError::ClaimInvalid { claim: "aud" })
    );
}

#[test]
fn several_audiences_need_azp_equal_to_the_client_id() {
    let f = Fixture::new();
    let two = set(payload(), "aud", json!(["other", "client-1"]));
    assert_eq!(f.check(two.clone()), Err(LaunchError::AzpMissing));
    assert_eq!(f.check(set(two.clone(), "azp", json!("client-1"))), Ok(()));
    assert_eq!(
        f.check(set(two, "azp", json!("other"))),
        Err(LaunchError::AzpMismatch)
    );
    assert_eq!(
        f.check(set(payload(), "azp", json!("other"))),
        Err(LaunchError::AzpMismatch)
    );
    assert_eq!(
        f.check(set(payload(), "azp", json!(1))),
        Err(LaunchError::ClaimInvalid { claim: "azp" })
    );
}

#[test]
fn exp_must_be_present_and_in_the_future_with_leeway() {
    let f = Fixture::new();
    assert_eq!(
        f.check(unset(payload(), "exp")),
        Err(LaunchError::ExpMissing)
    );
    assert_eq!(
        f.check(set(payload(), "exp", Value::Null)),
        Err(LaunchError::ExpMissing)
    );
    assert_eq!(
        f.check(set(payload(), "exp", json!(NOW))),
        Err(LaunchError::TokenExpired)
    );
    assert_eq!(f.check(set(payload(), "exp", json!(NOW + 1))), Ok(()));
    let expired_a_bit = set(payload(), "exp", json!(NOW - 30));
    assert_eq!(
        f.check(expired_a_bit.clone()),
        Err(LaunchError::TokenExpired)
    );
    assert_eq!(f.check_with_leeway(expired_a_bit.clone(), 31), Ok(()));
    assert_eq!(
        f.check_with_leeway(expired_a_bit, 30),
        Err(LaunchError::TokenExpired)
    );
    assert_eq!(
        f.check_with_leeway(set(payload(), "exp", json!(u64::MAX)), u64::MAX),
        Ok(())
    );
}

#[test]
fn iat_must_be_present_and_not_in_the_future_with_leeway() {
    let f = Fixture::new();
    assert_eq!(
        f.check(unset(payload(), "iat")),
        Err(LaunchError::IatMissing)
    );
    let future = set(payload(), "iat", json!(NOW + 10));
    assert_eq!(f.check(future.clone()), Err(LaunchError::IatInFuture));
    assert_eq!(f.check_with_leeway(future.clone(), 10), Ok(()));
    assert_eq!(
        f.check_with_leeway(future, 9),
        Err(LaunchError::IatInFuture)
    );
}

#[test]
fn iat_must_not_be_before_the_login_started_with_leeway() {
    let f = Fixture::new();
    assert_eq!(f.check(set(payload(), "iat", json!(LOGIN_STARTED))), Ok(()));
    let early = set(payload(), "iat", json!(LOGIN_STARTED - 10));
    assert_eq!(f.check(early.clone()), Err(LaunchError::IatBeforeLogin));
    assert_eq!(f.check_with_leeway(early.clone(), 10), Ok(()));
    assert_eq!(
        f.check_with_leeway(early, 9),
        Err(LaunchError::IatBeforeLogin)
    );
    // The finding: issued at the epoch, expiring far in the future.
    let ancient = set(
        set(payload(), "iat", json!(0)),
        "exp",
        json!(4_000_000_000u64),
    );
    assert_eq!(f.check(ancient), Err(LaunchError::IatBeforeLogin));
}

#[test]
fn nbf_when_present_must_have_passed() {
    let f = Fixture::new();
    assert_eq!(f.check(set(payload(), "nbf", json!(NOW))), Ok(()));
    let later = set(payload(), "nbf", json!(NOW + 5));
    assert_eq!(f.check(later.clone()), Err(LaunchError::NotYetValid));
    assert_eq!(f.check_with_leeway(later, 5), Ok(()));
}

#[test]
fn numeric_dates_accept_fractions_and_refuse_other_shapes() {
    let f = Fixture::new();
    assert_eq!(
        f.check(set(payload(), "exp", json!((NOW + 60) as f64 + 0.5))),
        Ok(())
    );
    for bad in [
        json!("1700000060"),
        json!(-5),
        json!(-0.5),
        json!(true),
        json!({}),
    ] {
        assert_eq!(
            f.check(set(payload(), "exp", bad.clone())),
            Err(LaunchError::ClaimInvalid { claim: "exp" }),
            "{bad}"
        );
        assert_eq!(
            f.check(set(payload(), "iat", bad)),
            Err(LaunchError::ClaimInvalid { claim: "iat" })
        );
    }
}

#[test]
fn nonce_must_be_present_and_equal() {
    let f = Fixture::new();
    assert_eq!(
        f.check(unset(payload(), "nonce")),
        Err(LaunchError::NonceMissing)
    );
    for other in ["n-124", "n-12", "n-1234", ""] {
        assert_eq!(
            f.check(set(payload(), "nonce", json!(other))),
            Err(LaunchError::NonceMismatch)
        );
    }
    assert_eq!(
        f.check(set(payload(), "nonce", json!(123))),
        Err(LaunchError::ClaimInvalid { claim: "nonce" })
    );
}
