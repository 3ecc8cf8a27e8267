//! LTI 1.3 protocol core, with no I/O.
//!
//! What a tool needs to accept an LTI 1.3 launch safely, as pure functions: identifier types
//! ([`ids`]), platform keys ([`jwk`]), id_token validation ([`id_token`]), typed claims
//! ([`claims`]) and one error type with stable codes ([`error`]). No HTTP, no storage, no clock:
//! the caller fetches keys, owns the nonce store and passes the current time in, so every rule
//! can be tested with fixed inputs.
//!
//! For LTI Advantage it gives the Assignment and Grade Services and Names and Role Provisioning
//! bodies, media types and scopes ([`ags`], [`nrps`]) and the `Link` header paging of their
//! containers ([`paging`]).
//!
//! ```no_run
//! use lti::id_token::{Expectations, UnverifiedIdToken, verify};
//! use lti::ids::{ClientId, Issuer, Nonce};
//! use lti::jwk::{JwkSet, VerificationKey};
//!
//! # fn run(posted: &str, jwks_json: &[u8], now: u64, login_started: u64) -> Result<(), lti::LaunchError> {
//! let token = UnverifiedIdToken::parse(posted)?;
//! let jwks = JwkSet::from_json(jwks_json)?;
//! let jwk = token.kid().and_then(|kid| jwks.find(kid)).ok_or(lti::LaunchError::SignatureInvalid)?;
//! let key = VerificationKey::from_jwk(jwk)?;
//! let launch = verify(&token, &key, &Expectations {
//!     issuer: &Issuer::new("https://canvas.example.edu"),
//!     client_id: &ClientId::new("10000000000002"),
//!     nonce: &Nonce::new("the nonce issued at login"),
//!     now,
//!     issued_after: login_started,
//!     leeway_secs: 60,
//! })?;
//! println!("{:?}", launch.claims().message_type());
//! # Ok(()) }
//! ```

pub mod ags;
pub mod claims;
pub mod client_assertion;
pub mod deep_linking;
pub mod error;
pub mod id_token;
pub mod ids;
pub mod jwk;
pub mod nrps;
pub mod paging;
pub mod registration;

pub use error::LaunchError;

/// Installs jsonwebtoken's aws-lc-rs crypto provider for the process.
///
/// Idempotent, cheap, and safe to call from any thread. Call it at start, before jsonwebtoken
/// signs anything (client assertions, deep linking responses): jsonwebtoken panics at the first
/// signature when it cannot pick a backend by itself (for instance when feature merging enabled
/// a second one). If another provider was installed first, it stays. [`id_token::verify`] does
/// not need it: it verifies with aws-lc-rs directly.
pub fn install_crypto_provider() {
    // An Err only says a provider is already installed, which is the idempotent case.
    let _already_installed = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
