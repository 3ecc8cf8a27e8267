//! A short-lived in-process cache of platform lookups for the launch path.
//!
//! Writes made through this node's store clear it at once; writes by other nodes (or the CLI)
//! are seen within the TTL. Only hits are cached, and the map is bounded, so lookups of
//! made-up issuers cannot grow it. Ages are read from the injected clock, so tests move time
//! by hand.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Platform;
use crate::clock::{Clock, UnixTime};

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
    clock: Clock,
    entries: Arc<Mutex<HashMap<CacheKey, (UnixTime, Platform)>>>,
}

impl PlatformCache {
    pub(super) fn new(ttl: Duration, clock: Clock) -> Self {
        Self {
            ttl,
            clock,
            entries: Arc::default(),
        }
    }

    pub(super) fn get(&self, key: &CacheKey) -> Option<Platform> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().expect("platform cache lock");
        let (stored_at, platform) = entries.get(key)?;
        // A clock that stepped back makes the entry stale rather than young.
        let age = self.clock.now() - stored_at;
        (0..self.ttl.as_secs() as i64)
            .contains(&age)
            .then(|| platform.clone())
    }

    pub(super) fn put(&self, platform: &Platform) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("platform cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let now = self.clock.now();
        entries.insert(CacheKey::Id(platform.id.clone()), (now, platform.clone()));
        entries.insert(
            CacheKey::Client(
                platform.settings.issuer.as_str().to_owned(),
                platform.settings.client_id.as_str().to_owned(),
            ),
            (now, platform.clone()),
        );
    }

    pub(super) fn clear(&self) {
        self.entries.lock().expect("platform cache lock").clear();
    }
}
