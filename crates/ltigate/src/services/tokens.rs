//! Calls to the platform's services with OAuth 2.0 access tokens (1EdTech Security Framework
//! §4.1: client credentials with a JWT client assertion signed by the tool key).
//!
//! Tokens are cached per (platform, set of scopes) until shortly before they expire: in the
//! store, so every node uses the same token, and in memory, so a warm call costs no query.
//! Callers that need the same missing token wait for one request instead of each sending
//! their own. A service that answers 401 (or 403, as Open edX does for an expired token) gets
//! one retry with a fresh token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, Header};
use lti::client_assertion::{
    AccessToken, AssertionClaims, TokenAnswerError, scope_parameter, token_request_form,
};

use crate::clock::Clock;
use crate::code::Code;
use crate::keys::{KeyError, KeyRing};
use crate::outbound::{self, Body, FetchError, Outbound};
use crate::secret::Random;
use crate::store::{Platform, Store, StoreError, StoredToken};
use crate::telemetry::{self, OutboundKind, TokenSource};

/// A token is not used in its last minute: a request sent with it must still find it valid.
const EXPIRY_MARGIN_SECS: i64 = 60;
/// The lifetime assumed when the platform does not say (RFC 6749 §5.1 makes it optional).
const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// Most (platform, scopes) pairs a node keeps tokens for.
const MAX_CACHED: usize = 10_000;
/// Largest token answer read.
const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceCallError {
    /// The platform's registration grants none of the scopes the call needs.
    #[error("the platform's registration does not grant {0}")]
    ScopeNotGranted(String),
    #[error("the platform's token endpoint failed")]
    TokenRequest(#[source] FetchError),
    #[error("the platform's token answer is unusable")]
    TokenAnswer(#[source] TokenAnswerError),
    /// The platform's service refused the call or could not be reached.
    #[error("the platform's service failed")]
    Service(#[source] FetchError),
    #[error("the tool key cannot sign")]
    Keys(#[from] KeyError),
    #[error("the client assertion could not be signed")]
    Signing(#[source] jsonwebtoken::errors::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceCallError {
    pub fn code(&self) -> Code {
        match self {
            Self::ScopeNotGranted(_) => Code::ScopeNotGranted,
            Self::TokenRequest(_) => Code::TokenRequestFailed,
            Self::TokenAnswer(_) => Code::TokenAnswerInvalid,
            Self::Service(_) => Code::PlatformServiceError,
            Self::Keys(_) | Self::Signing(_) | Self::Store(_) => Code::InternalError,
        }
    }

    /// The platform's own answer (status and body), when it answered with an error.
    pub fn platform_answer(&self) -> Option<&outbound::HttpStatusError> {
        match self {
            Self::TokenRequest(e) | Self::Service(e) => e.http_status(),
            _ => None,
        }
    }
}

/// Sends service requests with cached access tokens. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServiceClient {
    store: Store,
    outbound: Outbound,
    keys: KeyRing,
    clock: Clock,
    random: Random,
    tokens: Arc<Mutex<HashMap<TokenKey, StoredToken>>>,
    /// One lock per (platform, scopes): who holds it fetches; the others then find the token.
    fetching: Arc<Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>>,
}

/// A platform id and a scope parameter.
type TokenKey = (String, String);

impl ServiceClient {
    pub fn new(store: Store, outbound: Outbound, keys: KeyRing, clock: Clock) -> Self {
        Self {
            store,
            outbound,
            keys,
            clock,
            random: Random::System,
            tokens: Arc::default(),
            fetching: Arc::default(),
        }
    }

    /// Draws assertion ids from `random` (tests pin it).
    pub fn with_random(mut self, random: Random) -> Self {
        self.random = random;
        self
    }

    /// Sends `request` with an access token for `scopes`; refreshes the token once and
    /// retries once when the service answers 401 or 403. Scopes the platform's registration
    /// does not grant are not asked for (a manually registered platform records no grant:
    /// then all are asked for); none left is [`ServiceCallError::ScopeNotGranted`].
    pub async fn send(
        &self,
        platform: &Platform,
        scopes: &[&str],
        request: outbound::Request,
    ) -> Result<outbound::Response, ServiceCallError> {
        let scope = granted_scope(platform, scopes)?;
        let kind = OutboundKind::of_service(scopes);
        let token = self.token(platform, &scope, None).await?;
        match telemetry::outbound(
            kind,
            self.outbound
                .send(request.clone().bearer(token.token.clone())),
        )
        .await
        {
            Err(e) if is_token_refused(&e) => {
                let fresh = self.token(platform, &scope, Some(&token.token)).await?;
                telemetry::outbound(kind, self.outbound.send(request.bearer(fresh.token)))
                    .await
                    .map_err(ServiceCallError::Service)
            }
            other => other.map_err(ServiceCallError::Service),
        }
    }

    /// A valid token for `scope`: from memory, the store, or the platform. `stale` is a token
    /// the platform refused: it is dropped unless another caller already replaced it.
    async fn token(
        &self,
        platform: &Platform,
        scope: &str,
        stale: Option<&str>,
    ) -> Result<StoredToken, ServiceCallError> {
        let key = (platform.id.clone(), scope.to_owned());
        if let Some(token) = self.cached(&key, stale) {
            telemetry::service_token(TokenSource::Memory);
            return Ok(token);
        }
        let gate = self.lock_fetching().entry(key.clone()).or_default().clone();
        let _turn = gate.lock().await;
        // Whoever held the lock before may have fetched it.
        if let Some(token) = self.cached(&key, stale) {
            telemetry::service_token(TokenSource::Memory);
            return Ok(token);
        }
        let valid_at = self.clock.now() + EXPIRY_MARGIN_SECS;
        if let Some(stale) = stale {
            self.lock_tokens().remove(&key);
            self.store
                .drop_access_token(&platform.id, scope, stale)
                .await?;
        }
        let token = match self
            .store
            .access_token(&platform.id, scope, valid_at)
            .await?
        {
            Some(token) if Some(token.token.as_str()) != stale => {
                telemetry::service_token(TokenSource::Store);
                token
            }
            _ => {
                telemetry::service_token(TokenSource::Fetched);
                let token = self.request_token(platform, scope).await?;
                self.store
                    .save_access_token(&platform.id, scope, &token)
                    .await?;
                token
            }
        };
        let mut tokens = self.lock_tokens();
        if tokens.len() >= MAX_CACHED {
            tokens.clear();
        }
        tokens.insert(key, token.clone());
        Ok(token)
    }

    /// The token in memory, when it is valid for another minute and not `stale`.
    fn cached(&self, key: &TokenKey, stale: Option<&str>) -> Option<StoredToken> {
        let valid_at = self.clock.now() + EXPIRY_MARGIN_SECS;
        self.lock_tokens()
            .get(key)
            .filter(|t| t.expires_at > valid_at && Some(t.token.as_str()) != stale)
            .cloned()
    }

    /// Asks the platform's token endpoint for a token (RFC 7523 §2.2, RFC 6749 §4.4).
    async fn request_token(
        &self,
        platform: &Platform,
        scope: &str,
    ) -> Result<StoredToken, ServiceCallError> {
        let settings = &platform.settings;
        let now = self.clock.now();
        let audience = settings
            .authorization_server
            .as_deref()
            .unwrap_or(settings.token_endpoint.as_str());
        let claims = AssertionClaims::new(
            &settings.client_id,
            audience,
            self.random.token(16),
            u64::try_from(now).unwrap_or(0),
        );
        let signing = self.keys.signing_key().await?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signing.kid.clone());
        let assertion = jsonwebtoken::encode(&header, &claims, &signing.key)
            .map_err(ServiceCallError::Signing)?;
        let request = outbound::Request::post(settings.token_endpoint.as_str())
            .accept("application/json")
            .body(Body::form(token_request_form(&assertion, scope)))
            .max_bytes(MAX_TOKEN_ANSWER_BYTES);
        let answer = telemetry::outbound(OutboundKind::Token, self.outbound.send(request))
            .await
            .map_err(ServiceCallError::TokenRequest)?;
        let token = AccessToken::parse(answer.body.as_deref().unwrap_or_default())
            .map_err(ServiceCallError::TokenAnswer)?;
        let lifetime = token
            .expires_in
            .and_then(|s| i64::try_from(s).ok())
            .unwrap_or(DEFAULT_LIFETIME_SECS);
        tracing::info!(platform = %platform.id, scope, lifetime, "service access token issued");
        Ok(StoredToken {
            token: token.access_token,
            expires_at: now.saturating_add(lifetime),
        })
    }

    fn lock_tokens(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, StoredToken>> {
        // Plain inserts and reads: a panic elsewhere cannot leave the map inconsistent.
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_fetching(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>> {
        self.fetching.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The scope parameter for a call needing `scopes`: those the registration granted.
fn granted_scope(platform: &Platform, scopes: &[&str]) -> Result<String, ServiceCallError> {
    let granted = &platform.settings.scopes;
    let scope = scope_parameter(
        scopes
            .iter()
            .copied()
            .filter(|s| granted.is_empty() || granted.iter().any(|g| g == s)),
    );
    if scope.is_empty() {
        return Err(ServiceCallError::ScopeNotGranted(scopes.join(" ")));
    }
    Ok(scope)
}

/// 401, or 403 as Open edX answers an expired or unknown token.
fn is_token_refused(e: &FetchError) -> bool {
    e.http_status()
        .is_some_and(|s| s.status == 401 || s.status == 403)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PlatformKey, PlatformSettings, PlatformStatus};
    use lti::ids::{ClientId, Issuer};

    fn platform(scopes: &[&str]) -> Platform {
        let url = |s: &str| url::Url::parse(s).unwrap();
        Platform {
            id: "p1".into(),
            settings: PlatformSettings {
                issuer: Issuer::new("https://lms.example"),
                client_id: ClientId::new("c1"),
                name: "LMS".into(),
                auth_endpoint: url("https://lms.example/auth"),
                token_endpoint: url("https://lms.example/token"),
                authorization_server: None,
                key: PlatformKey::JwkSet(url("https://lms.example/jwks")),
                status: PlatformStatus::Active,
                allow_new_deployments: true,
                product_family: None,
                version: None,
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                deployment_ids: vec![],
            },
            created_at: 0,
            updated_at: 0,
            activity: Default::default(),
        }
    }

    #[test]
    fn only_granted_scopes_are_asked_for() {
        let registered = platform(&["score", "lineitem"]);
        assert_eq!(
            granted_scope(&registered, &["score", "result.readonly"]).unwrap(),
            "score"
        );
        assert!(matches!(
            granted_scope(&registered, &["result.readonly"]),
            Err(ServiceCallError::ScopeNotGranted(_))
        ));
        // Manually registered: no grant recorded, so everything the call needs is asked for.
        assert_eq!(
            granted_scope(&platform(&[]), &["score", "lineitem"]).unwrap(),
            "lineitem score"
        );
    }
}
