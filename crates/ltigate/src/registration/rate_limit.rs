//! The per-client limit on `/lti/register`: every call costs outbound fetches and may store
//! a platform, so an anonymous caller gets a small burst, then a slow refill.
//!
//! The state is in this process only (like the caches): behind a load balancer each node
//! allows its own burst, and the pending cap in the store bounds the total.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

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
    fn zero_per_minute_turns_the_limit_off() {
        let limiter = ClientLimiter::new(&RateLimitConfig {
            per_minute: 0,
            burst: 1,
        });
        for _ in 0..100 {
            assert!(limiter.check(None).is_ok());
        }
    }
}
