//! The per-client limit on `/lti/register`: every call costs outbound fetches and may store
//! a platform, so an anonymous caller gets a small burst, then a slow refill. The same
//! buckets limit wrong admin keys ([`FailureLimiter`]).
//!
//! The state is in this process only (like the caches): behind a load balancer each node
//! allows its own burst, and the pending cap in the store bounds the total.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimitConfig;

/// Above this many tracked clients, forget those whose bucket has refilled.
const TRACKED_CLIENTS_BEFORE_CLEANUP: usize = 4096;

/// A keyed token bucket; `None` when the limit is off.
#[derive(Clone)]
pub struct ClientLimiter {
    limiter: Option<std::sync::Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl std::fmt::Debug for ClientLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientLimiter")
            .field("on", &self.limiter.is_some())
            .finish()
    }
}

impl ClientLimiter {
    pub fn new(config: &RateLimitConfig) -> Self {
        let limiter = NonZeroU32::new(config.per_minute).map(|rate| {
            let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
            std::sync::Arc::new(DefaultKeyedRateLimiter::keyed(
                Quota::per_minute(rate).allow_burst(burst),
            ))
        });
        Self { limiter }
    }

    /// Takes one call from `client`'s bucket; when empty, how long until the next is allowed.
    /// Calls without a known address share one bucket, so a missing address never lifts the
    /// limit.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > TRACKED_CLIENTS_BEFORE_CLEANUP {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter
            .check_key(&bucket_of(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// A limit on failed attempts (wrong keys) per client: failures take from the client's
/// bucket, and a client whose failure found the bucket empty is refused every attempt, right
/// or wrong, until the wait has passed. Refusing before the key is compared is what makes
/// the limit hold: otherwise an address over it would still learn which guess was right.
/// Successful attempts cost nothing, so a client that knows the key is never slowed down.
#[derive(Debug, Clone)]
pub struct FailureLimiter {
    failures: ClientLimiter,
    /// Clients (by bucket) refused until the instant given.
    blocked: std::sync::Arc<Mutex<HashMap<IpAddr, Instant>>>,
}

impl FailureLimiter {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            failures: ClientLimiter::new(config),
            blocked: Default::default(),
        }
    }

    /// Whether `client` may make an attempt now; when not, how long until it may.
    pub fn admit(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let key = bucket_of(client);
        let mut blocked = self.lock();
        let Some(until) = blocked.get(&key).copied() else {
            return Ok(());
        };
        match until.checked_duration_since(Instant::now()) {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => {
                blocked.remove(&key);
                Ok(())
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Instant>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.blocked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a failed attempt of `client`; when it was one too many, the client is refused
    /// from now on for the returned wait.
    pub fn failed(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        self.failures.check(client).inspect_err(|wait| {
            let mut blocked = self.lock();
            if blocked.len() > TRACKED_CLIENTS_BEFORE_CLEANUP {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(bucket_of(client), Instant::now() + *wait);
        })
    }
}

/// The bucket of an address: IPv6 clients by their /64 (one host usually holds a whole
/// /64, so single addresses would be free to rotate), IPv4-mapped addresses as IPv4.
fn bucket_of(client: Option<IpAddr>) -> IpAddr {
    match client.map(|ip| ip.to_canonical()) {
        None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        Some(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        Some(v4) => v4,
    }
}

/// The client's address: the peer, or, when the peer is one of `trusted_proxies`, the
/// nearest address in `X-Forwarded-For` that is not a trusted proxy. Proxies append, so
/// entries left of that one were written by the client and are not believed.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    let trusted = |ip: &IpAddr| trusted_proxies.contains(&ip.to_canonical());
    if !trusted(&peer) {
        return Some(peer);
    }
    let mut hops = forwarded_for
        .iter()
        .flat_map(|header| header.split(','))
        .rev()
        .map(|hop| hop.trim().parse::<IpAddr>());
    loop {
        match hops.next() {
            Some(Ok(ip)) if trusted(&ip) => continue,
            Some(Ok(ip)) => return Some(ip),
            // An unreadable hop or none left: the proxy's own address, which keeps the
            // limit on (all such calls share its bucket).
            Some(Err(_)) | None => return Some(peer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy = ip("127.0.0.1");
        let trusted = [proxy, ip("::1")];
        // From an untrusted peer the header is the client's own claim.
        assert_eq!(
            client_address(Some(ip("203.0.113.9")), &["198.51.100.1"], &trusted),
            Some(ip("203.0.113.9"))
        );
        // The proxy appended the real client; the client's own entry on the left is ignored.
        assert_eq!(
            client_address(Some(proxy), &["198.51.100.1, 203.0.113.7"], &trusted),
            Some(ip("203.0.113.7"))
        );
        // Chained trusted proxies are skipped, across repeated headers too.
        assert_eq!(
            client_address(Some(proxy), &["203.0.113.7", "::1"], &trusted),
            Some(ip("203.0.113.7"))
        );
        // Missing or unreadable: the proxy itself.
        assert_eq!(client_address(Some(proxy), &[], &trusted), Some(proxy));
        assert_eq!(
            client_address(Some(proxy), &["unknown"], &trusted),
            Some(proxy)
        );
        assert_eq!(client_address(None, &["203.0.113.7"], &trusted), None);
        // Without trusted proxies the header never matters.
        assert_eq!(
            client_address(Some(proxy), &["203.0.113.7"], &[]),
            Some(proxy)
        );
    }

    #[test]
    fn a_burst_then_refusal_with_a_wait_and_buckets_per_client() {
        let limiter = ClientLimiter::new(&RateLimitConfig {
            per_minute: 1,
            burst: 2,
        });
        let a = Some(ip("203.0.113.1"));
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        let wait = limiter.check(a).unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        assert!(limiter.check(Some(ip("203.0.113.2"))).is_ok());
        // One /64 is one client.
        let v6 = limiter.check(Some(ip("2001:db8::1")));
        assert!(v6.is_ok());
        assert!(limiter.check(Some(ip("2001:db8::2"))).is_ok());
        assert!(limiter.check(Some(ip("2001:db8::3"))).is_err());
        assert!(limiter.check(Some(ip("2001:db8:0:1::1"))).is_ok());
        // No address: one shared bucket, limited like any client.
        assert!(limiter.check(None).is_ok());
        assert!(limiter.check(None).is_ok());
        assert!(limiter.check(None).is_err());
    }

    #[test]
    fn only_failures_count_and_a_blocked_client_is_refused_before_any_attempt() {
        let limiter = FailureLimiter::new(&RateLimitConfig {
            per_minute: 1,
            burst: 2,
        });
        let a = Some(ip("203.0.113.1"));
        for _ in 0..10 {
            assert!(limiter.admit(a).is_ok(), "successes cost nothing");
        }
        assert!(limiter.failed(a).is_ok());
        assert!(limiter.failed(a).is_ok());
        assert!(limiter.admit(a).is_ok());
        let wait = limiter.failed(a).unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        let refused = limiter.admit(a).unwrap_err();
        assert!(refused <= wait && refused > Duration::from_secs(50));
        // Other clients, and other /64s, keep their own buckets.
        assert!(limiter.admit(Some(ip("203.0.113.2"))).is_ok());
        assert!(limiter.failed(Some(ip("2001:db8::1"))).is_ok());
        assert!(limiter.failed(Some(ip("2001:db8::2"))).is_ok());
        assert!(limiter.failed(Some(ip("2001:db8::3"))).is_err());
        assert!(limiter.admit(Some(ip("2001:db8::4"))).is_err(), "one /64");
        assert!(limiter.admit(Some(ip("2001:db8:0:1::1"))).is_ok());
    }

    #[test]
    fn zero_per_minute_turns_the_limit_off() {
        let limiter = ClientLimiter::new(&RateLimitConfig {
            per_minute: 0,
            burst: 1,
        });
        for _ in 0..100 {
            assert!(limiter.check(None).is_ok());
        }
        let failures = FailureLimiter::new(&RateLimitConfig {
            per_minute: 0,
            burst: 1,
        });
        for _ in 0..100 {
            assert!(failures.failed(None).is_ok() && failures.admit(None).is_ok());
        }
    }
}
