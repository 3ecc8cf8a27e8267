use jsonwebtoken::{DecodingKey, Header, Validation, decode, encode};

use super::*;
use crate::store::tests::temp_store;

fn key(kid: &str, activate_at: i64, retire_at: Option<i64>) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        private_key_pem: String::new(),
        created_at: 0,
        activate_at,
        retire_at,
    }
}

#[test]
fn states_follow_from_the_times() {
    let keys = [key("a", 0, Some(200)), key("b", 100, None)];
    let at = |now| key_states(&keys, now);
    assert_eq!(at(50), [KeyState::Current, KeyState::Next]);
    assert_eq!(at(100), [KeyState::Previous, KeyState::Current]);
    assert_eq!(at(200), [KeyState::Retired, KeyState::Current]);
}

fn kids(jwks: &JwkSet) -> Vec<String> {
    jwks.keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn rotation_publishes_first_signs_later_and_retires_last() {
    lti::install_crypto_provider();
    let (store, _dir) = temp_store().await;
    let clock = Clock::manual(1_000);
    let config = KeysConfig {
        refresh_interval: Duration::ZERO,
        ..Default::default()
    };
    let ring = KeyRing::new(store.clone(), clock.clone(), &config);
    assert!(ensure_key(&store, clock.now()).await.unwrap());
    assert!(
        !ensure_key(&store, clock.now()).await.unwrap(),
        "one key only"
    );
    let first = ring.signing_key().await.unwrap().kid;
    assert_eq!(kids(&ring.jwks().await.unwrap()), [first.as_str()]);

    let next = rotate(
        &store,
        clock.now(),
        Duration::from_secs(100),
        Duration::from_secs(50),
    )
    .await
    .unwrap();
    // Published at once, not yet signing.
    assert_eq!(
        kids(&ring.jwks().await.unwrap()),
        [first.clone(), next.kid.clone()]
    );
    assert_eq!(ring.signing_key().await.unwrap().kid, first);
    let again = rotate(
        &store,
        clock.now(),
        Duration::from_secs(100),
        Duration::from_secs(50),
    )
    .await;
    assert!(matches!(again, Err(KeyError::RotationInProgress { .. })));

    clock.advance(100);
    assert_eq!(ring.signing_key().await.unwrap().kid, next.kid);
    assert_eq!(
        kids(&ring.jwks().await.unwrap()),
        [first.clone(), next.kid.clone()]
    );

    clock.advance(50);
    assert_eq!(kids(&ring.jwks().await.unwrap()), [next.kid.as_str()]);
}

#[tokio::test]
async fn the_published_key_verifies_what_the_signing_key_signs() {
    lti::install_crypto_provider();
    let (store, _dir) = temp_store().await;
    let clock = Clock::manual(1_000);
    ensure_key(&store, clock.now()).await.unwrap();
    let ring = KeyRing::new(store, clock, &KeysConfig::default());
    let signing = ring.signing_key().await.unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(signing.kid.clone());
    let token = encode(&header, &serde_json::json!({"sub": "x"}), &signing.key).unwrap();

    let jwks = ring.jwks().await.unwrap();
    let jwk = jwks.find(&signing.kid).unwrap();
    assert_eq!(jwk.common.key_algorithm, Some(KeyAlgorithm::RS256));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    decode::<serde_json::Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).unwrap();
    // The PEM shown to admins is the same key.
    let from_pem = DecodingKey::from_rsa_pem(signing.public_pem.as_bytes()).unwrap();
    decode::<serde_json::Value>(&token, &from_pem, &validation).unwrap();
}

#[tokio::test]
async fn a_cached_snapshot_is_served_until_the_refresh_interval() {
    lti::install_crypto_provider();
    let (store, _dir) = temp_store().await;
    let clock = Clock::manual(1_000);
    ensure_key(&store, clock.now()).await.unwrap();
    let ring = KeyRing::new(store.clone(), clock.clone(), &KeysConfig::default());
    assert_eq!(ring.jwks().await.unwrap().keys.len(), 1);
    rotate(
        &store,
        clock.now(),
        Duration::from_secs(10),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let first = kids(&ring.jwks().await.unwrap());
    assert_eq!(first.len(), 1, "cached for 60 s");
    let fresh = KeyRing::new(store, clock.clone(), &KeysConfig::default());
    assert_eq!(fresh.jwks().await.unwrap().keys.len(), 2);
    // The snapshot's age is read from the injected clock, not the wall clock.
    clock.advance(59);
    assert_eq!(kids(&ring.jwks().await.unwrap()), first, "not before 60 s");
    // By then the rotation is over: only the new key is published.
    clock.advance(1);
    let refreshed = kids(&ring.jwks().await.unwrap());
    assert_eq!(refreshed.len(), 1);
    assert_ne!(refreshed, first, "refreshed at 60 s");
}
