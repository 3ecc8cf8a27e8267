//! The platform's OAuth 2.0 token endpoint for LTI Advantage services: the
//! client_credentials grant (RFC 6749 §4.4) with a `private_key_jwt` client assertion
//! (RFC 7523 §2.2, 1EdTech Security Framework 1.0 §4.1), and the bearer tokens it issues,
//! which the AGS and NRPS endpoints check.
//!
//! The assertion is verified for real: the tool's JWKS is fetched over HTTP from its
//! registered `jwks_uri`, the key chosen by `kid`, RS256 only, and each `jti` is accepted
//! once. Every request is recorded ([`TokenRequestRecord`]) so tests can see what the tool
//! sent and what it was granted.

use crate::jws;
use crate::platform::Platform;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) const SCOPE_LINEITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
pub(crate) const SCOPE_LINEITEM_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly";
pub(crate) const SCOPE_RESULT_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly";
pub(crate) const SCOPE_SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
pub(crate) const SCOPE_MEMBERSHIPS: &str =
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

/// What a tool added with `add_tool` may ask for.
const SERVICE_SCOPES: [&str; 5] = [
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCOPE_MEMBERSHIPS,
];

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew allowed on `iat` and `exp`, in seconds.
const LEEWAY: u64 = 60;
/// The furthest in the future an assertion may expire, in seconds.
const MAX_ASSERTION_LIFETIME: u64 = 3600;
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// How long fetching the tool's JWKS may take.
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// One request to the token endpoint, as the simulator saw and judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRequestRecord {
    /// The form's `grant_type`, if sent.
    pub grant_type: Option<String>,
    /// The form's `client_assertion_type`, if sent.
    pub client_assertion_type: Option<String>,
    /// The assertion's JOSE header (`Null` when it could not be decoded).
    pub header: Value,
    /// The assertion's claims, unverified when the request was refused (`Null` when they
    /// could not be decoded).
    pub claims: Value,
    /// The `scope` form field, split on spaces.
    pub requested_scopes: Vec<String>,
    /// What the access token allows; empty when refused.
    pub granted_scopes: Vec<String>,
    /// The access token issued.
    pub access_token: Option<String>,
    /// `Err("<RFC 6749 error code>: <why>")` when refused.
    pub outcome: Result<(), String>,
}

/// An RFC 6749 §5.2 error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        Self::new("invalid_client", description)
    }

    /// 401 for a failed client authentication, 400 for the rest (RFC 6749 §5.2).
    pub(crate) fn status(&self) -> StatusCode {
        if self.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

/// Why a service call's bearer token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// Missing, unknown, expired or revoked: answered with this status.
    InvalidToken(StatusCode),
    /// Valid, but none of the scopes the call needs.
    InsufficientScope,
}

/// Token endpoint state: issued tokens, used jtis, records and the test knobs.
pub(crate) struct OAuth {
    state: Mutex<State>,
    client: Option<reqwest::Client>,
}

struct State {
    lifetime: Duration,
    invalid_token_status: StatusCode,
    tokens: HashMap<String, Issued>,
    /// `(iss, jti)` of accepted assertions, with their `exp`.
    used_jtis: HashMap<(String, String), u64>,
    records: Vec<TokenRequestRecord>,
    /// The scopes Dynamic Registration granted, by client_id.
    registered_scopes: HashMap<String, Vec<String>>,
}

struct Issued {
    scopes: Vec<String>,
    expires: Instant,
}

impl OAuth {
    pub(crate) fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(JWKS_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ltisim/", env!("CARGO_PKG_VERSION")))
            .build()
            .ok();
        Self {
            state: Mutex::new(State {
                lifetime: DEFAULT_LIFETIME,
                invalid_token_status: StatusCode::UNAUTHORIZED,
                tokens: HashMap::new(),
                used_jtis: HashMap::new(),
                records: Vec::new(),
                registered_scopes: HashMap::new(),
            }),
            client,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn records(&self) -> Vec<TokenRequestRecord> {
        self.state().records.clone()
    }

    pub(crate) fn set_lifetime(&self, lifetime: Duration) {
        self.state().lifetime = lifetime;
    }

    pub(crate) fn revoke_all(&self) {
        self.state().tokens.clear();
    }

    pub(crate) fn set_invalid_token_status(&self, status: StatusCode) {
        self.state().invalid_token_status = status;
    }

    /// Limits what `client_id` may ask for to what its registration granted; `None` for
    /// a tool added by hand, which may use every service scope.
    pub(crate) fn set_registered_scopes(&self, client_id: &str, scopes: Option<Vec<String>>) {
        let mut state = self.state();
        match scopes {
            Some(scopes) => state.registered_scopes.insert(client_id.to_owned(), scopes),
            None => state.registered_scopes.remove(client_id),
        };
    }

    /// Handles a token request (a form body): an access token answer or the error.
    pub(crate) async fn token_request(
        &self,
        platform: &Platform,
        form: &[u8],
    ) -> Result<Value, OAuthError> {
        let mut record = TokenRequestRecord {
            grant_type: None,
            client_assertion_type: None,
            header: Value::Null,
            claims: Value::Null,
            requested_scopes: Vec::new(),
            granted_scopes: Vec::new(),
            access_token: None,
            outcome: Ok(()),
        };
        let answer = self.grant(platform, form, &mut record).await;
        record.outcome = answer.as_ref().map(|_| ()).map_err(ToString::to_string);
        self.state().records.push(record);
        answer
    }

    async fn grant(
        &self,
        platform: &Platform,
        form: &[u8],
        record: &mut TokenRequestRecord,
    ) -> Result<Value, OAuthError> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form).into_owned().collect();
        let field = |name: &str| -> Result<Option<String>, OAuthError> {
            let mut values = pairs.iter().filter(|(key, _)| key == name);
            let first = values.next().map(|(_, value)| value.clone());
            if values.next().is_some() {
                return Err(OAuthError::new(
                    "invalid_request",
                    format!("{name} is repeated"),
                ));
            }
            Ok(first)
        };
        record.grant_type = field("grant_type")?;
        record.client_assertion_type = field("client_assertion_type")?;
        let scope = field("scope")?.unwrap_or_default();
        record.requested_scopes = scope.split_whitespace().map(str::to_owned).collect();
        let assertion = field("client_assertion")?;
        match record.grant_type.as_deref() {
            None => return Err(OAuthError::new("invalid_request", "grant_type is missing")),
            Some("client_credentials") => {}
            Some(other) => {
                return Err(OAuthError::new(
                    "unsupported_grant_type",
                    format!("grant_type {other:?} is not supported; use client_credentials"),
                ));
            }
        }
        if record.client_assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(OAuthError::new(
                "invalid_request",
                format!("client_assertion_type must be {JWT_BEARER}"),
            ));
        }
        let assertion = assertion
            .filter(|text| !text.is_empty())
            .ok_or_else(|| OAuthError::new("invalid_request", "client_assertion is missing"))?;
        let decoded = jws::decode(&assertion).map_err(OAuthError::invalid_client)?;
        record.header = decoded.header.clone();
        record.claims = decoded.claims.clone();

        // The tool is named by iss, which must also be the subject (RFC 7523 §3 B, 1EdTech
        // Security Framework §4.1.1).
        let issuer = decoded
            .claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(|| OAuthError::invalid_client("the assertion has no iss"))?;
        let tool = platform
            .tool(issuer)
            .ok_or_else(|| OAuthError::invalid_client(format!("unknown client {issuer:?}")))?;
        let audience = expected_audience(platform);
        check_claims(&decoded.claims, &audience, unix_now()).map_err(OAuthError::invalid_client)?;
        let jwks_uri = tool.jwks_uri.as_deref().ok_or_else(|| {
            OAuthError::invalid_client("the client has no registered jwks_uri to verify with")
        })?;
        let jwks = self.fetch_jwks(jwks_uri).await?;
        decoded
            .verify_rs256(&jwks)
            .map_err(OAuthError::invalid_client)?;

        let jti = decoded
            .claims
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let exp = decoded
            .claims
            .get("exp")
            .and_then(Value::as_u64)
            .unwrap_or_default();
        let mut state = self.state();
        let now = unix_now();
        state
            .used_jtis
            .retain(|_, expires| *expires + LEEWAY >= now);
        let key = (issuer.to_owned(), jti.to_owned());
        if state.used_jtis.insert(key, exp).is_some() {
            return Err(OAuthError::invalid_client(
                "the assertion's jti was already used",
            ));
        }
        let allowed: Vec<String> = match state.registered_scopes.get(issuer) {
            Some(scopes) => scopes.clone(),
            None => SERVICE_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut granted: Vec<String> = record
            .requested_scopes
            .iter()
            .filter(|scope| allowed.contains(scope))
            .cloned()
            .collect();
        granted.dedup();
        if granted.is_empty() {
            return Err(OAuthError::new(
                "invalid_scope",
                "none of the requested scopes is granted to this client",
            ));
        }
        let token = URL_SAFE_NO_PAD.encode(crate::hints::random_bytes::<32>());
        let lifetime = state.lifetime;
        let issued_at = Instant::now();
        state.tokens.retain(|_, issued| issued.expires > issued_at);
        state.tokens.insert(
            token.clone(),
            Issued {
                scopes: granted.clone(),
                expires: issued_at + lifetime,
            },
        );
        record.granted_scopes = granted.clone();
        record.access_token = Some(token.clone());
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
            "scope": granted.join(" "),
        }))
    }

    /// The client that fetches tools' keys (bounded in time, no redirects).
    pub(crate) fn http_client(&self) -> Option<&reqwest::Client> {
        self.client.as_ref()
    }

    async fn fetch_jwks(&self, jwks_uri: &str) -> Result<Value, OAuthError> {
        let unreachable =
            |why: String| OAuthError::invalid_client(format!("the client's JWKS: {why}"));
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| unreachable("no HTTP client".into()))?;
        jws::fetch_jwks(client, jwks_uri).await.map_err(unreachable)
    }

    /// Checks a service call's `Authorization` header for a live token with at least one
    /// of `needed`.
    pub(crate) fn authorize(
        &self,
        authorization: Option<&str>,
        needed: &[&str],
    ) -> Result<(), Denied> {
        let state = self.state();
        let invalid = Denied::InvalidToken(state.invalid_token_status);
        let token = authorization
            .and_then(|header| header.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(invalid)?;
        let issued = state.tokens.get(token).ok_or(invalid)?;
        if Instant::now() >= issued.expires {
            return Err(invalid);
        }
        if issued
            .scopes
            .iter()
            .any(|scope| needed.contains(&scope.as_str()))
        {
            Ok(())
        } else {
            Err(Denied::InsufficientScope)
        }
    }
}

/// The `aud` a client assertion must carry: the advertised `authorization_server` when
/// the configuration has one, else the token endpoint URL.
fn expected_audience(platform: &Platform) -> String {
    platform
        .openid_configuration()
        .get("authorization_server")
        .and_then(Value::as_str)
        .map_or_else(|| platform.url(platform.endpoints().token), str::to_owned)
}

/// The assertion's registered claims (RFC 7523 §3): sub = iss, aud, exp, iat, jti.
fn check_claims(claims: &Value, audience: &str, now: u64) -> Result<(), String> {
    let string = |name: &str| claims.get(name).and_then(Value::as_str);
    if string("sub") != string("iss") {
        return Err("sub must equal iss (the client_id)".into());
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(format!("aud must contain {audience:?}"));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or("exp is missing or not a number")?;
    if exp + LEEWAY <= now {
        return Err("the assertion has expired".into());
    }
    if exp > now + MAX_ASSERTION_LIFETIME + LEEWAY {
        return Err("exp is more than one hour ahead".into());
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or("iat is missing or not a number")?;
    if iat > now + LEEWAY {
        return Err("iat is in the future".into());
    }
    if string("jti").is_none_or(str::is_empty) {
        return Err("jti is missing".into());
    }
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUD: &str = "http://lms/token";
    const NOW: u64 = 1_800_000_000;

    fn good() -> Value {
        json!({ "iss": "t", "sub": "t", "aud": AUD, "iat": NOW, "exp": NOW + 300, "jti": "j1" })
    }

    fn check(patch: Value) -> Result<(), String> {
        let mut claims = good();
        crate::tamper::merge_patch(&mut claims, &patch);
        check_claims(&claims, AUD, NOW)
    }

    #[test]
    fn each_claim_rule_refuses() {
        assert_eq!(check(json!({})), Ok(()));
        assert_eq!(check(json!({ "aud": ["x", AUD] })), Ok(()));
        assert!(check(json!({ "sub": "other" })).is_err());
        assert!(check(json!({ "aud": "http://lms/other" })).is_err());
        assert!(check(json!({ "aud": null })).is_err());
        assert!(check(json!({ "exp": NOW - 61 })).is_err());
        assert_eq!(check(json!({ "exp": NOW - 30 })), Ok(()), "leeway");
        assert!(check(json!({ "exp": NOW + 2 * 3600 })).is_err());
        assert!(check(json!({ "iat": NOW + 120 })).is_err());
        assert!(check(json!({ "iat": null })).is_err());
        assert!(check(json!({ "jti": "" })).is_err());
        assert!(check(json!({ "jti": null })).is_err());
    }
}
