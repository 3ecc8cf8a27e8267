//! `ltigate check` as an operator runs it: the real binary, configured through `LTIGATE_*`
//! variables, against a real SQLite file and JWKS served on loopback (the LMS simulator, or a
//! small server for broken key sets).
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::path::Path;
use std::process::Command;

use common::lms::Lms;
use common::{ADMIN_KEY, API_KEY};
use reqwest::Method;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ltigate");

/// What `ltigate check` printed, and whether it exited 0.
struct Checked {
    success: bool,
    stdout: String,
}

impl Checked {
    /// The printed line about `subject` (the first when there are several).
    fn line(&self, subject: &str) -> &str {
        self.lines(subject)
            .next()
            .unwrap_or_else(|| panic!("no line about {subject}:\n{}", self.stdout))
    }

    fn lines<'a>(&'a self, subject: &str) -> impl Iterator<Item = &'a str> + 'a {
        let subject = subject.to_owned();
        self.stdout
            .lines()
            .filter(move |l| l.get(5..).is_some_and(|rest| rest.starts_with(&subject)))
    }

    fn assert_summary(&self, summary: &str) {
        assert!(
            self.stdout.trim_end().ends_with(summary),
            "want `{summary}`:\n{}",
            self.stdout
        );
    }

    fn assert_line(&self, level: &str, subject: &str, contains: &str) {
        let line = self.line(subject);
        assert!(
            line.starts_with(level) && line.contains(contains),
            "want `{level}` with `{contains}`, got: {line}\n{}",
            self.stdout
        );
    }
}

/// Runs `ltigate check` in an empty folder with these variables (and no other `LTIGATE_*`).
async fn check(env: Vec<(&'static str, String)>) -> Checked {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(BIN);
        command.arg("check").current_dir(dir.path());
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("LTIGATE_")) {
            command.env_remove(name);
        }
        let out = command.envs(env).output().unwrap();
        Checked {
            success: out.status.success(),
            stdout: String::from_utf8(out.stdout).unwrap(),
        }
    })
    .await
    .unwrap()
}

/// A deployment that should check clean: https URLs, both keys, and outbound fetches allowed
/// to reach the simulator on loopback.
fn deployment(database_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LTIGATE_DATABASE_URL", database_url.to_owned()),
        ("LTIGATE_PUBLIC_URL", "https://lti.example.com".into()),
        (
            "LTIGATE_APP__LAUNCH_URL",
            "https://app.example.com/launch".into(),
        ),
        (
            "LTIGATE_APP__DEEP_LINKING_URL",
            "https://app.example.com/deep-linking".into(),
        ),
        ("LTIGATE_ADMIN_KEY", ADMIN_KEY.into()),
        ("LTIGATE_API_KEYS", format!("[\"{API_KEY}\"]")),
        ("LTIGATE_ALLOW_INSECURE_HTTP", "true".into()),
        (
            "LTIGATE_REGISTRATION__ALLOW_PRIVATE_NETWORKS",
            "true".into(),
        ),
    ]
}

fn with(
    mut env: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    env.retain(|(n, _)| *n != name);
    env.push((name, value.to_owned()));
    env
}

/// A URL on loopback where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/jwks")
}

/// Serves `body` as JSON at `/jwks` on a loopback port.
async fn serve_json(body: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || async move { axum::Json(body) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/jwks")
}

/// Registers one more active JWK_SET platform at the simulator's issuer.
async fn add_platform(lms: &Lms, client_id: &str, jwks_url: &str) -> String {
    let body = json!({
        "url": lms.sim.issuer(),
        "clientId": client_id,
        "name": "Second LMS",
        "authenticationEndpoint": lms.sim.authorization_endpoint(),
        "accesstokenEndpoint": lms.sim.token_endpoint(),
        "authConfig": {"method": "JWK_SET", "key": jwks_url},
        "deploymentIds": ["d-2"],
    });
    let created = lms
        .gate
        .admin_json(Method::POST, "/admin/platforms", Some(&body))
        .await;
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_deployment_with_the_simulator_registered_checks_clean_and_exits_zero() {
    let lms = Lms::start().await;
    let before = lms.sim.jwks_fetches();
    let checked = check(deployment(&lms.gate.database_url)).await;
    assert!(checked.success, "{}", checked.stdout);
    checked.assert_summary("0 failures, 0 warnings");
    for line in checked.stdout.lines().filter(|l| !l.contains("failures")) {
        assert!(line.starts_with("ok "), "{line}");
    }
    checked.assert_line("ok", "public_url", "https://lti.example.com");
    checked.assert_line("ok", "app.launch_url", "https://app.example.com/launch");
    checked.assert_line("ok", "database", "answers");
    checked.assert_line("ok", "tool key", "signs; 1 published");
    checked.assert_line("ok", "api_keys", "1 configured");
    checked.assert_line(
        "ok",
        &format!("platform Simulated LMS ({})", lms.platform_id),
        &format!("JWKS {} answers with 1 usable key", lms.sim.jwks_uri()),
    );
    assert_eq!(
        lms.sim.jwks_fetches(),
        before + 1,
        "the simulator served its JWKS to the check"
    );
}

#[tokio::test]
async fn an_http_public_url_and_a_dead_jwks_fail_and_exit_non_zero() {
    let dead = dead_url();
    let lms = Lms::start_with(json!({"authConfig": {"method": "JWK_SET", "key": dead}})).await;
    let env = with(
        deployment(&lms.gate.database_url),
        "LTIGATE_PUBLIC_URL",
        "http://lti.example.com",
    );
    let checked = check(env).await;
    assert!(!checked.success, "{}", checked.stdout);
    checked.assert_line("FAIL", "public_url", "is plain http");
    checked.assert_line(
        "FAIL",
        &format!("platform Simulated LMS ({})", lms.platform_id),
        "JWKS_UNAVAILABLE",
    );
    checked.assert_summary("2 failures, 0 warnings");
}

#[tokio::test]
async fn jwks_go_through_the_outbound_policy() {
    let lms = Lms::start().await;
    let env = with(
        deployment(&lms.gate.database_url),
        "LTIGATE_REGISTRATION__ALLOW_PRIVATE_NETWORKS",
        "false",
    );
    let checked = check(env).await;
    assert!(!checked.success, "{}", checked.stdout);
    checked.assert_line("FAIL", "platform Simulated LMS", "non-public address");
    assert_eq!(lms.sim.jwks_fetches(), 0, "refused before connecting");
}

#[tokio::test]
async fn a_jwks_must_parse_and_hold_a_usable_key() {
    let unusable: Vec<Value> = [
        include_str!("fixtures/keys/oct.jwk.json"),
        include_str!("fixtures/keys/rsa-1024.jwk.json"),
    ]
    .iter()
    .map(|text| serde_json::from_str(text).unwrap())
    .collect();
    let lms = Lms::start().await;
    // A good key without a kid cannot be named by an id_token either.
    let mut no_kid = lms.sim.jwks()["keys"][0].clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut keys = unusable;
    keys.push(no_kid);
    let weak = add_platform(&lms, "weak", &serve_json(json!({ "keys": keys })).await).await;
    let not_a_set = add_platform(&lms, "not-a-set", &lms.sim.openid_configuration_url()).await;

    let checked = check(deployment(&lms.gate.database_url)).await;
    assert!(!checked.success, "{}", checked.stdout);
    checked.assert_line("ok", "platform Simulated LMS", "1 usable key");
    checked.assert_line(
        "FAIL",
        &format!("platform Second LMS ({weak})"),
        "no usable signing key",
    );
    let line = checked.line(&format!("platform Second LMS ({not_a_set})"));
    assert!(line.starts_with("FAIL"), "{line}");
    assert!(!line.contains("usable key"), "{line}");
}

#[tokio::test]
async fn an_unreachable_database_fails() {
    let dir = tempfile::tempdir().unwrap();
    let missing_folder = dir.path().join("gone/ltigate.db");
    let checked = check(deployment(&sqlite_url(&missing_folder))).await;
    assert!(!checked.success, "{}", checked.stdout);
    checked.assert_line("FAIL", "database", "does not exist");
    assert!(!missing_folder.parent().unwrap().exists());

    let not_sqlite = dir.path().join("garbage.db");
    std::fs::write(&not_sqlite, vec![0x55_u8; 8192]).unwrap();
    let checked = check(deployment(&sqlite_url(&not_sqlite))).await;
    assert!(!checked.success, "{}", checked.stdout);
    checked.assert_line("FAIL", "database", "cannot open");
    // Nothing about keys or platforms can be read from it.
    assert!(
        checked.lines("tool key").next().is_none(),
        "{}",
        checked.stdout
    );
}

#[tokio::test]
async fn before_the_first_serve_a_missing_sqlite_file_is_fine_and_left_missing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ltigate.db");
    let checked = check(deployment(&sqlite_url(&file))).await;
    assert!(checked.success, "{}", checked.stdout);
    checked.assert_line("ok", "database", "does not exist yet");
    checked.assert_line(
        "warn",
        "tool key",
        "the first `ltigate serve` generates one",
    );
    checked.assert_line("warn", "platforms", "none registered yet");
    assert!(!file.exists(), "check does not create the database");
}

#[tokio::test]
async fn a_configuration_that_does_not_load_is_one_failure() {
    let checked = check(vec![("LTIGATE_LISTEN", "not an address".into())]).await;
    assert!(!checked.success);
    checked.assert_line("FAIL", "configuration", "field `listen`");
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}
