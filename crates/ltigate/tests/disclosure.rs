//! What strangers are told. Error pages and answers to unauthenticated callers say a fixed
//! sentence per code and the request id; the detail (the platform's error body, OS errors,
//! addresses, configuration key names) goes to the log under the same request id. And the
//! headers every answer carries.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use common::lms::{Lms, loopback_lms};
use common::{TestGate, expect_error};
use ltisim::{Failure, MessageType, Simulator};
use reqwest::Method;
use reqwest::header::{CACHE_CONTROL, HeaderMap};
use serde_json::json;

/// Everything ltigate logs in this test binary (the server runs in-process).
fn log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log lines of one request.
fn logged(request_id: &str) -> String {
    let buffer = log();
    let text = String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    let tag = format!("request_id={request_id} ");
    text.lines()
        .filter(|line| line.contains(&tag))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An error page as the browser got it.
struct ErrorPage {
    status: u16,
    headers: HeaderMap,
    html: String,
}

impl ErrorPage {
    async fn read(response: reqwest::Response) -> Self {
        Self {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            html: response.text().await.unwrap(),
        }
    }

    /// The page shows `code` and the request id of its `X-Request-Id`, none of `hidden`;
    /// the log lines of that request id carry the code and every one of `in_log`.
    fn assert_tells_only_code_and_id(
        &self,
        status: u16,
        code: &str,
        hidden: &[&str],
        in_log: &[&str],
    ) {
        assert_eq!(self.status, status, "{}", self.html);
        assert!(
            self.html
                .contains(&format!("Error code <code>{code}</code>")),
            "{}",
            self.html
        );
        for secret in hidden {
            assert!(
                !self.html.to_lowercase().contains(&secret.to_lowercase()),
                "the page discloses {secret:?}: {}",
                self.html
            );
        }
        let request_id = self.headers["x-request-id"].to_str().unwrap();
        assert!(
            self.html
                .contains(&format!("Request id: <code>{request_id}</code>")),
            "the page shows the answer's request id: {}",
            self.html
        );
        let log = logged(request_id);
        assert!(log.contains(code), "code logged under {request_id}: {log}");
        for detail in in_log {
            assert!(
                log.contains(detail),
                "{detail:?} logged under {request_id}: {log}"
            );
        }
    }
}

/// A loopback port nothing listens on: connecting to it is refused.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn register_with(gate: &TestGate, configuration_url: &str) -> ErrorPage {
    let response = gate
        .client
        .get(gate.url("/lti/register"))
        .query(&[("openid_configuration", configuration_url)])
        .send()
        .await
        .unwrap();
    ErrorPage::read(response).await
}

#[tokio::test]
async fn registration_pages_quote_no_platform_body_os_error_address_or_setting() {
    log();
    let sim = Simulator::start().await.unwrap();
    let gate = TestGate::start(loopback_lms).await;

    // The platform's error body stays out of the page.
    let marker = "MARKER-7f3c internal stack trace";
    sim.set_configuration_failure(Failure::Status(500, marker.into(), "text/plain".into()));
    register_with(&gate, &sim.openid_configuration_url())
        .await
        .assert_tells_only_code_and_id(502, "CONFIGURATION_UNAVAILABLE", &[marker], &[marker]);
    sim.set_configuration_failure(None);

    // A closed port: no OS error text (a port scanner's answer) and no address.
    let closed = format!(
        "http://127.0.0.1:{}/.well-known/openid-configuration",
        closed_port()
    );
    register_with(&gate, &closed)
        .await
        .assert_tells_only_code_and_id(
            502,
            "FETCH_FAILED",
            &["os error", "connection refused", "127.0.0.1"],
            &["os error"],
        );

    // A private address: neither the address nor the setting that would allow it.
    let strict = TestGate::start(|c| {
        loopback_lms(c);
        c.registration.allow_private_networks = false;
    })
    .await;
    register_with(&strict, &sim.openid_configuration_url())
        .await
        .assert_tells_only_code_and_id(
            502,
            "PRIVATE_ADDRESS",
            &["127.0.0.1", "allow_private_networks"],
            &["127.0.0.1", "allow_private_networks"],
        );
}

#[tokio::test]
async fn jwks_unavailable_launch_page_quotes_no_os_error_or_address() {
    log();
    let jwks = format!("http://127.0.0.1:{}/jwks", closed_port());
    let lms = Lms::start_with(json!({"authConfig": {"method": "JWK_SET", "key": jwks}})).await;
    let login = lms.login(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;
    let page = ErrorPage::read(
        lms.post_launch_response(&form, login.cookie.as_deref())
            .await,
    )
    .await;
    page.assert_tells_only_code_and_id(
        502,
        "JWKS_UNAVAILABLE",
        &["os error", "connection refused", "127.0.0.1"],
        &["os error"],
    );
    // Launch pages stay frameable by the LMS and uncached.
    assert!(page.headers.get("x-frame-options").is_none());
    assert_eq!(page.headers[CACHE_CONTROL], "no-store");
    assert!(page.headers.contains_key("content-security-policy"));
}

#[tokio::test]
async fn a_proxy_request_id_is_kept_when_well_formed() {
    log();
    let gate = TestGate::start(|_| {}).await;
    let register = |id: &'static str| {
        gate.client
            .get(gate.url("/lti/register"))
            .header("x-request-id", id)
            .send()
    };
    let kept = ErrorPage::read(register("proxy-4711.a_b").await.unwrap()).await;
    assert_eq!(kept.headers["x-request-id"], "proxy-4711.a_b");
    assert!(
        kept.html
            .contains("Request id: <code>proxy-4711.a_b</code>")
    );

    let replaced = ErrorPage::read(register("x\"><script>").await.unwrap()).await;
    let id = replaced.headers["x-request-id"].to_str().unwrap();
    assert_ne!(id, "x\"><script>");
    assert!(id.len() >= 12, "a fresh random id: {id}");
    assert!(
        replaced
            .html
            .contains(&format!("Request id: <code>{id}</code>"))
    );
}

#[tokio::test]
async fn invalid_body_and_query_answers_do_not_echo_serde() {
    log();
    let gate = TestGate::start(|_| {}).await;
    let body = gate
        .admin(Method::POST, "/admin/platforms")
        .json(&json!({"url": 5, "clientId": "c"}))
        .send()
        .await
        .unwrap();
    let request_id = body
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let answer = expect_error(body, 400, "INVALID_BODY").await;
    let text = answer.to_string();
    for serde_text in ["invalid type", "integer", "line 1", "column", "deserialize"] {
        assert!(!text.contains(serde_text), "{text}");
    }
    let request_id = request_id.expect("X-Request-Id");
    assert_eq!(answer["requestId"], request_id.as_str());
    assert!(
        logged(&request_id).contains("invalid type"),
        "the detail is logged"
    );

    let query = gate
        .admin(Method::GET, "/admin/platforms?id=a&id=b")
        .send()
        .await
        .unwrap();
    let answer = expect_error(query, 400, "INVALID_QUERY").await;
    assert!(!answer.to_string().contains("duplicate"), "{answer}");
}

#[tokio::test]
async fn api_and_admin_answers_are_not_cached_and_every_answer_is_nosniff() {
    log();
    let gate = TestGate::start(|_| {}).await;
    let get = async |path: &str, admin: bool| {
        let request = if admin {
            gate.admin(Method::GET, path)
        } else {
            gate.client.get(gate.url(path))
        };
        request.send().await.unwrap()
    };
    for (path, admin) in [
        ("/api/idtoken", false),
        ("/admin/platforms", true),
        ("/admin/platforms", false),
        ("/api/registrations/unknown", false),
    ] {
        let response = get(path, admin).await;
        let headers = response.headers();
        assert_eq!(headers[CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
    }
    for path in ["/lti/login", "/lti/register", "/healthz", "/no/such/route"] {
        let response = get(path, false).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert!(response.headers().contains_key("x-request-id"), "{path}");
    }

    let keys = get("/lti/keys", false).await;
    assert_eq!(keys.status(), 200);
    assert_eq!(keys.headers()[CACHE_CONTROL], "public, max-age=300");
    assert_eq!(keys.headers()["x-content-type-options"], "nosniff");
}
