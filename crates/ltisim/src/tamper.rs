//! Hooks that make the platform send bad id_tokens, one kind of bad per security test.
//!
//! A [`Tamper`] is applied to every id_token after the honest token has been built, so a
//! test changes exactly one thing and everything else stays valid.

use serde_json::{Map, Value};

/// How to corrupt the id_tokens the platform signs. `Tamper::default()` changes nothing.
///
/// ```
/// use ltisim::{Signing, Tamper};
/// use serde_json::json;
/// let expired = Tamper::claims(json!({ "exp": 1 }));
/// let unsigned = Tamper::signing(Signing::AlgNone);
/// let both = expired.with_header(json!({ "kid": "unknown" }));
/// # let _ = (unsigned, both);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Tamper {
    /// RFC 7396 merge patch into the JOSE header (`null` removes a member).
    pub header: Value,
    /// RFC 7396 merge patch into the claims (`null` removes a claim).
    pub claims: Value,
    /// How the token is signed.
    pub signing: Signing,
}

impl Default for Tamper {
    fn default() -> Self {
        Self {
            header: Value::Object(Map::new()),
            claims: Value::Object(Map::new()),
            signing: Signing::Normal,
        }
    }
}

impl Tamper {
    /// Patch only the claims.
    pub fn claims(patch: Value) -> Self {
        Self::default().with_claims(patch)
    }

    /// Patch only the JOSE header.
    pub fn header(patch: Value) -> Self {
        Self::default().with_header(patch)
    }

    /// Change only how the token is signed.
    pub fn signing(signing: Signing) -> Self {
        Self::default().with_signing(signing)
    }

    /// Sets (replaces) the claims patch.
    pub fn with_claims(mut self, patch: Value) -> Self {
        self.claims = patch;
        self
    }

    /// Sets (replaces) the header patch.
    pub fn with_header(mut self, patch: Value) -> Self {
        self.header = patch;
        self
    }

    /// Sets the signing mode.
    pub fn with_signing(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }
}

/// How an id_token is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Signing {
    /// By the current key, with the RSA scheme the header's `alg` names (RS256 by default).
    #[default]
    Normal,
    /// `alg: none` and an empty signature (`header.payload.`).
    AlgNone,
    /// `alg: HS256`, HMAC keyed with the platform's public key PEM (the key-confusion attack).
    Hs256WithPublicKeyPem,
    /// A valid RS256 signature by a key that is not in the JWKS, under the current kid.
    ForeignKey,
    /// A correct signature with one bit flipped.
    CorruptSignature,
    /// Send this exact string as the id_token.
    Raw(String),
}

/// RFC 7396 JSON merge patch. A `null` patch is "no change" here (RFC 7396 would replace
/// the whole document with null), so a default-constructed patch is harmless.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Null => {}
        Value::Object(members) => apply_members(target, members),
        replacement => *target = replacement.clone(),
    }
}

fn apply_members(target: &mut Value, members: &Map<String, Value>) {
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(object) = target else {
        return;
    };
    for (name, value) in members {
        match value {
            Value::Null => {
                object.remove(name);
            }
            Value::Object(nested) => {
                apply_members(object.entry(name.clone()).or_insert(Value::Null), nested)
            }
            replacement => {
                object.insert(name.clone(), replacement.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "list": [1]});
        merge_patch(
            &mut doc,
            &json!({"a": "z", "c": {"f": null, "h": 1}, "list": [2, 3], "new": {"x": 1}}),
        );
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e", "h": 1}, "list": [2, 3], "new": {"x": 1}})
        );
    }

    #[test]
    fn null_patch_changes_nothing_and_scalar_patch_replaces() {
        let mut doc = json!({"a": 1});
        merge_patch(&mut doc, &Value::Null);
        assert_eq!(doc, json!({"a": 1}));
        merge_patch(&mut doc, &json!("garbage"));
        assert_eq!(doc, json!("garbage"));
    }
}
