//! JWS compact serialization of id_tokens, honest or deliberately broken.
//!
//! Built by hand rather than with a JOSE library: a library would refuse to write
//! `alg: none`, HS256 keyed with a public key, or a header that lies about its algorithm.

use crate::keys::SigningKey;
use crate::tamper::{Signing, merge_patch};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// The keys a token may be signed with.
pub(crate) struct TokenKeys<'a> {
    /// The key the JWKS names as current.
    pub(crate) current: &'a SigningKey,
    /// A key the JWKS never publishes, made on first use (key generation is slow).
    pub(crate) foreign: &'a OnceLock<SigningKey>,
}

/// Serializes `claims` as a compact JWS: header `{alg: RS256, typ: JWT, kid}` adjusted for
/// the signing mode, then merge-patched with `header_patch`, then signed as `signing` says.
pub(crate) fn encode(
    keys: &TokenKeys<'_>,
    header_patch: &Value,
    claims: &Value,
    signing: &Signing,
) -> String {
    let mut header = json!({ "alg": "RS256", "typ": "JWT", "kid": keys.current.kid() });
    match signing {
        Signing::AlgNone => header["alg"] = json!("none"),
        Signing::Hs256WithPublicKeyPem => header["alg"] = json!("HS256"),
        _ => {}
    }
    merge_patch(&mut header, header_patch);
    let signing_input = format!("{}.{}", segment(&header), segment(claims));
    let message = signing_input.as_bytes();
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("RS256");
    let signature = match signing {
        Signing::Raw(raw) => return raw.clone(),
        Signing::Normal => keys.current.sign(alg, message),
        Signing::AlgNone => Vec::new(),
        Signing::Hs256WithPublicKeyPem => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, keys.current.public_pem().as_bytes());
            hmac::sign(&key, message).as_ref().to_vec()
        }
        Signing::ForeignKey => keys
            .foreign
            .get_or_init(SigningKey::generate)
            .sign(alg, message),
        Signing::CorruptSignature => {
            let mut signature = keys.current.sign(alg, message);
            if let Some(last) = signature.last_mut() {
                *last ^= 0x01;
            }
            signature
        }
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn segment(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}
