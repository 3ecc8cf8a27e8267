//! A platform's id_token signing key, parsed once where it enters (admin input, dynamic
//! registration, a stored row) so launches never re-parse it.

use lti::error::LaunchError;
use lti::ids::Kid;
use lti::jwk::{Jwk, VerificationKey};
use url::Url;

/// How ltigate gets the platform's id_token signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformKey {
    /// A JWKS URL (`JWK_SET`).
    JwkSet(Url),
    /// One JWK (`JWK_KEY`).
    Jwk(StaticKey),
    /// One RSA public key, PEM (`RSA_KEY`).
    RsaPem(StaticKey),
}

/// A static key: the text as registered (shown back to the admin and stored) and the key it
/// verifies with.
#[derive(Debug, Clone)]
pub struct StaticKey {
    text: String,
    kid: Option<Kid>,
    key: VerificationKey,
}

/// Two static keys are the same key when they were registered with the same text.
impl PartialEq for StaticKey {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for StaticKey {}

impl StaticKey {
    /// The text as registered.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The JWK's `kid`, if it has one.
    pub fn kid(&self) -> Option<&Kid> {
        self.kid.as_ref()
    }

    /// The key that verifies the platform's id_tokens.
    pub fn verification_key(&self) -> &VerificationKey {
        &self.key
    }
}

impl PlatformKey {
    /// A JWK given as JSON text, by the launch's own key rules.
    pub fn jwk(text: String) -> Result<Self, LaunchError> {
        let jwk = Jwk::from_json(text.as_bytes())?;
        let key = VerificationKey::from_jwk(&jwk)?;
        Ok(Self::Jwk(StaticKey {
            kid: jwk.kid().cloned(),
            text,
            key,
        }))
    }

    /// An RSA public key PEM, by the launch's own key rules.
    pub fn rsa_pem(text: String) -> Result<Self, LaunchError> {
        let key = VerificationKey::from_rsa_pem(text.as_bytes())?;
        Ok(Self::RsaPem(StaticKey {
            text,
            kid: None,
            key,
        }))
    }

    /// The LTIAAS `authConfig.method` name.
    pub fn method(&self) -> &'static str {
        match self {
            Self::JwkSet(_) => KeyMethod::JwkSet,
            Self::Jwk(_) => KeyMethod::JwkKey,
            Self::RsaPem(_) => KeyMethod::RsaKey,
        }
        .as_str()
    }

    /// The key as registered: the JWKS URL or the static key's text.
    pub fn key(&self) -> &str {
        match self {
            Self::JwkSet(url) => url.as_str(),
            Self::Jwk(k) | Self::RsaPem(k) => k.text(),
        }
    }

    /// A stored key; `None` when the method is unknown or the key no longer parses.
    pub(super) fn from_parts(method: &str, key: String) -> Option<Self> {
        match KeyMethod::parse(method)? {
            KeyMethod::JwkSet => Url::parse(&key).ok().map(Self::JwkSet),
            KeyMethod::JwkKey => Self::jwk(key).ok(),
            KeyMethod::RsaKey => Self::rsa_pem(key).ok(),
        }
    }
}

/// How a platform's key is given (LTIAAS `authConfig.method`): named once here for the admin
/// API, the CLI and the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMethod {
    /// The platform's JWKS URL.
    JwkSet,
    /// One JWK.
    JwkKey,
    /// One RSA public key PEM.
    RsaKey,
}

impl KeyMethod {
    pub const ALL: [Self; 3] = [Self::JwkSet, Self::JwkKey, Self::RsaKey];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::JwkSet => "JWK_SET",
            Self::JwkKey => "JWK_KEY",
            Self::RsaKey => "RSA_KEY",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}
