use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::*;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Key members of the right sizes; the values need not be a real key for construction.
fn rsa_jwk(extra: serde_json::Value) -> Jwk {
    let mut jwk = json!({"kty": "RSA", "kid": "k1", "n": b64(&[0xc5; 256]), "e": "AQAB"});
    if let (Some(target), Some(extra)) = (jwk.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    serde_json::from_value(jwk).expect("jwk")
}

fn ec_jwk(crv: &str, coordinate_len: usize) -> Jwk {
    ec_jwk_at(crv, &vec![7; coordinate_len], &vec![9; coordinate_len])
}

fn ec_jwk_at(crv: &str, x: &[u8], y: &[u8]) -> Jwk {
    serde_json::from_value(json!({"kty": "EC", "kid": "e1", "crv": crv, "x": b64(x), "y": b64(y)}))
        .expect("jwk")
}

/// The public key of a fresh P-256 key pair, as a JWK.
fn real_p256_jwk() -> Jwk {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
    let point = pair.public_key().as_ref();
    ec_jwk_at("P-256", &point[1..33], &point[33..65])
}

fn unsupported_reason(result: Result<VerificationKey, LaunchError>) -> &'static str {
    match result {
        Err(LaunchError::KeyUnsupported { reason }) => reason,
        other => panic!("expected KEY_UNSUPPORTED, got {other:?}"),
    }
}

#[test]
fn allowlist_is_exactly_rs256_rs384_rs512_es256() {
    for name in ["RS256", "RS384", "RS512", "ES256"] {
        let alg = Algorithm::from_jose(name).expect("allowed");
        assert_eq!(alg.as_str(), name);
        assert_eq!(alg.to_string(), name);
    }
    for name in [
        "none", "None", "NONE", "HS256", "HS384", "HS512", "PS256", "ES384", "ES512", "EdDSA",
        "rs256", "RS256 ", "",
    ] {
        assert_eq!(
            Algorithm::from_jose(name),
            None,
            "{name:?} must not be allowed"
        );
    }
    assert_eq!(Algorithm::RS512.family(), KeyFamily::Rsa);
    assert_eq!(Algorithm::ES256.family(), KeyFamily::EcP256);
}

#[test]
fn key_set_tolerates_missing_alg_and_use_and_skips_unreadable_entries() {
    let doc = json!({"keys": [
        {"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"},
        {"kty": "OKP", "kid": "b", "crv": "Ed25519", "x": "AAAA"},
        {"kty": "RSA", "kid": 42},
        "not a key",
        {"kty": "RSA", "kid": "c", "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB",
         "x5c": ["MIIB..."], "key_ops": ["verify"]},
    ]});
    let set = JwkSet::from_json(doc.to_string().as_bytes()).expect("set");
    let kids: Vec<_> = set
        .keys()
        .iter()
        .map(|k| k.kid().map(Kid::as_str))
        .collect();
    assert_eq!(kids, [Some("a"), Some("b"), Some("c")]);
    assert_eq!(set.find(&Kid::new("a")).and_then(Jwk::alg), None);
    assert_eq!(set.find(&Kid::new("c")).and_then(Jwk::alg), Some("RS256"));
    assert!(set.find(&Kid::new("zzz")).is_none());
}

#[test]
fn key_set_find_skips_encryption_keys() {
    let doc = json!({"keys": [
        {"kty": "RSA", "kid": "same", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
        {"kty": "RSA", "kid": "same", "use": "sig", "n": "AQAB", "e": "AQAB"},
    ]});
    let set = JwkSet::from_json(doc.to_string().as_bytes()).expect("set");
    let found = set.find(&Kid::new("same")).expect("signing key");
    assert_eq!(found.alg(), None);
}

#[test]
fn key_set_refuses_documents_without_a_keys_array() {
    for doc in [
        &b"not json"[..],
        b"{}",
        b"{\"keys\": {}}",
        b"[]",
        b"{\"keys\": null}",
    ] {
        assert_eq!(
            JwkSet::from_json(doc).expect_err("refused"),
            LaunchError::JwksInvalid
        );
    }
}

#[test]
fn rsa_jwk_without_alg_verifies_any_rsa_algorithm() {
    let key = VerificationKey::from_jwk(&rsa_jwk(json!({}))).expect("key");
    assert_eq!(key.family(), KeyFamily::Rsa);
    assert_eq!(key.declared_alg(), None);
    assert!(key.accepts(Algorithm::RS256));
    assert!(key.accepts(Algorithm::RS512));
    assert!(!key.accepts(Algorithm::ES256));
}

#[test]
fn rsa_jwk_with_alg_verifies_only_that_algorithm() {
    let key =
        VerificationKey::from_jwk(&rsa_jwk(json!({"alg": "RS256", "use": "sig"}))).expect("key");
    assert_eq!(key.declared_alg(), Some(Algorithm::RS256));
    assert!(key.accepts(Algorithm::RS256));
    assert!(!key.accepts(Algorithm::RS384));
    assert!(!key.accepts(Algorithm::ES256));
}

#[test]
fn jwk_with_alg_outside_allowlist_is_refused() {
    for alg in ["PS256", "HS256", "none", "RSA-OAEP"] {
        let reason = unsupported_reason(VerificationKey::from_jwk(&rsa_jwk(json!({"alg": alg}))));
        assert_eq!(reason, "key alg is not in the allowlist");
    }
}

#[test]
fn jwk_whose_alg_does_not_fit_its_type_is_refused() {
    let reason = unsupported_reason(VerificationKey::from_jwk(&rsa_jwk(json!({"alg": "ES256"}))));
    assert_eq!(reason, "key alg does not fit the key type");
}

#[test]
fn encryption_jwk_is_refused() {
    let reason = unsupported_reason(VerificationKey::from_jwk(&rsa_jwk(json!({"use": "enc"}))));
    assert_eq!(reason, "key use is not sig");
}

#[test]
fn short_or_incomplete_rsa_jwk_is_refused() {
    let short = rsa_jwk(json!({"n": b64(&[0xc5; 128])}));
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&short)),
        "RSA key shorter than 2048 bits"
    );
    // Leading zero bytes do not count towards the modulus size.
    let mut padded = vec![0; 8];
    padded.extend_from_slice(&[0xc5; 250]);
    let padded = rsa_jwk(json!({"n": b64(&padded)}));
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&padded)),
        "RSA key shorter than 2048 bits"
    );
    let no_e = rsa_jwk(json!({"e": null}));
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&no_e)),
        "RSA key without a valid e"
    );
    let bad_n = rsa_jwk(json!({"n": "!!!"}));
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&bad_n)),
        "RSA key without a valid n"
    );
}

#[test]
fn ec_p256_jwk_verifies_es256_only() {
    let key = VerificationKey::from_jwk(&real_p256_jwk()).expect("key");
    assert_eq!(key.family(), KeyFamily::EcP256);
    assert!(key.accepts(Algorithm::ES256));
    assert!(!key.accepts(Algorithm::RS256));
}

#[test]
fn other_curves_and_key_types_are_refused() {
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&ec_jwk("P-384", 48))),
        "EC key not on the P-256 curve"
    );
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&ec_jwk("P-256", 31))),
        "EC key coordinates are not 32 bytes"
    );
    // Right sizes, but no point on the curve: it could never verify, so it is refused when read.
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&ec_jwk("P-256", 32))),
        "EC key is not a point on P-256"
    );
    let oct: Jwk = serde_json::from_value(json!({"kty": "oct", "k": "c2VjcmV0"})).expect("jwk");
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&oct)),
        "key type is not RSA or EC"
    );
}

#[test]
fn single_jwk_parses_from_json() {
    let jwk = Jwk::from_json(br#"{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}"#).expect("jwk");
    assert_eq!(jwk.kid(), Some(&Kid::new("k")));
    assert!(matches!(
        Jwk::from_json(b"[1,2]"),
        Err(LaunchError::KeyUnsupported { .. })
    ));
}

#[test]
fn non_pem_input_is_refused_as_rsa_key() {
    assert!(matches!(
        VerificationKey::from_rsa_pem(
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        ),
        Err(LaunchError::KeyUnsupported { .. })
    ));
    assert!(matches!(
        VerificationKey::from_rsa_pem(b"hello"),
        Err(LaunchError::KeyUnsupported { .. })
    ));
}

#[test]
fn key_debug_shows_no_key_material() {
    let key = VerificationKey::from_jwk(&rsa_jwk(json!({}))).expect("key");
    let printed = format!("{key:?}");
    assert!(printed.contains("Rsa"));
    assert!(!printed.contains(&b64(&[0xc5; 16])));
}

/// A DER element (definite length, short or two-byte long form).
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match u16::try_from(content.len()).expect("short test content") {
        len @ 0..0x80 => out.push(len as u8),
        len @ 0x80..=0xff => out.extend([0x81, len as u8]),
        len => out.extend([0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// A PKCS#1 PEM whose sequence holds these integers.
fn pkcs1_pem(label: &str, integers: &[&[u8]]) -> String {
    let body: Vec<u8> = integers.iter().flat_map(|i| der(0x02, i)).collect();
    pem::encode(&pem::Pem::new(label, der(0x30, &body)))
}

#[test]
fn rsa_pem_follows_the_jwk_size_rules() {
    // A leading zero keeps the modulus positive, as DER requires.
    let modulus = |bytes: usize| [vec![0], vec![0xc5; bytes]].concat();
    let ok = pkcs1_pem("RSA PUBLIC KEY", &[&modulus(256), &[1, 0, 1]]);
    let key = VerificationKey::from_rsa_pem(ok.as_bytes()).expect("2048-bit key");
    assert_eq!(key.family(), KeyFamily::Rsa);

    let short = pkcs1_pem("RSA PUBLIC KEY", &[&modulus(128), &[1, 0, 1]]);
    assert_eq!(
        unsupported_reason(VerificationKey::from_rsa_pem(short.as_bytes())),
        "RSA key shorter than 2048 bits"
    );
    let even_exponent = pkcs1_pem("RSA PUBLIC KEY", &[&modulus(256), &[2]]);
    assert_eq!(
        unsupported_reason(VerificationKey::from_rsa_pem(even_exponent.as_bytes())),
        "RSA key exponent is not an odd number from 3 to 2^33"
    );
    // A private key has more integers (version, n, e, d, ...): it is not a public key.
    let private = pkcs1_pem(
        "RSA PRIVATE KEY",
        &[&[0], &modulus(256), &[1, 0, 1], &modulus(256)],
    );
    assert_eq!(
        unsupported_reason(VerificationKey::from_rsa_pem(private.as_bytes())),
        "not an RSA public key PEM"
    );
}

#[test]
fn rsa_jwk_outside_the_backend_limits_is_refused() {
    let long = rsa_jwk(json!({"n": b64(&[0xc5; 1025])}));
    assert_eq!(
        unsupported_reason(VerificationKey::from_jwk(&long)),
        "RSA key longer than 8192 bits"
    );
    for e in [
        b64(&[1]),
        b64(&[0, 1]),
        b64(&[1, 0, 0]),
        b64(&[2, 0, 0, 0, 1]),
    ] {
        let jwk = rsa_jwk(json!({ "e": e }));
        assert_eq!(
            unsupported_reason(VerificationKey::from_jwk(&jwk)),
            "RSA key exponent is not an odd number from 3 to 2^33",
            "e = {e}"
        );
    }
    for e in [
        b64(&[3]),
        b64(&[1, 0, 1]),
        b64(&[0, 1, 0, 1]),
        b64(&[1, 0, 0, 0, 1]),
    ] {
        VerificationKey::from_jwk(&rsa_jwk(json!({ "e": e }))).expect("usable exponent");
    }
}
