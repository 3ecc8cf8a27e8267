//! A per-node tally of refused logins and launches by code, for the admin page: how many and
//! when the last one was. Nothing about the request (no user, platform or address) is kept,
//! and the map is bounded by the number of codes. Nodes do not share it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::clock::{Clock, UnixTime};
use crate::code::Code;

/// How often one code was refused on this node, and when last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub last_at: UnixTime,
}

/// The tally of this node since it started. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Refusals {
    clock: Clock,
    tallies: Arc<Mutex<HashMap<Code, Tally>>>,
}

impl Refusals {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            tallies: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts one refusal with `code` now.
    pub fn record(&self, code: Code) {
        let now = self.clock.now();
        // A panic elsewhere while holding the lock leaves counts that are still usable.
        let mut tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
        let tally = tallies.entry(code).or_insert(Tally {
            count: 0,
            last_at: now,
        });
        tally.count += 1;
        tally.last_at = now;
    }

    /// Every code refused so far, the most recent first.
    pub fn snapshot(&self) -> Vec<(Code, Tally)> {
        let tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<(Code, Tally)> = tallies.iter().map(|(c, t)| (*c, *t)).collect();
        all.sort_by(|a, b| {
            b.1.last_at
                .cmp(&a.1.last_at)
                .then_with(|| a.0.as_str().cmp(b.0.as_str()))
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_code_with_the_last_time_most_recent_first() {
        let clock = Clock::manual(1_000);
        let refusals = Refusals::new(clock.clone());
        refusals.record(Code::NonceReplayed);
        clock.advance(5);
        refusals.record(Code::PlatformPending);
        clock.advance(5);
        refusals.record(Code::NonceReplayed);
        assert_eq!(
            refusals.snapshot(),
            vec![
                (
                    Code::NonceReplayed,
                    Tally {
                        count: 2,
                        last_at: 1_010
                    }
                ),
                (
                    Code::PlatformPending,
                    Tally {
                        count: 1,
                        last_at: 1_005
                    }
                ),
            ]
        );
    }

    #[test]
    fn clones_share_one_tally() {
        let refusals = Refusals::new(Clock::manual(0));
        refusals.clone().record(Code::StateExpired);
        assert_eq!(refusals.snapshot()[0].1.count, 1);
    }
}
