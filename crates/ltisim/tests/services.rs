//! The LTI Advantage side of the simulator over real HTTP on loopback: the token endpoint
//! checked with client assertions signed by a test-side RSA key whose JWKS a tiny local
//! server publishes, then AGS and NRPS called with the tokens it issues.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::Json;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ltisim::{Failure, Simulator, Tool};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LINK, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CLIENT_ID: &str = "tool-services-1";
const KID: &str = "tool-key-1";
const COURSE: &str = "ltisim-course-1";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const AGS: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/";
const MEMBERSHIPS: &str =
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";
const LINE_ITEM: &str = "application/vnd.ims.lis.v2.lineitem+json";
const LINE_ITEM_CONTAINER: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";
const SCORE: &str = "application/vnd.ims.lis.v1.score+json";
const RESULT_CONTAINER: &str = "application/vnd.ims.lis.v2.resultcontainer+json";
const MEMBERSHIP_CONTAINER: &str = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";

fn ags(scope: &str) -> String {
    format!("{AGS}{scope}")
}

/// The tool's RSA key, made once (key generation is slow).
static TOOL_KEY: LazyLock<KeyPair> =
    LazyLock::new(|| KeyPair::generate(KeySize::Rsa2048).expect("key generates"));

fn public_jwk(key: &KeyPair, kid: &str) -> Value {
    let components = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
    json!({
        "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(&components.n),
        "e": URL_SAFE_NO_PAD.encode(&components.e),
    })
}

/// Serves `jwks` at `http://127.0.0.1:PORT/keys` for the rest of the test.
async fn serve_jwks(jwks: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let url = format!("http://{}/keys", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route("/keys", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A simulator with the test tool added by hand, its keys served from loopback.
async fn simulator() -> Simulator {
    let sim = Simulator::start().await.expect("simulator starts");
    let jwks_uri = serve_jwks(json!({ "keys": [public_jwk(&TOOL_KEY, KID)] })).await;
    sim.add_tool(Tool {
        client_id: CLIENT_ID.into(),
        deployment_id: "deployment-1".into(),
        jwks_uri: Some(jwks_uri),
        ..Tool::default()
    });
    sim
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn unique_jti() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}-{}", now(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A compact JWS over `header` and `claims`, RS256-signed with `key`.
fn signed(key: &KeyPair, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", segment(header), segment(claims));
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .expect("signs");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Applies an RFC 7396 merge patch (null removes).
fn patched(mut target: Value, patch: &Value) -> Value {
    if let (Some(target), Some(patch)) = (target.as_object_mut(), patch.as_object()) {
        for (name, value) in patch {
            if value.is_null() {
                target.remove(name);
            } else {
                target.insert(name.clone(), value.clone());
            }
        }
    }
    target
}

/// The claims of a good client assertion for `client_id` with audience `aud`.
fn claims_for(client_id: &str, aud: &str) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "iat": now(), "exp": now() + 300, "jti": unique_jti(),
    })
}

/// A client assertion for the test tool, its header and claims merge-patched.
fn assertion(sim: &Simulator, header_patch: &Value, claims_patch: &Value) -> String {
    let header = patched(
        json!({ "alg": "RS256", "typ": "JWT", "kid": KID }),
        header_patch,
    );
    let claims = patched(claims_for(CLIENT_ID, &sim.token_endpoint()), claims_patch);
    signed(&TOOL_KEY, &header, &claims)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("services-test/1")
        .build()
        .expect("client builds")
}

async fn post_token_form(sim: &Simulator, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = http()
        .post(sim.token_endpoint())
        .form(form)
        .send()
        .await
        .expect("token endpoint answers");
    let status = response.status();
    (status, response.json().await.expect("JSON answer"))
}

async fn request_token(sim: &Simulator, assertion: &str, scopes: &[&str]) -> (StatusCode, Value) {
    let scope = scopes.join(" ");
    post_token_form(
        sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
            ("scope", &scope),
        ],
    )
    .await
}

/// An access token for the test tool with `scopes`.
async fn token(sim: &Simulator, scopes: &[&str]) -> String {
    let (status, answer) =
        request_token(sim, &assertion(sim, &json!({}), &json!({})), scopes).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn all_scopes() -> Vec<String> {
    ["lineitem", "lineitem.readonly", "result.readonly", "score"]
        .iter()
        .map(|scope| ags(scope))
        .chain([MEMBERSHIPS.to_owned()])
        .collect()
}

async fn full_token(sim: &Simulator) -> String {
    let scopes = all_scopes();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    token(sim, &scopes).await
}

/// A service request with a bearer token and, when given, Accept / Content-Type.
fn call(
    method: reqwest::Method,
    url: &str,
    token: &str,
    accept: Option<&str>,
    content_type: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut request = http()
        .request(method, url)
        .header(AUTHORIZATION, format!("Bearer {token}"));
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    request
}

async fn get_json(url: &str, token: &str, accept: &str) -> (StatusCode, Option<String>, Value) {
    let response = call(reqwest::Method::GET, url, token, Some(accept), None)
        .send()
        .await
        .expect("answers");
    let status = response.status();
    let link = response
        .headers()
        .get(LINK)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, link, body)
}

async fn send_json(
    method: reqwest::Method,
    url: &str,
    token: &str,
    content_type: &str,
    body: &Value,
) -> reqwest::Response {
    call(method, url, token, None, Some(content_type))
        .body(body.to_string())
        .send()
        .await
        .expect("answers")
}

/// The URL of the `rel="next"` link of a `Link` header (RFC 8288, as platforms write it).
fn next_link(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|param| param.trim() == "rel=\"next\"")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

fn line_items_url(sim: &Simulator) -> String {
    format!("{}/ags/contexts/{COURSE}/lineitems", sim.base_url())
}

fn memberships_url(sim: &Simulator) -> String {
    format!("{}/nrps/contexts/{COURSE}/memberships", sim.base_url())
}

fn score_for(user: &str, given: f64, timestamp: &str) -> Value {
    json!({
        "userId": user,
        "scoreGiven": given,
        "scoreMaximum": 100,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": timestamp,
        "comment": "Good <work>",
    })
}

#[tokio::test]
async fn a_good_assertion_gets_a_token_with_the_requested_scopes() {
    let sim = simulator().await;
    let sent = assertion(&sim, &json!({}), &json!({}));
    let requested = [
        ags("score").as_str(),
        MEMBERSHIPS,
        "https://example.com/unknown-scope",
    ]
    .join(" ");
    let (status, answer) = post_token_form(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &sent),
            ("scope", &requested),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 3600);
    assert_eq!(answer["scope"], format!("{} {MEMBERSHIPS}", ags("score")));

    let records = sim.token_requests();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.outcome, Ok(()));
    assert_eq!(record.header["kid"], KID);
    assert_eq!(record.claims["aud"], sim.token_endpoint());
    assert_eq!(record.claims["iss"], CLIENT_ID);
    assert_eq!(record.requested_scopes.len(), 3);
    assert_eq!(
        record.granted_scopes,
        vec![ags("score"), MEMBERSHIPS.to_owned()]
    );
    assert_eq!(
        record.access_token.as_deref(),
        answer["access_token"].as_str()
    );
    assert_eq!(record.client_assertion_type.as_deref(), Some(JWT_BEARER));

    // The token works for what it grants.
    let token = answer["access_token"].as_str().expect("token");
    let (status, _, _) = get_json(&memberships_url(&sim), token, MEMBERSHIP_CONTAINER).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn each_bad_assertion_is_refused() {
    let sim = simulator().await;
    let score = ags("score");
    let scope = [score.as_str()];
    let good = assertion(&sim, &json!({}), &json!({}));
    let corrupt = {
        let (input, signature) = good.rsplit_once('.').expect("three parts");
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let other_key = KeyPair::generate(KeySize::Rsa2048).expect("key");
    let foreign = signed(
        &other_key,
        &json!({ "alg": "RS256", "kid": KID }),
        &claims_for(CLIENT_ID, &sim.token_endpoint()),
    );
    let unsigned = {
        let claims = claims_for(CLIENT_ID, &sim.token_endpoint());
        format!(
            "{}.{}.",
            segment(&json!({ "alg": "none", "kid": KID })),
            segment(&claims)
        )
    };
    let stranger = signed(
        &TOOL_KEY,
        &json!({ "alg": "RS256", "kid": KID }),
        &claims_for("unknown-client", &sim.token_endpoint()),
    );
    let cases: Vec<(&str, String)> = vec![
        ("bad signature", corrupt),
        ("signed by another key", foreign),
        ("alg none", unsigned),
        (
            "HS256 header",
            assertion(&sim, &json!({ "alg": "HS256" }), &json!({})),
        ),
        (
            "unknown kid",
            assertion(&sim, &json!({ "kid": "nope" }), &json!({})),
        ),
        (
            "no kid",
            assertion(&sim, &json!({ "kid": null }), &json!({})),
        ),
        (
            "sub is not iss",
            assertion(&sim, &json!({}), &json!({ "sub": "someone" })),
        ),
        ("unknown client", stranger),
        (
            "wrong aud",
            assertion(&sim, &json!({}), &json!({ "aud": sim.issuer() })),
        ),
        (
            "expired",
            assertion(
                &sim,
                &json!({}),
                &json!({ "exp": now() - 120, "iat": now() - 400 }),
            ),
        ),
        (
            "exp too far",
            assertion(&sim, &json!({}), &json!({ "exp": now() + 7200 })),
        ),
        (
            "iat in the future",
            assertion(&sim, &json!({}), &json!({ "iat": now() + 600 })),
        ),
        (
            "no jti",
            assertion(&sim, &json!({}), &json!({ "jti": null })),
        ),
        ("not a JWS", "not-a-jwt".to_owned()),
    ];
    for (case, sent) in &cases {
        let (status, answer) = request_token(&sim, sent, &scope).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {answer}");
        assert_eq!(answer["error"], "invalid_client", "{case}: {answer}");
        assert!(answer.get("access_token").is_none(), "{case}");
    }
    let records = sim.token_requests();
    assert_eq!(records.len(), cases.len());
    assert!(
        records
            .iter()
            .all(|record| record.outcome.is_err() && record.granted_scopes.is_empty())
    );
    assert!(
        records[1]
            .outcome
            .as_ref()
            .is_err_and(|why| why.contains("signature"))
    );

    // The good one once, then never again (its jti is used up).
    assert_eq!(request_token(&sim, &good, &scope).await.0, StatusCode::OK);
    let (status, answer) = request_token(&sim, &good, &scope).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"], "invalid_client");
    assert!(
        answer["error_description"]
            .as_str()
            .is_some_and(|why| why.contains("jti"))
    );
}

#[tokio::test]
async fn form_errors_have_their_oauth_codes() {
    let sim = simulator().await;
    let good = assertion(&sim, &json!({}), &json!({}));
    let score = ags("score");
    let base = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", good.as_str()),
        ("scope", score.as_str()),
    ];
    // (field, its value or None to leave it out, expected error); all answered 400.
    let cases = [
        ("grant_type", Some("password"), "unsupported_grant_type"),
        ("grant_type", None, "invalid_request"),
        ("client_assertion", None, "invalid_request"),
        ("client_assertion_type", Some("basic"), "invalid_request"),
        ("scope", Some("https://example.com/other"), "invalid_scope"),
    ];
    for (field, value, error) in cases {
        let form: Vec<(&str, &str)> = base
            .iter()
            .filter_map(|&(name, sent)| match name == field {
                true => value.map(|value| (name, value)),
                false => Some((name, sent)),
            })
            .collect();
        let (status, answer) = post_token_form(&sim, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field} {value:?}");
        assert_eq!(answer["error"], error, "{field} {value:?}");
    }
}

#[tokio::test]
async fn aud_must_be_the_authorization_server_when_one_is_advertised() {
    let sim = simulator().await;
    let audience = format!("{}/oauth2/audience", sim.base_url());
    sim.set_openid_configuration_patch(json!({ "authorization_server": audience }));
    assert_eq!(sim.openid_configuration()["authorization_server"], audience);
    let score = ags("score");
    let scope = [score.as_str()];
    let to_token_endpoint = assertion(&sim, &json!({}), &json!({}));
    let (status, answer) = request_token(&sim, &to_token_endpoint, &scope).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert!(
        answer["error_description"]
            .as_str()
            .is_some_and(|why| why.contains(&audience))
    );
    let to_server = assertion(
        &sim,
        &json!({}),
        &json!({ "aud": [audience, "https://other"] }),
    );
    assert_eq!(
        request_token(&sim, &to_server, &scope).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_registered_tool_gets_only_the_scopes_its_registration_granted() {
    let sim = Simulator::start().await.expect("starts");
    let jwks_uri = serve_jwks(json!({ "keys": [public_jwk(&TOOL_KEY, KID)] })).await;
    let mut request: Value =
        serde_json::from_str::<Value>(include_str!("../fixtures/spec-example.json"))
            .expect("fixture")["registration_request"]
            .clone();
    request["jwks_uri"] = json!(jwks_uri);
    request["scope"] = json!(ags("score"));
    let (_, registration_token) = sim.registration_start(true);
    let answer: Value = http()
        .post(sim.registration_endpoint())
        .bearer_auth(registration_token.expect("token"))
        .json(&request)
        .send()
        .await
        .expect("registers")
        .json()
        .await
        .expect("JSON");
    let client_id = answer["client_id"].as_str().expect("client_id");
    assert_eq!(
        sim.tool(client_id).expect("tool").jwks_uri.as_deref(),
        Some(jwks_uri.as_str())
    );

    let header = json!({ "alg": "RS256", "kid": KID });
    let sent = signed(
        &TOOL_KEY,
        &header,
        &claims_for(client_id, &sim.token_endpoint()),
    );
    let (status, answer) = request_token(&sim, &sent, &[ags("score").as_str(), MEMBERSHIPS]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["scope"], ags("score"));

    let sent = signed(
        &TOOL_KEY,
        &header,
        &claims_for(client_id, &sim.token_endpoint()),
    );
    let (status, answer) = request_token(&sim, &sent, &[MEMBERSHIPS]).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn line_items_are_created_listed_filtered_paged_read_replaced_and_deleted() {
    let sim = simulator().await;
    let token = full_token(&sim).await;
    let container = line_items_url(&sim);

    // The launch's line item exists from the start.
    let (status, link, items) = get_json(&container, &token, LINE_ITEM_CONTAINER).await;
    assert_eq!((status, link), (StatusCode::OK, None));
    assert_eq!(items[0]["id"], format!("{container}/1"));
    assert_eq!(items[0]["label"], "Week 1: Analytical Engines");
    assert_eq!(items[0]["resourceLinkId"], "ltisim-link-1");

    let mut created = Vec::new();
    for (label, tag) in [("Quiz 1", "quiz"), ("Quiz 2", "quiz"), ("Essay", "essay")] {
        let body = json!({ "label": label, "scoreMaximum": 10, "tag": tag, "resourceId": label, "https://example.com/ext": {"kept": true} });
        let response = send_json(reqwest::Method::POST, &container, &token, LINE_ITEM, &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[CONTENT_TYPE], LINE_ITEM);
        let item: Value = response.json().await.expect("JSON");
        assert_eq!(item["label"], label);
        assert_eq!(item["https://example.com/ext"]["kept"], true);
        created.push(item["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(created[0], format!("{container}/2"));
    assert_eq!(sim.line_items(COURSE).len(), 4);

    let (_, _, quizzes) = get_json(
        &format!("{container}?tag=quiz"),
        &token,
        LINE_ITEM_CONTAINER,
    )
    .await;
    let labels: Vec<&str> = quizzes
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert_eq!(labels, ["Quiz 1", "Quiz 2"]);
    let (_, _, by_link) = get_json(
        &format!("{container}?resource_link_id=ltisim-link-1"),
        &token,
        LINE_ITEM_CONTAINER,
    )
    .await;
    assert_eq!(by_link.as_array().map(Vec::len), Some(1));
    let (_, _, by_resource) = get_json(
        &format!("{container}?resource_id=Essay"),
        &token,
        LINE_ITEM_CONTAINER,
    )
    .await;
    assert_eq!(by_resource[0]["id"], created[2]);

    // Two pages of three, through Link rel="next".
    let (_, link, first) =
        get_json(&format!("{container}?limit=3"), &token, LINE_ITEM_CONTAINER).await;
    assert_eq!(first.as_array().map(Vec::len), Some(3));
    let next = next_link(link.as_deref()).expect("a next page");
    let (_, link, second) = get_json(&next, &token, LINE_ITEM_CONTAINER).await;
    assert_eq!(second[0]["id"], created[2]);
    assert_eq!(next_link(link.as_deref()), None);

    let (status, _, item) = get_json(&created[0], &token, LINE_ITEM).await;
    assert_eq!((status, &item["label"]), (StatusCode::OK, &json!("Quiz 1")));

    let replacement = json!({ "id": created[0], "label": "Quiz 1 (retake)", "scoreMaximum": 20 });
    let response = send_json(
        reqwest::Method::PUT,
        &created[0],
        &token,
        LINE_ITEM,
        &replacement,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, _, item) = get_json(&created[0], &token, LINE_ITEM).await;
    assert_eq!(
        (item["label"].as_str(), item["scoreMaximum"].as_u64()),
        (Some("Quiz 1 (retake)"), Some(20))
    );
    assert!(item.get("tag").is_none(), "PUT replaces");

    let moved = json!({ "id": created[1], "label": "x", "scoreMaximum": 1 });
    let response = send_json(reqwest::Method::PUT, &created[0], &token, LINE_ITEM, &moved).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "the id cannot change"
    );

    for invalid in [
        json!({ "scoreMaximum": 10 }),
        json!({ "label": "x", "scoreMaximum": 0 }),
        json!({ "label": "x" }),
    ] {
        let response = send_json(
            reqwest::Method::POST,
            &container,
            &token,
            LINE_ITEM,
            &invalid,
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{invalid}");
    }

    let response = call(reqwest::Method::DELETE, &created[2], &token, None, None)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get_json(&created[2], &token, LINE_ITEM).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(sim.line_items(COURSE).len(), 3);
}

#[tokio::test]
async fn scores_are_kept_as_posted_and_become_results() {
    let sim = simulator().await;
    let token = full_token(&sim).await;
    let item = format!("{}/1", line_items_url(&sim));
    let scores = format!("{item}/scores");
    let submission = "https://canvas.instructure.com/lti/submission";

    let mut first = score_for("ltisim-user-1003", 87.5, "2026-12-01T14:03:07.123Z");
    first[submission] = json!({ "new_submission": true, "submission_type": "online_url" });
    let response = send_json(reqwest::Method::POST, &scores, &token, SCORE, &first).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // Same user, same millisecond: refused, as Open edX does.
    let again = score_for("ltisim-user-1003", 90.0, "2026-12-01T14:03:07.123Z");
    let response = send_json(reqwest::Method::POST, &scores, &token, SCORE, &again).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // One millisecond later: accepted.
    let later = score_for("ltisim-user-1003", 91.0, "2026-12-01T14:03:07.124Z");
    let response = send_json(reqwest::Method::POST, &scores, &token, SCORE, &later).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let other = score_for("ltisim-user-1004", 42.0, "2026-12-01T14:03:07.123Z");
    assert_eq!(
        send_json(reqwest::Method::POST, &scores, &token, SCORE, &other)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    let received = sim.scores_received(&item);
    assert_eq!(received, vec![first.clone(), later.clone(), other]);
    assert_eq!(received[0][submission]["submission_type"], "online_url");

    let (status, _, results) = get_json(&format!("{item}/results"), &token, RESULT_CONTAINER).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(results.as_array().map(Vec::len), Some(2));
    assert_eq!(results[0]["userId"], "ltisim-user-1003");
    assert_eq!(results[0]["resultScore"], 91.0);
    assert_eq!(results[0]["resultMaximum"], 100);
    assert_eq!(results[0]["scoreOf"], item);
    assert_eq!(results[0]["comment"], "Good <work>");
    assert!(
        results[0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with(&item))
    );

    let (_, _, mine) = get_json(
        &format!("{item}/results?user_id=ltisim-user-1004"),
        &token,
        RESULT_CONTAINER,
    )
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    assert_eq!(mine[0]["resultScore"], 42.0);
    let (_, link, page) =
        get_json(&format!("{item}/results?limit=1"), &token, RESULT_CONTAINER).await;
    assert_eq!(page.as_array().map(Vec::len), Some(1));
    let (_, _, second) = get_json(
        &next_link(link.as_deref()).expect("next"),
        &token,
        RESULT_CONTAINER,
    )
    .await;
    assert_eq!(second[0]["userId"], "ltisim-user-1004");

    for (case, patch) in [
        (
            "scoreGiven without scoreMaximum",
            json!({ "scoreMaximum": null }),
        ),
        (
            "bad activityProgress",
            json!({ "activityProgress": "Done" }),
        ),
        ("bad gradingProgress", json!({ "gradingProgress": null })),
        ("no timestamp", json!({ "timestamp": null })),
        ("no userId", json!({ "userId": null })),
    ] {
        let bad = patched(
            score_for("ltisim-user-1010", 1.0, "2026-12-01T15:00:00Z"),
            &patch,
        );
        let response = send_json(reqwest::Method::POST, &scores, &token, SCORE, &bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
    }
    let unknown = format!("{}/99/scores", line_items_url(&sim));
    let response = send_json(reqwest::Method::POST, &unknown, &token, SCORE, &first).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The gradebook page shows the latest score, escaped.
    let page = http()
        .get(sim.gradebook_url())
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Grace Brewster Hopper"),
        "the roster's name for ltisim-user-1003"
    );
    assert!(page.contains("91.0 / 100"));
    assert!(page.contains("Good &lt;work&gt;"));
    assert!(page.contains("2026-12-01T14:03:07.124Z"));
}

#[tokio::test]
async fn wrong_media_types_are_refused() {
    let sim = simulator().await;
    let token = full_token(&sim).await;
    let container = line_items_url(&sim);
    let item = format!("{container}/1");
    for (url, accept) in [
        (container.as_str(), "application/json"),
        (container.as_str(), LINE_ITEM),
        (item.as_str(), LINE_ITEM_CONTAINER),
        (&format!("{item}/results"), "application/json"),
        (&memberships_url(&sim), "application/json"),
    ] {
        assert_eq!(
            get_json(url, &token, accept).await.0,
            StatusCode::NOT_ACCEPTABLE,
            "{url} {accept}"
        );
    }
    let body = json!({ "label": "x", "scoreMaximum": 1 });
    for (method, url, content_type) in [
        (
            reqwest::Method::POST,
            container.as_str(),
            "application/json",
        ),
        (reqwest::Method::PUT, item.as_str(), LINE_ITEM_CONTAINER),
        (
            reqwest::Method::POST,
            &format!("{item}/scores"),
            "application/json",
        ),
    ] {
        let response = send_json(method.clone(), url, &token, content_type, &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{method} {url}"
        );
    }
    // Parameters and a list of types are fine.
    let accept = format!("application/json, {LINE_ITEM_CONTAINER}; q=0.9");
    assert_eq!(
        get_json(&container, &token, &accept).await.0,
        StatusCode::OK
    );
    assert_eq!(sim.line_items(COURSE).len(), 1, "nothing was created");
}

#[tokio::test]
async fn each_call_needs_its_scope_and_a_live_token() {
    let sim = simulator().await;
    let container = line_items_url(&sim);
    let scores = format!("{container}/1/scores");
    let read_only = token(&sim, &[&ags("lineitem.readonly")]).await;
    assert_eq!(
        get_json(&container, &read_only, LINE_ITEM_CONTAINER)
            .await
            .0,
        StatusCode::OK
    );
    let body = json!({ "label": "x", "scoreMaximum": 1 });
    let response = send_json(
        reqwest::Method::POST,
        &container,
        &read_only,
        LINE_ITEM,
        &body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response.headers()[WWW_AUTHENTICATE]
            .to_str()
            .is_ok_and(|v| v.contains("insufficient_scope"))
    );
    let score = score_for("u", 1.0, "2026-12-01T15:00:00Z");
    let response = send_json(reqwest::Method::POST, &scores, &read_only, SCORE, &score).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let results = format!("{container}/1/results");
    assert_eq!(
        get_json(&results, &read_only, RESULT_CONTAINER).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_json(&memberships_url(&sim), &read_only, MEMBERSHIP_CONTAINER)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert!(sim.scores_received(&format!("{container}/1")).is_empty());

    let scorer = token(&sim, &[&ags("score")]).await;
    let response = send_json(reqwest::Method::POST, &scores, &scorer, SCORE, &score).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // Missing and unknown tokens, then every issued token revoked.
    let response = http()
        .get(&container)
        .header(ACCEPT, LINE_ITEM_CONTAINER)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_json(&container, "made-up", LINE_ITEM_CONTAINER).await.0,
        StatusCode::UNAUTHORIZED
    );
    sim.revoke_access_tokens();
    let response = call(
        reqwest::Method::GET,
        &container,
        &read_only,
        Some(LINE_ITEM_CONTAINER),
        None,
    )
    .send()
    .await
    .expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()[WWW_AUTHENTICATE]
            .to_str()
            .is_ok_and(|v| v.contains("invalid_token"))
    );
    sim.set_expired_token_status(StatusCode::FORBIDDEN);
    assert_eq!(
        get_json(&container, &scorer, LINE_ITEM_CONTAINER).await.0,
        StatusCode::FORBIDDEN
    );

    // A token issued with no lifetime is expired at once.
    sim.set_expired_token_status(StatusCode::UNAUTHORIZED);
    sim.set_access_token_lifetime(Duration::ZERO);
    let (_, answer) = request_token(
        &sim,
        &assertion(&sim, &json!({}), &json!({})),
        &[&ags("lineitem")],
    )
    .await;
    assert_eq!(answer["expires_in"], 0);
    let expired = answer["access_token"].as_str().expect("token");
    assert_eq!(
        get_json(&container, expired, LINE_ITEM_CONTAINER).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Every call was recorded with its token and media types.
    let recorded = sim.service_requests();
    assert!(recorded.iter().any(|r| r.method == "POST"
        && r.path == "/ags/contexts/ltisim-course-1/lineitems/1/scores"
        && r.content_type.as_deref() == Some(SCORE)
        && r.bearer.as_deref() == Some(scorer.as_str())
        && r.body.contains("\"userId\":\"u\"")));
    assert!(recorded.iter().any(|r| r.bearer.is_none()));
    assert_eq!(
        sim.user_agent_seen(&container).as_deref(),
        Some("services-test/1")
    );
}

#[tokio::test]
async fn memberships_come_in_three_pages_linked_by_next() {
    let sim = simulator().await;
    let token = token(&sim, &[MEMBERSHIPS]).await;
    let mut url = memberships_url(&sim);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, link, body) = get_json(&url, &token, MEMBERSHIP_CONTAINER).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["id"], url, "the container's id is the request URL");
        assert_eq!(body["context"]["id"], COURSE);
        assert_eq!(body["context"]["label"], "SIM 101");
        let members = body["members"].as_array().expect("members");
        seen.extend(members.iter().cloned());
        pages += 1;
        match next_link(link.as_deref()) {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    let ids: HashSet<&str> = seen.iter().filter_map(|m| m["user_id"].as_str()).collect();
    assert_eq!(ids.len(), 25, "no member twice");
    let ada = &seen[0];
    assert_eq!(ada["user_id"], "ltisim-user-1001");
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(
        ada["roles"][0],
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    );
    for field in [
        "status",
        "name",
        "picture",
        "given_name",
        "family_name",
        "email",
        "lis_person_sourcedid",
    ] {
        assert!(
            seen.iter().all(|member| member[field].is_string()),
            "{field}"
        );
    }
    assert_eq!(seen.iter().filter(|m| m["status"] == "Inactive").count(), 1);
    assert_eq!(sim.memberships(COURSE), seen);

    // The picture URLs are served.
    let picture = http()
        .get(ada["picture"].as_str().expect("picture"))
        .send()
        .await
        .expect("answers");
    assert_eq!(picture.headers()[CONTENT_TYPE], "image/svg+xml");

    // Role filters, full URI or short name, keep paging.
    let learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
    let (_, link, page) = get_json(
        &format!("{}?role={}", memberships_url(&sim), urlencode(learner)),
        &token,
        MEMBERSHIP_CONTAINER,
    )
    .await;
    assert_eq!(page["members"].as_array().map(Vec::len), Some(10));
    assert!(next_link(link.as_deref()).is_some_and(|next| next.contains("role=")));
    let (_, link, mentors) = get_json(
        &format!("{}?role=Mentor&limit=50", memberships_url(&sim)),
        &token,
        MEMBERSHIP_CONTAINER,
    )
    .await;
    assert_eq!(link, None);
    let mentors = mentors["members"].as_array().expect("members").clone();
    assert_eq!(mentors.len(), 1);
    assert_eq!(mentors[0]["name"], "Charles Babbage");
    let (_, _, linked) = get_json(
        &format!("{}?rlid=ltisim-link-1&limit=50", memberships_url(&sim)),
        &token,
        MEMBERSHIP_CONTAINER,
    )
    .await;
    assert_eq!(
        linked["members"].as_array().map(Vec::len),
        Some(24),
        "the inactive member cannot reach the link"
    );

    let unknown = format!("{}/nrps/contexts/other-course/memberships", sim.base_url());
    assert_eq!(
        get_json(&unknown, &token, MEMBERSHIP_CONTAINER).await.0,
        StatusCode::NOT_FOUND
    );
    let no_scope = self::token(&sim, &[&ags("score")]).await;
    assert_eq!(
        get_json(&memberships_url(&sim), &no_scope, MEMBERSHIP_CONTAINER)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn service_failures_answer_instead_and_are_still_recorded() {
    let sim = simulator().await;
    let token = full_token(&sim).await;
    let body = r#"{"errors":[{"message":"internal"}]}"#;
    sim.set_service_failure(Failure::Status(500, body.into(), "application/json".into()));
    let response = call(
        reqwest::Method::GET,
        &memberships_url(&sim),
        &token,
        Some(MEMBERSHIP_CONTAINER),
        None,
    )
    .send()
    .await
    .expect("answers");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text().await.expect("text"), body);
    assert_eq!(sim.service_requests().len(), 1);

    sim.set_service_failure(Failure::Slow(Duration::from_secs(30)));
    let hung = http()
        .get(line_items_url(&sim))
        .bearer_auth(&token)
        .header(ACCEPT, LINE_ITEM_CONTAINER)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.is_err_and(|error| error.is_timeout()));

    sim.set_service_failure(None);
    sim.set_token_failure(Failure::Status(503, "down".into(), "text/plain".into()));
    let (status, _) = (
        http()
            .post(sim.token_endpoint())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("answers")
            .status(),
        (),
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    sim.set_token_failure(None);
    assert_eq!(
        get_json(&line_items_url(&sim), &token, LINE_ITEM_CONTAINER)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_assertion_signed_by_a_jose_library_is_accepted() {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    let sim = simulator().await;
    let der: Pkcs8V1Der<'static> = TOOL_KEY.as_der().expect("PKCS#8");
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("ascii"))
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.into());
    let claims = claims_for(CLIENT_ID, &sim.token_endpoint());
    let sent = jsonwebtoken::encode(&header, &claims, &key).expect("signs");
    let (status, answer) = request_token(&sim, &sent, &[MEMBERSHIPS]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["scope"], MEMBERSHIPS);
}
