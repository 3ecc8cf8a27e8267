//! `/lti/register` inputs refused before any network call.

use axum::http::StatusCode;

use super::{Fixture, get};

#[tokio::test]
async fn unusable_registration_requests_are_pages_with_their_code() {
    let fixture = Fixture::new().await;
    let cases = [
        "/lti/register",
        "/lti/register?openid_configuration=",
        "/lti/register?openid_configuration=x&openid_configuration=y",
    ];
    for uri in cases {
        fixture
            .send(get(uri))
            .await
            .assert_page_error(StatusCode::BAD_REQUEST, "REGISTRATION_INVALID");
    }
    // Not http(s): refused by the outbound policy before any connection.
    fixture
        .send(get(
            "/lti/register?openid_configuration=ftp://lms.example.edu/config",
        ))
        .await
        .assert_page_error(StatusCode::BAD_GATEWAY, "URL_REFUSED");
}

#[tokio::test]
async fn registration_calls_over_the_rate_limit_get_retry_after() {
    let fixture = Fixture::new().await;
    let mut limited = None;
    for _ in 0..100 {
        let answer = fixture.send(get("/lti/register")).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(answer);
            break;
        }
    }
    let answer = limited.expect("the limit is reached");
    answer.assert_page_error(StatusCode::TOO_MANY_REQUESTS, "REGISTRATION_RATE_LIMITED");
    assert!(!answer.header("retry-after").is_empty());
}
