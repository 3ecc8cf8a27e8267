//! Assignment and Grade Services through ltigate's LTIAAS API, against the LMS simulator over
//! loopback: what the app sends, what the simulator received, and what ltigate refuses before
//! anything leaves it.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::expect_error;
use common::lms::Lms;
use common::services::{AGS_CLAIM, encode, next_as_url};
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
        // The container is not one of its line items.
        launch.lineitems().to_owned(),
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
        let response = lms.api_send(Method::GET, path, &launch.ltik).await;
        expect_error(response, 400, "INVALID_PARAMETER").await;
    }
    let response = lms
        .api_send(Method::GET, "/api/lineitems?limit=0", &launch.ltik)
        .await;
    expect_error(response, 400, "INVALID_PARAMETER").await;

    let without = lms.launch_with(Some(json!({AGS_CLAIM: null}))).await;
    let response = lms
        .api_send(Method::GET, "/api/lineitems", &without.ltik)
        .await;
    expect_error(response, 400, "SERVICE_NOT_AVAILABLE").await;
    nothing_reached(&lms, &[launch.lineitems(), launch.lineitem()]);
}

const LINEITEM_TYPE: &str = "application/vnd.ims.lis.v2.lineitem+json";
const CONTAINER_TYPE: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";
const SCORE_TYPE: &str = "application/vnd.ims.lis.v1.score+json";
const RESULTS_TYPE: &str = "application/vnd.ims.lis.v2.resultcontainer+json";
const CANVAS_SUBMISSION: &str = "https://canvas.instructure.com/lti/submission";
const COURSE: &str = "ltisim-course-1";

/// The last AGS or NRPS request the simulator received.
fn last_request(lms: &Lms) -> ltisim::ServiceRequestRecord {
    lms.sim.service_requests().pop().expect("a service request")
}

/// `2026-12-01T14:00:00.123Z`: RFC 3339, UTC, three fraction digits.
fn is_millisecond_timestamp(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 24
        && value.ends_with('Z')
        && bytes[19] == b'.'
        && bytes[10] == b'T'
        && value[20..23].bytes().all(|b| b.is_ascii_digit())
}

/// A score reaches the platform as the spec's score: IMS media type, the app's members
/// (`user_id` read as `userId`, `null`s dropped), Canvas's submission extension untouched
/// and a millisecond timestamp; a second score right after it is accepted too (a platform
/// refusing a repeated timestamp, as Open edX does, sees a newer one).
#[tokio::test]
async fn a_score_reaches_the_platform_as_the_specs_score() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let submission = json!({"submission_type": "online_url", "submission_data": "https://app.example/work/7",
                            "submitted_at": "2026-11-30T10:00:00Z", "new_submission": true});
    let response = lms
        .api(Method::POST, "/api/lineitems/default/scores", &launch.ltik)
        .json(&json!({
            "user_id": "ltisim-user-2003",
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "scoreGiven": 83.5,
            "scoreMaximum": 100,
            "comment": null,
            CANVAS_SUBMISSION: submission,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let received = lms.sim.scores_received(launch.lineitem());
    assert_eq!(received.len(), 1);
    let score = &received[0];
    let timestamp = score["timestamp"].as_str().unwrap();
    assert!(is_millisecond_timestamp(timestamp), "{timestamp}");
    assert_eq!(
        score,
        &json!({
            "userId": "ltisim-user-2003",
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "scoreGiven": 83.5,
            "scoreMaximum": 100,
            "timestamp": timestamp,
            CANVAS_SUBMISSION: submission,
        })
    );
    let request = last_request(&lms);
    assert_eq!(request.method, "POST");
    assert_eq!(request.content_type.as_deref(), Some(SCORE_TYPE));
    assert_eq!(
        request.path,
        format!("/ags/contexts/{COURSE}/lineitems/1/scores")
    );
    assert!(request.bearer.is_some());

    // At once a second score for the same user: a newer timestamp, accepted.
    let response = lms
        .api(Method::POST, "/api/lineitems/default/scores", &launch.ltik)
        .json(
            &json!({"userId": "ltisim-user-2003", "activityProgress": "Completed",
                      "gradingProgress": "FullyGraded", "scoreGiven": 90, "scoreMaximum": 100}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let received = lms.sim.scores_received(launch.lineitem());
    assert_eq!(received.len(), 2);
    assert!(received[1]["timestamp"].as_str().unwrap() > timestamp);

    // One token for both, asked with the launch's AGS scopes, its assertion for the token
    // endpoint.
    let tokens = lms.sim.token_requests();
    assert_eq!(tokens.len(), 1);
    let mut scopes = tokens[0].requested_scopes.clone();
    scopes.sort();
    assert_eq!(
        scopes,
        ["lineitem", "lineitem.readonly", "result.readonly", "score"]
            .map(|s| format!("{SCOPE}{s}"))
    );
    assert_eq!(tokens[0].claims["aud"], json!(lms.sim.token_endpoint()));
    assert_eq!(tokens[0].outcome, Ok(()));
}

/// Line items: create (201, nulls dropped), filter, page across three pages by following
/// `next` as `url`, read one by the id forms clients send, replace, delete; each request
/// with the IMS media types.
#[tokio::test]
async fn line_items_round_trip_with_filters_and_paging() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let mut created = Vec::new();
    for n in 1..=4 {
        let response = lms
            .api(Method::POST, "/api/lineitems", &launch.ltik)
            .json(
                &json!({"label": format!("Quiz {n}"), "scoreMaximum": 10 * n,
                          "resourceId": if n % 2 == 0 { "even" } else { "odd" },
                          "tag": null, "gradesReleased": true}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let item: serde_json::Value = response.json().await.unwrap();
        assert_eq!(item["label"], format!("Quiz {n}"));
        assert!(item.get("tag").is_none(), "{item}");
        let request = last_request(&lms);
        assert_eq!(request.content_type.as_deref(), Some(LINEITEM_TYPE));
        assert_eq!(request.accept.as_deref(), Some(LINEITEM_TYPE));
        assert!(!request.body.contains("null"), "{}", request.body);
        created.push(item["id"].as_str().unwrap().to_owned());
    }
    let stored = lms.sim.line_items(COURSE);
    assert_eq!(stored.len(), 5);

    // Filters become the spec's parameters.
    let response = lms
        .api(
            Method::GET,
            "/api/lineitems?resourceId=even&tag=t&resourceLinkId=rl&limit=7",
            &launch.ltik,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request = last_request(&lms);
    assert_eq!(request.accept.as_deref(), Some(CONTAINER_TYPE));
    assert_eq!(
        request.path,
        format!(
            "/ags/contexts/{COURSE}/lineitems?resource_link_id=rl&resource_id=even&tag=t&limit=7"
        )
    );

    // Three pages of two, following `next` (sent back encoded once, then twice).
    let pages = lms
        .all_pages("/api/lineitems?limit=2", &launch.ltik, |next, n| {
            next_as_url("/api/lineitems", next, n)
        })
        .await;
    assert_eq!(pages.len(), 3);
    assert!(
        pages
            .iter()
            .all(|p| p["first"].as_str().unwrap().contains("page=1"))
    );
    assert!(pages[2]["prev"].is_string());
    let seen: Vec<&serde_json::Value> = pages
        .iter()
        .flat_map(|p| p["lineItems"].as_array().unwrap())
        .map(|i| &i["id"])
        .collect();
    let expected: Vec<&serde_json::Value> = stored.iter().map(|i| &i["id"]).collect();
    assert_eq!(seen, expected);

    // One line item, by every id form: encoded, slashes left unencoded, encoded twice.
    let id = &created[1];
    for form in [
        encode(id),
        id.replacen("://", "%3A//", 1),
        encode(&encode(id)),
    ] {
        let response = lms
            .api_send(Method::GET, &format!("/api/lineitems/{form}"), &launch.ltik)
            .await;
        assert_eq!(response.status(), 200, "{form}");
        let item: serde_json::Value = response.json().await.unwrap();
        assert_eq!(item["id"], json!(id));
        assert_eq!(item["scoreMaximum"], 20);
        assert_eq!(last_request(&lms).accept.as_deref(), Some(LINEITEM_TYPE));
    }
    let default = lms.api_json("/api/lineitems/default", &launch.ltik).await;
    assert_eq!(default["id"], json!(launch.lineitem()));

    // Replace, then delete.
    let response = lms
        .api(
            Method::PUT,
            &format!("/api/lineitems/{}", encode(id)),
            &launch.ltik,
        )
        .json(&json!({"label": "Quiz 2 (renamed)", "scoreMaximum": 25, "resourceId": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request = last_request(&lms);
    assert_eq!(request.method, "PUT");
    assert_eq!(request.content_type.as_deref(), Some(LINEITEM_TYPE));
    let sent: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        sent,
        json!({"id": id, "label": "Quiz 2 (renamed)", "scoreMaximum": 25})
    );
    let response = lms
        .api(
            Method::DELETE,
            &format!("/api/lineitems/{}", encode(id)),
            &launch.ltik,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(last_request(&lms).method, "DELETE");
    assert!(
        lms.sim
            .line_items(COURSE)
            .iter()
            .all(|i| i["id"] != json!(id))
    );
}

/// Results of a line item in LTIAAS's shape, across three pages, and filtered by user.
#[tokio::test]
async fn results_page_across_three_pages_and_filter_by_user() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let users: Vec<String> = (1..=5).map(|n| format!("student-{n}")).collect();
    // The SDK's form: slashes unencoded.
    let scores = format!(
        "/api/lineitems/{}/scores",
        launch.lineitem().replacen("://", "%3A//", 1)
    );
    for (n, user) in users.iter().enumerate() {
        let response = lms
            .api(Method::POST, &scores, &launch.ltik)
            .json(&json!({"userId": user, "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                          "scoreGiven": n, "scoreMaximum": 10, "comment": format!("well done {n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let pages = lms
        .all_pages(&format!("{scores}?limit=2"), &launch.ltik, |next, n| {
            next_as_url(&scores, next, n)
        })
        .await;
    assert_eq!(pages.len(), 3);
    let mut seen = Vec::new();
    for result in pages.iter().flat_map(|p| p["scores"].as_array().unwrap()) {
        assert_eq!(result["scoreOf"], json!(launch.lineitem()));
        assert!(result["resultMaximum"].is_number(), "{result}");
        seen.push(result["userId"].as_str().unwrap().to_owned());
    }
    seen.sort();
    assert_eq!(seen, users);
    let reads = lms.sim.service_requests();
    let reads: Vec<_> = reads.iter().filter(|r| r.method == "GET").collect();
    assert_eq!(reads.len(), 3);
    assert!(
        reads
            .iter()
            .all(|r| r.accept.as_deref() == Some(RESULTS_TYPE))
    );

    let page = lms
        .api_json(&format!("{scores}?userId=student-3"), &launch.ltik)
        .await;
    assert_eq!(
        last_request(&lms).path,
        format!("/ags/contexts/{COURSE}/lineitems/1/results?user_id=student-3")
    );
    let results = page["scores"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["userId"], "student-3");
    assert_eq!(results[0]["resultScore"], 2);
    assert_eq!(results[0]["comment"], "well done 2");
}

/// A platform failure comes back with the platform's status and body in `details`.
#[tokio::test]
async fn a_platform_failure_comes_back_with_its_status_and_body() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    lms.sim.set_service_failure(ltisim::Failure::Status(
        500,
        r#"{"error":"gradebook is locked"}"#.into(),
        "application/json".into(),
    ));
    let response = lms
        .api(Method::POST, "/api/lineitems/default/scores", &launch.ltik)
        .json(&json!({"userId": "u1", "activityProgress": "Completed", "gradingProgress": "FullyGraded"}))
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 502, "PLATFORM_SERVICE_ERROR").await;
    assert_eq!(body["details"]["platformStatus"], 500);
    assert!(
        body["details"]["platformBody"]
            .as_str()
            .unwrap()
            .contains("gradebook is locked"),
        "{body}"
    );
    // A client error of the platform keeps its status.
    lms.sim.set_service_failure(ltisim::Failure::Status(
        404,
        r#"{"error":"no such line item"}"#.into(),
        "application/json".into(),
    ));
    let response = lms
        .api_send(Method::GET, "/api/lineitems/default", &launch.ltik)
        .await;
    let body = expect_error(response, 404, "PLATFORM_SERVICE_ERROR").await;
    assert!(
        body["details"]["platformBody"]
            .as_str()
            .unwrap()
            .contains("no such line item")
    );
}

/// A service key reaches the context's AGS without a live launch: line items by id, not
/// `default` (that belongs to one resource link).
#[tokio::test]
async fn a_service_key_posts_scores_for_the_context() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let idtoken: serde_json::Value = lms.idtoken(&launch.ltik, "").await.json().await.unwrap();
    let key = idtoken["services"]["serviceKey"].as_str().unwrap();
    let with_key = |method: Method, path: &str| {
        lms.gate.client.request(method, lms.gate.url(path)).header(
            "Authorization",
            format!("SERVICE-AUTH-V1 {}:{key}", common::API_KEY),
        )
    };
    let score =
        json!({"userId": "u7", "activityProgress": "Submitted", "gradingProgress": "Pending"});
    let response = with_key(
        Method::POST,
        &format!("/api/lineitems/{}/scores", encode(launch.lineitem())),
    )
    .json(&score)
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(lms.sim.scores_received(launch.lineitem()).len(), 1);
    let response = with_key(Method::POST, "/api/lineitems/default/scores")
        .json(&score)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "SERVICE_NOT_AVAILABLE").await;
}
