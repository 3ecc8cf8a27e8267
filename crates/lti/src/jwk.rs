//! Platform keys: the algorithm allowlist, JWK sets, and keys ready to verify an id_token.
//!
//! A platform publishes its keys as a JWK set (fetched by the server: this module never does
//! I/O), or an admin pastes one JWK or one RSA public key PEM. This module turns any of those into
//! a [`VerificationKey`] that remembers its key family and the algorithm the key declares, so
//! [`crate::id_token::verify`] can refuse a token whose header algorithm does not fit the key.
//!
//! Parsing is liberal where real key sets differ: `alg` and `use` are optional (LMS key sets
//! often omit `alg`), and a key set entry this module cannot read (an unknown `kty`, a
//! malformed member) is skipped instead of failing the whole set. Building a key is strict: only
//! RSA keys of at least 2048 bits and EC P-256 keys are accepted.

use std::fmt;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, DecodingKeyKind};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::LaunchError;
use crate::ids::Kid;

/// The JWS algorithms this crate accepts for id_tokens: the allowlist is this type.
///
/// LTI Security Framework 1.0 §6.1: "the Platform MUST use RSA keys ... RS256 as the
/// signature algorithm"; RS384, RS512 and ES256 are accepted for platforms that use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl Algorithm {
    /// The allowed algorithm named by a JOSE `alg` value, if any. `none`, HS*, PS* and every
    /// other name give `None`.
    pub fn from_jose(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::RS256),
            "RS384" => Some(Self::RS384),
            "RS512" => Some(Self::RS512),
            "ES256" => Some(Self::ES256),
            _ => None,
        }
    }

    /// The JOSE `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::ES256 => "ES256",
        }
    }

    /// The key family that can verify this algorithm.
    pub fn family(self) -> KeyFamily {
        match self {
            Self::RS256 | Self::RS384 | Self::RS512 => KeyFamily::Rsa,
            Self::ES256 => KeyFamily::EcP256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of public key, which decides the algorithms it can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    /// RSA: RS256, RS384, RS512.
    Rsa,
    /// EC on the P-256 curve: ES256.
    EcP256,
}

/// One JSON Web Key (RFC 7517) as a platform publishes it: only the members needed to verify a
/// signature are read, every other member is ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct Jwk {
    kty: Option<String>,
    kid: Option<Kid>,
    alg: Option<String>,
    #[serde(rename = "use")]
    key_use: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl Jwk {
    /// Reads one JWK from JSON (an admin's pasted `JWK_KEY`).
    pub fn from_json(json: &[u8]) -> Result<Self, LaunchError> {
        serde_json::from_slice(json).map_err(|_| LaunchError::KeyUnsupported {
            reason: "not a JSON Web Key",
        })
    }

    /// The key id, when the key has one.
    pub fn kid(&self) -> Option<&Kid> {
        self.kid.as_ref()
    }

    /// The algorithm the key declares (`alg`), when it declares one.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    fn is_for_signing(&self) -> bool {
        self.key_use.as_deref().is_none_or(|u| u == "sig")
    }
}

/// A JWK set (`{"keys": [...]}`) as served at a platform's `jwks_uri`.
#[derive(Clone, Debug)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

impl JwkSet {
    /// Reads a key set document; entries that are not readable keys are skipped.
    pub fn from_json(json: &[u8]) -> Result<Self, LaunchError> {
        serde_json::from_slice(json).map_err(|_| LaunchError::JwksInvalid)
    }

    /// The readable keys, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The first signing key (`use` absent or `sig`) with this key id.
    pub fn find(&self, kid: &Kid) -> Option<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.kid.as_ref() == Some(kid) && k.is_for_signing())
    }
}

impl<'de> Deserialize<'de> for JwkSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<Value>,
        }
        let document = Document::deserialize(deserializer)?;
        let keys = document
            .keys
            .into_iter()
            .filter_map(|entry| Jwk::deserialize(entry).ok())
            .collect();
        Ok(Self { keys })
    }
}

/// A platform public key ready to verify id_tokens.
#[derive(Clone)]
pub struct VerificationKey {
    family: KeyFamily,
    declared_alg: Option<Algorithm>,
    verifiers: Verifiers,
}

/// The key parsed once, when it is read: building the RSA key from `n` and `e` for every
/// verify cost about a third of the verify (BENCHMARKS.md). A parsed key is bound to one
/// algorithm, so an RSA key holds one for each RSA algorithm.
#[derive(Clone)]
enum Verifiers {
    Rsa {
        rs256: ParsedPublicKey,
        rs384: ParsedPublicKey,
        rs512: ParsedPublicKey,
    },
    EcP256(ParsedPublicKey),
}

/// RSA moduli shorter than this are refused (2048 bits, as the signature backend requires).
const MIN_RSA_MODULUS_BYTES: usize = 256;
/// RSA moduli longer than this are refused (8192 bits, the backend's upper limit).
const MAX_RSA_MODULUS_BYTES: usize = 1024;
/// Length of one P-256 coordinate.
const P256_COORDINATE_BYTES: usize = 32;

impl VerificationKey {
    /// Builds a key from a JWK: `kty` RSA (`n`, `e`) or EC (`crv` P-256, `x`, `y`). A key whose
    /// `use` is not `sig`, or whose `alg` is outside the allowlist or does not fit its `kty`, is
    /// refused with `KEY_UNSUPPORTED`.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, LaunchError> {
        if !jwk.is_for_signing() {
            return Err(unsupported("key use is not sig"));
        }
        let declared_alg = match jwk.alg.as_deref() {
            None => None,
            Some(name) => Some(
                Algorithm::from_jose(name).ok_or(unsupported("key alg is not in the allowlist"))?,
            ),
        };
        let (family, verifiers) = match jwk.kty.as_deref() {
            Some("RSA") => (KeyFamily::Rsa, rsa_from_components(jwk)?),
            Some("EC") => (KeyFamily::EcP256, ec_from_components(jwk)?),
            _ => return Err(unsupported("key type is not RSA or EC")),
        };
        if declared_alg.is_some_and(|alg| alg.family() != family) {
            return Err(unsupported("key alg does not fit the key type"));
        }
        Ok(Self {
            family,
            declared_alg,
            verifiers,
        })
    }

    /// Builds an RSA key from a PEM public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`),
    /// for platforms registered with one static key.
    /// The key must pass the same size rules as an RSA JWK: a PEM that parses but could never
    /// verify (1024 bits, a private key) is refused here, not at every launch.
    pub fn from_rsa_pem(pem: &[u8]) -> Result<Self, LaunchError> {
        let not_public_key = || unsupported("not an RSA public key PEM");
        let key = DecodingKey::from_rsa_pem(pem).map_err(|_| not_public_key())?;
        // The PEM reader hands over the PKCS#1 `RSAPublicKey` DER (from either PEM label).
        let DecodingKeyKind::SecretOrDer(der) = key.kind() else {
            return Err(not_public_key());
        };
        let (n, e) = rsa_public_key_der(der).ok_or_else(not_public_key)?;
        Ok(Self {
            family: KeyFamily::Rsa,
            declared_alg: None,
            verifiers: rsa_verifiers(n, e)?,
        })
    }

    /// The key family.
    pub fn family(&self) -> KeyFamily {
        self.family
    }

    /// The algorithm the key declared, if any.
    pub fn declared_alg(&self) -> Option<Algorithm> {
        self.declared_alg
    }

    /// Whether this key may verify a token signed with `alg`: same family, and the declared
    /// algorithm when there is one.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        alg.family() == self.family && self.declared_alg.is_none_or(|declared| declared == alg)
    }

    /// Whether `signature` is a valid `alg` signature of `message` under this key. An
    /// algorithm of the other family never verifies (callers check [`Self::accepts`] first).
    pub(crate) fn verifies(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        let key = match (&self.verifiers, alg) {
            (Verifiers::Rsa { rs256, .. }, Algorithm::RS256) => rs256,
            (Verifiers::Rsa { rs384, .. }, Algorithm::RS384) => rs384,
            (Verifiers::Rsa { rs512, .. }, Algorithm::RS512) => rs512,
            (Verifiers::EcP256(key), Algorithm::ES256) => key,
            _ => return false,
        };
        key.verify_sig(message, signature).is_ok()
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("family", &self.family)
            .field("declared_alg", &self.declared_alg)
            .finish_non_exhaustive()
    }
}

fn unsupported(reason: &'static str) -> LaunchError {
    LaunchError::KeyUnsupported { reason }
}

fn decode_member(value: Option<&str>, reason: &'static str) -> Result<Vec<u8>, LaunchError> {
    value
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .filter(|bytes| !bytes.is_empty())
        .ok_or(unsupported(reason))
}

fn rsa_from_components(jwk: &Jwk) -> Result<Verifiers, LaunchError> {
    let n = decode_member(jwk.n.as_deref(), "RSA key without a valid n")?;
    let e = decode_member(jwk.e.as_deref(), "RSA key without a valid e")?;
    rsa_verifiers(&n, &e)
}

/// The key's verifiers for RS256, RS384 and RS512, after the size and exponent rules.
fn rsa_verifiers(n: &[u8], e: &[u8]) -> Result<Verifiers, LaunchError> {
    check_rsa_components(n, e)?;
    // The backend wants unsigned big-endian without leading zeros; DER and some JWK sets keep
    // a zero byte in front of a modulus whose top bit is set.
    let unsigned = |bytes: &[u8]| {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        bytes[start..].to_vec()
    };
    let (n, e) = (unsigned(n), unsigned(e));
    let components = RsaPublicKeyComponents { n: &n, e: &e };
    let parse = |params| {
        components
            .to_parsed_public_key(params)
            .map_err(|_| unsupported("RSA key refused by the signature backend"))
    };
    Ok(Verifiers::Rsa {
        rs256: parse(&RSA_PKCS1_2048_8192_SHA256)?,
        rs384: parse(&RSA_PKCS1_2048_8192_SHA384)?,
        rs512: parse(&RSA_PKCS1_2048_8192_SHA512)?,
    })
}

/// The limits the signature backend enforces at verification (2048 to 8192 bits, an odd
/// exponent of at most 33 bits), checked up front so an unusable key is refused when read.
fn check_rsa_components(n: &[u8], e: &[u8]) -> Result<(), LaunchError> {
    let significant = |bytes: &[u8]| bytes.iter().skip_while(|b| **b == 0).count();
    let modulus = significant(n);
    if modulus < MIN_RSA_MODULUS_BYTES {
        return Err(unsupported("RSA key shorter than 2048 bits"));
    }
    if modulus > MAX_RSA_MODULUS_BYTES {
        return Err(unsupported("RSA key longer than 8192 bits"));
    }
    let digits = &e[e.len() - significant(e)..];
    let exponent = (digits.len() <= 5).then(|| {
        digits
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    });
    if !exponent.is_some_and(|e| e >= 3 && e % 2 == 1 && e < 1 << 33) {
        return Err(unsupported(
            "RSA key exponent is not an odd number from 3 to 2^33",
        ));
    }
    Ok(())
}

/// Splits a DER `RSAPublicKey` (`SEQUENCE { INTEGER n, INTEGER e }`, PKCS#1) into `n` and `e`;
/// `None` for anything else, a private key included.
fn rsa_public_key_der(der: &[u8]) -> Option<(&[u8], &[u8])> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    let (body, trailing) = der_element(der, SEQUENCE)?;
    let (n, rest) = der_element(body, INTEGER)?;
    let (e, rest) = der_element(rest, INTEGER)?;
    (trailing.is_empty() && rest.is_empty()).then_some((n, e))
}

/// One DER element with the given tag: its contents and the bytes after it.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if found != tag {
        return None;
    }
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // Long form: the low bits count the length bytes that follow (at most 4 here).
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(count);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

fn ec_from_components(jwk: &Jwk) -> Result<Verifiers, LaunchError> {
    if jwk.crv.as_deref() != Some("P-256") {
        return Err(unsupported("EC key not on the P-256 curve"));
    }
    let x = decode_member(jwk.x.as_deref(), "EC key without a valid x")?;
    let y = decode_member(jwk.y.as_deref(), "EC key without a valid y")?;
    if x.len() != P256_COORDINATE_BYTES || y.len() != P256_COORDINATE_BYTES {
        return Err(unsupported("EC key coordinates are not 32 bytes"));
    }
    let mut point = Vec::with_capacity(1 + 2 * P256_COORDINATE_BYTES);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .map(Verifiers::EcP256)
        .map_err(|_| unsupported("EC key is not a point on P-256"))
}

#[cfg(test)]
mod tests;
