//! The OIDC login state, signed by ltigate and carried by the browser, so a login writes
//! nothing. Its nonce becomes single-use at launch (an atomic insert), and a per-state
//! binding value, kept in a cookie or in the platform's storage, ties it to the browser.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::LaunchFailure;
use crate::clock::UnixTime;

/// The longest `state` accepted (a sealed state is a few hundred bytes).
const MAX_STATE_LEN: usize = 4096;

/// What a login remembers until the launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    /// Random id; names the binding cookie.
    #[serde(rename = "i")]
    pub id: String,
    #[serde(rename = "p")]
    pub platform_id: String,
    #[serde(rename = "n")]
    pub nonce: String,
    /// When the login started: an id_token issued before it is refused.
    #[serde(rename = "t")]
    pub started_at: UnixTime,
    #[serde(rename = "e")]
    pub expires_at: UnixTime,
    /// The platform storage frame (`lti_storage_target`), when the login offered one.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub storage_target: Option<String>,
}

/// Seals and opens login states with an HMAC key shared by all nodes.
#[derive(Debug, Clone)]
pub struct StateSigner {
    key: hmac::Key,
}

impl StateSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// `base64url(json) "." base64url(hmac)`.
    pub fn seal(&self, state: &LoginState) -> String {
        let json = serde_json::to_vec(state).expect("a login state serialises");
        let body = URL_SAFE_NO_PAD.encode(json);
        let tag = hmac::sign(&self.key, body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Checks the signature and expiry.
    pub fn open(&self, sealed: &str, now: UnixTime) -> Result<LoginState, LaunchFailure> {
        let invalid = || LaunchFailure::StateInvalid;
        if sealed.len() > MAX_STATE_LEN {
            return Err(invalid());
        }
        let (body, tag) = sealed.split_once('.').ok_or_else(invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        hmac::verify(&self.key, body.as_bytes(), &tag).map_err(|_| invalid())?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
        let state: LoginState = serde_json::from_slice(&json).map_err(|_| invalid())?;
        if state.expires_at <= now {
            return Err(LaunchFailure::StateExpired);
        }
        Ok(state)
    }

    /// The value that proves a browser started the login with this id (cookie or platform
    /// storage). Derived, so nothing is stored at login.
    pub fn binding(&self, state_id: &str) -> String {
        self.derive("bind", state_id)
    }

    /// A 144-bit secret derived from the key for one purpose and input.
    pub fn derive(&self, purpose: &str, input: &str) -> String {
        let tag = hmac::sign(&self.key, format!("{purpose}\0{input}").as_bytes());
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..18])
    }

    /// Whether `presented` is the binding of `state_id` (constant time).
    pub fn check_binding(&self, state_id: &str, presented: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.binding(state_id).as_bytes(),
            presented.as_bytes(),
        )
        .is_ok()
    }
}

/// The cookie that carries the binding of one state: one cookie per state, so launches in
/// several tabs at once do not overwrite each other.
pub fn cookie_name(state_id: &str) -> String {
    format!("ltigate_state_{state_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(expires_at: UnixTime) -> LoginState {
        LoginState {
            id: "abc".into(),
            platform_id: "p1".into(),
            nonce: "n1".into(),
            started_at: expires_at - 600,
            expires_at,
            storage_target: None,
        }
    }

    #[test]
    fn sealed_state_opens_until_it_expires() {
        let signer = StateSigner::new(b"0123456789abcdef0123456789abcdef");
        let sealed = signer.seal(&state(100));
        assert_eq!(signer.open(&sealed, 99).unwrap(), state(100));
        assert_eq!(
            signer.open(&sealed, 100).unwrap_err().code(),
            "STATE_EXPIRED"
        );
    }

    #[test]
    fn tampered_or_foreign_states_are_invalid() {
        let signer = StateSigner::new(b"0123456789abcdef0123456789abcdef");
        let other = StateSigner::new(b"another key, another deployment!");
        let sealed = signer.seal(&state(100));
        assert_eq!(other.open(&sealed, 1).unwrap_err().code(), "STATE_INVALID");
        let (body, tag) = sealed.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&LoginState {
                platform_id: "p2".into(),
                ..state(100)
            })
            .unwrap(),
        );
        assert_eq!(
            signer
                .open(&format!("{forged}.{tag}"), 1)
                .unwrap_err()
                .code(),
            "STATE_INVALID"
        );
        for garbage in ["", "x", "a.b", &format!("{body}."), &"x".repeat(5000)] {
            assert_eq!(signer.open(garbage, 1).unwrap_err().code(), "STATE_INVALID");
        }
    }

    #[test]
    fn binding_is_per_state_and_per_key() {
        let signer = StateSigner::new(b"0123456789abcdef0123456789abcdef");
        let b = signer.binding("abc");
        assert!(signer.check_binding("abc", &b));
        assert!(!signer.check_binding("abd", &b));
        assert!(!StateSigner::new(b"another key, another deployment!").check_binding("abc", &b));
    }
}
