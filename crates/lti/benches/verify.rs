//! id_token validation versus a bare RS256 signature verification (issue 3 item 8).
//!
//! `cargo bench -p lti --bench verify`. The token is a realistic Canvas-style resource link
//! launch (about 3.5 KB), signed RS256 with a fresh RSA-2048 key. Benchmarks:
//!
//! - `rs256_aws_lc_parsed_key`: the signature math alone: aws-lc-rs with the key parsed once
//!   and the signature already decoded; the floor for any RS256 validator.
//! - `rs256_jsonwebtoken_crypto_verify`: `jsonwebtoken::crypto::verify`, the primitive
//!   `lti::id_token::verify` uses (decodes the signature, parses the key, verifies); the bare
//!   RS256 verify of the target "validation within 1.5x of a bare RS256 verify".
//! - `jsonwebtoken_decode_no_claim_checks`: `jsonwebtoken::decode` with every claim check off,
//!   payload into a `serde_json::Value` (what a generic JWT library does at minimum).
//! - `lti_parse`: `UnverifiedIdToken::parse` alone (size, shape, header, payload decode).
//! - `lti_parse_and_verify_pem` / `_jwk`: the whole validation (parse, signature, every OIDC
//!   and LTI claim check, typed claims), with the key from a PEM or from a JWK (`n`, `e`, as
//!   the server gets it from a platform's JWKS).
//!
//! After divan's table, an interleaved A/B run prints the ratio of the whole validation to
//! the bare verify: interleaving keeps the ratio meaningful on a busy machine.

use std::sync::LazyLock;
use std::time::Instant;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use divan::{Bencher, black_box};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lti::id_token::{Expectations, UnverifiedIdToken, verify};
use lti::ids::{ClientId, Issuer, Nonce};
use lti::jwk::{Jwk, VerificationKey};
use serde_json::{Value, json};

const ISS: &str = "https://canvas.example.edu";
const CLIENT_ID: &str = "10000000000002";
const NONCE: &str = "BPpEE7xw1ie5ny_o-VA5G4kT2vq8";
const NOW: u64 = 1_750_000_000;

struct Fixture {
    token: String,
    /// The token up to the second dot, and the decoded signature.
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    signature_b64: String,
    parsed: ParsedPublicKey,
    decoding_key: DecodingKey,
    key_pem: VerificationKey,
    key_jwk: VerificationKey,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(fixture);

fn fixture() -> Fixture {
    lti::install_crypto_provider();
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("generate an RSA-2048 key");
    let pkcs8 = AsDer::as_der(&pair).expect("PKCS#8 DER");
    let private_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
    let public = pair.public_key();
    let spki = public.as_der().expect("SPKI DER");
    let public_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()));
    let components = PublicKeyComponents::<Vec<u8>>::from(public);

    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("platform-key-1".to_owned());
    let encoding = EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("encoding key");
    let token = jsonwebtoken::encode(&header, &claims(), &encoding).expect("sign the token");
    let (signing_input, signature_b64) = token.rsplit_once('.').expect("a compact JWS");

    let jwk = json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "platform-key-1",
        "n": URL_SAFE_NO_PAD.encode(&components.n),
        "e": URL_SAFE_NO_PAD.encode(&components.e),
    });
    let jwk = Jwk::from_json(jwk.to_string().as_bytes()).expect("JWK");
    Fixture {
        signing_input: signing_input.as_bytes().to_vec(),
        signature: URL_SAFE_NO_PAD
            .decode(signature_b64)
            .expect("base64url signature"),
        signature_b64: signature_b64.to_owned(),
        parsed: ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.as_ref())
            .expect("parsed public key"),
        decoding_key: DecodingKey::from_rsa_pem(public_pem.as_bytes()).expect("decoding key"),
        key_pem: VerificationKey::from_rsa_pem(public_pem.as_bytes()).expect("PEM key"),
        key_jwk: VerificationKey::from_jwk(&jwk).expect("JWK key"),
        token,
    }
}

/// A Canvas-style instructor launch of a resource link, with AGS and NRPS.
fn claims() -> Value {
    json!({
        "iss": ISS,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": "e77934e7-4e98-4055-b4b4-3a8431e4f22a",
        "nonce": NONCE,
        "iat": NOW - 5,
        "exp": NOW + 295,
        "name": "TeacherFirst TeacherLast",
        "given_name": "TeacherFirst",
        "family_name": "TeacherLast",
        "email": "teacher@example.edu",
        "locale": "en",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id":
            "7:d3a2504bba5184799a38f141e8df2335cfa8206d",
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri":
            "https://tool.example.com/lti/launch",
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": {
            "id": "8aa641d1-b4d4-4fea-8a9b-e9fedfb62b1e",
            "title": "Week 3: Photosynthesis quiz",
            "description": "<p>Answer all questions before Friday.</p>"
        },
        "https://purl.imsglobal.org/spec/lti/claim/roles": [
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#User"
        ],
        "https://purl.imsglobal.org/spec/lti/claim/context": {
            "id": "d3a2504bba5184799a38f141e8df2335cfa8206d",
            "label": "BIO101",
            "title": "Introduction to Biology",
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]
        },
        "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
            "guid": "zOUAtkfS3gI8nh5IskzlgAro1oCx3rx6SGGahiLL:canvas-lms",
            "name": "Example University",
            "version": "cloud",
            "product_family_code": "canvas"
        },
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {
            "document_target": "iframe",
            "return_url": "https://canvas.example.edu/courses/3/assignments",
            "locale": "en"
        },
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score"
            ],
            "lineitems": "https://canvas.example.edu/api/lti/courses/3/line_items",
            "lineitem": "https://canvas.example.edu/api/lti/courses/3/line_items/1"
        },
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": "https://canvas.example.edu/api/lti/courses/3/names_and_roles",
            "service_versions": ["2.0"]
        }
    })
}

fn expectations<'a>(
    issuer: &'a Issuer,
    client_id: &'a ClientId,
    nonce: &'a Nonce,
) -> Expectations<'a> {
    Expectations {
        issuer,
        client_id,
        nonce,
        now: NOW,
        issued_after: NOW - 10,
        leeway_secs: 60,
    }
}

fn main() {
    eprintln!("id_token: {} bytes", FIXTURE.token.len());
    divan::main();
    // `cargo test --benches` runs each benchmark once with --test: no A/B run then.
    if !std::env::args().any(|a| a == "--test") {
        interleaved_ratio();
    }
}

/// The bare verify, as `lti::id_token::verify` performs it.
fn bare_verify(f: &Fixture) -> bool {
    jsonwebtoken::crypto::verify(
        &f.signature_b64,
        &f.signing_input,
        &f.decoding_key,
        Algorithm::RS256,
    )
    .unwrap_or(false)
}

/// The whole validation.
fn full_validation(f: &Fixture, key: &VerificationKey, expect: &Expectations<'_>) -> bool {
    UnverifiedIdToken::parse(&f.token)
        .and_then(|token| verify(&token, key, expect))
        .is_ok()
}

#[divan::bench]
fn rs256_aws_lc_parsed_key(bencher: Bencher) {
    let f = &*FIXTURE;
    bencher.bench(|| {
        f.parsed
            .verify_sig(black_box(&f.signing_input), black_box(&f.signature))
            .is_ok()
    });
}

#[divan::bench]
fn rs256_jsonwebtoken_crypto_verify(bencher: Bencher) {
    let f = &*FIXTURE;
    assert!(bare_verify(f), "the bare verify accepts the token");
    bencher.bench(|| bare_verify(black_box(f)));
}

#[divan::bench]
fn jsonwebtoken_decode_no_claim_checks(bencher: Bencher) {
    let f = &*FIXTURE;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    bencher.bench(|| {
        jsonwebtoken::decode::<Value>(black_box(&f.token), &f.decoding_key, &validation).is_ok()
    });
}

#[divan::bench]
fn lti_parse(bencher: Bencher) {
    let f = &*FIXTURE;
    bencher.bench(|| UnverifiedIdToken::parse(black_box(&f.token)).is_ok());
}

#[divan::bench]
fn lti_parse_and_verify_pem(bencher: Bencher) {
    let f = &*FIXTURE;
    let (issuer, client_id, nonce) = (
        Issuer::new(ISS),
        ClientId::new(CLIENT_ID),
        Nonce::new(NONCE),
    );
    let expect = expectations(&issuer, &client_id, &nonce);
    assert!(
        full_validation(f, &f.key_pem, &expect),
        "the token validates"
    );
    bencher.bench(|| full_validation(black_box(f), &f.key_pem, &expect));
}

#[divan::bench]
fn lti_parse_and_verify_jwk(bencher: Bencher) {
    let f = &*FIXTURE;
    let (issuer, client_id, nonce) = (
        Issuer::new(ISS),
        ClientId::new(CLIENT_ID),
        Nonce::new(NONCE),
    );
    let expect = expectations(&issuer, &client_id, &nonce);
    assert!(
        full_validation(f, &f.key_jwk, &expect),
        "the token validates"
    );
    bencher.bench(|| full_validation(black_box(f), &f.key_jwk, &expect));
}

/// Alternates batches of the bare verify and the whole validation and prints the median time
/// of each and their ratio.
fn interleaved_ratio() {
    const ROUNDS: usize = 40;
    const BATCH: u32 = 100;
    let f = &*FIXTURE;
    let (issuer, client_id, nonce) = (
        Issuer::new(ISS),
        ClientId::new(CLIENT_ID),
        Nonce::new(NONCE),
    );
    let expect = expectations(&issuer, &client_id, &nonce);
    let time = |op: &dyn Fn() -> bool| {
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(op());
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
    };
    let (mut bare, mut pem, mut jwk) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        bare.push(time(&|| bare_verify(f)));
        pem.push(time(&|| full_validation(f, &f.key_pem, &expect)));
        jwk.push(time(&|| full_validation(f, &f.key_jwk, &expect)));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (bare, pem, jwk) = (median(&mut bare), median(&mut pem), median(&mut jwk));
    println!();
    println!("interleaved A/B, median of {ROUNDS} rounds of {BATCH} (microseconds per token):");
    println!("  bare RS256 verify (jsonwebtoken::crypto::verify)  {bare:8.1}");
    println!(
        "  lti parse + verify, PEM key                        {pem:8.1}   ratio {:.2}x",
        pem / bare
    );
    println!(
        "  lti parse + verify, JWK key                        {jwk:8.1}   ratio {:.2}x",
        jwk / bare
    );
}
