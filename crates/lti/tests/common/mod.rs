//! Test platform keys (generated once per test binary), token signing, and fixture loading.

use std::path::PathBuf;
use std::sync::LazyLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value, json};

/// A platform signing key and every public form a platform may publish it in.
pub struct TestKey {
    pub encoding: EncodingKey,
    /// The public key as a JWK (no `kid`, `alg` or `use`: add them per test).
    pub jwk: Value,
    /// SPKI PEM (`BEGIN PUBLIC KEY`), RSA keys only.
    pub public_pem: Option<String>,
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_key() -> TestKey {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("generate RSA key");
    let pkcs8 = AsDer::as_der(&pair).expect("PKCS#8");
    let private_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
    let public = pair.public_key();
    let spki = public.as_der().expect("SPKI");
    let public_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()));
    let components = PublicKeyComponents::<Vec<u8>>::from(public);
    TestKey {
        encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("encoding key"),
        jwk: json!({"kty": "RSA", "n": b64(&components.n), "e": b64(&components.e)}),
        public_pem: Some(public_pem),
    }
}

fn ec_key() -> TestKey {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("generate EC key");
    let pkcs8 = pair.to_pkcs8v1().expect("PKCS#8");
    let point = pair.public_key().as_ref();
    TestKey {
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])}),
        public_pem: None,
    }
}

/// The platform's RSA key.
pub static PLATFORM: LazyLock<TestKey> = LazyLock::new(rsa_key);
/// Another RSA key (an attacker's, or a rotated-out one).
pub static OTHER: LazyLock<TestKey> = LazyLock::new(rsa_key);
/// A platform EC P-256 key.
pub static PLATFORM_EC: LazyLock<TestKey> = LazyLock::new(ec_key);

/// Signs `claims` with jsonwebtoken as a platform would.
pub fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    lti::install_crypto_provider();
    jsonwebtoken::encode(header, claims, key).expect("sign")
}

/// An RS256 header naming the platform key.
pub fn rs256_header() -> Header {
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("platform-key-1".to_owned());
    header
}

/// A platform fixture document (copied into `crates/ltisim/fixtures/`).
pub fn fixture_document(platform: &str) -> Map<String, Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../ltisim/fixtures")
        .join(format!("{platform}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

/// The `id_token_claims` of a platform fixture.
pub fn fixture_claims(platform: &str) -> Map<String, Value> {
    match fixture_document(platform).remove("id_token_claims") {
        Some(Value::Object(claims)) => claims,
        _ => panic!("{platform} fixture has no id_token_claims object"),
    }
}
