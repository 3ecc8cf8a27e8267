//! Test helpers: a real ltigate on a loopback port with a fresh database (SQLite, or
//! PostgreSQL when `LTITEST_DATABASE_URL` is set: see `database`).

#![allow(dead_code)] // each test binary uses a different part of this module

use std::net::SocketAddr;

use ltigate::clock::Clock;
use ltigate::config::Config;
use ltigate::secret::KeyHash;
use ltigate::server::Server;
use tokio::sync::oneshot;

pub use database::TestDatabase;

pub const ADMIN_KEY: &str = "test-admin-key";
pub const API_KEY: &str = "test-api-key";

/// A running ltigate; stops when dropped (unless another process serves it: see `attach`).
pub struct TestGate {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub database_url: String,
    // Declared before the database: the server stops first, then the database goes.
    _stop: Option<oneshot::Sender<()>>,
    _db: Option<TestDatabase>,
}

impl TestGate {
    /// Starts ltigate with the test admin and API keys, after `adjust` edits the config.
    pub async fn start(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_at(Clock::System, adjust).await
    }

    /// As `start`, reading time from `clock`.
    pub async fn start_at(clock: Clock, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(TestDatabase::fresh().await, clock, adjust).await
    }

    /// As `start_at`, on `db` (which the gate keeps until it stops).
    pub async fn start_on(
        db: TestDatabase,
        clock: Clock,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let database_url = db.url.clone();
        let mut gate = Self::serve(database_url, clock, adjust).await;
        gate._db = Some(db);
        gate
    }

    /// Another ltigate on the database of a running one (`database_url`): a second node.
    pub async fn serve(
        database_url: String,
        clock: Clock,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            database_url: database_url.clone(),
            admin_key: Some(KeyHash::of(ADMIN_KEY)),
            api_keys: vec![KeyHash::of(API_KEY)],
            ..Config::default()
        };
        adjust(&mut config);
        let server = Server::bind(config, clock).await.expect("server starts");
        let addr = server.local_addr().expect("bound");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            client: browser_client(),
            database_url,
            _stop: Some(stop),
            _db: None,
        }
    }

    /// A handle on an ltigate that a process the caller owns serves at `addr` on
    /// `database_url` (the `ltigate` binary, to be killed and restarted by the test).
    pub fn attach(addr: SocketAddr, database_url: String) -> Self {
        Self {
            addr,
            client: browser_client(),
            database_url,
            _stop: None,
            _db: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The tool's public key set, as platforms read it from `/lti/keys`.
    pub async fn tool_jwks<T: serde::de::DeserializeOwned>(&self) -> T {
        let response = self.client.get(self.url("/lti/keys")).send().await;
        let response = response.expect("ltigate answers");
        response.json().await.expect("a JWKS")
    }

    /// An admin API call that must succeed; its JSON answer.
    pub async fn admin_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> serde_json::Value {
        let mut request = self.admin(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("admin API answers");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("JSON answer")
    }

    /// A request with the admin key.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_KEY)
    }
}

/// A client that, like a test's browser, does not follow redirects (they carry the ltik).
fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A manual clock set to the real time (tokens from the simulator carry real times).
pub fn manual_clock_at_now() -> Clock {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    Clock::manual(now as i64)
}

/// Asserts an LTIAAS-shaped error and returns the response body.
pub async fn expect_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status for {code}");
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    assert_eq!(body["status"], status);
    assert_eq!(body["details"]["message"], code, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(
        body["details"]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    body
}

pub mod database;
pub mod lms;
pub mod services;
