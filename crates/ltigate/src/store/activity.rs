//! Platform activity: when each platform first launched the tool and when it last did, which
//! is how an administrator sees that a registration works.
//!
//! The launch path must not pay a database round trip for this, so each node writes a
//! platform's activity at most once per [`WRITE_EVERY_SECS`]: the first launch a node sees
//! for a platform is written before that launch answers, the ones after it within the window
//! are not written at all. `last_launch_at` is therefore up to a minute behind; the first
//! launch of a platform is never missed. Nodes throttle alone: with N nodes a platform costs
//! at most N writes a minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Store, StoreError};

/// The shortest time between two activity writes of one platform by one node.
pub const WRITE_EVERY_SECS: i64 = 60;

/// Most platforms remembered; past this the recorder starts over (a few extra writes).
const MAX_TRACKED: usize = 10_000;

/// When a platform first and last launched (Unix seconds); `None`: never.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaunchActivity {
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
}

/// This node's memory of when it last wrote each platform's activity.
#[derive(Debug, Clone, Default)]
pub(super) struct ActivityRecorder {
    written: Arc<Mutex<HashMap<String, i64>>>,
}

impl ActivityRecorder {
    /// Whether a launch at `now` should be written; if so, it is counted as written (so
    /// concurrent launches of the platform do not all write).
    fn claim(&self, platform_id: &str, now: i64) -> bool {
        let mut written = self.lock();
        // A clock that stepped back makes the mark stale rather than young.
        let due = written
            .get(platform_id)
            .is_none_or(|at| !(0..WRITE_EVERY_SECS).contains(&(now - at)));
        if due {
            if written.len() >= MAX_TRACKED {
                written.clear();
            }
            written.insert(platform_id.to_owned(), now);
        }
        due
    }

    /// Forgets a claim whose write failed, so the next launch tries again.
    fn release(&self, platform_id: &str) {
        self.lock().remove(platform_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.written.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store {
    /// Notes a successful launch of `platform_id` at `now` (see the module docs). A failed
    /// write is logged and never fails the launch: the launch itself is already stored.
    pub async fn note_launch(&self, platform_id: &str, now: i64) {
        if !self.activity.claim(platform_id, now) {
            return;
        }
        if let Err(e) = self.write_activity(platform_id, now).await {
            self.activity.release(platform_id);
            tracing::warn!(
                platform = %platform_id,
                error = %crate::code::DisplayChain(&e),
                "could not record the platform's launch activity"
            );
        }
    }

    /// `first_launch_at` is set once; `last_launch_at` only moves forward (another node may
    /// have written a later launch). `CASE` rather than `GREATEST`/`MAX`, which differ
    /// between SQLite and PostgreSQL.
    async fn write_activity(&self, platform_id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE platforms SET first_launch_at = COALESCE(first_launch_at, $2), \
             last_launch_at = CASE WHEN last_launch_at IS NULL OR last_launch_at < $2 \
             THEN $2 ELSE last_launch_at END WHERE id = $1",
        )
        .bind(platform_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_platform_is_claimed_once_a_minute_and_again_after_a_step_back() {
        let recorder = ActivityRecorder::default();
        assert!(recorder.claim("p1", 1_000));
        assert!(!recorder.claim("p1", 1_000));
        assert!(!recorder.claim("p1", 1_000 + WRITE_EVERY_SECS - 1));
        assert!(
            recorder.claim("p2", 1_001),
            "each platform has its own window"
        );
        assert!(recorder.claim("p1", 1_000 + WRITE_EVERY_SECS));
        assert!(
            recorder.claim("p1", 500),
            "a clock that stepped back writes"
        );
        recorder.release("p1");
        assert!(recorder.claim("p1", 501), "a released claim is free again");
    }
}
