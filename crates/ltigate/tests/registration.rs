//! Dynamic Registration end to end: ltigate and the LMS simulator (with the real Canvas,
//! Moodle and spec documents as profiles) over loopback.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::lms::{Lms, loopback_lms};
use common::{TestGate, expect_error};
use ltigate::clock::Clock;
use ltigate::config::{Config, RateLimitConfig};
use ltigate::outbound::{Outbound, OutboundPolicy, StaticResolver};
use ltigate::registration::Registrar;
use ltigate::server::Server;
use ltigate::store::Store;
use ltisim::{Failure, MessageType, Profile, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

/// What `/lti/register` showed the LMS administrator.
struct Page {
    status: u16,
    retry_after: Option<String>,
    html: String,
}

impl Page {
    /// The stable code of a refusal page.
    fn code(&self) -> &str {
        self.html
            .split("Error code <code>")
            .nth(1)
            .and_then(|rest| rest.split("</code>").next())
            .unwrap_or_else(|| panic!("not a refusal page: {}", self.html))
    }

    fn assert_confirmed(&self) {
        assert_eq!(self.status, 200, "{}", self.html);
        assert!(self.html.contains("Registration complete"), "{}", self.html);
        assert!(
            self.html.contains(
                "(window.opener || window.parent).postMessage({subject: 'org.imsglobal.lti.close'}"
            ),
            "the dialog is closed"
        );
    }
}

async fn gate(adjust: impl FnOnce(&mut Config)) -> TestGate {
    TestGate::start(|c| {
        loopback_lms(c);
        adjust(c);
    })
    .await
}

/// The LMS administrator pastes ltigate's registration URL; the LMS opens it.
async fn open_register(gate: &TestGate, sim: &Simulator, with_token: bool) -> Page {
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), with_token);
    page(gate.client.get(url)).await
}

async fn page(request: reqwest::RequestBuilder) -> Page {
    let response = request.send().await.unwrap();
    Page {
        status: response.status().as_u16(),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned()),
        html: response.text().await.unwrap(),
    }
}

/// The refusal of a call over the rate limit.
fn assert_rate_limited(page: &Page) {
    assert_eq!(page.status, 429, "{}", page.html);
    assert_eq!(page.code(), "REGISTRATION_RATE_LIMITED");
    let wait: u64 = page.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
}

/// Registers through the Canvas simulator, then has an admin create a live platform holding
/// the (issuer, client_id) that the simulator hands out next (Canvas numbers its developer
/// keys), with other endpoints; its id.
async fn live_platform_next_in_line(gate: &TestGate, sim: &Simulator) -> String {
    open_register(gate, sim, true).await.assert_confirmed();
    let last = platforms(gate).await.pop().unwrap();
    let next_id = (last["clientId"].as_str().unwrap().parse::<u64>().unwrap() + 1).to_string();
    let live = json!({
        "url": sim.issuer(),
        "clientId": next_id,
        "name": "Live Canvas",
        "authenticationEndpoint": "https://live.example.edu/auth",
        "accesstokenEndpoint": "https://live.example.edu/token",
        "authConfig": {"method": "JWK_SET", "key": "https://live.example.edu/jwks"},
        "deploymentIds": ["1:live"],
    });
    let live = gate
        .admin_json(Method::POST, "/admin/platforms", Some(&live))
        .await;
    live["id"].as_str().unwrap().to_owned()
}

/// Moves the live platform to the client id the simulator hands out next; that client id.
async fn move_to_next_client_id(gate: &TestGate, platform_id: &str) -> String {
    let path = format!("/admin/platforms/{platform_id}");
    let current: Value = gate.admin_json(Method::GET, &path, None).await;
    let next = (current["clientId"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap()
        + 1)
    .to_string();
    gate.admin_json(Method::PATCH, &path, Some(&json!({"clientId": next})))
        .await;
    next
}

async fn platforms(gate: &TestGate) -> Vec<Value> {
    let body: Value = gate.admin_json(Method::GET, "/admin/platforms", None).await;
    body["platforms"].as_array().unwrap().clone()
}

async fn activate(gate: &TestGate, id: &str) {
    let response = gate
        .admin(Method::POST, &format!("/admin/platforms/{id}/activate"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The registered platform as a launchable LMS.
fn lms(gate: TestGate, sim: Simulator, platform: &Value) -> Lms {
    Lms {
        gate,
        sim,
        platform_id: platform["id"].as_str().unwrap().to_owned(),
        client_id: platform["clientId"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn register_pending_then_activated_then_launch() {
    let sim = Simulator::start().await.unwrap();
    let gate = gate(|_| {}).await;
    let page = open_register(&gate, &sim, true).await;
    page.assert_confirmed();
    assert!(
        page.html.contains("pending"),
        "the admin is told it waits for approval"
    );
    assert!(
        page.html
            .contains("add the tool to a course and launch it once after it is activated"),
        "the admin is told how to prove the registration: {}",
        page.html
    );

    let stored = platforms(&gate).await;
    assert_eq!(stored.len(), 1);
    let platform = &stored[0];
    assert_eq!(platform["status"], "pending");
    assert_eq!(platform["url"], sim.issuer());
    assert_eq!(platform["authConfig"]["key"], sim.jwks_uri());
    assert_eq!(
        platform["authenticationEndpoint"],
        sim.authorization_endpoint()
    );
    assert_eq!(platform["accesstokenEndpoint"], sim.token_endpoint());
    assert_eq!(platform["productFamilyCode"], "ltisim");
    assert_eq!(platform["allowNewDeployments"], true);

    // What ltigate sent is what a strict platform wants.
    let sent = &sim.registrations()[0];
    let base = gate.url("");
    assert_eq!(sent["initiate_login_uri"], format!("{base}/lti/login"));
    assert_eq!(sent["redirect_uris"], json!([format!("{base}/lti/launch")]));
    assert_eq!(sent["jwks_uri"], format!("{base}/lti/keys"));
    assert_eq!(sent["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(
        sent["grant_types"],
        json!(["implicit", "client_credentials"])
    );

    let lms = lms(gate, sim, platform);
    assert_eq!(lms.login_refusal().await, "PLATFORM_PENDING");
    activate(&lms.gate, &lms.platform_id).await;
    // The spec-like platform returned no deployment id: the first launch records it.
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    let after = lms.platform().await;
    assert_eq!(after["deploymentIds"].as_array().unwrap().len(), 1);
    assert!(after["firstLaunchAt"].is_i64(), "the test launch: {after}");
}

#[tokio::test]
async fn register_without_token_and_auto_activated() {
    let sim = Simulator::start().await.unwrap();
    let gate = gate(|c| c.registration.auto_activate = true).await;
    let page = open_register(&gate, &sim, false).await;
    page.assert_confirmed();
    assert!(page.html.contains("active"));
    assert!(
        page.html
            .contains("add the tool to a course and launch it once:"),
        "{}",
        page.html
    );
    let platform = platforms(&gate).await.remove(0);
    assert_eq!(platform["status"], "active");
    lms(gate, sim, &platform)
        .do_launch(MessageType::ResourceLink)
        .await
        .ltik();
}

/// Each real platform document, served by the simulator: what that platform returns is stored,
/// and a launch with that platform's real claim set goes through.
#[tokio::test]
async fn canvas_moodle_and_spec_documents_register_and_launch() {
    for (profile, family, deployment_stored) in [
        (Profile::Canvas, "canvas", true),
        (Profile::Moodle, "moodle", true),
        (Profile::SpecExample, "", false),
    ] {
        let sim = Simulator::start_with(profile).await.unwrap();
        let gate = gate(|_| {}).await;
        open_register(&gate, &sim, true).await.assert_confirmed();
        let platform = platforms(&gate).await.remove(0);
        assert_eq!(platform["url"], sim.issuer(), "{profile:?}");
        if !family.is_empty() {
            assert_eq!(platform["productFamilyCode"], family, "{profile:?}");
        }
        // Canvas names its authorization server (the `aud` of service token requests).
        let advertised = sim.openid_configuration()["authorization_server"].clone();
        assert_eq!(
            platform["authorizationServer"], advertised,
            "{profile:?}: authorization_server stored as advertised"
        );
        assert_eq!(advertised.is_string(), profile == Profile::Canvas);
        let client_id = platform["clientId"].as_str().unwrap();
        let tool = sim
            .tool(client_id)
            .expect("the platform knows the client id we stored");
        let deployments = platform["deploymentIds"].as_array().unwrap();
        if deployment_stored {
            assert_eq!(deployments, &vec![json!(tool.deployment_id)], "{profile:?}");
        } else {
            assert!(deployments.is_empty(), "{profile:?}");
        }
        let lms = lms(gate, sim, &platform);
        activate(&lms.gate, &lms.platform_id).await;
        let outcome = lms.do_launch(MessageType::ResourceLink).await;
        let body: Value = lms.idtoken(outcome.ltik(), "").await.json().await.unwrap();
        assert_eq!(body["platform"]["clientId"], client_id, "{profile:?}");
    }
}

#[tokio::test]
async fn intermediate_page_flow() {
    let sim = Simulator::start_with(Profile::Moodle).await.unwrap();
    let gate = gate(|c| {
        c.registration.intermediate_url = Some("http://app.test/lti/setup".parse().unwrap());
    })
    .await;
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let response = gate.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location
        .strip_prefix("http://app.test/lti/setup?registrationId=")
        .unwrap()
        .to_owned();
    assert!(platforms(&gate).await.is_empty(), "nothing registered yet");
    assert!(
        sim.registrations().is_empty(),
        "the platform was not called yet"
    );

    let api = |method: Method, path: String| {
        gate.client
            .request(method, gate.url(&path))
            .bearer_auth(common::API_KEY)
    };
    for _ in 0..2 {
        let info: Value = api(Method::GET, format!("/api/registrations/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["url"], sim.issuer());
        assert_eq!(info["familyCode"], "moodle");
        assert!(info["supportedScopes"].as_array().unwrap().len() > 1);
        let messages = info["supportedMessages"].as_array().unwrap();
        assert!(
            messages
                .iter()
                .any(|m| m["type"] == "LtiDeepLinkingRequest")
        );
    }
    let unauthenticated = gate
        .client
        .get(gate.url(&format!("/api/registrations/{id}")))
        .send()
        .await
        .unwrap();
    expect_error(unauthenticated, 401, "MISSING_AUTHORIZATION").await;

    let bad_placement = api(Method::POST, format!("/api/registrations/{id}/complete"))
        .json(&json!({"messages": [{"type": "LtiDeepLinkingRequest", "placements": ["Nowhere"]}]}))
        .send()
        .await
        .unwrap();
    expect_error(bad_placement, 400, "PLACEMENT_NOT_SUPPORTED").await;

    let done: Value = api(Method::POST, format!("/api/registrations/{id}/complete"))
        .json(&json!({"platformName": "Campus Moodle", "autoActivate": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        done["html"]
            .as_str()
            .unwrap()
            .contains("org.imsglobal.lti.close")
    );
    let platform = platforms(&gate).await.remove(0);
    assert_eq!(platform["id"], done["platformId"]);
    assert_eq!(platform["name"], "Campus Moodle");
    assert_eq!(platform["status"], "active");

    let again = api(Method::POST, format!("/api/registrations/{id}/complete"))
        .send()
        .await
        .unwrap();
    expect_error(again, 410, "REGISTRATION_GONE").await;
    let read_after = api(Method::GET, format!("/api/registrations/{id}"))
        .send()
        .await
        .unwrap();
    expect_error(read_after, 410, "REGISTRATION_GONE").await;
    let unknown = api(Method::GET, "/api/registrations/nope".into())
        .send()
        .await
        .unwrap();
    expect_error(unknown, 404, "REGISTRATION_NOT_FOUND").await;

    lms(gate, sim, &platform)
        .do_launch(MessageType::ResourceLink)
        .await
        .ltik();
}

#[tokio::test]
async fn a_parked_registration_expires() {
    let clock = common::manual_clock_at_now();
    let sim = Simulator::start().await.unwrap();
    let gate = TestGate::start_at(clock.clone(), |c| {
        loopback_lms(c);
        c.registration.intermediate_url = Some("http://app.test/setup".parse().unwrap());
    })
    .await;
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let response = gate.client.get(url).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location.split("registrationId=").nth(1).unwrap().to_owned();
    clock.advance(3601);
    let late = gate
        .client
        .post(gate.url(&format!("/api/registrations/{id}/complete")))
        .bearer_auth(common::API_KEY)
        .send()
        .await
        .unwrap();
    expect_error(late, 410, "REGISTRATION_GONE").await;
    assert!(platforms(&gate).await.is_empty());
}

#[tokio::test]
async fn concurrent_completions_register_once() {
    let sim = Simulator::start().await.unwrap();
    let gate = gate(|c| {
        c.registration.intermediate_url = Some("http://app.test/setup".parse().unwrap());
    })
    .await;
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let response = gate.client.get(url).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location.split("registrationId=").nth(1).unwrap().to_owned();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = gate
            .client
            .post(gate.url(&format!("/api/registrations/{id}/complete")))
            .bearer_auth(common::API_KEY);
        tasks.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = tasks.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 410),
        "{statuses:?}"
    );
    assert_eq!(platforms(&gate).await.len(), 1);
    assert_eq!(sim.registrations().len(), 1);
}

/// A registration that returns a live platform's (issuer, client_id) leaves the platform as
/// it is until an admin approves; rejecting drops the change.
#[tokio::test]
async fn re_registration_of_a_live_platform_waits_for_approval() {
    let sim = Simulator::start_with(Profile::Canvas).await.unwrap();
    let gate = gate(|c| c.registration.auto_activate = true).await;
    let live_id = live_platform_next_in_line(&gate, &sim).await;

    let page = open_register(&gate, &sim, true).await;
    page.assert_confirmed();
    assert!(page.html.contains("already registered"), "{}", page.html);
    assert_eq!(platforms(&gate).await.len(), 2, "no new platform");
    let path = format!("/admin/platforms/{live_id}");
    let unchanged: Value = gate.admin_json(Method::GET, &path, None).await;
    assert_eq!(
        unchanged["authConfig"]["key"],
        "https://live.example.edu/jwks"
    );
    assert_eq!(
        unchanged["authenticationEndpoint"],
        "https://live.example.edu/auth"
    );
    assert_eq!(
        unchanged["pendingChange"]["authConfig"]["key"],
        sim.jwks_uri()
    );

    // Rejecting keeps the live platform; a second re-registration proposes again; approving applies.
    let rejected: Value = gate
        .admin_json(Method::POST, &format!("{path}/change/reject"), None)
        .await;
    assert!(rejected.get("pendingChange").is_none());
    assert_eq!(
        rejected["authConfig"]["key"],
        "https://live.example.edu/jwks"
    );
    let no_change = gate
        .admin(Method::POST, &format!("{path}/change/approve"))
        .send()
        .await
        .unwrap();
    expect_error(no_change, 404, "NO_PENDING_CHANGE").await;

    // The simulator numbers on; make the live platform hold the id it will hand out next.
    let next_again = move_to_next_client_id(&gate, &live_id).await;
    open_register(&gate, &sim, true).await.assert_confirmed();
    let approved: Value = gate
        .admin_json(Method::POST, &format!("{path}/change/approve"), None)
        .await;
    assert_eq!(approved["authConfig"]["key"], sim.jwks_uri());
    assert_eq!(
        approved["authenticationEndpoint"],
        sim.authorization_endpoint()
    );
    let tool = sim.tool(&next_again).unwrap();
    let deployments = approved["deploymentIds"].as_array().unwrap();
    assert!(
        deployments.contains(&json!(tool.deployment_id)),
        "{deployments:?}"
    );
    lms(gate, sim, &approved)
        .do_launch(MessageType::ResourceLink)
        .await
        .ltik();
}

/// Refusals: each a clear page with its code, and nothing stored.
#[tokio::test]
async fn bad_configurations_and_platform_errors_are_refused_and_store_nothing() {
    let sim = Simulator::start().await.unwrap();
    let gate = gate(|c| {
        c.timeouts.http_total = Duration::from_millis(800);
        // Many calls from one address: the rate limit has its own test.
        c.registration.rate_limit.per_minute = 0;
    })
    .await;
    let refuse = async |expected: &str| {
        let page = open_register(&gate, &sim, true).await;
        assert_eq!(page.code(), expected, "{}", page.html);
        assert!(
            platforms(&gate).await.is_empty(),
            "nothing stored for {expected}"
        );
        sim.set_openid_configuration_patch(Value::Null);
        sim.set_configuration_failure(None);
        sim.set_registration_failure(None);
        page
    };

    sim.set_openid_configuration_patch(json!({"issuer": "http://elsewhere.example"}));
    refuse("ISSUER_HOST_MISMATCH").await;
    sim.set_openid_configuration_patch(json!({"jwks_uri": null}));
    refuse("CONFIG_FIELD_MISSING").await;
    sim.set_openid_configuration_patch(json!({"id_token_signing_alg_values_supported": ["HS256"]}));
    refuse("ALG_RS256_UNSUPPORTED").await;
    // A forged configuration claiming hosted Canvas with its own keys.
    sim.set_openid_configuration_patch(json!({"issuer": "https://canvas.instructure.com"}));
    refuse("HOSTED_ENDPOINT_FOREIGN").await;

    sim.set_configuration_failure(Failure::NotJson);
    refuse("NOT_JSON").await;
    sim.set_configuration_failure(Failure::Oversized(400 * 1024));
    refuse("RESPONSE_TOO_LARGE").await;
    let started = std::time::Instant::now();
    sim.set_configuration_failure(Failure::Slow(Duration::from_secs(5)));
    refuse("FETCH_TIMEOUT").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout fired in bounded time"
    );

    sim.set_registration_failure(Failure::Status(
        401,
        "missing_registration_token".into(),
        "text/plain".into(),
    ));
    let page = refuse("PLATFORM_REFUSED_REGISTRATION").await;
    assert!(
        !page.html.contains("missing_registration_token"),
        "the platform's message goes to the log, not the page"
    );
    sim.set_registration_failure(Failure::Status(
        422,
        r#"{"errors":[{"message":"Scope is invalid"}]}"#.into(),
        "application/json".into(),
    ));
    refuse("PLATFORM_REFUSED_REGISTRATION").await;
    sim.set_registration_failure(Failure::NotJson);
    refuse("NOT_JSON").await;
    sim.set_registration_failure(Failure::Oversized(400 * 1024));
    refuse("RESPONSE_TOO_LARGE").await;

    let missing = gate
        .client
        .get(gate.url("/lti/register"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("REGISTRATION_INVALID")
    );
}

/// Addresses: the registrar's outbound client with an injected resolver. Nothing but
/// 127.0.0.1 is ever contacted: private names resolve to 10.0.0.5 and are refused before
/// any connection.
#[tokio::test]
async fn private_addresses_are_refused_before_connecting() {
    let db = common::TestDatabase::fresh().await;
    let store = Store::connect(&db.url).await.unwrap();
    let mut config = Config::default();
    loopback_lms(&mut config);
    config.registration.allow_private_networks = false;
    let sim = Simulator::start().await.unwrap();
    let sim_port = url::Url::parse(&sim.base_url()).unwrap().port().unwrap();
    let resolver = StaticResolver::new()
        .with("lms.internal.test", ["10.0.0.5".parse().unwrap()])
        .with("lms.test", ["127.0.0.1".parse().unwrap()]);
    let registrar_with = |policy: OutboundPolicy| {
        let outbound = Outbound::with_resolver(policy, Arc::new(resolver.clone())).unwrap();
        Registrar::new(
            store.clone(),
            outbound,
            Arc::new(config.clone()),
            Clock::System,
        )
    };

    let strict = registrar_with(OutboundPolicy::from_config(&config));
    let refused = strict
        .fetch_configuration(
            "http://lms.internal.test/.well-known/openid-configuration",
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "PRIVATE_ADDRESS");
    let loopback_by_name = strict
        .fetch_configuration(
            &format!("http://lms.test:{sim_port}/.well-known/openid-configuration"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(loopback_by_name.code(), "PRIVATE_ADDRESS");

    // The simulator's host is trusted; it redirects to a private address, which is refused.
    let mut trusting = OutboundPolicy::from_config(&config);
    trusting.trusted_hosts = vec!["127.0.0.1".into()];
    sim.set_configuration_failure(Failure::Redirect(
        "http://lms.internal.test/.well-known/openid-configuration".into(),
    ));
    let redirected = registrar_with(trusting)
        .fetch_configuration(&sim.openid_configuration_url(), None)
        .await
        .unwrap_err();
    assert_eq!(redirected.code(), "PRIVATE_ADDRESS");
    assert!(
        store
            .platforms(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
}

/// One address gets its burst, then 429 with Retry-After, and its calls neither reach the
/// platform nor store anything.
#[tokio::test]
async fn a_burst_over_the_rate_limit_gets_429_and_stores_nothing_more() {
    let sim = Simulator::start().await.unwrap();
    let gate = gate(|c| {
        c.registration.rate_limit = RateLimitConfig {
            per_minute: 1,
            burst: 3,
        };
    })
    .await;
    for _ in 0..3 {
        open_register(&gate, &sim, true).await.assert_confirmed();
    }
    for _ in 0..3 {
        assert_rate_limited(&open_register(&gate, &sim, true).await);
    }
    // Unreadable calls count as well.
    assert_rate_limited(&page(gate.client.get(gate.url("/lti/register"))).await);
    assert_eq!(platforms(&gate).await.len(), 3);
    assert_eq!(sim.registrations().len(), 3, "the platform was not called");
}

/// Behind a trusted proxy each forwarded client has its own bucket; from any other peer
/// `X-Forwarded-For` changes nothing.
#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let limited = |trusted: bool| {
        gate(move |c| {
            c.registration.rate_limit = RateLimitConfig {
                per_minute: 1,
                burst: 1,
            };
            if trusted {
                c.registration.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        })
    };
    // Only a header: no traffic goes to these documentation addresses.
    let call = |gate: &TestGate, client: &str| {
        page(
            gate.client
                .get(gate.url("/lti/register"))
                .header("x-forwarded-for", client),
        )
    };
    let behind_proxy = limited(true).await;
    assert_eq!(call(&behind_proxy, "203.0.113.1").await.status, 400);
    assert_rate_limited(&call(&behind_proxy, "203.0.113.1").await);
    assert_eq!(call(&behind_proxy, "203.0.113.2").await.status, 400);

    let direct = limited(false).await;
    assert_eq!(call(&direct, "203.0.113.1").await.status, 400);
    assert_rate_limited(&call(&direct, "203.0.113.2").await);
}

/// Router tests have no peer address: the handler neither panics nor lifts the limit.
#[tokio::test]
async fn a_request_without_a_peer_address_is_limited_without_panicking() {
    use tower::ServiceExt;
    let db = common::TestDatabase::fresh().await;
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url.clone(),
        registration: ltigate::config::RegistrationConfig {
            rate_limit: RateLimitConfig {
                per_minute: 1,
                burst: 1,
            },
            ..Default::default()
        },
        ..Config::default()
    };
    let server = Server::bind(config, Clock::System).await.unwrap();
    let app = ltigate::http::app(server.state().clone());
    let request = || {
        axum::extract::Request::builder()
            .uri("/lti/register")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let first = app.clone().oneshot(request()).await.unwrap();
    assert_eq!(first.status(), 400);
    let second = app.oneshot(request()).await.unwrap();
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));
}

/// At `max_pending` waiting registrations the next is refused before the platform is asked,
/// and nothing is stored; an admin's approval frees a place.
#[tokio::test]
async fn pending_registrations_are_capped() {
    let sim = Simulator::start().await.unwrap();
    let gate = gate(|c| c.registration.max_pending = 2).await;
    for _ in 0..2 {
        open_register(&gate, &sim, true).await.assert_confirmed();
    }
    let full = open_register(&gate, &sim, true).await;
    assert_eq!(full.status, 503, "{}", full.html);
    assert_eq!(full.code(), "TOO_MANY_PENDING_REGISTRATIONS");
    assert_eq!(platforms(&gate).await.len(), 2);
    assert_eq!(sim.registrations().len(), 2, "the platform was not called");

    let first = platforms(&gate).await.remove(0);
    activate(&gate, first["id"].as_str().unwrap()).await;
    open_register(&gate, &sim, true).await.assert_confirmed();
    assert_eq!(platforms(&gate).await.len(), 3);

    // Parked registrations (intermediate page) count too.
    let parking = self::gate(|c| {
        c.registration.max_pending = 1;
        c.registration.intermediate_url = Some("http://app.test/setup".parse().unwrap());
    })
    .await;
    assert_eq!(open_register(&parking, &sim, true).await.status, 302);
    let full = open_register(&parking, &sim, true).await;
    assert_eq!(full.status, 503, "{}", full.html);
    assert_eq!(full.code(), "TOO_MANY_PENDING_REGISTRATIONS");
}

/// The purge deletes a pending platform nobody activated within `pending_platform_ttl`;
/// active platforms and younger pending ones stay.
#[tokio::test]
async fn pending_platforms_expire() {
    const DAY: i64 = 24 * 3600;
    let clock = common::manual_clock_at_now();
    let sim = Simulator::start().await.unwrap();
    let gate = TestGate::start_at(clock.clone(), |c| {
        loopback_lms(c);
        c.timeouts.purge_interval = Duration::from_millis(50);
    })
    .await;
    let id_of = |p: &Value| p["id"].as_str().unwrap().to_owned();
    open_register(&gate, &sim, true).await.assert_confirmed();
    open_register(&gate, &sim, true).await.assert_confirmed();
    let (old, active) = {
        let stored = platforms(&gate).await;
        (id_of(&stored[0]), id_of(&stored[1]))
    };
    activate(&gate, &active).await;
    clock.advance(6 * DAY);
    open_register(&gate, &sim, true).await.assert_confirmed();
    let young = id_of(&platforms(&gate).await[2]);
    clock.advance(DAY + 1);

    let mut left: Vec<String> = Vec::new();
    for _ in 0..100 {
        left = platforms(&gate).await.iter().map(id_of).collect();
        if left.len() < 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        left,
        vec![active, young],
        "old pending platform {old} purged"
    );
}

/// A re-registration never replaces a change that already waits for an admin: the first
/// stays, the second is refused and stores nothing.
/// The list reads every waiting change at once: each must land on its own platform.
#[tokio::test]
async fn the_platform_list_shows_each_waiting_change_on_its_platform() {
    let sim = Simulator::start_with(Profile::Canvas).await.unwrap();
    let gate = gate(|c| c.registration.auto_activate = true).await;
    let mut changed = vec![live_platform_next_in_line(&gate, &sim).await];
    open_register(&gate, &sim, true).await.assert_confirmed();
    // A second live platform on the client id after the newest one, then its re-registration.
    open_register(&gate, &sim, true).await.assert_confirmed();
    let newest = platforms(&gate)
        .await
        .iter()
        .map(|p| p["clientId"].as_str().unwrap().parse::<u64>().unwrap())
        .max()
        .unwrap();
    let second = gate
        .admin_json(
            Method::POST,
            "/admin/platforms",
            Some(&json!({
                "url": sim.issuer(),
                "clientId": (newest + 1).to_string(),
                "name": "Second live Canvas",
                "authenticationEndpoint": "https://live2.example.edu/auth",
                "accesstokenEndpoint": "https://live2.example.edu/token",
                "authConfig": {"method": "JWK_SET", "key": "https://live2.example.edu/jwks"},
            })),
        )
        .await;
    changed.push(second["id"].as_str().unwrap().to_owned());
    open_register(&gate, &sim, true).await.assert_confirmed();
    let listed = platforms(&gate).await;
    assert_eq!(listed.len(), 4);
    for platform in &listed {
        let id = platform["id"].as_str().unwrap();
        let one: Value = gate
            .admin_json(Method::GET, &format!("/admin/platforms/{id}"), None)
            .await;
        assert_eq!(platform["pendingChange"], one["pendingChange"], "{id}");
        assert_eq!(
            platform.get("pendingChange").is_some(),
            changed.iter().any(|c| c == id),
            "{id}"
        );
    }
}

#[tokio::test]
async fn a_second_re_registration_leaves_the_first_pending_change_intact() {
    let sim = Simulator::start_with(Profile::Canvas).await.unwrap();
    let gate = gate(|c| c.registration.auto_activate = true).await;
    let live_id = live_platform_next_in_line(&gate, &sim).await;
    open_register(&gate, &sim, true).await.assert_confirmed();
    let path = format!("/admin/platforms/{live_id}");
    let first = gate.admin_json(Method::GET, &path, None).await["pendingChange"].clone();
    assert_eq!(first["accesstokenEndpoint"], sim.token_endpoint());

    // Someone registers again, with other endpoints, and gets the live client id once more.
    move_to_next_client_id(&gate, &live_id).await;
    sim.set_openid_configuration_patch(
        json!({"token_endpoint": format!("{}/elsewhere/token", sim.base_url())}),
    );
    let page = open_register(&gate, &sim, true).await;
    assert_eq!(page.status, 409, "{}", page.html);
    assert_eq!(page.code(), "CHANGE_ALREADY_PENDING");
    let after = gate.admin_json(Method::GET, &path, None).await;
    assert_eq!(after["pendingChange"], first);
    assert_eq!(platforms(&gate).await.len(), 2, "no new platform");
}

/// Whoever opens the registration URL learns nothing about the platform already registered.
#[tokio::test]
async fn the_re_registration_page_does_not_show_the_existing_platform() {
    let sim = Simulator::start_with(Profile::Canvas).await.unwrap();
    let gate = gate(|_| {}).await;
    let live_id = live_platform_next_in_line(&gate, &sim).await;
    let page = open_register(&gate, &sim, true).await;
    page.assert_confirmed();
    assert!(page.html.contains("already registered"), "{}", page.html);
    assert!(!page.html.contains("Live Canvas"), "{}", page.html);
    assert!(!page.html.contains(&live_id), "{}", page.html);
}
