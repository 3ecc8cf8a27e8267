//! id_token validation: from the string a platform posts to a [`VerifiedLaunch`].
//!
//! The flow has two steps and two types. [`UnverifiedIdToken::parse`] checks the size, the
//! compact JWS shape and the payload's nesting depth, and reads only what the server needs to
//! pick the key: the header `kid` and `alg` (already matched against the allowlist). Nothing in
//! the payload is readable before [`verify`], which checks the signature with the key the server
//! chose, then every claim rule of the 1EdTech Security Framework 1.0 §5.1.3 and LTI Core 1.3
//! §5.3, with the clock and the login's start time passed in.
//! A [`VerifiedLaunch`] can only come out of [`verify`].
//!
//! Not done here (the server has the store and the network): finding the platform and its key,
//! refetching a JWK set on an unknown `kid`, making the nonce single-use, binding `state` to the
//! browser, and deciding whether the deployment id is known.

use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::claims::{Claim, ClaimRefs, LaunchClaims, optional};
use crate::error::LaunchError;
use crate::ids::{ClientId, Issuer, Kid, Nonce};
pub use crate::jwk::Algorithm;
use crate::jwk::VerificationKey;

/// An id_token that is well-formed and names an allowed algorithm, but is not verified yet.
pub struct UnverifiedIdToken {
    /// The token as received; the signing input is its prefix up to the second dot.
    token: String,
    /// Byte offset of the signature part.
    signature_start: usize,
    /// The decoded payload text, parsed only after the signature verifies.
    payload: String,
    alg: Algorithm,
    kid: Option<Kid>,
}

/// The header members this crate reads. Every other member, notably `jwk`, `jku`, `x5u` and
/// `x5c` (keys chosen by whoever made the token), is ignored and never used.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    /// Read only to refuse it: RFC 7515 §4.1.11, "If any of the listed extension Header
    /// Parameters are not understood and supported by the recipient, then the JWS is invalid."
    /// This crate supports no extension, so any `crit` makes the token invalid.
    crit: Option<serde::de::IgnoredAny>,
}

impl UnverifiedIdToken {
    /// Longest accepted token, in bytes. Real launches are a few kilobytes.
    pub const MAX_LEN: usize = 64 * 1024;

    /// Deepest accepted nesting of arrays and objects in the payload, the payload object
    /// itself being level 1. Real launches nest five or six levels. serde_json refuses 128
    /// levels when stored claims are read again, so a deeper launch could be accepted but
    /// never read back: it is refused here, before anything parses it.
    pub const MAX_DEPTH: usize = 64;

    /// Checks the size, the compact JWS shape and the payload's nesting depth, and reads the
    /// header.
    ///
    /// RFC 7515 §7.1: "BASE64URL(UTF8(JWS Protected Header)) || '.' || BASE64URL(JWS Payload)
    /// || '.' || BASE64URL(JWS Signature)". Security Framework 1.0 §5.1.3: the alg "SHOULD be
    /// the default of RS256"; the allowlist is RS256, RS384, RS512 and ES256, so `none` and
    /// HMAC (which would let a public key serve as a shared secret) are refused here.
    pub fn parse(token: &str) -> Result<Self, LaunchError> {
        if token.len() > Self::MAX_LEN {
            return Err(LaunchError::TokenTooLarge { max: Self::MAX_LEN });
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not three dot-separated parts"));
        };
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| malformed("header is not base64url"))?;
        let header: Header = serde_json::from_slice(&header)
            .map_err(|_| malformed("header is not a JSON object with a string alg"))?;
        let alg = Algorithm::from_jose(&header.alg).ok_or(LaunchError::AlgNotAllowed)?;
        if header.crit.is_some() {
            return Err(malformed("header lists critical extensions"));
        }
        // After the alg check, so an unsigned `alg: none` token is reported as such.
        if signature.is_empty() || !is_base64url(signature) {
            return Err(malformed("signature is not base64url"));
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| malformed("payload is not base64url"))?;
        let payload = String::from_utf8(payload).map_err(|_| malformed("payload is not UTF-8"))?;
        if nests_deeper_than(&payload, Self::MAX_DEPTH) {
            return Err(LaunchError::TokenTooDeep {
                max: Self::MAX_DEPTH,
            });
        }
        Ok(Self {
            token: token.to_owned(),
            signature_start: token.len() - signature.len(),
            payload,
            alg,
            kid: header.kid.map(Kid::new),
        })
    }

    /// The header `kid`, to find the platform key. Whether a missing `kid` is acceptable is the
    /// server's decision (a platform with one static key may omit it).
    pub fn kid(&self) -> Option<&Kid> {
        self.kid.as_ref()
    }

    /// The header `alg`, already known to be in the allowlist.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
}

impl fmt::Debug for UnverifiedIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnverifiedIdToken")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("len", &self.token.len())
            .finish_non_exhaustive()
    }
}

/// What the tool expects of a token: the registration, the login's nonce, and the clock.
#[derive(Clone, Copy, Debug)]
pub struct Expectations<'a> {
    /// The platform's registered issuer.
    pub issuer: &'a Issuer,
    /// This tool's client id at that platform.
    pub client_id: &'a ClientId,
    /// The nonce issued with the login this launch answers.
    pub nonce: &'a Nonce,
    /// Current time, Unix seconds.
    pub now: u64,
    /// When the login this launch answers started, Unix seconds: a token issued before it
    /// (beyond the leeway) was not made for this login.
    pub issued_after: u64,
    /// Allowed clock skew, seconds, applied to `exp`, `iat` and `nbf`.
    pub leeway_secs: u64,
}

/// A launch whose signature and claims were verified. Only [`verify`] makes one.
#[derive(Clone)]
pub struct VerifiedLaunch {
    claims: LaunchClaims,
    /// The verified payload text.
    payload: String,
    /// The payload as a map, parsed on first use: the launch path does not need it.
    raw: OnceLock<Map<String, Value>>,
}

impl VerifiedLaunch {
    /// The typed claims.
    pub fn claims(&self) -> &LaunchClaims {
        &self.claims
    }

    /// The whole verified payload as JSON text, exactly as the platform signed it: store this
    /// (no re-serialization) and re-read it with [`LaunchClaims::from_json`].
    pub fn raw_json(&self) -> &str {
        &self.payload
    }

    /// The whole payload, unknown claims included (for `?raw=true`). Parsed on the first call.
    pub fn raw(&self) -> &Map<String, Value> {
        self.raw
            .get_or_init(|| parse_verified_payload(&self.payload))
    }

    /// Splits into the typed claims and the whole payload.
    pub fn into_parts(self) -> (LaunchClaims, Map<String, Value>) {
        let raw = match self.raw.into_inner() {
            Some(raw) => raw,
            None => parse_verified_payload(&self.payload),
        };
        (self.claims, raw)
    }
}

/// `verify` already read this text as a JSON object, so parsing it as a map cannot fail; the
/// empty-map fallback only keeps this free of panics.
fn parse_verified_payload(payload: &str) -> Map<String, Value> {
    serde_json::from_str(payload).unwrap_or_default()
}

/// Personal data stays out of logs: only the message type and deployment are shown.
impl fmt::Debug for VerifiedLaunch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedLaunch")
            .field("message_type", &self.claims.message_type())
            .field("deployment_id", self.claims.deployment_id())
            .finish_non_exhaustive()
    }
}

/// Verifies an id_token with the platform key the server selected.
///
/// Steps 1 to 5 are the Security Framework's; steps 6 to 9 (LTI claims) are in
/// [`LaunchClaims::from_raw`]. The first failing step decides the error.
pub fn verify(
    token: &UnverifiedIdToken,
    key: &VerificationKey,
    expect: &Expectations<'_>,
) -> Result<VerifiedLaunch, LaunchError> {
    // 1. "The Tool MUST Validate the signature of the ID Token according to JSON Web Signature
    //    [RFC7515], Section 5.2 using the Public Key from the Platform". The header alg must fit
    //    the key (family, and the alg the key declares), and the signature is checked with
    //    exactly that one algorithm, never one the token could steer.
    if !key.accepts(token.alg) {
        return Err(LaunchError::KeyAlgMismatch);
    }
    let signing_input = &token.token.as_bytes()[..token.signature_start - 1];
    let signature = URL_SAFE_NO_PAD
        .decode(&token.token[token.signature_start..])
        .map_err(|_| LaunchError::SignatureInvalid)?;
    if !key.verifies(token.alg, signing_input, &signature) {
        return Err(LaunchError::SignatureInvalid);
    }
    // The payload is scanned once, here; only the claims this crate reads are parsed, each
    // straight into its typed shape.
    let refs = ClaimRefs::from_json(&token.payload)?;
    check_oidc_claims(&refs, expect)?;
    let claims = LaunchClaims::from_refs(&refs)?;
    Ok(VerifiedLaunch {
        claims,
        payload: token.payload.clone(),
        raw: OnceLock::new(),
    })
}

/// Steps 2 to 5: the OpenID Connect claims.
fn check_oidc_claims(c: &ClaimRefs<'_>, expect: &Expectations<'_>) -> Result<(), LaunchError> {
    // 2. "The Issuer Identifier for the Platform MUST exactly match the value of the iss
    //    (Issuer) Claim".
    match optional::<String>(c.iss, "iss")? {
        Some(iss) if iss == expect.issuer.as_str() => {}
        _ => return Err(LaunchError::IssMismatch),
    }

    // 3. "The Tool MUST validate that the aud (audience) Claim contains its client_id value
    //    ... The aud (audience) Claim MAY contain an array with more than one element."
    //    "If the ID Token contains multiple audiences, the Tool SHOULD verify that an azp Claim
    //    is present"; "If an azp (authorized party) Claim is present, the Tool SHOULD verify
    //    that its client_id is the Claim's value". Both SHOULDs are enforced.
    let client_id = expect.client_id.as_str();
    let (audiences, ours) = match optional::<Value>(c.aud, "aud")? {
        None => return Err(LaunchError::AudMismatch),
        Some(Value::String(aud)) => (1, aud == client_id),
        Some(Value::Array(auds)) => {
            let mut ours = false;
            for aud in &auds {
                let Value::String(aud) = aud else {
                    return Err(LaunchError::ClaimInvalid { claim: "aud" });
                };
                ours |= aud == client_id;
            }
            (auds.len(), ours)
        }
        Some(_) => return Err(LaunchError::ClaimInvalid { claim: "aud" }),
    };
    if !ours {
        return Err(LaunchError::AudMismatch);
    }
    match optional::<String>(c.azp, "azp")? {
        None if audiences >= 2 => return Err(LaunchError::AzpMissing),
        Some(azp) if azp != client_id => return Err(LaunchError::AzpMismatch),
        _ => {}
    }

    // 4. "The current time MUST be before the time represented by the exp Claim"; the iat
    //    claim may be used "to reject tokens that were issued too far away from the current
    //    time": one issued in the future is refused, and so is one issued before the login it
    //    answers started (a token made earlier cannot carry this login's nonce honestly, and
    //    an old token with a far `exp` would otherwise stay usable). RFC 7519 §4.1.5: a token
    //    "MUST NOT be accepted for processing" before its nbf. Each comparison allows the
    //    leeway.
    let now = expect.now;
    let leeway = expect.leeway_secs;
    let exp = numeric_date(c.exp, "exp")?.ok_or(LaunchError::ExpMissing)?;
    if now >= exp.saturating_add(leeway) {
        return Err(LaunchError::TokenExpired);
    }
    let iat = numeric_date(c.iat, "iat")?.ok_or(LaunchError::IatMissing)?;
    if iat > now.saturating_add(leeway) {
        return Err(LaunchError::IatInFuture);
    }
    if iat.saturating_add(leeway) < expect.issued_after {
        return Err(LaunchError::IatBeforeLogin);
    }
    if let Some(nbf) = numeric_date(c.nbf, "nbf")?
        && nbf > now.saturating_add(leeway)
    {
        return Err(LaunchError::NotYetValid);
    }

    // 5. "The ID Token MUST contain a nonce Claim", equal to the one sent with the
    //    authentication request (OIDC Core §3.1.3.7 step 11). Compared in constant time.
    //    Single use is the server's job (it owns the store).
    match optional::<String>(c.nonce, "nonce")? {
        None => Err(LaunchError::NonceMissing),
        Some(nonce) if expect.nonce.ct_eq(&nonce) => Ok(()),
        Some(_) => Err(LaunchError::NonceMismatch),
    }
}

/// A NumericDate (RFC 7519 §2): non-negative seconds, fractions allowed and truncated.
fn numeric_date(claim: Option<Claim<'_>>, name: &'static str) -> Result<Option<u64>, LaunchError> {
    let Some(n) = optional::<serde_json::Number>(claim, name)? else {
        return Ok(None);
    };
    match n.as_u64() {
        Some(secs) => Ok(Some(secs)),
        None => match n.as_f64() {
            // Saturating float-to-int conversion; the guard excludes negatives and NaN.
            Some(secs) if secs >= 0.0 && secs.is_finite() => Ok(Some(secs as u64)),
            _ => Err(LaunchError::ClaimInvalid { claim: name }),
        },
    }
}

/// Whether JSON text nests arrays and objects deeper than `max`. One pass over the bytes with a
/// counter (brackets inside strings skipped), so hostile input costs no recursion. The text need
/// not be valid JSON: whether it is, is decided later.
fn nests_deeper_than(json: &str, max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn malformed(part: &'static str) -> LaunchError {
    LaunchError::Malformed { part }
}

fn is_base64url(part: &str) -> bool {
    part.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests;
