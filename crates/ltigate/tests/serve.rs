//! The `ltigate` binary as a new user runs it: no config file, SQLite created on the spot.
//! SQLite only, whatever `LTITEST_DATABASE_URL` says: the default database is the subject.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;

const BIN: &str = env!("CARGO_BIN_EXE_ltigate");

/// A `ltigate serve` child process and the lines it printed up to its banner.
struct Served {
    child: Child,
    base: String,
    stdout: Vec<String>,
}

fn serve(dir: &Path) -> Served {
    serve_with_env(dir, &[])
}

/// Where [`serve`] writes the server's log (its stderr).
const LOG_FILE: &str = "ltigate.log";

/// As [`serve`], with more environment variables.
fn serve_with_env(dir: &Path, env: &[(&str, &str)]) -> Served {
    let log = std::fs::File::create(dir.join(LOG_FILE)).expect("log file");
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env("LTIGATE_LISTEN", "127.0.0.1:0")
        .env("LTIGATE_KEYS__REFRESH_INTERVAL", "0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("ltigate starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while !lines
        .iter()
        .any(|l: &String| l.contains("dynamic registration:"))
    {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("banner within 30 s");
        lines.push(line);
    }
    // The API key line, if any, follows the banner at once.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        lines.push(line);
    }
    let base = lines[0]
        .strip_prefix("ltigate listening on ")
        .expect("first line names the address")
        .to_owned();
    Served {
        child,
        base,
        stdout: lines,
    }
}

fn stop(served: Served) {
    terminate(&served);
    wait_for_exit(served);
}

fn terminate(served: &Served) {
    let pid = served.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
}

fn wait_for_exit(mut served: Served) {
    for _ in 0..100 {
        if let Some(status) = served.child.try_wait().expect("wait") {
            assert!(status.success(), "graceful exit on SIGTERM: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = served.child.kill();
    panic!("ltigate did not stop within 5 s of SIGTERM");
}

fn cli(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("ltigate runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

async fn jwks(base: &str) -> JwkSet {
    reqwest::get(format!("{base}/lti/keys"))
        .await
        .expect("GET /lti/keys")
        .json()
        .await
        .expect("a JWKS that jsonwebtoken loads")
}

#[tokio::test]
async fn serve_without_config_then_rotate_keys_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path());
    assert!(
        dir.path().join("ltigate.db").exists(),
        "SQLite file created"
    );
    let banner = served.stdout.join("\n");
    for path in ["/lti/keys", "/lti/login", "/lti/launch", "/lti/register"] {
        assert!(
            banner.contains(&format!("{}{path}", served.base)),
            "{banner}"
        );
    }
    assert!(banner.contains("generated API key"), "{banner}");

    let keys = jwks(&served.base).await;
    assert_eq!(keys.keys.len(), 1);
    let key = &keys.keys[0];
    assert!(key.common.key_id.is_some());
    assert_eq!(
        key.common.key_algorithm,
        Some(jsonwebtoken::jwk::KeyAlgorithm::RS256)
    );
    jsonwebtoken::DecodingKey::from_jwk(key).expect("usable RSA key");

    // Rotation works on the database directly; the running node sees it at its next refresh.
    let rotated = cli(dir.path(), &["keys", "rotate", "--delay", "3600"]);
    assert!(rotated.contains("published key"), "{rotated}");
    let after = jwks(&served.base).await;
    assert_eq!(after.keys.len(), 2, "next key published at once");
    let listing = cli(dir.path(), &["keys", "list"]);
    assert!(
        listing.contains("current") && listing.contains("next"),
        "{listing}"
    );
    stop(served);

    // A restart keeps the keys and does not mint another API key.
    let again = serve(dir.path());
    assert!(!again.stdout.join("\n").contains("generated API key"));
    assert_eq!(jwks(&again.base).await.keys.len(), 2);
    stop(again);
}

#[tokio::test]
async fn sigterm_stops_accepting_and_lets_an_in_flight_request_finish() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path());
    let addr = served.base.trim_start_matches("http://").to_owned();
    let mut in_flight = tokio::net::TcpStream::connect(&addr).await.unwrap();
    in_flight
        .write_all(
            b"POST /lti/launch HTTP/1.1\r\nhost: localhost\r\n\
              content-type: application/x-www-form-urlencoded\r\ncontent-length: 10\r\n\r\nstate=",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    terminate(&served);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "no new connections once stopping"
    );
    in_flight.write_all(b"abcd").await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(
        Duration::from_secs(5),
        in_flight.read_to_string(&mut answer),
    )
    .await
    .expect("answered within the grace period")
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer:?}");
    wait_for_exit(served);
}

#[test]
fn platforms_cli_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let id = cli(
        dir.path(),
        &[
            "platforms",
            "add",
            "--url",
            "https://canvas.example.edu",
            "--client-id",
            "10000000000002",
            "--name",
            "Canvas",
            "--authentication-endpoint",
            "https://canvas.example.edu/api/lti/authorize_redirect",
            "--accesstoken-endpoint",
            "https://canvas.example.edu/login/oauth2/token",
            "--jwks-url",
            "https://canvas.example.edu/api/lti/security/jwks",
            "--deployment-id",
            "7:d3a2504bba5184799a38f141e8df2335cfa8206d",
        ],
    );
    let id = id.trim();
    assert!(cli(dir.path(), &["platforms", "list"]).contains(id));
    let shown: serde_json::Value =
        serde_json::from_str(&cli(dir.path(), &["platforms", "show", id])).unwrap();
    assert_eq!(shown["clientId"], "10000000000002");
    assert_eq!(shown["status"], "active");
    cli(dir.path(), &["platforms", "deactivate", id]);
    assert!(cli(dir.path(), &["platforms", "list", "--status", "inactive"]).contains(id));
    cli(dir.path(), &["platforms", "activate", id]);
    cli(dir.path(), &["platforms", "remove", id]);
    assert!(!cli(dir.path(), &["platforms", "list"]).contains(id));

    let refused = Command::new(BIN)
        .args(["platforms", "remove", id])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no platform"));
}

#[test]
fn a_bad_config_stops_start_up_with_one_line_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ltigate.toml"),
        "[app]\nlaunch_url = \"nope\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("app.launch_url"), "{stderr}");
    assert!(!dir.path().join("ltigate.db").exists(), "nothing created");
}

/// Kubernetes gives every pod `LTIGATE_PORT=tcp://...` and `LTIGATE_SERVICE_HOST` for a Service
/// named ltigate. They name no config field: the server starts and names them in one warning.
/// (10.0.0.1 is only a value here; nothing connects to it.)
#[tokio::test]
async fn serve_starts_with_kubernetes_service_variables_and_warns_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ltigate.toml"), "[tool]\nname = \"k8s\"\n").unwrap();
    let served = serve_with_env(
        dir.path(),
        &[
            ("LTIGATE_PORT", "tcp://10.0.0.1:80"),
            ("LTIGATE_SERVICE_HOST", "10.0.0.1"),
            ("LTIGATE_CONFIG", "ltigate.toml"),
        ],
    );
    assert_eq!(jwks(&served.base).await.keys.len(), 1, "serving");
    let log = std::fs::read_to_string(dir.path().join(LOG_FILE)).unwrap();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("not configuration fields"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning:\n{log}");
    assert!(warnings[0].contains("LTIGATE_PORT"), "{log}");
    assert!(warnings[0].contains("LTIGATE_SERVICE_HOST"), "{log}");
    assert!(!warnings[0].contains("LTIGATE_CONFIG"), "{log}");
    assert!(
        !log.contains("10.0.0.1"),
        "values stay out of the log:\n{log}"
    );
    stop(served);
}
