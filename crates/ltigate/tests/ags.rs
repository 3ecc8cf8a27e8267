//! Assignment and Grade Services through ltigate's LTIAAS API, against the LMS simulator over
//! loopback: what the app sends, what the simulator received, and what ltigate refuses before
//! anything leaves it.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::expect_error;
use common::lms::Lms;
use common::services::{AGS_CLAIM, encode};
use reqwest::Method;
use serde_json::json;

const SCOPE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/";

/// Neither the token endpoint nor any AGS path of the simulator saw a request.
fn nothing_reached(lms: &Lms, paths: &[&str]) {
    assert_eq!(lms.sim.user_agent_seen(&lms.sim.token_endpoint()), None);
    for path in paths {
        assert_eq!(lms.sim.user_agent_seen(path), None, "{path} was called");
    }
}

/// An app can point ltigate's access token only at its own context's AGS endpoints: a `url`
/// page elsewhere, or a line item id outside the context's container, is a 400 before any
/// token is asked for.
#[tokio::test]
async fn foreign_urls_and_line_items_are_refused_before_anything_leaves() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let base = lms.sim.base_url();
    let other_course = format!("{base}/ags/contexts/other-course/lineitems");
    let foreign_pages = [
        format!("{other_course}?page=2"),
        "http://127.0.0.1:9/ags/contexts/ltisim-course-1/lineitems?page=2".to_owned(),
        format!("{}/../x?page=2", launch.lineitems()),
        format!("{}/1", launch.lineitems()),
    ];
    for page in &foreign_pages {
        let response = lms
            .api(
                Method::GET,
                &format!("/api/lineitems?url={}", encode(page)),
                &launch.ltik,
            )
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "URL_NOT_ALLOWED").await;
    }
    let foreign_items = [
        format!("{other_course}/1"),
        format!("{base}/ags/contexts/ltisim-course-1/lineitems-evil/1"),
        "http://evil.example/lineitems/1".to_owned(),
    ];
    for item in &foreign_items {
        let id = encode(item);
        for (method, path) in [
            (Method::GET, format!("/api/lineitems/{id}")),
            (Method::DELETE, format!("/api/lineitems/{id}")),
            (Method::GET, format!("/api/lineitems/{id}/scores")),
        ] {
            let response = lms.api(method, &path, &launch.ltik).send().await.unwrap();
            expect_error(response, 400, "URL_NOT_ALLOWED").await;
        }
        let response = lms
            .api(Method::POST, &format!("/api/lineitems/{id}/scores"), &launch.ltik)
            .json(&json!({"userId": "u1", "activityProgress": "Completed", "gradingProgress": "FullyGraded"}))
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "URL_NOT_ALLOWED").await;
    }
    // A results page of the launch's line item is not a page of another line item.
    let page = format!("{}/results?page=2", launch.lineitem());
    let other_item = encode(&format!("{}/2", launch.lineitems()));
    let response = lms
        .api(
            Method::GET,
            &format!("/api/lineitems/{other_item}/scores?url={}", encode(&page)),
            &launch.ltik,
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "URL_NOT_ALLOWED").await;
    nothing_reached(
        &lms,
        &[
            "/ags/contexts/other-course/lineitems/1",
            "/ags/contexts/ltisim-course-1/x",
        ],
    );
}

/// A scope the launch's AGS claim does not list is a 403 naming it, before any token request.
#[tokio::test]
async fn a_scope_the_launch_does_not_grant_is_403() {
    let lms = Lms::start().await;
    let readonly = json!({AGS_CLAIM: {"scope": [format!("{SCOPE}lineitem.readonly")]}});
    let launch = lms.launch_with(Some(readonly)).await;
    let score =
        json!({"userId": "u1", "activityProgress": "Completed", "gradingProgress": "FullyGraded"});
    let calls = [
        (
            Method::POST,
            "/api/lineitems/default/scores",
            Some(&score),
            "score",
        ),
        (
            Method::GET,
            "/api/lineitems/default/scores",
            None,
            "result.readonly",
        ),
        (
            Method::POST,
            "/api/lineitems",
            Some(&json!({"label": "Quiz", "scoreMaximum": 10})),
            "scope/lineitem",
        ),
        (
            Method::DELETE,
            "/api/lineitems/default",
            None,
            "scope/lineitem",
        ),
    ];
    for (method, path, body, scope) in calls {
        let mut request = lms.api(method, path, &launch.ltik);
        if let Some(body) = body {
            request = request.json(body);
        }
        let body = expect_error(request.send().await.unwrap(), 403, "SCOPE_NOT_GRANTED").await;
        let description = body["details"]["description"].as_str().unwrap();
        assert!(description.contains(scope), "{path}: {description}");
    }
    nothing_reached(&lms, &[launch.lineitems(), launch.lineitem()]);
}

/// Without the AGS claim there is nothing to call; unreadable ids and bad scores are the
/// app's mistakes, named.
#[tokio::test]
async fn refusals_of_the_apps_request() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let score_to = |body: serde_json::Value| {
        lms.api(Method::POST, "/api/lineitems/default/scores", &launch.ltik)
            .json(&body)
            .send()
    };
    let cases = [
        (
            json!({"activityProgress": "Completed", "gradingProgress": "FullyGraded"}),
            "MISSING_FIELD",
            "userId",
        ),
        (
            json!({"userId": "u1", "activityProgress": "Done", "gradingProgress": "FullyGraded"}),
            "INVALID_FIELD",
            "activityProgress",
        ),
        (
            json!({"userId": "u1", "activityProgress": "Completed", "gradingProgress": "FullyGraded", "scoreGiven": 3}),
            "INVALID_FIELD",
            "scoreMaximum",
        ),
        (
            json!({"userId": "u1", "activityProgress": "Completed", "gradingProgress": "FullyGraded", "scoreGiven": 3, "scoreMaximum": 0}),
            "INVALID_FIELD",
            "scoreMaximum",
        ),
    ];
    for (body, code, named) in cases {
        let error = expect_error(score_to(body.clone()).await.unwrap(), 400, code).await;
        assert!(
            error["details"]["description"]
                .as_str()
                .unwrap()
                .contains(named),
            "{body}: {error}"
        );
    }
    for path in [
        "/api/lineitems/not-a-url",
        "/api/lineitems/ftp%3A%2F%2Fx%2F1/scores",
    ] {
        let response = lms
            .api(Method::GET, path, &launch.ltik)
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "INVALID_PARAMETER").await;
    }
    let response = lms
        .api(Method::GET, "/api/lineitems?limit=0", &launch.ltik)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "INVALID_PARAMETER").await;

    let without = lms.launch_with(Some(json!({AGS_CLAIM: null}))).await;
    let response = lms
        .api(Method::GET, "/api/lineitems", &without.ltik)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "SERVICE_NOT_AVAILABLE").await;
    nothing_reached(&lms, &[launch.lineitems(), launch.lineitem()]);
}
