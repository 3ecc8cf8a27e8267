//! Deep Linking 2.0 for the app: from a stored deep linking launch and the app's content
//! items, the signed `LtiDeepLinkingResponse` and where the browser must post it.
//!
//! The protocol rules (item shapes, `accept_*` settings, the response's claims) are in
//! [`lti::deep_linking`]; this service reads the launch, draws the nonce, reads the clock and
//! signs with the tool's current key. It does not render the form (that is the HTTP layer's).

use jsonwebtoken::{Algorithm, Header};
use lti::LaunchError;
use lti::claims::{LaunchClaims, MessageType};
use lti::deep_linking::{DeepLinkingError, ResponseContext, ResponseRequest, response_claims};
use url::Url;

use crate::clock::Clock;
use crate::code::Code;
use crate::keys::{KeyError, KeyRing};
use crate::secret::Random;
use crate::store::{Platform, StoredLaunch};

/// Bytes of randomness in a response's nonce.
const NONCE_BYTES: usize = 16;

/// Why no response could be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeepLinkingFailure {
    /// The launch is not an `LtiDeepLinkingRequest` (or carries no settings).
    #[error("the launch is not a deep linking request")]
    NotDeepLinkingLaunch,
    /// The app's items break a rule; the message names it and the item.
    #[error(transparent)]
    Refused(#[from] DeepLinkingError),
    /// The stored launch no longer reads (it was verified when stored).
    #[error("the stored launch cannot be read")]
    StoredLaunch(#[source] LaunchError),
    /// No key to sign with.
    #[error("the tool's signing key is unavailable")]
    Keys(#[from] KeyError),
    /// Signing failed.
    #[error("signing the deep linking response failed")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

impl DeepLinkingFailure {
    pub fn code(&self) -> Code {
        match self {
            Self::NotDeepLinkingLaunch => Code::NotDeepLinkingLaunch,
            Self::Refused(_) => Code::DeepLinkingItemRefused,
            Self::StoredLaunch(_) | Self::Keys(_) | Self::Sign(_) => Code::InternalError,
        }
    }
}

/// A signed response and the platform's return URL it must be posted to (field `JWT`).
#[derive(Debug, Clone)]
pub struct SignedResponse {
    pub jwt: String,
    pub return_url: Url,
}

/// Builds and signs deep linking responses.
#[derive(Debug, Clone)]
pub struct DeepLinker {
    keys: KeyRing,
    clock: Clock,
    random: Random,
}

impl DeepLinker {
    pub fn new(keys: KeyRing, clock: Clock, random: Random) -> Self {
        Self {
            keys,
            clock,
            random,
        }
    }

    /// The response to the deep linking request `launch` of `platform`, carrying the app's
    /// items: `iss` = the platform's client_id for the tool, `aud` = its issuer, RS256 with
    /// the current tool key named by `kid`.
    pub async fn respond(
        &self,
        launch: &StoredLaunch,
        platform: &Platform,
        request: ResponseRequest,
    ) -> Result<SignedResponse, DeepLinkingFailure> {
        let claims =
            LaunchClaims::from_json(&launch.claims).map_err(DeepLinkingFailure::StoredLaunch)?;
        let settings = claims
            .deep_linking_settings()
            .filter(|_| claims.message_type() == MessageType::DeepLinking)
            .ok_or(DeepLinkingFailure::NotDeepLinkingLaunch)?;
        let nonce = self.random.token(NONCE_BYTES);
        let context = ResponseContext {
            client_id: &platform.settings.client_id,
            platform_issuer: &platform.settings.issuer,
            deployment_id: claims.deployment_id(),
            settings,
            now: self.clock.now(),
            nonce: &nonce,
        };
        let payload = response_claims(&context, request)?;
        let key = self.keys.signing_key().await?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        header.typ = Some("JWT".into());
        let jwt =
            jsonwebtoken::encode(&header, &payload, &key.key).map_err(DeepLinkingFailure::Sign)?;
        Ok(SignedResponse {
            jwt,
            return_url: settings.deep_link_return_url.clone(),
        })
    }
}
