//! Secrets: API and admin keys kept only as SHA-256 hashes, and random tokens.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer};

/// The SHA-256 hash of a key. Written in config as the plain key or as `sha256:<hex>`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// Hashes a plain key.
    pub fn of(key: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, key.as_bytes()).as_ref());
        Self(out)
    }

    /// Parses `sha256:<64 hex digits>`, or hashes any other value as a plain key.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.strip_prefix("sha256:") {
            Some(hex_digits) => {
                let bytes = hex::decode(hex_digits)
                    .map_err(|_| "sha256: must be followed by 64 hex digits".to_string())?;
                let array: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| "sha256: must be followed by 64 hex digits".to_string())?;
                Ok(Self(array))
            }
            None if value.is_empty() => Err("a key must not be empty".into()),
            None => Ok(Self::of(value)),
        }
    }

    /// Whether `key` hashes to this value (constant time in the hash).
    pub fn matches(&self, key: &str) -> bool {
        verify_slices_are_equal(&Self::of(key).0, &self.0).is_ok()
    }

    /// The `sha256:<hex>` form, as stored.
    pub fn to_stored(&self) -> String {
        format!("sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash([redacted])")
    }
}

impl<'de> Deserialize<'de> for KeyHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// `bytes` random bytes from the OS generator, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    Random::System.token(bytes)
}

/// `bytes` random bytes from the OS generator, lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    hex::encode(Random::System.bytes(bytes))
}

/// The source of every secret token (state ids, nonces, ltiks, registration ids, API keys),
/// injected beside the [`Clock`](crate::clock::Clock) so tests can pin what a login or a launch
/// will draw.
#[derive(Debug, Clone, Default)]
pub enum Random {
    /// The OS generator (aws-lc-rs).
    #[default]
    System,
    /// A repeatable sequence for tests: block `n` is SHA-256(seed || n). Never secret.
    Seeded { seed: u64, next: Arc<AtomicU64> },
}

impl Random {
    pub fn seeded(seed: u64) -> Self {
        Self::Seeded {
            seed,
            next: Arc::default(),
        }
    }

    /// `bytes` random bytes, base64url without padding.
    pub fn token(&self, bytes: usize) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes(bytes))
    }

    fn bytes(&self, bytes: usize) -> Vec<u8> {
        let mut buf = vec![0u8; bytes];
        match self {
            Self::System => SystemRandom::new()
                .fill(&mut buf)
                .expect("the OS random generator is available"),
            Self::Seeded { seed, next } => {
                for chunk in buf.chunks_mut(32) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let mut input = [0u8; 16];
                    input[..8].copy_from_slice(&seed.to_be_bytes());
                    input[8..].copy_from_slice(&n.to_be_bytes());
                    let block = digest(&SHA256, &input);
                    chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
                }
            }
        }
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_hashed_forms_match_the_same_key() {
        let plain = KeyHash::parse("s3cret").unwrap();
        let hashed = KeyHash::parse(&plain.to_stored()).unwrap();
        assert!(plain.matches("s3cret"));
        assert!(hashed.matches("s3cret"));
        assert!(!hashed.matches("s3cret "));
    }

    #[test]
    fn malformed_hash_and_empty_key_are_refused() {
        assert!(KeyHash::parse("sha256:abc").is_err());
        assert!(KeyHash::parse("sha256:zz").is_err());
        assert!(KeyHash::parse("").is_err());
    }

    #[test]
    fn debug_never_shows_the_hash() {
        assert_eq!(format!("{:?}", KeyHash::of("x")), "KeyHash([redacted])");
    }

    #[test]
    fn random_hex_ids_never_start_like_an_option() {
        for _ in 0..200 {
            let id = random_hex(12);
            assert_eq!(id.len(), 24);
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let (a, b) = (random_token(16), random_token(16));
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
    }

    #[test]
    fn a_seeded_source_repeats_its_sequence() {
        let (a, b) = (Random::seeded(7), Random::seeded(7));
        let first = a.token(40);
        assert_eq!(first.len(), 54);
        assert_eq!(first, b.token(40));
        assert_ne!(a.token(40), first, "each draw moves on");
        assert_ne!(Random::seeded(8).token(40), first);
    }
}
