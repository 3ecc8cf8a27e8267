//! The admin API over real HTTP, against a real SQLite file.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::lms::Lms;
use common::{ADMIN_KEY, TestGate, expect_error};
use ltisim::MessageType;
use reqwest::Method;
use serde_json::{Value, json};

fn platform(client_id: &str) -> Value {
    json!({
        "url": "https://moodle.example.edu/moodle",
        "clientId": client_id,
        "name": "Moodle",
        "authenticationEndpoint": "https://moodle.example.edu/moodle/mod/lti/auth.php",
        "accesstokenEndpoint": "https://moodle.example.edu/moodle/mod/lti/token.php",
        "authConfig": {"method": "JWK_SET", "key": "https://moodle.example.edu/moodle/mod/lti/certs.php"},
        "deploymentIds": ["4"],
    })
}

async fn create(gate: &TestGate, body: &Value) -> Value {
    let response = gate
        .admin(Method::POST, "/admin/platforms")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn platform_round_trip() {
    let gate = TestGate::start(|_| {}).await;
    let created = create(&gate, &platform("qwewqwqeqwewqewq")).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["url"], "https://moodle.example.edu/moodle");
    assert_eq!(created["clientId"], "qwewqwqeqwewqewq");
    assert_eq!(created["authConfig"]["method"], "JWK_SET");
    assert_eq!(created["status"], "active");
    assert_eq!(created["active"], true);
    assert_eq!(created["deploymentIds"], json!(["4"]));
    assert_eq!(created["allowNewDeployments"], false);
    assert!(
        created["publicKey"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );

    let listed: Value = gate.admin_json(Method::GET, "/admin/platforms", None).await;
    assert_eq!(listed["platforms"].as_array().unwrap().len(), 1);
    assert_eq!(listed["platforms"][0], created);

    let shown: Value = gate
        .admin_json(Method::GET, &format!("/admin/platforms/{id}"), None)
        .await;
    assert_eq!(shown, created);

    let patched: Value = gate
        .admin_json(
            Method::PATCH,
            &format!("/admin/platforms/{id}"),
            Some(&json!({"name": "Moodle 4.3", "deploymentIds": ["4", "5"], "url": null})),
        )
        .await;
    assert_eq!(patched["name"], "Moodle 4.3");
    assert_eq!(patched["deploymentIds"], json!(["4", "5"]));
    assert_eq!(
        patched["url"], created["url"],
        "null leaves a field unchanged"
    );

    let deactivated: Value = gate
        .admin_json(
            Method::POST,
            &format!("/admin/platforms/{id}/deactivate"),
            None,
        )
        .await;
    assert_eq!(
        (deactivated["status"].clone(), deactivated["active"].clone()),
        (json!("inactive"), json!(false))
    );
    let activated: Value = gate
        .admin_json(
            Method::POST,
            &format!("/admin/platforms/{id}/activate"),
            None,
        )
        .await;
    assert_eq!(activated["status"], "active");

    // PUT replaces the whole platform: what GET returned can be sent back edited.
    let mut whole = activated.clone();
    whole["name"] = json!("Replaced");
    whole["deploymentIds"] = json!([]);
    let replaced: Value = gate
        .admin_json(Method::PUT, &format!("/admin/platforms/{id}"), Some(&whole))
        .await;
    assert_eq!(replaced["name"], "Replaced");
    assert_eq!(replaced["deploymentIds"], json!([]));

    let deleted = gate
        .admin(Method::DELETE, &format!("/admin/platforms/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = gate
        .admin(Method::GET, &format!("/admin/platforms/{id}"))
        .send()
        .await
        .unwrap();
    expect_error(gone, 404, "PLATFORM_NOT_FOUND").await;
}

#[tokio::test]
async fn listing_filters_by_status_url_and_client_id() {
    let gate = TestGate::start(|_| {}).await;
    create(&gate, &platform("one")).await;
    let mut inactive = platform("two");
    inactive["active"] = json!(false);
    let two = create(&gate, &inactive).await;
    assert_eq!(
        two["status"], "inactive",
        "active:false is inactive, never pending"
    );

    let list = |query: &'static str| {
        let request = gate.admin(Method::GET, &format!("/admin/platforms{query}"));
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            body["platforms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["clientId"].as_str().unwrap().to_owned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("?status=inactive").await, ["two"]);
    assert_eq!(list("?status=pending").await, Vec::<String>::new());
    assert_eq!(list("?clientId=one").await, ["one"]);
    assert_eq!(
        list("?url=https%3A%2F%2Fmoodle.example.edu%2Fmoodle").await,
        ["one", "two"]
    );
    let bad = gate
        .admin(Method::GET, "/admin/platforms?status=sleeping")
        .send()
        .await
        .unwrap();
    expect_error(bad, 400, "INVALID_PARAMETER").await;
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let gate = TestGate::start(|_| {}).await;
    let none = gate
        .client
        .get(gate.url("/admin/platforms"))
        .send()
        .await
        .unwrap();
    expect_error(none, 401, "MISSING_AUTHORIZATION").await;
    let wrong = gate
        .client
        .get(gate.url("/admin/platforms"))
        .bearer_auth("not-the-key")
        .send()
        .await
        .unwrap();
    expect_error(wrong, 401, "INVALID_ADMIN_KEY").await;
    let api_key = gate
        .client
        .get(gate.url("/admin/platforms"))
        .bearer_auth(common::API_KEY)
        .send()
        .await
        .unwrap();
    expect_error(api_key, 401, "INVALID_ADMIN_KEY").await;
}

#[tokio::test]
async fn without_an_admin_key_the_admin_api_is_disabled() {
    let gate = TestGate::start(|c| c.admin_key = None).await;
    let response = gate
        .client
        .get(gate.url("/admin/platforms"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    expect_error(response, 403, "ADMIN_API_DISABLED").await;
}

#[tokio::test]
async fn bad_input_is_a_clear_400_and_stores_nothing() {
    let gate = TestGate::start(|_| {}).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"url": "https://x.test"}), "MISSING_FIELD"),
        (
            {
                let mut b = platform("c");
                b["url"] = json!("::nope::");
                b
            },
            "INVALID_URL",
        ),
        (
            {
                let mut b = platform("c");
                b["authenticationEndpoint"] = json!("http://lms.test/auth");
                b
            },
            "INSECURE_URL",
        ),
        (
            {
                let mut b = platform("c");
                b["authConfig"] = json!({"method": "RSA_KEY", "key": "garbage"});
                b
            },
            "INVALID_AUTH_CONFIG",
        ),
        (
            {
                let mut b = platform("c");
                b["authConfig"] = json!({"method": "PASSWORD", "key": "x"});
                b
            },
            "INVALID_AUTH_CONFIG",
        ),
        (
            {
                let mut b = platform("c");
                b["clientId"] = json!("");
                b
            },
            "INVALID_FIELD",
        ),
        (
            {
                let mut b = platform("c");
                b["deploymentIds"] = json!("4");
                b
            },
            "INVALID_BODY",
        ),
    ];
    for (body, code) in cases {
        let response = gate
            .admin(Method::POST, "/admin/platforms")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(response, 400, code).await;
    }
    let not_json = gate
        .admin(Method::POST, "/admin/platforms")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_error(not_json, 400, "INVALID_BODY").await;
    let wrong_type = gate
        .admin(Method::POST, "/admin/platforms")
        .body(platform("c").to_string())
        .send()
        .await
        .unwrap();
    expect_error(wrong_type, 415, "INVALID_CONTENT_TYPE").await;
    let huge = gate
        .admin(Method::POST, "/admin/platforms")
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(200_000)))
        .send()
        .await
        .unwrap();
    expect_error(huge, 413, "BODY_TOO_LARGE").await;

    let listed: Value = gate.admin_json(Method::GET, "/admin/platforms", None).await;
    assert_eq!(listed["platforms"], json!([]));
}

#[tokio::test]
async fn duplicates_are_a_409_on_create_and_on_update() {
    let gate = TestGate::start(|_| {}).await;
    create(&gate, &platform("one")).await;
    let second = create(&gate, &platform("two")).await;
    let duplicate = gate
        .admin(Method::POST, "/admin/platforms")
        .json(&platform("one"))
        .send()
        .await
        .unwrap();
    expect_error(duplicate, 409, "PLATFORM_EXISTS").await;
    let renamed = gate
        .admin(
            Method::PATCH,
            &format!("/admin/platforms/{}", second["id"].as_str().unwrap()),
        )
        .json(&json!({"clientId": "one"}))
        .send()
        .await
        .unwrap();
    expect_error(renamed, 409, "PLATFORM_EXISTS").await;
}

#[tokio::test]
async fn unknown_ids_are_404_for_every_verb() {
    let gate = TestGate::start(|_| {}).await;
    for (method, path) in [
        (Method::GET, "/admin/platforms/nope"),
        (Method::PATCH, "/admin/platforms/nope"),
        (Method::DELETE, "/admin/platforms/nope"),
        (Method::POST, "/admin/platforms/nope/activate"),
        (Method::POST, "/admin/platforms/nope/deactivate"),
    ] {
        let response = gate
            .admin(method, path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        expect_error(response, 404, "PLATFORM_NOT_FOUND").await;
    }
    let put = gate
        .admin(Method::PUT, "/admin/platforms/nope")
        .json(&platform("x"))
        .send()
        .await
        .unwrap();
    expect_error(put, 404, "PLATFORM_NOT_FOUND").await;
}

#[tokio::test]
async fn repeated_slashes_reach_the_same_route() {
    let gate = TestGate::start(|_| {}).await;
    let response = gate
        .admin(Method::GET, "//admin//platforms")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn ops_endpoints_answer() {
    let gate = TestGate::start(|_| {}).await;
    let health = gate.client.get(gate.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = gate.client.get(gate.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn an_inactive_platforms_ltiks_stop_reading_until_it_is_active_again() {
    let lms = Lms::start().await;
    let launched = lms.do_launch(MessageType::ResourceLink).await;
    let ltik = launched.ltik();
    assert_eq!(lms.idtoken(ltik, "").await.status(), 200);
    let path = format!("/admin/platforms/{}", lms.platform_id);
    lms.gate
        .admin_json(Method::POST, &format!("{path}/deactivate"), None)
        .await;
    for query in ["", "?raw=true"] {
        expect_error(lms.idtoken(ltik, query).await, 401, "PLATFORM_INACTIVE").await;
    }
    lms.gate
        .admin_json(Method::POST, &format!("{path}/activate"), None)
        .await;
    assert_eq!(lms.idtoken(ltik, "").await.status(), 200);
}

/// `authorizationServer` (the `aud` of service token requests) is set, kept by a PATCH that
/// does not name it, cleared by `""`, and refused when it is not a URL or host name.
#[tokio::test]
async fn authorization_server_is_set_kept_and_cleared() {
    let gate = TestGate::start(|_| {}).await;
    let mut body = platform("as-1");
    body["authorizationServer"] = json!("https://auth.moodle.example.edu/token");
    let created = create(&gate, &body).await;
    assert_eq!(
        created["authorizationServer"],
        "https://auth.moodle.example.edu/token"
    );
    let id = created["id"].as_str().unwrap();
    let path = format!("/admin/platforms/{id}");
    let renamed: Value = gate
        .admin_json(Method::PATCH, &path, Some(&json!({"name": "Renamed"})))
        .await;
    assert_eq!(
        renamed["authorizationServer"],
        created["authorizationServer"]
    );
    let cleared: Value = gate
        .admin_json(
            Method::PATCH,
            &path,
            Some(&json!({"authorizationServer": ""})),
        )
        .await;
    assert_eq!(cleared["authorizationServer"], Value::Null);

    let response = gate
        .admin(Method::PATCH, &path)
        .json(&json!({"authorizationServer": "two words"}))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "INVALID_FIELD").await;
}

/// A wrong-key limit of two at once, one more a minute (the test's whole life).
fn two_wrong_keys(c: &mut ltigate::config::Config) {
    c.admin_sign_in_limit.per_minute = 1;
    c.admin_sign_in_limit.burst = 2;
}

/// `GET /admin/platforms` with `key`, as the client `forwarded_for` names (through a
/// trusted proxy) or as the loopback peer itself.
async fn list_with(gate: &TestGate, key: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = gate
        .client
        .get(gate.url("/admin/platforms"))
        .bearer_auth(key);
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn wrong_admin_keys_over_the_limit_get_429_even_with_the_right_key() {
    let gate = TestGate::start(two_wrong_keys).await;
    // The right key never counts: automation that knows it is never slowed down.
    for _ in 0..5 {
        assert_eq!(list_with(&gate, ADMIN_KEY, None).await.status(), 200);
    }
    for _ in 0..2 {
        expect_error(
            list_with(&gate, "guess", None).await,
            401,
            "INVALID_ADMIN_KEY",
        )
        .await;
    }
    for key in ["guess", ADMIN_KEY] {
        let response = list_with(&gate, key, None).await;
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        expect_error(response, 429, "ADMIN_SIGN_IN_RATE_LIMITED").await;
    }
}

#[tokio::test]
async fn the_wrong_key_limit_is_per_client_behind_a_trusted_proxy() {
    let gate = TestGate::start(|c| {
        two_wrong_keys(c);
        c.registration.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let (guesser, admin) = (Some("203.0.113.7"), Some("198.51.100.20"));
    for _ in 0..3 {
        list_with(&gate, "guess", guesser).await;
    }
    let limited = list_with(&gate, ADMIN_KEY, guesser).await;
    expect_error(limited, 429, "ADMIN_SIGN_IN_RATE_LIMITED").await;
    assert_eq!(list_with(&gate, ADMIN_KEY, admin).await.status(), 200);
    // Without a trusted proxy the header is the client's own claim and changes nothing:
    // the loopback peer itself has not guessed yet.
    assert_eq!(list_with(&gate, ADMIN_KEY, None).await.status(), 200);
}
