//! `login_hint` and `lti_message_hint`: what the LMS hands the tool at login initiation and
//! expects back, unchanged, in the authorization request.
//!
//! The message hint is opaque to the tool but carries, MAC-protected, who launches what
//! for which tool. Nothing is kept in memory, so a benchmark can issue millions of logins
//! and any hint the simulator did not issue is refused.

use crate::tool::MessageType;
use aws_lc_rs::{hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The login hint of a launch with no user (the id_token then has no `sub`).
const ANONYMOUS: &str = "anonymous";

/// A login as the LMS issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuedLogin {
    pub(crate) client_id: String,
    pub(crate) message_type: MessageType,
    pub(crate) login_hint: String,
    /// The `sub` of the launching user; `None` for an anonymous launch.
    pub(crate) user: Option<String>,
}

/// Issues and verifies MAC-protected message hints.
pub(crate) struct HintSigner {
    key: hmac::Key,
}

impl HintSigner {
    pub(crate) fn new() -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &random_bytes::<32>()),
        }
    }

    /// Issues `(login_hint, lti_message_hint)` for a launch by `user`.
    pub(crate) fn issue(
        &self,
        client_id: &str,
        message_type: MessageType,
        user: Option<&str>,
    ) -> (String, String) {
        let login_hint = user.unwrap_or(ANONYMOUS).to_owned();
        let payload = json!({
            "c": client_id,
            "m": message_type.claim_value(),
            "h": login_hint,
            "u": user,
            // Random so that every hint is unique and reveals nothing useful.
            "n": URL_SAFE_NO_PAD.encode(random_bytes::<12>()),
        });
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let mac = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, payload.as_bytes()));
        (login_hint, format!("{payload}.{mac}"))
    }

    /// The login a message hint was issued for, if this simulator issued it.
    pub(crate) fn verify(&self, message_hint: &str) -> Option<IssuedLogin> {
        let (payload, mac) = message_hint.split_once('.')?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        hmac::verify(&self.key, payload.as_bytes(), &mac).ok()?;
        let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        Some(IssuedLogin {
            client_id: payload.get("c")?.as_str()?.to_owned(),
            message_type: MessageType::from_claim_value(payload.get("m")?.as_str()?)?,
            login_hint: payload.get("h")?.as_str()?.to_owned(),
            user: payload.get("u")?.as_str().map(str::to_owned),
        })
    }
}

/// Cryptographically random bytes.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    rand::fill(&mut bytes).expect("the system RNG does not fail");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_hint_verifies_and_carries_the_login() {
        let signer = HintSigner::new();
        let (login_hint, message_hint) = signer.issue("c1", MessageType::DeepLinking, Some("u1"));
        let login = signer.verify(&message_hint).expect("own hint verifies");
        assert_eq!(login.client_id, "c1");
        assert_eq!(login.message_type, MessageType::DeepLinking);
        assert_eq!(login.login_hint, login_hint);
        assert_eq!(login.user.as_deref(), Some("u1"));
    }

    #[test]
    fn anonymous_login_has_no_user() {
        let signer = HintSigner::new();
        let (login_hint, message_hint) = signer.issue("c1", MessageType::ResourceLink, None);
        assert_eq!(login_hint, ANONYMOUS);
        assert_eq!(signer.verify(&message_hint).and_then(|l| l.user), None);
    }

    #[test]
    fn foreign_or_altered_hints_are_refused() {
        let signer = HintSigner::new();
        let (_, hint) = signer.issue("c1", MessageType::ResourceLink, Some("u1"));
        assert_eq!(HintSigner::new().verify(&hint), None);
        let altered = format!("x{hint}");
        assert_eq!(signer.verify(&altered), None);
        assert_eq!(signer.verify("garbage"), None);
    }
}
