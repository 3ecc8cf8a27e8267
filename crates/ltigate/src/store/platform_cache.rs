//! A short-lived in-process cache of platform lookups for the launch path.
//!
//! Writes made through this node's store clear it at once; writes by other nodes (or the CLI)
//! are seen within the TTL. Only hits are cached, and the map is bounded, so lookups of
//! made-up issuers cannot grow it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Platform;

/// Most entries kept; past this the cache starts over.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum CacheKey {
    Id(String),
    Client(String, String),
}

#[derive(Debug, Clone, Default)]
pub(super) struct PlatformCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<CacheKey, (Instant, Platform)>>>,
}

impl PlatformCache {
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    pub(super) fn get(&self, key: &CacheKey) -> Option<Platform> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().expect("platform cache lock");
        let (stored_at, platform) = entries.get(key)?;
        (stored_at.elapsed() < self.ttl).then(|| platform.clone())
    }

    pub(super) fn put(&self, platform: &Platform) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("platform cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let now = Instant::now();
        entries.insert(CacheKey::Id(platform.id.clone()), (now, platform.clone()));
        entries.insert(
            CacheKey::Client(platform.issuer.clone(), platform.client_id.clone()),
            (now, platform.clone()),
        );
    }

    pub(super) fn clear(&self) {
        self.entries.lock().expect("platform cache lock").clear();
    }
}
