//! The platforms' id_token signing keys: static keys parsed from the registration, and JWKS
//! fetched from the platform and cached.
//!
//! A JWKS is cached for `ttl`. An unknown `kid` in a fresh set triggers a refetch (the platform
//! may have rotated its key just after the last fetch), drawn from a bucket of
//! [`REFETCH_BURST`] per JWKS URL that refills one per `min_refetch`, so a stream of tokens with
//! made-up kids cannot make ltigate hammer the platform (or be used to hammer a third party).
//! Ordinary fetches (no set yet, or an expired one) are retried at most once per `min_refetch`
//! after a failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lti::ids::Kid;
use lti::jwk::{JwkSet, VerificationKey};

use super::LaunchFailure;
use crate::clock::{Clock, UnixTime};
use crate::code::DisplayChain;
use crate::outbound::Outbound;
use crate::store::{Platform, PlatformKey};
use crate::telemetry::{self, OutboundKind};

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Debug)]
struct CachedSet {
    keys: HashMap<String, VerificationKey>,
    fetched_at: UnixTime,
}

#[derive(Debug, Default)]
struct UrlEntry {
    set: Option<Arc<CachedSet>>,
    /// The last ordinary fetch (no set, or an expired one).
    last_attempt: Option<UnixTime>,
    refetches: RefetchBucket,
    fetch_lock: Arc<tokio::sync::Mutex<()>>,
}

/// Unknown-kid refetches that may run at once before the rate limit applies.
const REFETCH_BURST: i64 = 2;

/// A token bucket for the unknown-kid refetches of one JWKS URL.
#[derive(Debug)]
struct RefetchBucket {
    tokens: i64,
    refilled_at: Option<UnixTime>,
}

impl Default for RefetchBucket {
    fn default() -> Self {
        Self {
            tokens: REFETCH_BURST,
            refilled_at: None,
        }
    }
}

impl RefetchBucket {
    /// Takes a token if there is one, after adding one per `interval` seconds since the last
    /// refill (up to the burst).
    fn take(&mut self, now: UnixTime, interval: i64) -> bool {
        if interval <= 0 {
            return true;
        }
        let at = *self.refilled_at.get_or_insert(now);
        let earned = (now - at).max(0) / interval;
        self.tokens = (self.tokens + earned).min(REFETCH_BURST);
        // A full bucket earns nothing while it waits.
        self.refilled_at = Some(if self.tokens == REFETCH_BURST {
            now
        } else {
            at + earned * interval
        });
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// Finds the key that must have signed a platform's id_token.
#[derive(Debug, Clone)]
pub struct PlatformKeys {
    http: Outbound,
    clock: Clock,
    ttl: Duration,
    min_refetch: Duration,
    cache: Arc<Mutex<HashMap<String, UrlEntry>>>,
}

impl PlatformKeys {
    pub fn new(http: Outbound, clock: Clock, ttl: Duration, min_refetch: Duration) -> Self {
        Self {
            http,
            clock,
            ttl,
            min_refetch,
            cache: Arc::default(),
        }
    }

    /// The key named by `kid` (required for a JWKS platform; optional for a static key).
    pub async fn key_for(
        &self,
        platform: &Platform,
        kid: Option<&Kid>,
    ) -> Result<VerificationKey, LaunchFailure> {
        match &platform.settings.key {
            PlatformKey::RsaPem(key) => Ok(key.verification_key().clone()),
            PlatformKey::Jwk(key) => {
                if let (Some(want), Some(have)) = (kid, key.kid())
                    && want != have
                {
                    return Err(unknown_kid());
                }
                Ok(key.verification_key().clone())
            }
            PlatformKey::JwkSet(url) => {
                let kid = kid.ok_or_else(|| LaunchFailure::KidMissing)?;
                self.key_in_set(url.as_str(), kid).await
            }
        }
    }

    async fn key_in_set(&self, url: &str, kid: &Kid) -> Result<VerificationKey, LaunchFailure> {
        if let Some(key) = self.cached(url, kid, true) {
            return Ok(key);
        }
        // One fetch per URL at a time: concurrent launches wait for it, then look again.
        let fetch_lock = self.entry(url, |e| e.fetch_lock.clone());
        let _fetching = fetch_lock.lock().await;
        if let Some(key) = self.cached(url, kid, true) {
            return Ok(key);
        }
        let now = self.clock.now();
        let interval = self.min_refetch.as_secs() as i64;
        let may_fetch = self.entry(url, |e| {
            if e.set.as_ref().is_some_and(|set| self.is_fresh(set, now)) {
                // A fresh set without this kid: the platform may have just rotated its key.
                e.refetches.take(now, interval)
            } else {
                let due = e.last_attempt.is_none_or(|t| now - t >= interval);
                if due {
                    e.last_attempt = Some(now);
                }
                due
            }
        });
        if !may_fetch {
            // Stale or unknown kid, but fetched too recently: only what is cached.
            return self.cached(url, kid, false).ok_or_else(unknown_kid);
        }
        match self.fetch(url, now).await {
            Ok(fresh) => {
                let key = fresh.keys.get(kid.as_str()).cloned();
                self.entry(url, |e| e.set = Some(Arc::new(fresh)));
                key.ok_or_else(unknown_kid)
            }
            Err(e) => {
                tracing::warn!(
                    code = %e.code(),
                    jwks = url,
                    "platform JWKS fetch failed: {}",
                    DisplayChain(&e)
                );
                // A platform outage must not break launches whose key is still cached.
                self.cached(url, kid, false).ok_or(e)
            }
        }
    }

    /// The cached key for `kid`; with `fresh`, only from a set younger than the TTL.
    fn cached(&self, url: &str, kid: &Kid, fresh: bool) -> Option<VerificationKey> {
        let now = self.clock.now();
        self.entry(url, |e| {
            let set = e.set.as_ref()?;
            if fresh && !self.is_fresh(set, now) {
                return None;
            }
            set.keys.get(kid.as_str()).cloned()
        })
    }

    fn is_fresh(&self, set: &CachedSet, now: UnixTime) -> bool {
        now - set.fetched_at < self.ttl.as_secs() as i64
    }

    /// Runs `f` on the cache entry of `url` (created empty when missing).
    fn entry<T>(&self, url: &str, f: impl FnOnce(&mut UrlEntry) -> T) -> T {
        let mut cache = self.cache.lock().expect("cache lock");
        f(cache.entry(url.to_owned()).or_default())
    }

    /// Fetches the key set at `url` now, past the cache and its rate limits, and counts the
    /// keys a launch could verify with (`ltigate check`).
    pub async fn probe(&self, url: &str) -> Result<usize, LaunchFailure> {
        Ok(self.fetch(url, self.clock.now()).await?.keys.len())
    }

    async fn fetch(&self, url: &str, now: UnixTime) -> Result<CachedSet, LaunchFailure> {
        let fetched = telemetry::outbound(
            OutboundKind::Jwks,
            self.http.get_json(url, None, MAX_JWKS_BYTES),
        )
        .await
        .map_err(LaunchFailure::JwksUnavailable)?;
        let set = JwkSet::from_json(&fetched.body)?;
        // Keys the tool cannot use (encryption keys, other algorithms) are skipped, not fatal.
        let keys = set
            .keys()
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.kid()?.as_str().to_owned();
                VerificationKey::from_jwk(jwk).ok().map(|k| (kid, k))
            })
            .collect();
        Ok(CachedSet {
            keys,
            fetched_at: now,
        })
    }
}

fn unknown_kid() -> LaunchFailure {
    LaunchFailure::KidUnknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refetch_bucket_allows_a_burst_of_two_then_one_per_interval() {
        let mut bucket = RefetchBucket::default();
        assert!(bucket.take(1000, 10));
        assert!(bucket.take(1000, 10));
        assert!(!bucket.take(1009, 10), "empty until an interval has passed");
        assert!(bucket.take(1010, 10));
        assert!(!bucket.take(1019, 10));
        // A long quiet spell refills the burst, never more.
        assert!(bucket.take(5000, 10));
        assert!(bucket.take(5000, 10));
        assert!(!bucket.take(5000, 10));
        // A clock that steps back earns nothing.
        assert!(!bucket.take(4000, 10));
        assert!(RefetchBucket::default().take(0, 0), "no interval: no limit");
    }
}
