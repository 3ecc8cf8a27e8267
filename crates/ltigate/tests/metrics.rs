//! Prometheus `/metrics` over real loopback: where it is served (and where not), and that
//! launches, logins, outbound requests, service tokens and registrations move their series.
//!
//! The recorder is one per process, shared by every server a test starts, so each test
//! compares scrapes taken before and after what it does (deltas), and the tests that count
//! run one at a time.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use common::lms::{Lms, loopback_lms};
use common::{ADMIN_KEY, TestDatabase, TestGate};
use ltigate::clock::Clock;
use ltigate::config::Config;
use ltigate::secret::KeyHash;
use ltigate::server::Server;
use ltigate::store::Backend;
use ltisim::{MessageType, Simulator, Tamper};
use reqwest::Method;
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};

/// Tests that assert deltas hold this, so no other test's traffic lands between two scrapes.
static COUNTING: Mutex<()> = Mutex::const_new(());

async fn counting() -> MutexGuard<'static, ()> {
    COUNTING.lock().await
}

/// One sample line of the exposition text.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed scrape.
#[derive(Debug)]
struct Scrape(Vec<Sample>);

impl Scrape {
    fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| parse_sample(l).unwrap_or_else(|| panic!("not a sample line: {l}")))
            .collect();
        Self(samples)
    }

    /// The value of the sample named `name` with exactly `labels`; 0 when there is none yet
    /// (a series appears at its first count).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let found: Vec<&Sample> = self
            .0
            .iter()
            .filter(|s| s.name == name && s.labels == wanted)
            .collect();
        assert!(found.len() <= 1, "one sample per series: {found:?}");
        found.first().map_or(0.0, |s| s.value)
    }

    /// How much the sample grew since `before`.
    fn delta(&self, before: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels) - before.value(name, labels)
    }
}

/// `name{k="v",...} value` or `name value` (label values escape `\`, `"` and newlines).
fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '}' => break,
                ',' => {}
                '=' => {
                    let (_, '"') = chars.next()? else { return None };
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                other => key.push(other),
            }
        }
        let consumed = chars.next().map_or(inner.len(), |(i, _)| i);
        rest = &inner[consumed..];
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

#[test]
fn the_sample_parser_reads_labels_escapes_and_bare_samples() {
    let scrape = Scrape::parse(
        "# HELP x a thing\n# TYPE x counter\nx 3\n\
         y{a=\"1\",b=\"q\\\"uo,te}\"} 2.5\n\
         h_bucket{family=\"lti\",le=\"+Inf\"} 7\n",
    );
    assert_eq!(scrape.value("x", &[]), 3.0);
    assert_eq!(scrape.value("y", &[("a", "1"), ("b", "q\"uo,te}")]), 2.5);
    assert_eq!(
        scrape.value("y", &[("a", "1")]),
        0.0,
        "labels match exactly"
    );
    assert_eq!(
        scrape.value("h_bucket", &[("family", "lti"), ("le", "+Inf")]),
        7.0
    );
}

const LAUNCHES: &str = "ltigate_launches_total";
const LOGINS: &str = "ltigate_logins_total";
const OUTBOUND: &str = "ltigate_outbound_requests_total";
const TOKENS: &str = "ltigate_service_tokens_total";
const REGISTRATIONS: &str = "ltigate_registrations_total";

/// Serves metrics behind the admin key, with the loopback LMS settings.
fn with_metrics(c: &mut Config) {
    loopback_lms(c);
    c.metrics.behind_admin_key = true;
}

async fn lms_with_metrics() -> Lms {
    let sim = Simulator::start().await.unwrap();
    let gate = TestGate::start(with_metrics).await;
    Lms::register(gate, sim, json!({})).await
}

async fn scrape(gate: &TestGate) -> Scrape {
    let response = gate.admin(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(&response.text().await.unwrap())
}

#[tokio::test]
async fn a_launch_and_a_refused_launch_move_their_counters() {
    let _turn = counting().await;
    let lms = lms_with_metrics().await;
    let before = scrape(&lms.gate).await;

    lms.do_launch(MessageType::ResourceLink).await.ltik();
    let code = lms
        .do_launch_until_error(Tamper::claims(
            json!({"exp": 1_000_000_000, "iat": 999_999_000}),
        ))
        .await;
    assert_eq!(code, "TOKEN_EXPIRED");
    // A login of a platform an admin turned off.
    let deactivate = format!("/admin/platforms/{}/deactivate", lms.platform_id);
    lms.gate.admin_json(Method::POST, &deactivate, None).await;
    assert_eq!(lms.login_refusal().await, "PLATFORM_INACTIVE");

    let after = scrape(&lms.gate).await;
    let ok = [("outcome", "ok")];
    assert_eq!(after.delta(&before, LAUNCHES, &ok), 1.0);
    let expired = [("outcome", "refused"), ("code", "TOKEN_EXPIRED")];
    assert_eq!(after.delta(&before, LAUNCHES, &expired), 1.0);
    assert_eq!(after.delta(&before, LOGINS, &ok), 2.0);
    let inactive = [("outcome", "refused"), ("code", "PLATFORM_INACTIVE")];
    assert_eq!(after.delta(&before, LOGINS, &inactive), 1.0);
    assert_eq!(after.delta(&before, LAUNCHES, &inactive), 0.0);
    // The platform's key set was fetched once, then cached for the second launch.
    let jwks_ok = [("kind", "jwks"), ("outcome", "ok")];
    assert_eq!(after.delta(&before, OUTBOUND, &jwks_ok), 1.0);
    let jwks_count = after.delta(
        &before,
        "ltigate_outbound_request_duration_seconds_count",
        &[("kind", "jwks")],
    );
    assert_eq!(jwks_count, 1.0);
    // Three logins and two launches, timed under the lti family and none under another.
    let lti = [("family", "lti")];
    let timed = after.delta(&before, "ltigate_http_request_duration_seconds_count", &lti);
    assert_eq!(timed, 5.0);
    let redirects = [("family", "lti"), ("status", "3xx")];
    assert_eq!(
        after.delta(&before, "ltigate_http_requests_total", &redirects),
        3.0
    );
    assert_eq!(
        after.delta(
            &before,
            "ltigate_http_request_duration_seconds_count",
            &[("family", "api")]
        ),
        0.0
    );
}

#[tokio::test]
async fn service_calls_count_token_requests_and_cache_hits() {
    let _turn = counting().await;
    let lms = lms_with_metrics().await;
    let launch = lms.launch_with(None).await;
    let before = scrape(&lms.gate).await;

    let score = json!({"userId": "u1", "activityProgress": "Completed",
                       "gradingProgress": "FullyGraded", "scoreGiven": 7, "scoreMaximum": 10});
    for _ in 0..2 {
        let response = lms
            .api(Method::POST, "/api/lineitems/default/scores", &launch.ltik)
            .json(&score)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let members = lms.api_send(Method::GET, "/api/memberships", &launch.ltik);
    assert_eq!(members.await.status(), 200);

    let after = scrape(&lms.gate).await;
    assert_eq!(lms.sim.token_requests().len(), 2, "one token per scope set");
    let token_ok = [("kind", "token"), ("outcome", "ok")];
    assert_eq!(after.delta(&before, OUTBOUND, &token_ok), 2.0);
    let ags_ok = [("kind", "ags"), ("outcome", "ok")];
    assert_eq!(after.delta(&before, OUTBOUND, &ags_ok), 2.0);
    let nrps_ok = [("kind", "nrps"), ("outcome", "ok")];
    assert_eq!(after.delta(&before, OUTBOUND, &nrps_ok), 1.0);
    // The first score and the roster each fetched a token; the second score found it.
    assert_eq!(after.delta(&before, TOKENS, &[("source", "fetched")]), 2.0);
    assert_eq!(after.delta(&before, TOKENS, &[("source", "memory")]), 1.0);
    assert_eq!(after.delta(&before, TOKENS, &[("source", "store")]), 0.0);
}

/// A second node on the same database finds the token the first one fetched.
#[tokio::test]
async fn a_second_node_takes_the_token_from_the_store() {
    let _turn = counting().await;
    let lms = lms_with_metrics().await;
    let launch = lms.launch_with(None).await;
    let node_b = TestGate::serve(lms.gate.database_url.clone(), Clock::System, with_metrics).await;
    let score = |gate: &TestGate, given: u32| {
        gate.client
            .post(gate.url("/api/lineitems/default/scores"))
            .header(
                "Authorization",
                format!("LTIK-AUTH-V2 {}:{}", common::API_KEY, launch.ltik),
            )
            .json(&json!({"userId": "u1", "activityProgress": "Completed",
                          "gradingProgress": "FullyGraded", "scoreGiven": given,
                          "scoreMaximum": 10}))
            .send()
    };
    assert_eq!(score(&lms.gate, 1).await.unwrap().status(), 204);
    let before = scrape(&lms.gate).await;
    assert_eq!(score(&node_b, 2).await.unwrap().status(), 204);
    let after = scrape(&node_b).await;
    assert_eq!(lms.sim.token_requests().len(), 1);
    assert_eq!(after.delta(&before, TOKENS, &[("source", "store")]), 1.0);
    assert_eq!(after.delta(&before, TOKENS, &[("source", "fetched")]), 0.0);
    let token = [("kind", "token"), ("outcome", "ok")];
    assert_eq!(after.delta(&before, OUTBOUND, &token), 0.0);
}

#[tokio::test]
async fn a_failing_token_endpoint_counts_as_an_error_answer() {
    let _turn = counting().await;
    let lms = lms_with_metrics().await;
    let launch = lms.launch_with(None).await;
    lms.sim.set_token_failure(ltisim::Failure::Status(
        500,
        "token service broken".into(),
        "text/plain".into(),
    ));
    let before = scrape(&lms.gate).await;
    let response = lms
        .api(Method::POST, "/api/lineitems/default/scores", &launch.ltik)
        .json(&json!({"userId": "u1", "activityProgress": "Completed",
                      "gradingProgress": "FullyGraded", "scoreGiven": 1, "scoreMaximum": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let after = scrape(&lms.gate).await;
    let failed = [("kind", "token"), ("outcome", "http_5xx")];
    assert_eq!(after.delta(&before, OUTBOUND, &failed), 1.0);
    let ags = [("kind", "ags"), ("outcome", "ok")];
    assert_eq!(
        after.delta(&before, OUTBOUND, &ags),
        0.0,
        "no call without a token"
    );
}

#[tokio::test]
async fn registrations_count_by_outcome() {
    let _turn = counting().await;
    let sim = Simulator::start().await.unwrap();
    let gate = TestGate::start(with_metrics).await;
    let before = scrape(&gate).await;

    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let page = gate.client.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let refused = gate
        .client
        .get(gate.url("/lti/register"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    let after = scrape(&gate).await;
    let pending = [("outcome", "pending")];
    assert_eq!(after.delta(&before, REGISTRATIONS, &pending), 1.0);
    let invalid = [("outcome", "refused"), ("code", "REGISTRATION_INVALID")];
    assert_eq!(after.delta(&before, REGISTRATIONS, &invalid), 1.0);
    for kind in ["configuration", "registration"] {
        let ok = [("kind", kind), ("outcome", "ok")];
        assert_eq!(after.delta(&before, OUTBOUND, &ok), 1.0, "{kind}");
    }
}

#[tokio::test]
async fn the_main_listener_has_no_metrics_unless_configured() {
    let gate = TestGate::start(|_| {}).await;
    for request in [
        gate.client.get(gate.url("/metrics")),
        gate.admin(Method::GET, "/metrics"),
    ] {
        assert_eq!(request.send().await.unwrap().status(), 404);
    }
}

#[tokio::test]
async fn behind_the_admin_key_only_the_admin_key_reads_metrics() {
    let gate = TestGate::start(with_metrics).await;
    let anonymous = gate.client.get(gate.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = gate.client.get(gate.url("/metrics")).bearer_auth("nope");
    assert_eq!(wrong.send().await.unwrap().status(), 401);
    let api_key = gate
        .client
        .get(gate.url("/metrics"))
        .bearer_auth(common::API_KEY);
    assert_eq!(api_key.send().await.unwrap().status(), 401);

    let scrape = scrape(&gate).await;
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(scrape.value("ltigate_build_info", &version), 1.0);
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
fn metrics_behind_the_admin_key_need_an_admin_key() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("LTIGATE_METRICS__BEHIND_ADMIN_KEY", "true");
        let loaded = Config::load(std::path::Path::new("absent.toml"), false);
        let message = loaded.unwrap_err().to_string();
        assert!(message.contains("metrics.behind_admin_key"), "{message}");
        jail.set_env("LTIGATE_ADMIN_KEY", ADMIN_KEY);
        assert!(Config::load(std::path::Path::new("absent.toml"), false).is_ok());
        Ok(())
    });
}

/// A server with a separate metrics listener; its main and metrics addresses.
async fn serve_with_metrics_listener(db: &TestDatabase) -> (SocketAddr, SocketAddr) {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url.clone(),
        admin_key: Some(KeyHash::of(ADMIN_KEY)),
        api_keys: vec![KeyHash::of(common::API_KEY)],
        ..Config::default()
    };
    let mut config = config;
    config.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    let server = Server::bind(config, Clock::System).await.unwrap();
    let main = server.local_addr().unwrap();
    let metrics = server.metrics_addr().expect("a metrics listener");
    assert_ne!(main, metrics);
    tokio::spawn(server.run(std::future::pending()));
    (main, metrics)
}

#[tokio::test]
async fn the_separate_listener_serves_metrics_and_the_main_one_does_not() {
    let db = TestDatabase::fresh().await;
    let (main, metrics) = serve_with_metrics_listener(&db).await;
    let client = reqwest::Client::new();

    let response = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let scrape = Scrape::parse(&response.text().await.unwrap());
    // The pool gauges are this server's pool, read at the scrape.
    let max = Backend::of(&db.url).unwrap().default_max_connections();
    assert_eq!(
        scrape.value("ltigate_database_max_connections", &[]),
        f64::from(max)
    );
    let open = scrape.value("ltigate_database_connections", &[]);
    let idle = scrape.value("ltigate_database_idle_connections", &[]);
    assert!(open >= 1.0 && open <= f64::from(max), "open {open}");
    assert!(idle <= open, "idle {idle} of {open}");

    // The metrics listener serves nothing else; the main one has no /metrics, even for
    // the admin.
    let status_as_admin = |url: String| async {
        let response = client.get(url).bearer_auth(ADMIN_KEY).send().await;
        response.unwrap().status()
    };
    for path in ["/healthz", "/lti/keys", "/admin/platforms"] {
        let other = status_as_admin(format!("http://{metrics}{path}")).await;
        assert_eq!(other, 404, "{path}");
    }
    let on_main = status_as_admin(format!("http://{main}/metrics")).await;
    assert_eq!(on_main, 404);
    let healthz = client.get(format!("http://{main}/healthz")).send().await;
    assert_eq!(healthz.unwrap().status(), 200);
}
