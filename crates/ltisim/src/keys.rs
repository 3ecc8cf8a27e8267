//! The platform's RSA signing keys and the key ring its JWKS publishes.
//!
//! Keys are generated with aws-lc-rs and used directly (no JOSE library), so the simulator
//! can also produce the malformed and mis-signed tokens a JOSE library refuses to make.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, RsaEncoding};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::sync::Arc;

/// One RSA-2048 key pair with everything the platform publishes about it.
pub(crate) struct SigningKey {
    kid: String,
    pair: KeyPair,
    public_pem: String,
    modulus: String,
    exponent: String,
}

impl SigningKey {
    /// A fresh RSA-2048 key whose kid is its RFC 7638 JWK thumbprint.
    pub(crate) fn generate() -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .expect("RSA key generation fails only when the system RNG does");
        let public = pair.public_key();
        let components = PublicKeyComponents::<Vec<u8>>::from(public);
        let modulus = URL_SAFE_NO_PAD.encode(&components.n);
        let exponent = URL_SAFE_NO_PAD.encode(&components.e);
        let spki = public
            .as_der()
            .expect("a freshly generated RSA public key always encodes as SPKI");
        Self {
            kid: thumbprint(&modulus, &exponent),
            public_pem: pem("PUBLIC KEY", spki.as_ref()),
            pair,
            modulus,
            exponent,
        }
    }

    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as PEM (SubjectPublicKeyInfo), as admins paste it into a tool.
    pub(crate) fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The public JWK as published in the JWKS.
    pub(crate) fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
            "n": self.modulus,
            "e": self.exponent,
        })
    }

    /// Signs `message` with the RSA scheme named by a JOSE `alg`. Any other alg (ES256,
    /// HS256, a typo) still gets an RS256 signature: a header whose alg lies about the
    /// signature is itself a useful attack.
    pub(crate) fn sign(&self, jose_alg: &str, message: &[u8]) -> Vec<u8> {
        let encoding: &'static dyn RsaEncoding = match jose_alg {
            "RS384" => &signature::RSA_PKCS1_SHA384,
            "RS512" => &signature::RSA_PKCS1_SHA512,
            "PS256" => &signature::RSA_PSS_SHA256,
            "PS384" => &signature::RSA_PSS_SHA384,
            "PS512" => &signature::RSA_PSS_SHA512,
            _ => &signature::RSA_PKCS1_SHA256,
        };
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(encoding, &SystemRandom::new(), message, &mut signature)
            .expect("RSA signing with a valid key and a buffer of modulus length cannot fail");
        signature
    }
}

/// The keys the JWKS publishes; the last one signs.
pub(crate) struct KeyRing {
    published: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    pub(crate) fn new(first: SigningKey) -> Self {
        Self {
            published: vec![Arc::new(first)],
        }
    }

    pub(crate) fn current(&self) -> Arc<SigningKey> {
        Arc::clone(
            self.published
                .last()
                .expect("the key ring is created with a key and never emptied"),
        )
    }

    /// Makes `next` the signing key; the old keys stay published unless dropped, as a
    /// platform does so that tokens already in flight still verify.
    pub(crate) fn rotate(&mut self, next: SigningKey, drop_old: bool) {
        if drop_old {
            self.published.clear();
        }
        self.published.push(Arc::new(next));
    }

    pub(crate) fn jwks(&self) -> Value {
        let keys: Vec<Value> = self.published.iter().map(|k| k.public_jwk()).collect();
        json!({ "keys": keys })
    }
}

/// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
fn thumbprint(modulus: &str, exponent: &str) -> String {
    let canonical = format!(r#"{{"e":"{exponent}","kty":"RSA","n":"{modulus}"}}"#);
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// PEM with LF line endings and 64-character lines (RFC 7468).
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
