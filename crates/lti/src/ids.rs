//! Identifier and secret newtypes.
//!
//! Every identifier that crosses the LTI wire gets its own type, so an issuer can never be passed
//! where a client id is expected. Secret values (the OIDC `nonce` and login `state`) get types
//! whose `Debug` prints `[redacted]` and whose comparison is constant-time, so they cannot leak
//! into logs or through timing. This module does no validation of the values' contents: the
//! rules for each claim live in [`crate::id_token`] and [`crate::claims`].

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the value.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// `Debug` prints `[redacted]`; there is no `Display` and no `PartialEq`: compare with
        /// [`Self::ct_eq`], which takes constant time for values of equal length.
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret value itself: only for putting it on the wire or in the store.
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Constant-time equality with a value received from outside.
            pub fn ct_eq(&self, other: &str) -> bool {
                self.0.as_bytes().ct_eq(other.as_bytes()).into()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

identifier!(
    /// The platform's issuer identifier (`iss`), compared as an exact string.
    Issuer
);
identifier!(
    /// The OAuth client id the platform assigned to this tool (`aud` / `azp`).
    ClientId
);
identifier!(
    /// The platform's deployment id of the tool
    /// (`https://purl.imsglobal.org/spec/lti/claim/deployment_id`).
    DeploymentId
);
identifier!(
    /// A JWK key id (`kid`).
    Kid
);
identifier!(
    /// The platform's stable user id (`sub`). Unique per issuer only: identify a user by
    /// (issuer, subject), never by the subject alone.
    Subject
);

secret!(
    /// The OIDC nonce the tool sent with the login and expects back in the id_token.
    Nonce
);
secret!(
    /// The OIDC `state` binding a login to the browser that started it.
    State
);

#[cfg(test)]
mod tests;
