//! LMS-facing routes: `/lti/login`, `/lti/launch`, `/lti/keys`.

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

use super::{CLIENT_ID, Fixture, ISSUER, SEED, get};
use crate::secret::Random;

fn login_uri(iss: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("iss", iss)
        .append_pair("client_id", CLIENT_ID)
        .append_pair("login_hint", "user-1")
        .append_pair("target_link_uri", "https://app.example.com/launch")
        .append_pair("lti_message_hint", "hint-1")
        .finish();
    format!("/lti/login?{query}")
}

fn form_post(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

#[tokio::test]
async fn login_redirects_to_the_platform_with_a_nonce_and_state_from_the_random_source() {
    let fixture = Fixture::new().await;
    let answer = fixture.send(get(&login_uri(ISSUER))).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    answer.assert_common_headers();
    let location = Url::parse(answer.header(LOCATION)).expect("a redirect URL");
    assert_eq!(
        location.as_str().split('?').next(),
        Some("https://lms.example.edu/auth")
    );
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    assert_eq!(param("client_id"), CLIENT_ID);
    assert_eq!(param("login_hint"), "user-1");
    assert_eq!(param("lti_message_hint"), "hint-1");
    assert_eq!(param("response_mode"), "form_post");

    // Replay the seeded source: the start drew the login state key, then this login drew the
    // state id and the nonce.
    let replay = Random::seeded(SEED);
    let _state_key = replay.token(32);
    let (state_id, nonce) = (replay.token(16), replay.token(16));
    assert_eq!(param("nonce"), nonce);
    let state = param("state");
    let body = state.split('.').next().expect("sealed state body");
    let sealed: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).expect("base64")).expect("json");
    assert_eq!(sealed["i"], state_id.as_str());
    assert_eq!(sealed["n"], nonce.as_str());
    // The browser binding cookie is named after the state id (plain http: SameSite=Lax).
    let cookie = answer.header(SET_COOKIE);
    assert!(
        cookie.starts_with(&format!("ltigate_state_{state_id}=")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn login_refusals_are_pages_with_their_code() {
    let fixture = Fixture::new().await;
    let cases = [
        ("/lti/login", StatusCode::BAD_REQUEST, "LOGIN_INVALID"),
        (
            "/lti/login?iss=https://lms.example.edu",
            StatusCode::BAD_REQUEST,
            "LOGIN_INVALID",
        ),
    ];
    for (uri, status, code) in cases {
        fixture.send(get(uri)).await.assert_page_error(status, code);
    }
    fixture
        .send(get(&login_uri("https://unknown.example.edu")))
        .await
        .assert_page_error(StatusCode::NOT_FOUND, "PLATFORM_NOT_FOUND");
}

#[tokio::test]
async fn launch_refusals_are_pages_with_their_code() {
    let fixture = Fixture::new().await;
    let cases = [
        ("", StatusCode::BAD_REQUEST, "STATE_MISSING"),
        (
            "id_token=x&state=forged.tag",
            StatusCode::BAD_REQUEST,
            "STATE_INVALID",
        ),
        (
            "error=login_required",
            StatusCode::BAD_REQUEST,
            "PLATFORM_ERROR",
        ),
    ];
    for (body, status, code) in cases {
        fixture
            .send(form_post("/lti/launch", body))
            .await
            .assert_page_error(status, code);
    }
}

#[tokio::test]
async fn the_jwks_is_public_json_with_short_caching() {
    let fixture = Fixture::new().await;
    let answer = fixture.send(get("/lti/keys")).await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.assert_common_headers();
    assert_eq!(answer.header(CONTENT_TYPE), "application/json");
    assert_eq!(answer.header(CACHE_CONTROL), "public, max-age=300");
    let keys = answer.json()["keys"].clone();
    assert_eq!(keys.as_array().map(Vec::len), Some(1));
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert!(keys[0].get("d").is_none(), "no private part");
}
