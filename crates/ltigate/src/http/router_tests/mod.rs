//! Router tests: the whole application (`http::app`) on a real SQLite store, called with
//! `oneshot`, no port. Each route family's file checks how its handlers map inputs and errors
//! to status, code, content type and headers; end-to-end behaviour (real LMS, real network) is
//! in `tests/`.

mod admin;
mod api;
mod lti;
mod ops;
mod registration;

use axum::body::{Body, to_bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::clock::Clock;
use crate::config::Config;
use crate::http::AppState;
use crate::http::request_id::X_REQUEST_ID;
use crate::secret::{KeyHash, Random, random_token};
use crate::server::Server;
use crate::store::test_database::TestDatabase;
use crate::store::{LaunchWrite, NewPlatform, PlatformKey, PlatformStatus};

/// The stored launch: the least a resource link launch carries (the API reads stored claims
/// with the launch's own rules).
const LAUNCH_CLAIMS: &str = r#"{"sub": "user-1",
    "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
    "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
    "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-1",
    "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": "https://app.example.com/launch",
    "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "link-1"},
    "https://purl.imsglobal.org/spec/lti/claim/roles": []}"#;

/// The seed of the fixture's token source, so tests can replay what it draws.
pub(crate) const SEED: u64 = 8;
/// The fixture's manual clock starts here.
pub(crate) const START: i64 = 1_800_000_000;
pub(crate) const ISSUER: &str = "https://lms.example.edu";
pub(crate) const CLIENT_ID: &str = "client-1";

/// An AppState on a fresh database holding one platform and one unexpired launch, with a
/// manual clock and a seeded token source.
pub(crate) struct Fixture {
    pub state: AppState,
    pub clock: Clock,
    pub admin_key: String,
    pub api_key: String,
    pub ltik: String,
    pub platform_id: String,
    _db: TestDatabase,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    /// The fixture with `tune` applied to its configuration.
    pub async fn with_config(tune: impl FnOnce(&mut Config)) -> Self {
        let db = TestDatabase::fresh().await;
        let (admin_key, api_key, ltik) = (random_token(24), random_token(24), random_token(24));
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            database_url: db.url.clone(),
            admin_key: Some(KeyHash::of(&admin_key)),
            api_keys: vec![KeyHash::of(&api_key)],
            ..Config::default()
        };
        tune(&mut config);
        let clock = Clock::manual(START);
        let server = Server::bind_with(config, clock.clone(), Random::seeded(SEED))
            .await
            .expect("server binds");
        let state = server.state().clone();
        let now = clock.now();
        let platform = server
            .store()
            .insert_platform(
                &NewPlatform {
                    issuer: ::lti::ids::Issuer::new(ISSUER),
                    client_id: ::lti::ids::ClientId::new(CLIENT_ID),
                    name: "LMS".into(),
                    auth_endpoint: url::Url::parse(&format!("{ISSUER}/auth")).expect("test URL"),
                    token_endpoint: url::Url::parse(&format!("{ISSUER}/token")).expect("test URL"),
                    authorization_server: None,
                    key: PlatformKey::JwkSet(
                        url::Url::parse(&format!("{ISSUER}/jwks")).expect("test URL"),
                    ),
                    status: PlatformStatus::Active,
                    allow_new_deployments: false,
                    product_family: None,
                    version: None,
                    scopes: Vec::new(),
                    deployment_ids: vec!["deployment-1".into()],
                },
                now,
            )
            .await
            .expect("platform stored");
        server
            .store()
            .record_launch(&LaunchWrite {
                nonce_hash: "nonce-hash",
                ltik_hash: &KeyHash::of(&ltik).to_stored(),
                platform_id: &platform.id,
                deployment_id: "deployment-1",
                record_deployment: false,
                claims: LAUNCH_CLAIMS,
                service_key: None,
                now,
                expires_at: now + 3600,
            })
            .await
            .expect("launch stored");
        Self {
            state,
            clock,
            admin_key,
            api_key,
            ltik,
            platform_id: platform.id,
            _db: db,
        }
    }

    /// Sends one request through the whole application.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = crate::http::app(self.state.clone())
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A request with `Authorization: <value>`.
    pub fn authorized(&self, method: &str, uri: &str, value: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", value)
    }

    /// `Bearer <ADMIN_KEY>`.
    pub fn admin_header(&self) -> String {
        format!("Bearer {}", self.admin_key)
    }

    /// `Bearer <API_KEY>`.
    pub fn app_key_header(&self) -> String {
        format!("Bearer {}", self.api_key)
    }

    /// `LTIK-AUTH-V2 <API_KEY>:<LTIK>` of the fixture's launch.
    pub fn launch_header(&self) -> String {
        format!("LTIK-AUTH-V2 {}:{}", self.api_key, self.ltik)
    }

    pub fn admin(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        self.authorized(method, uri, &self.admin_header())
    }

    pub fn app_key(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        self.authorized(method, uri, &self.app_key_header())
    }

    pub fn launch_auth(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        self.authorized(method, uri, &self.launch_header())
    }
}

/// A bodiless GET.
pub(crate) fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// A finished answer, body read.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: impl axum::http::header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Headers every answer carries: nosniff and a request id.
    pub fn assert_common_headers(&self) {
        assert_eq!(self.header(X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(!self.header(X_REQUEST_ID).is_empty(), "X-Request-Id is set");
    }

    /// A JSON API answer: common headers, JSON, never cached.
    pub fn assert_api(&self, status: StatusCode) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.assert_common_headers();
        assert!(self.header(CONTENT_TYPE).starts_with("application/json"));
        assert_eq!(self.header(CACHE_CONTROL), "no-store");
    }

    /// An API error in the LTIAAS shape carrying `code`.
    pub fn assert_api_error(&self, status: StatusCode, code: &str) {
        self.assert_api(status);
        let body = self.json();
        assert_eq!(body["status"], status.as_u16(), "{body}");
        assert_eq!(
            body["error"],
            status.canonical_reason().unwrap_or(""),
            "{body}"
        );
        assert_eq!(body["details"]["message"], code, "{body}");
        assert!(body["details"]["description"].is_string(), "{body}");
    }

    /// A browser error page carrying `code` and the request id.
    pub fn assert_page_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        self.assert_common_headers();
        assert!(self.header(CONTENT_TYPE).starts_with("text/html"));
        assert!(self.text().contains(code), "{code} on the page");
        assert!(
            self.text().contains(self.header(X_REQUEST_ID)),
            "the page shows the request id"
        );
    }
}
