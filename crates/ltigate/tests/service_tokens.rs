//! Service access tokens and service keys end to end: ltigate asks the simulator's token
//! endpoint, which verifies the client assertion against ltigate's `/lti/keys`, and the
//! simulator's AGS and NRPS accept only its tokens.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use axum::http::StatusCode;
use common::lms::Lms;
use common::services::Launched;
use common::{API_KEY, expect_error};
use ltisim::Failure;
use reqwest::Method;
use serde_json::{Value, json};

const SCORE: &str = "/api/lineitems/default/scores";

fn score(user: &str) -> Value {
    json!({"userId": user, "activityProgress": "Completed", "gradingProgress": "FullyGraded",
           "scoreGiven": 7, "scoreMaximum": 10})
}

async fn post_score(lms: &Lms, launch: &Launched, user: &str) -> reqwest::Response {
    lms.api(Method::POST, SCORE, &launch.ltik)
        .json(&score(user))
        .send()
        .await
        .unwrap()
}

/// The assertion names the tool as issuer and subject, the token endpoint as audience, is
/// signed with the tool's current key (the one `/lti/keys` names), and is used once.
#[tokio::test]
async fn the_client_assertion_is_what_the_platform_expects() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    assert_eq!(post_score(&lms, &launch, "u1").await.status(), 204);
    let requests = lms.sim.token_requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.outcome, Ok(()));
    assert_eq!(request.grant_type.as_deref(), Some("client_credentials"));
    assert_eq!(
        request.client_assertion_type.as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(request.claims["iss"], lms.client_id);
    assert_eq!(request.claims["sub"], lms.client_id);
    assert_eq!(request.claims["aud"], lms.sim.token_endpoint());
    let lifetime =
        request.claims["exp"].as_i64().unwrap() - request.claims["iat"].as_i64().unwrap();
    assert!((1..=300).contains(&lifetime), "{lifetime}");
    assert!(
        request.claims["jti"]
            .as_str()
            .is_some_and(|j| j.len() >= 16)
    );
    assert_eq!(request.header["alg"], "RS256");
    let jwks: Value = lms.gate.tool_jwks().await;
    assert_eq!(request.header["kid"], jwks["keys"][0]["kid"]);
}

/// With an `authorizationServer`, the assertion's audience is it, not the token endpoint;
/// a platform that expects one and is registered without it refuses the assertion, and the
/// app is told so with the platform's own answer.
#[tokio::test]
async fn the_audience_is_the_authorization_server_when_the_platform_names_one() {
    const AUDIENCE: &str = "https://auth.lms.example/oauth2/token";
    let lms = Lms::start_with(json!({"authorizationServer": AUDIENCE})).await;
    lms.sim
        .set_openid_configuration_patch(json!({"authorization_server": AUDIENCE}));
    let launch = lms.launch_with(None).await;
    assert_eq!(post_score(&lms, &launch, "u1").await.status(), 204);
    assert_eq!(lms.sim.token_requests()[0].claims["aud"], AUDIENCE);

    let path = format!("/admin/platforms/{}", lms.platform_id);
    lms.gate
        .admin_json(
            Method::PATCH,
            &path,
            Some(&json!({"authorizationServer": ""})),
        )
        .await;
    lms.sim.revoke_access_tokens();
    let response = post_score(&lms, &launch, "u2").await;
    let body = expect_error(response, 502, "TOKEN_REQUEST_FAILED").await;
    assert!(
        body["details"]["platformStatus"].as_u64().unwrap() >= 400,
        "{body}"
    );
    assert!(
        body["details"]["platformBody"]
            .as_str()
            .unwrap()
            .contains("invalid_client"),
        "{body}"
    );
}

/// 100 score posts at once need one token: exactly one token request reaches the platform.
#[tokio::test]
async fn concurrent_calls_share_one_token_request() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..100 {
        let post = lms
            .api(Method::POST, SCORE, &launch.ltik)
            .json(&score(&format!("user-{i}")));
        posts.spawn(async move { post.send().await.unwrap().status() });
    }
    let statuses = posts.join_all().await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    assert_eq!(lms.sim.token_requests().len(), 1);
    assert_eq!(
        lms.sim.scores_received(launch.lineitem()).len(),
        100,
        "every score reached the platform"
    );
}

/// A token the platform no longer accepts is replaced once: one more token request, and the
/// call succeeds. Open edX answers 403 instead of 401; that counts too.
#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_call_retried() {
    for status in [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN] {
        let lms = Lms::start().await;
        lms.sim.set_expired_token_status(status);
        let launch = lms.launch_with(None).await;
        assert_eq!(post_score(&lms, &launch, "u1").await.status(), 204);
        lms.sim.revoke_access_tokens();
        assert_eq!(
            post_score(&lms, &launch, "u2").await.status(),
            204,
            "{status}"
        );
        assert_eq!(lms.sim.token_requests().len(), 2, "{status}");
        assert_eq!(lms.sim.scores_received(launch.lineitem()).len(), 2);
        // The fresh token is cached again.
        assert_eq!(post_score(&lms, &launch, "u3").await.status(), 204);
        assert_eq!(lms.sim.token_requests().len(), 2, "{status}");
    }
}

/// A platform whose token endpoint fails: 502 with its answer, and nothing cached.
#[tokio::test]
async fn a_failing_token_endpoint_is_502_and_nothing_is_cached() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    lms.sim.set_token_failure(Failure::Status(
        503,
        "token service down for maintenance".into(),
        "text/plain".into(),
    ));
    let body = expect_error(
        post_score(&lms, &launch, "u1").await,
        502,
        "TOKEN_REQUEST_FAILED",
    )
    .await;
    assert_eq!(body["details"]["platformStatus"], 503);
    assert!(
        body["details"]["platformBody"]
            .as_str()
            .unwrap()
            .contains("down for maintenance")
    );
    lms.sim.set_token_failure(None);
    assert_eq!(post_score(&lms, &launch, "u1").await.status(), 204);
}

/// The service key `/api/idtoken` hands the app after a new launch.
async fn service_key(lms: &Lms) -> String {
    let launch = lms.launch_with(None).await;
    let idtoken: Value = lms.idtoken(&launch.ltik, "").await.json().await.unwrap();
    idtoken["services"]["serviceKey"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A service key works without the launch, stops at once when revoked through the admin
/// API, and the context's next launch hands out a new key that works.
#[tokio::test]
async fn a_revoked_service_key_stops_and_the_next_launch_hands_out_a_new_one() {
    let lms = Lms::start().await;
    let key = service_key(&lms).await;
    let roster = |key: String| {
        lms.gate
            .client
            .get(lms.gate.url("/api/memberships"))
            .header("Authorization", format!("SERVICE-AUTH-V1 {API_KEY}:{key}"))
            .send()
    };
    assert_eq!(roster(key.clone()).await.unwrap().status(), 200);

    let revoke = |key: &str| {
        lms.gate
            .admin(Method::POST, "/admin/servicekeys/revoke")
            .json(&json!({"serviceKey": key}))
            .send()
    };
    assert_eq!(revoke(&key).await.unwrap().status(), 204);
    expect_error(
        roster(key.clone()).await.unwrap(),
        401,
        "INVALID_SERVICE_KEY",
    )
    .await;
    expect_error(revoke(&key).await.unwrap(), 404, "SERVICE_KEY_NOT_FOUND").await;

    let new_key = service_key(&lms).await;
    assert_ne!(new_key, key);
    assert_eq!(roster(new_key).await.unwrap().status(), 200);

    // The admin key, not the API key, revokes.
    let response = lms
        .gate
        .client
        .post(lms.gate.url("/admin/servicekeys/revoke"))
        .header("Authorization", format!("Bearer {API_KEY}"))
        .json(&json!({"serviceKey": key}))
        .send()
        .await
        .unwrap();
    expect_error(response, 401, "INVALID_ADMIN_KEY").await;
}
