//! Service access tokens: the OAuth 2.0 client credentials grant with a JWT client assertion
//! (1EdTech Security Framework §4.1, RFC 7523 §2.2, RFC 6749 §4.4).
//!
//! This module builds the assertion's claims and the token request's form, and reads the token
//! endpoint's answer. It does not sign (the caller holds the tool key), send, or cache.

use serde::{Deserialize, Serialize};

use crate::ids::ClientId;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: the platform only needs it for the one token request.
pub const ASSERTION_LIFETIME_SECS: u64 = 300;

/// The claims of a client assertion (RFC 7523 §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// The tool's client_id (§3 item 1).
    pub iss: String,
    /// The tool's client_id again (§3 item 2: the client is the subject).
    pub sub: String,
    /// The authorization server: the platform's `authorization_server` when it has one, else
    /// its token endpoint (§3 item 3; LTI Dynamic Registration §3.5.1).
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    /// Unique per assertion, so the platform can refuse a replay (§3 item 7).
    pub jti: String,
}

impl AssertionClaims {
    /// The claims of one assertion made at `now` (Unix seconds); `jti` must be fresh.
    pub fn new(client_id: &ClientId, audience: &str, jti: impl Into<String>, now: u64) -> Self {
        Self {
            iss: client_id.as_str().to_owned(),
            sub: client_id.as_str().to_owned(),
            aud: audience.to_owned(),
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
            jti: jti.into(),
        }
    }
}

/// The form of a token request: the signed assertion and the space-separated scopes.
pub fn token_request_form<'a>(assertion: &'a str, scope: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
        ("scope", scope),
    ]
}

/// The scopes of a request as the `scope` parameter: sorted, without duplicates, so one set
/// of scopes always names one cached token.
pub fn scope_parameter<'a>(scopes: impl IntoIterator<Item = &'a str>) -> String {
    let mut scopes: Vec<&str> = scopes.into_iter().filter(|s| !s.is_empty()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes.join(" ")
}

/// A successful token answer (RFC 6749 §5.1).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    /// `Bearer` (compared case-insensitively by [`AccessToken::parse`]).
    pub token_type: String,
    /// Lifetime in seconds; platforms omit it now and then.
    pub expires_in: Option<u64>,
    /// The scopes granted, when they differ from those asked for (§5.1).
    pub scope: Option<String>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Why a token answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenAnswerError {
    #[error("the token answer is not a JSON object with access_token and token_type")]
    Malformed,
    #[error("the token answer has token_type other than Bearer")]
    NotBearer,
    #[error("the token answer has an empty access_token")]
    EmptyToken,
}

impl AccessToken {
    /// Reads a token endpoint's 2xx answer.
    pub fn parse(body: &[u8]) -> Result<Self, TokenAnswerError> {
        let token: Self = serde_json::from_slice(body).map_err(|_| TokenAnswerError::Malformed)?;
        if !token.token_type.eq_ignore_ascii_case("bearer") {
            return Err(TokenAnswerError::NotBearer);
        }
        if token.access_token.trim().is_empty() {
            return Err(TokenAnswerError::EmptyToken);
        }
        Ok(token)
    }

    /// The granted scopes: the answer's `scope`, or those asked for when it has none.
    pub fn granted_scopes<'a>(&'a self, asked: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.scope
            .as_deref()
            .unwrap_or(asked)
            .split_ascii_whitespace()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_names_the_tool_as_issuer_and_subject() {
        let claims = AssertionClaims::new(
            &ClientId::new("10000000000002"),
            "https://lms.example/login/oauth2/token",
            "jti-1",
            1_000,
        );
        assert_eq!(claims.iss, "10000000000002");
        assert_eq!(claims.sub, "10000000000002");
        assert_eq!(claims.aud, "https://lms.example/login/oauth2/token");
        assert_eq!((claims.iat, claims.exp), (1_000, 1_300));
        assert_eq!(claims.jti, "jti-1");
    }

    #[test]
    fn scope_parameter_is_sorted_and_deduplicated() {
        assert_eq!(scope_parameter(["b", "a", "", "b"]), "a b");
        assert_eq!(scope_parameter([]), "");
    }

    #[test]
    fn token_form_follows_rfc_7523() {
        let form = token_request_form("a.b.c", "s1 s2");
        assert_eq!(form[0], ("grant_type", "client_credentials"));
        assert_eq!(form[1], ("client_assertion_type", ASSERTION_TYPE));
        assert_eq!(form[2], ("client_assertion", "a.b.c"));
        assert_eq!(form[3], ("scope", "s1 s2"));
    }

    #[test]
    fn token_answer_is_read_and_checked() {
        let token = AccessToken::parse(
            br#"{"access_token":"t","token_type":"bearer","expires_in":3600,"scope":"a b"}"#,
        )
        .unwrap();
        assert_eq!(token.expires_in, Some(3600));
        assert_eq!(token.granted_scopes("x").collect::<Vec<_>>(), ["a", "b"]);
        let no_scope =
            AccessToken::parse(br#"{"access_token":"t","token_type":"Bearer"}"#).unwrap();
        assert_eq!(
            no_scope.granted_scopes("x y").collect::<Vec<_>>(),
            ["x", "y"]
        );
        assert!(!format!("{no_scope:?}").contains("\"t\""));

        assert_eq!(
            AccessToken::parse(br#"{"access_token":"t","token_type":"mac"}"#),
            Err(TokenAnswerError::NotBearer)
        );
        assert_eq!(
            AccessToken::parse(br#"{"access_token":" ","token_type":"Bearer"}"#),
            Err(TokenAnswerError::EmptyToken)
        );
        assert_eq!(
            AccessToken::parse(b"<html>"),
            Err(TokenAnswerError::Malformed)
        );
    }
}
