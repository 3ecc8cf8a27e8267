//! The app API: `/api/idtoken` and `/api/registrations/...`.

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;

use super::{Fixture, get};

#[tokio::test]
async fn idtoken_answers_the_launch_in_the_ltiaas_shape() {
    let fixture = Fixture::new().await;
    for uri in ["/api/idtoken", "//api/idtoken"] {
        let request = fixture
            .launch_auth("GET", uri)
            .body(Body::empty())
            .expect("request");
        let answer = fixture.send(request).await;
        answer.assert_api(StatusCode::OK);
        let body = answer.json();
        assert_eq!(body["ltiVersion"], "1.3.0", "{uri}");
        assert_eq!(body["user"]["id"], "user-1");
        assert_eq!(body["platform"]["id"], fixture.platform_id.as_str());
    }
    let raw = fixture
        .launch_auth("GET", "/api/idtoken?raw=true")
        .body(Body::empty())
        .expect("request");
    let body = fixture.send(raw).await.json();
    assert_eq!(body["sub"], "user-1");
    assert_eq!(body["ltiVersion"], "1.3.0");
}

#[tokio::test]
async fn idtoken_refusals_are_json_errors() {
    let fixture = Fixture::new().await;
    fixture
        .send(get("/api/idtoken"))
        .await
        .assert_api_error(StatusCode::UNAUTHORIZED, "MISSING_AUTHORIZATION");
    let wrong = fixture
        .authorized(
            "GET",
            "/api/idtoken",
            &format!("LTIK-AUTH-V2 {}:nope", fixture.api_key),
        )
        .body(Body::empty())
        .expect("request");
    fixture
        .send(wrong)
        .await
        .assert_api_error(StatusCode::UNAUTHORIZED, "INVALID_LTIK");
    // The ltik lives 24 h on the clock; past its expiry it no longer reads.
    fixture.clock.advance(3600);
    let expired = fixture
        .launch_auth("GET", "/api/idtoken")
        .body(Body::empty())
        .expect("request");
    fixture
        .send(expired)
        .await
        .assert_api_error(StatusCode::UNAUTHORIZED, "INVALID_LTIK");
}

#[tokio::test]
async fn registration_api_needs_the_app_key_and_a_known_id() {
    let fixture = Fixture::new().await;
    fixture
        .send(get("/api/registrations/unknown"))
        .await
        .assert_api_error(StatusCode::UNAUTHORIZED, "MISSING_AUTHORIZATION");
    let unknown = fixture
        .app_key("GET", "/api/registrations/unknown")
        .body(Body::empty())
        .expect("request");
    fixture
        .send(unknown)
        .await
        .assert_api_error(StatusCode::NOT_FOUND, "REGISTRATION_NOT_FOUND");
    let complete = fixture
        .app_key("POST", "/api/registrations/unknown/complete")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .expect("request");
    fixture
        .send(complete)
        .await
        .assert_api_error(StatusCode::BAD_REQUEST, "INVALID_BODY");
}
