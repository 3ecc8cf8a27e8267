//! Reading and verifying the compact JWS a tool sends: its client assertions (RFC 7515,
//! RFC 7523) and deep linking responses. RS256 only, verified by hand with aws-lc-rs against
//! the tool's JWKS: the simulator shares no JOSE code with the tool it checks.
//!
//! Not a general JOSE library: no other algorithm, no encrypted tokens, no `x5c`.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

/// Splits and decodes `token`; both the header and the payload must be JSON objects.
pub(crate) fn decode(token: &str) -> Result<Decoded, String> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the JWS is not a compact JWS of three parts".into());
    };
    let object = |segment: &str, what: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| format!("the JWS {what} is not base64url"))?;
        match serde_json::from_slice(&bytes) {
            Ok(value @ Value::Object(_)) => Ok(value),
            _ => Err(format!("the JWS {what} is not a JSON object")),
        }
    };
    Ok(Decoded {
        header: object(header, "header")?,
        claims: object(claims, "payload")?,
        signing_input: format!("{header}.{claims}"),
        signature: URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| "the JWS signature is not base64url".to_owned())?,
    })
}

impl Decoded {
    /// The header's `kid`, if it is a string.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// Checks `alg` is RS256 and the signature verifies with the JWKS key named by `kid`.
    pub(crate) fn verify_rs256(&self, jwks: &Value) -> Result<(), String> {
        let alg = self.header.get("alg").and_then(Value::as_str);
        if alg != Some("RS256") {
            return Err(format!("alg must be RS256, not {alg:?}"));
        }
        let kid = self.kid().ok_or("the JWS header has no kid")?;
        let key = jwks
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|key| key.get("kid").and_then(Value::as_str) == Some(kid))
            .ok_or_else(|| format!("no key with kid {kid:?} in the tool's JWKS"))?;
        if key.get("kty").and_then(Value::as_str) != Some("RSA") {
            return Err(format!("the key {kid:?} is not an RSA key"));
        }
        let component = |name: &str| {
            key.get(name)
                .and_then(Value::as_str)
                .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
                .ok_or_else(|| format!("the key {kid:?} has no valid {name}"))
        };
        let public = RsaPublicKeyComponents {
            n: component("n")?,
            e: component("e")?,
        };
        public
            .verify(
                &RSA_PKCS1_2048_8192_SHA256,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .map_err(|_| "the JWS signature does not verify with the tool's key".to_owned())
    }
}

/// The tool's JWKS, fetched from its registered `jwks_uri`.
pub(crate) async fn fetch_jwks(client: &reqwest::Client, jwks_uri: &str) -> Result<Value, String> {
    let response = client
        .get(jwks_uri)
        .send()
        .await
        .map_err(|error| format!("could not fetch {jwks_uri}: {error}"))?;
    if !response.status().is_success() {
        return Err(format!("{jwks_uri} answered {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|_| format!("{jwks_uri} did not answer JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use serde_json::json;

    fn signed(key: &SigningKey, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = key.sign("RS256", input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    #[test]
    fn verifies_only_the_right_key_and_alg() {
        let key = SigningKey::generate();
        let jwks = json!({ "keys": [key.public_jwk()] });
        let header = json!({ "alg": "RS256", "kid": key.kid() });
        let token = signed(&key, &header, &json!({ "iss": "t" }));
        let decoded = decode(&token).expect("decodes");
        assert_eq!(decoded.claims["iss"], "t");
        assert_eq!(decoded.verify_rs256(&jwks), Ok(()));

        // Another key published under the same kid.
        let mut impostor = SigningKey::generate().public_jwk();
        impostor["kid"] = json!(key.kid());
        let wrong_key = json!({ "keys": [impostor] });
        assert!(decoded.verify_rs256(&wrong_key).is_err());

        let hs = signed(
            &key,
            &json!({ "alg": "HS256", "kid": key.kid() }),
            &json!({}),
        );
        let refused = decode(&hs).expect("decodes").verify_rs256(&jwks);
        assert!(refused.is_err_and(|why| why.contains("RS256")));

        let unknown = signed(&key, &json!({ "alg": "RS256", "kid": "nope" }), &json!({}));
        let refused = decode(&unknown).expect("decodes").verify_rs256(&jwks);
        assert!(refused.is_err_and(|why| why.contains("nope")));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for token in ["", "a.b", "a.b.c.d", "!!.e30.", "e30.W10.", "bnVsbA.e30."] {
            assert!(decode(token).is_err(), "{token}");
        }
    }
}
