//! Service keys: `SERVICE-AUTH-V1 <API_KEY>:<SERVICE_KEY>` lets the app call AGS and NRPS for
//! one context without a live launch (background grade and roster sync).
//!
//! A key is derived from the server secret, the context and a generation, so every launch in
//! a context hands the app the same key and no key is stored: only its hash, beside what the
//! context's services are. Revoking moves the context to the next generation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lti::claims::LaunchClaims;

use super::{ContextServices, ServiceContext};
use crate::clock::Clock;
use crate::launch::state::StateSigner;
use crate::secret::KeyHash;
use crate::store::{KeyContext, Store, StoreError};

/// Why a service key cannot be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored services of a service key are unreadable")]
    Unreadable(#[source] serde_json::Error),
}

/// Issues, resolves and revokes service keys.
#[derive(Debug, Clone)]
pub struct ServiceKeys {
    store: Store,
    signer: StateSigner,
    clock: Clock,
    /// How long a node trusts what it last wrote for a context: a key revoked on another node
    /// is handed out by this one for at most this long (it no longer works anywhere).
    cache_ttl: Duration,
    issued: Arc<Mutex<HashMap<String, Issued>>>,
}

/// What this node last stored for a context.
#[derive(Debug, Clone)]
struct Issued {
    generation: i64,
    services: String,
    at: i64,
}

/// Most contexts a node remembers.
const MAX_CACHED: usize = 100_000;

impl ServiceKeys {
    pub fn new(store: Store, signer: StateSigner, clock: Clock, cache_ttl: Duration) -> Self {
        Self {
            store,
            signer,
            clock,
            cache_ttl,
            issued: Arc::default(),
        }
    }

    /// The service key of a launch's context, recording the context's services. A launch in a
    /// context this node knows, with the same services, costs no query.
    pub async fn issue(
        &self,
        platform_id: &str,
        deployment_id: &str,
        claims: &LaunchClaims,
    ) -> Result<String, ServiceKeyError> {
        let at = KeyContext {
            platform_id,
            deployment_id,
            context_id: claims.context().map(|c| c.id.as_str()).unwrap_or(""),
        };
        let services = serde_json::to_string(&ContextServices::of_launch(claims))
            .map_err(ServiceKeyError::Unreadable)?;
        let cache_key = cache_key(at);
        let now = self.clock.now();
        let cached = self.lock().get(&cache_key).cloned();
        let generation = match cached {
            Some(c) if c.services == services && self.is_fresh(c.at, now) => c.generation,
            _ => {
                let record = self
                    .store
                    .service_key(at, |g| self.hash_of(at, g), &services, now)
                    .await?;
                let mut cache = self.lock();
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
                cache.insert(
                    cache_key,
                    Issued {
                        generation: record.generation,
                        services,
                        at: now,
                    },
                );
                record.generation
            }
        };
        Ok(self.key_of(at, generation))
    }

    /// The context a service key reaches; `None` for an unknown or revoked key (or a key
    /// whose platform is gone). Read from the store on every call, so a revocation counts
    /// at once on every node.
    pub async fn context_of(&self, key: &str) -> Result<Option<ServiceContext>, ServiceKeyError> {
        let Some(record) = self
            .store
            .service_key_by_hash(&KeyHash::of(key).to_stored())
            .await?
        else {
            return Ok(None);
        };
        let Some(platform) = self.store.platform(&record.platform_id).await? else {
            return Ok(None);
        };
        let services: ContextServices = match &record.services {
            Some(json) => serde_json::from_str(json).map_err(ServiceKeyError::Unreadable)?,
            // Issued before services were recorded: the next launch in the context fills them.
            None => ContextServices {
                context: None,
                ags: None,
                nrps: None,
            },
        };
        Ok(Some(ServiceContext::of_key(
            platform,
            record.deployment_id,
            services,
        )))
    }

    /// Revokes `key`: it stops working on every node at once, and the context's next launch
    /// hands out a new one. False when the key is unknown (or already revoked).
    pub async fn revoke(&self, key: &str) -> Result<bool, ServiceKeyError> {
        let Some(record) = self
            .store
            .service_key_by_hash(&KeyHash::of(key).to_stored())
            .await?
        else {
            return Ok(false);
        };
        let at = KeyContext {
            platform_id: &record.platform_id,
            deployment_id: &record.deployment_id,
            context_id: &record.context_id,
        };
        let revoked = self
            .store
            .revoke_service_key(&record, &self.hash_of(at, record.generation + 1))
            .await?;
        self.lock().remove(&cache_key(at));
        if revoked {
            tracing::info!(platform = %record.platform_id, "service key revoked");
        }
        Ok(revoked)
    }

    fn key_of(&self, at: KeyContext<'_>, generation: i64) -> String {
        let input = format!(
            "{}\0{}\0{}\0{generation}",
            at.platform_id, at.deployment_id, at.context_id
        );
        self.signer.derive("service", &input)
    }

    fn hash_of(&self, at: KeyContext<'_>, generation: i64) -> String {
        KeyHash::of(&self.key_of(at, generation)).to_stored()
    }

    fn is_fresh(&self, at: i64, now: i64) -> bool {
        (0..self.cache_ttl.as_secs() as i64).contains(&(now - at))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Issued>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn cache_key(at: KeyContext<'_>) -> String {
    format!(
        "{}\0{}\0{}",
        at.platform_id, at.deployment_id, at.context_id
    )
}
