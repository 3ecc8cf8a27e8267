//! The clock, injected so tests can pin time (key rotation, expiry, cache ages).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// A source of the current time.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// A fixed time that tests move by hand.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: UnixTime) -> Self {
        Self::Manual(Arc::new(AtomicI64::new(start)))
    }

    pub fn now(&self) -> UnixTime {
        match self {
            Self::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            Self::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Milliseconds since the Unix epoch (a manual clock has whole seconds).
    pub fn now_millis(&self) -> u64 {
        match self {
            Self::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            Self::Manual(t) => t.load(Ordering::SeqCst).max(0) as u64 * 1000,
        }
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, secs: i64) {
        if let Self::Manual(t) = self {
            t.fetch_add(secs, Ordering::SeqCst);
        }
    }
}
