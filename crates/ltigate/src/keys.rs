//! The tool's own RSA keys: generation, rotation, the public JWKS and the signing key.
//!
//! A key's state is derived from its times (see the `tool_keys` migration): `next` until
//! `activate_at`, then `current` while it is the newest activated key, then `previous` until
//! `retire_at`, when it leaves the JWKS. Platforms therefore always see a key in the JWKS
//! before it signs, and keep seeing it as long as anything it signed can still be alive.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey};
use tokio::sync::RwLock;

use crate::clock::{Clock, UnixTime};
use crate::config::KeysConfig;
use crate::secret::random_token;
use crate::store::{Store, StoreError, StoredKey};

/// Why key material could not be used or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generate,
    #[error("stored key {kid} is unreadable")]
    Unreadable { kid: String },
    #[error("no tool key is active; run `ltigate serve` once or `ltigate keys rotate`")]
    NoCurrentKey,
    #[error("a rotation is already in progress: key {kid} starts signing at {activate_at}")]
    RotationInProgress { kid: String, activate_at: UnixTime },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a key is in its life at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// Published and signing.
    Current,
    /// Published until `retire_at`, no longer signing.
    Previous,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Previous => "previous",
            Self::Retired => "retired",
        }
    }
}

/// The state of each of `keys` (sorted by activate_at) at `now`.
pub fn key_states(keys: &[StoredKey], now: UnixTime) -> Vec<KeyState> {
    let current = keys
        .iter()
        .rposition(|k| k.activate_at <= now && k.retire_at.is_none_or(|r| r > now));
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            if k.retire_at.is_some_and(|r| r <= now) {
                KeyState::Retired
            } else if k.activate_at > now {
                KeyState::Next
            } else if Some(i) == current {
                KeyState::Current
            } else {
                KeyState::Previous
            }
        })
        .collect()
}

/// A fresh RSA-2048 key that starts signing at `activate_at`.
pub fn generate_key(now: UnixTime, activate_at: UnixTime) -> Result<StoredKey, KeyError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let der =
        AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| KeyError::Generate)?;
    Ok(StoredKey {
        kid: random_token(16),
        private_key_pem: pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref())),
        created_at: now,
        activate_at,
        retire_at: None,
    })
}

/// Makes sure a signing key exists (first start). Returns true when it created one.
pub async fn ensure_key(store: &Store, now: UnixTime) -> Result<bool, KeyError> {
    if !store.live_tool_keys(now).await?.is_empty() {
        return Ok(false);
    }
    let key = generate_key(now, now)?;
    Ok(store.insert_first_tool_key(&key).await?)
}

/// Starts a rotation: publishes a new key now, lets it sign after `delay`, and retires the
/// others `max_token_lifetime` after that. Returns the new key.
pub async fn rotate(
    store: &Store,
    now: UnixTime,
    delay: Duration,
    max_token_lifetime: Duration,
) -> Result<StoredKey, KeyError> {
    let keys = store.live_tool_keys(now).await?;
    if let Some(pending) = keys.iter().find(|k| k.activate_at > now) {
        return Err(KeyError::RotationInProgress {
            kid: pending.kid.clone(),
            activate_at: pending.activate_at,
        });
    }
    let activate_at = now + delay.as_secs() as i64;
    let next = generate_key(now, activate_at)?;
    store
        .rotate_tool_key(&next, activate_at + max_token_lifetime.as_secs() as i64)
        .await?;
    Ok(next)
}

/// The signing key that is current now.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub key: EncodingKey,
    /// The public key, SPKI PEM (shown to admins as the tool's public key).
    pub public_pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

/// What a node serves from its key cache.
#[derive(Debug)]
struct KeySnapshot {
    jwks: Arc<JwkSet>,
    signing: SigningKey,
    loaded: UnixTime,
}

/// The keys as a node sees them: read from the store, cached for `refresh_interval`.
#[derive(Debug, Clone)]
pub struct KeyRing {
    store: Store,
    clock: Clock,
    refresh_interval: Duration,
    snapshot: Arc<RwLock<Option<Arc<KeySnapshot>>>>,
}

impl KeyRing {
    pub fn new(store: Store, clock: Clock, config: &KeysConfig) -> Self {
        Self {
            store,
            clock,
            refresh_interval: config.refresh_interval,
            snapshot: Arc::new(RwLock::new(None)),
        }
    }

    /// The public JWKS: every key that is next, current or previous.
    pub async fn jwks(&self) -> Result<Arc<JwkSet>, KeyError> {
        Ok(self.snapshot().await?.jwks.clone())
    }

    /// The key that signs now.
    pub async fn signing_key(&self) -> Result<SigningKey, KeyError> {
        Ok(self.snapshot().await?.signing.clone())
    }

    async fn snapshot(&self) -> Result<Arc<KeySnapshot>, KeyError> {
        if let Some(s) = self.snapshot.read().await.as_ref()
            && self.is_fresh(s)
        {
            return Ok(s.clone());
        }
        let mut slot = self.snapshot.write().await;
        // Another task may have refreshed it while this one waited for the lock.
        if let Some(s) = slot.as_ref()
            && self.is_fresh(s)
        {
            return Ok(s.clone());
        }
        let fresh = Arc::new(self.load().await?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// Whether a snapshot is younger than the refresh interval on the injected clock (a clock
    /// that stepped back makes it stale rather than young).
    fn is_fresh(&self, snapshot: &KeySnapshot) -> bool {
        let age = self.clock.now() - snapshot.loaded;
        (0..self.refresh_interval.as_secs() as i64).contains(&age)
    }

    async fn load(&self) -> Result<KeySnapshot, KeyError> {
        let now = self.clock.now();
        let keys = self.store.live_tool_keys(now).await?;
        let states = key_states(&keys, now);
        let mut jwks = JwkSet { keys: Vec::new() };
        let mut signing = None;
        for (stored, state) in keys.iter().zip(states) {
            if state == KeyState::Retired {
                continue;
            }
            let unreadable = || KeyError::Unreadable {
                kid: stored.kid.clone(),
            };
            let key = EncodingKey::from_rsa_pem(stored.private_key_pem.as_bytes())
                .map_err(|_| unreadable())?;
            let mut jwk =
                Jwk::from_encoding_key(&key, Algorithm::RS256).map_err(|_| unreadable())?;
            jwk.common.key_id = Some(stored.kid.clone());
            jwk.common.public_key_use = Some(PublicKeyUse::Signature);
            jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
            jwks.keys.push(jwk);
            if state == KeyState::Current {
                signing = Some(SigningKey {
                    kid: stored.kid.clone(),
                    public_pem: public_pem(&stored.private_key_pem).ok_or_else(unreadable)?,
                    key,
                });
            }
        }
        Ok(KeySnapshot {
            jwks: Arc::new(jwks),
            signing: signing.ok_or(KeyError::NoCurrentKey)?,
            loaded: now,
        })
    }
}

/// A tool key as administrators see it: its times and state, never its private half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub state: KeyState,
    pub created_at: UnixTime,
    pub activate_at: UnixTime,
    pub retire_at: Option<UnixTime>,
}

/// What the admin page does with the keys, through the same functions as the CLI.
impl KeyRing {
    /// Every stored key, oldest first, with its state now.
    pub async fn infos(&self) -> Result<Vec<KeyInfo>, KeyError> {
        let all = self.store.all_tool_keys().await?;
        let states = key_states(&all, self.clock.now());
        Ok(all
            .into_iter()
            .zip(states)
            .map(|(k, state)| KeyInfo {
                kid: k.kid,
                state,
                created_at: k.created_at,
                activate_at: k.activate_at,
                retire_at: k.retire_at,
            })
            .collect())
    }

    /// Starts a rotation now ([`rotate`], as `ltigate keys rotate` does); the new key's kid.
    pub async fn rotate(
        &self,
        delay: Duration,
        max_token_lifetime: Duration,
    ) -> Result<String, KeyError> {
        let next = rotate(&self.store, self.clock.now(), delay, max_token_lifetime).await?;
        Ok(next.kid)
    }
}

/// The SPKI PEM public key of a PKCS#8 PEM private key.
fn public_pem(private_pem: &str) -> Option<String> {
    let der = pem::parse(private_pem).ok()?;
    let pair = KeyPair::from_pkcs8(der.contents()).ok()?;
    let spki = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key()).ok()?;
    Some(pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref())))
}

#[cfg(test)]
mod tests;
