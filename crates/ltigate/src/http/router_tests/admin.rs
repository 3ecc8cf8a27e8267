//! The admin API: `/admin/platforms...`.

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;

use super::{CLIENT_ID, Fixture, ISSUER, get};

#[tokio::test]
async fn platforms_are_listed_and_read_by_id() {
    let fixture = Fixture::new().await;
    let list = fixture
        .admin("GET", "/admin/platforms")
        .body(Body::empty())
        .expect("request");
    let answer = fixture.send(list).await;
    answer.assert_api(StatusCode::OK);
    let platforms = answer.json()["platforms"].clone();
    assert_eq!(platforms.as_array().map(Vec::len), Some(1));
    assert_eq!(platforms[0]["id"], fixture.platform_id.as_str());
    assert_eq!(platforms[0]["url"], ISSUER);
    assert_eq!(platforms[0]["clientId"], CLIENT_ID);
    assert_eq!(platforms[0]["status"], "active");

    let one = fixture
        .admin("GET", &format!("/admin/platforms/{}", fixture.platform_id))
        .body(Body::empty())
        .expect("request");
    let answer = fixture.send(one).await;
    answer.assert_api(StatusCode::OK);
    assert_eq!(answer.json()["id"], fixture.platform_id.as_str());
}

#[tokio::test]
async fn admin_refusals_are_json_errors() {
    let fixture = Fixture::new().await;
    fixture
        .send(get("/admin/platforms"))
        .await
        .assert_api_error(StatusCode::UNAUTHORIZED, "MISSING_AUTHORIZATION");
    let unknown = fixture
        .admin("GET", "/admin/platforms/unknown")
        .body(Body::empty())
        .expect("request");
    fixture
        .send(unknown)
        .await
        .assert_api_error(StatusCode::NOT_FOUND, "PLATFORM_NOT_FOUND");
    let no_type = fixture
        .admin("POST", "/admin/platforms")
        .body(Body::from("{}"))
        .expect("request");
    fixture
        .send(no_type)
        .await
        .assert_api_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "INVALID_CONTENT_TYPE");
    let bad = fixture
        .admin("POST", "/admin/platforms")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"url": 1}"#))
        .expect("request");
    fixture
        .send(bad)
        .await
        .assert_api_error(StatusCode::BAD_REQUEST, "INVALID_BODY");
}
