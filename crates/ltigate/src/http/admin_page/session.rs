//! The admin page's session: a cookie value that carries its own expiry and a MAC under a
//! key shared by all nodes (a server secret in the database), so any node accepts it and
//! nothing is stored at sign-in. The MAC also covers the configured admin key's hash, so
//! changing the admin key ends every session. The CSRF token is derived from the session id.
//!
//! Being stateless, a session cannot be revoked on the server: signing out clears the
//! cookie, and a copy of it stays valid until it expires ([`LIFETIME_SECS`]).
//!
//! Wrong admin keys are limited per client address ([`AdminSessions::check_key`]), for the
//! page's sign-in and the admin API's Bearer key alike: both doors lead to the same key, so
//! guesses through either count together.

use std::net::IpAddr;

use crate::clock::UnixTime;
use crate::config::RateLimitConfig;
use crate::launch::state::StateSigner;
use crate::registration::{FailureLimiter, RateLimited};
use crate::secret::{KeyHash, random_token};

/// The session cookie's name.
pub const COOKIE: &str = "ltigate_admin";
/// How long a session lasts from sign-in (no sliding renewal).
pub const LIFETIME_SECS: i64 = 30 * 60;
/// The longest cookie value looked at (a real one is about 60 bytes).
const MAX_LEN: usize = 256;

/// A signed-in admin session, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    id: String,
    pub expires_at: UnixTime,
}

/// Why a presented admin key was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefused {
    /// Not the admin key.
    Invalid,
    /// Too many wrong keys came from this client: this attempt was not compared.
    RateLimited(RateLimited),
}

/// Issues and checks sessions and their CSRF tokens, and checks admin keys.
#[derive(Debug, Clone)]
pub struct AdminSessions {
    signer: StateSigner,
    key_failures: FailureLimiter,
}

impl AdminSessions {
    /// `secret`: the shared secret of all nodes (never the login state's: one key, one use).
    /// Wrong keys are limited with the default limit (see [`Self::with_key_limit`]).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            signer: StateSigner::new(secret),
            key_failures: FailureLimiter::new(&RateLimitConfig::default()),
        }
    }

    /// Limits wrong admin keys per client address as `limit` says.
    pub fn with_key_limit(mut self, limit: &RateLimitConfig) -> Self {
        self.key_failures = FailureLimiter::new(limit);
        self
    }

    /// Whether `presented` is the admin key, for a `client` (None: address unknown) that
    /// is not over its limit of wrong keys. An address over it is refused before the key is
    /// compared, so it learns nothing; a right key never counts against the limit.
    pub fn check_key(
        &self,
        admin_key: &KeyHash,
        presented: &str,
        client: Option<IpAddr>,
    ) -> Result<(), KeyRefused> {
        let limited = |retry_after| KeyRefused::RateLimited(RateLimited { retry_after });
        self.key_failures.admit(client).map_err(limited)?;
        if admin_key.matches(presented) {
            return Ok(());
        }
        // The failure that empties the bucket is answered as limited already.
        self.key_failures.failed(client).map_err(limited)?;
        Err(KeyRefused::Invalid)
    }

    /// A new session's cookie value: `id.expires_at.mac`.
    pub fn issue(&self, admin_key: &KeyHash, now: UnixTime) -> String {
        let body = format!("{}.{}", random_token(16), now + LIFETIME_SECS);
        let mac = self.mac(&body, admin_key);
        format!("{body}.{mac}")
    }

    /// The session of a cookie value, when its MAC holds for the current admin key and it
    /// has not expired.
    pub fn open(&self, value: &str, admin_key: &KeyHash, now: UnixTime) -> Option<Session> {
        if value.len() > MAX_LEN {
            return None;
        }
        let (body, mac) = value.rsplit_once('.')?;
        if !same(&self.mac(body, admin_key), mac) {
            return None;
        }
        let (id, expires_at) = body.split_once('.')?;
        let expires_at: UnixTime = expires_at.parse().ok()?;
        (expires_at > now).then(|| Session {
            id: id.to_owned(),
            expires_at,
        })
    }

    /// The CSRF token of `session`, put in every form.
    pub fn csrf(&self, session: &Session) -> String {
        self.signer.derive("admin_csrf", &session.id)
    }

    /// Whether `presented` is the CSRF token of `session` (constant time).
    pub fn check_csrf(&self, session: &Session, presented: &str) -> bool {
        same(&self.csrf(session), presented)
    }

    fn mac(&self, body: &str, admin_key: &KeyHash) -> String {
        self.signer.derive(
            "admin_session",
            &format!("{body}\0{}", admin_key.to_stored()),
        )
    }
}

fn same(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> AdminSessions {
        AdminSessions::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn a_session_opens_until_it_expires() {
        let key = KeyHash::of("admin");
        let value = sessions().issue(&key, 1_000);
        let session = sessions().open(&value, &key, 1_000).unwrap();
        assert_eq!(session.expires_at, 1_000 + LIFETIME_SECS);
        assert!(
            sessions()
                .open(&value, &key, 1_000 + LIFETIME_SECS)
                .is_none()
        );
    }

    #[test]
    fn forged_foreign_or_stale_key_sessions_are_refused() {
        let key = KeyHash::of("admin");
        let value = sessions().issue(&key, 1_000);
        let other = AdminSessions::new(b"another key, another deployment!");
        assert!(other.open(&value, &key, 1_000).is_none());
        assert!(
            sessions()
                .open(&value, &KeyHash::of("new admin key"), 1_000)
                .is_none()
        );
        // A later expiry under the old MAC.
        let (id, rest) = value.split_once('.').unwrap();
        let (_, mac) = rest.split_once('.').unwrap();
        let stretched = format!("{id}.{}.{mac}", 1_000 + 10 * LIFETIME_SECS);
        assert!(sessions().open(&stretched, &key, 1_000).is_none());
        assert!(sessions().open("", &key, 1_000).is_none());
        assert!(sessions().open("a.b.c.d", &key, 1_000).is_none());
    }

    #[test]
    fn wrong_keys_are_limited_per_client_and_right_ones_never_count() {
        let sessions = sessions().with_key_limit(&RateLimitConfig {
            per_minute: 1,
            burst: 2,
        });
        let key = KeyHash::of("admin");
        let a = Some(IpAddr::from([203, 0, 113, 1]));
        for _ in 0..5 {
            assert_eq!(sessions.check_key(&key, "admin", a), Ok(()));
        }
        assert_eq!(
            sessions.check_key(&key, "guess", a),
            Err(KeyRefused::Invalid)
        );
        assert_eq!(
            sessions.check_key(&key, "guess", a),
            Err(KeyRefused::Invalid)
        );
        let over = sessions.check_key(&key, "guess", a);
        assert!(matches!(over, Err(KeyRefused::RateLimited(_))), "{over:?}");
        // Now even the right key is not compared for this client; others are unaffected.
        let right = sessions.check_key(&key, "admin", a);
        assert!(
            matches!(right, Err(KeyRefused::RateLimited(_))),
            "{right:?}"
        );
        let b = Some(IpAddr::from([203, 0, 113, 2]));
        assert_eq!(sessions.check_key(&key, "admin", b), Ok(()));
        // Clones (the state handed to each request) share the limit.
        let clone = sessions.clone();
        assert!(clone.check_key(&key, "admin", a).is_err());
    }

    #[test]
    fn csrf_tokens_are_per_session() {
        let key = KeyHash::of("admin");
        let a = sessions()
            .open(&sessions().issue(&key, 0), &key, 0)
            .unwrap();
        let b = sessions()
            .open(&sessions().issue(&key, 0), &key, 0)
            .unwrap();
        let token = sessions().csrf(&a);
        assert!(sessions().check_csrf(&a, &token));
        assert!(!sessions().check_csrf(&b, &token));
        assert!(!sessions().check_csrf(&a, ""));
    }
}
