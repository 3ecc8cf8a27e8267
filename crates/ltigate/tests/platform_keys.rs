//! Platform keys end to end: a key ltigate could never verify with is refused when it is
//! registered (admin API and CLI), and a platform that rotates its key right after ltigate
//! fetched its JWKS keeps launching, while made-up kids cannot make ltigate hammer it.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::expect_error;
use common::lms::Lms;
use ltisim::{MessageType, Tamper};
use reqwest::Method;
use serde_json::{Value, json};

/// Keys that parse but can never verify an id_token, with the reason the 400 must name.
fn unusable_keys() -> Vec<(Value, &'static str)> {
    let jwk = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    vec![
        (
            json!({"method": "JWK_KEY", "key": jwk(include_str!("fixtures/keys/oct.jwk.json"))}),
            "key alg is not in the allowlist",
        ),
        (
            json!({"method": "JWK_KEY", "key": jwk(include_str!("fixtures/keys/rsa-1024.jwk.json"))}),
            "RSA key shorter than 2048 bits",
        ),
        (
            json!({"method": "JWK_KEY", "key": jwk(include_str!("fixtures/keys/ec-p384.jwk.json"))}),
            "EC key not on the P-256 curve",
        ),
        (
            json!({"method": "RSA_KEY", "key": include_str!("fixtures/keys/rsa-1024.pem")}),
            "RSA key shorter than 2048 bits",
        ),
        (
            json!({"method": "RSA_KEY", "key": include_str!("fixtures/keys/ec-p384.pem")}),
            "not an RSA public key PEM",
        ),
        (
            json!({"method": "RSA_KEY", "key": "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n"}),
            "not an RSA public key PEM",
        ),
    ]
}

async fn expect_key_refused(response: reqwest::Response, reason: &str) {
    let body = expect_error(response, 400, "INVALID_AUTH_CONFIG").await;
    let description = body["details"]["description"].as_str().unwrap();
    assert!(description.contains(reason), "{description}");
}

#[tokio::test]
async fn the_admin_api_refuses_keys_that_can_never_verify_and_keeps_the_stored_one() {
    let lms = Lms::start().await;
    let path = format!("/admin/platforms/{}", lms.platform_id);
    let before = lms.platform().await;
    for (auth_config, reason) in unusable_keys() {
        let mut new = before.clone();
        new["clientId"] = json!("another-client");
        new["authConfig"] = auth_config.clone();
        let created = lms
            .gate
            .admin(Method::POST, "/admin/platforms")
            .json(&new)
            .send()
            .await
            .unwrap();
        expect_key_refused(created, reason).await;
        let mut whole = before.clone();
        whole["authConfig"] = auth_config.clone();
        let replaced = lms.gate.admin(Method::PUT, &path).json(&whole).send().await;
        expect_key_refused(replaced.unwrap(), reason).await;
        let patch = json!({ "authConfig": auth_config });
        let patched = lms
            .gate
            .admin(Method::PATCH, &path)
            .json(&patch)
            .send()
            .await;
        expect_key_refused(patched.unwrap(), reason).await;
    }
    let listed = lms
        .gate
        .admin_json(Method::GET, "/admin/platforms", None)
        .await;
    assert_eq!(listed["platforms"], json!([before]), "nothing stored");
    lms.do_launch(MessageType::ResourceLink).await.ltik();

    // The simulator's real RSA-2048 key is accepted as a PEM and as a JWK, and verifies.
    for auth_config in [
        json!({"method": "RSA_KEY", "key": lms.sim.public_key_pem()}),
        json!({"method": "JWK_KEY", "key": lms.sim.jwks()["keys"][0]}),
    ] {
        let patch = json!({ "authConfig": auth_config });
        lms.gate
            .admin_json(Method::PATCH, &path, Some(&patch))
            .await;
        lms.do_launch(MessageType::ResourceLink).await.ltik();
    }
}

fn ltigate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ltigate"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn add_with_rsa_key_file(dir: &Path, client_id: &str, key_file: &Path) -> Output {
    ltigate(
        dir,
        &[
            "platforms",
            "add",
            "--url",
            "https://lms.example.edu",
            "--client-id",
            client_id,
            "--name",
            "LMS",
            "--authentication-endpoint",
            "https://lms.example.edu/auth",
            "--accesstoken-endpoint",
            "https://lms.example.edu/token",
            "--rsa-key-file",
            key_file.to_str().unwrap(),
        ],
    )
}

#[tokio::test]
async fn the_cli_refuses_keys_that_can_never_verify() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    for (file, reason) in [
        ("rsa-1024.pem", "RSA key shorter than 2048 bits"),
        ("ec-p384.pem", "not an RSA public key PEM"),
    ] {
        let refused = add_with_rsa_key_file(dir.path(), file, &fixtures.join(file));
        assert!(!refused.status.success(), "{file} was accepted");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(reason), "{stderr}");
    }
    let sim = ltisim::Simulator::start().await.unwrap();
    let good = dir.path().join("platform.pem");
    std::fs::write(&good, sim.public_key_pem()).unwrap();
    let added = add_with_rsa_key_file(dir.path(), "good", &good);
    assert!(added.status.success());
    let listed = ltigate(dir.path(), &["platforms", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(
        listed.lines().count(),
        2,
        "a header and the good platform: {listed}"
    );
    assert!(listed.contains(" good "), "{listed}");
}

#[tokio::test]
async fn a_key_rotated_right_after_a_fetch_is_followed_and_made_up_kids_cost_two_fetches() {
    let clock = common::manual_clock_at_now();
    let lms = Lms::start_at(clock.clone(), json!({})).await;
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    assert_eq!(lms.sim.jwks_fetches(), 1);
    // The platform switches keys and drops the old one at the same instant: the unknown kid
    // must refetch although the ordinary fetch was a moment ago.
    lms.sim.rotate_keys_dropping_old();
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    let after_rotation = lms.sim.jwks_fetches();
    assert_eq!(after_rotation, 2);
    for _ in 0..50 {
        let kid = ltigate::secret::random_token(12);
        let code = lms
            .do_launch_until_error(Tamper::header(json!({ "kid": kid })))
            .await;
        assert_eq!(code, "KID_UNKNOWN");
    }
    let extra = lms.sim.jwks_fetches() - after_rotation;
    assert!(
        extra <= 2,
        "50 made-up kids fetched the JWKS {extra} more times"
    );
    // The rate limit costs the real key nothing: it is cached.
    lms.do_launch(MessageType::ResourceLink).await.ltik();
}
