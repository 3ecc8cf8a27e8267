//! Names and Role Provisioning Services through ltigate's LTIAAS API, against the LMS
//! simulator over loopback.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::expect_error;
use common::lms::Lms;
use common::services::{NRPS_CLAIM, encode, next_as_url};
use reqwest::Method;
use serde_json::json;

/// A `url` page that is not the launch's own membership endpoint is a 400, before any token
/// request; so is a launch without the NRPS claim.
#[tokio::test]
async fn foreign_pages_and_missing_service_are_refused_before_anything_leaves() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let base = lms.sim.base_url();
    for page in [
        format!("{base}/nrps/contexts/other-course/memberships?page=2"),
        format!("{}/x?page=2", launch.memberships()),
        "http://127.0.0.1:9/nrps/contexts/ltisim-course-1/memberships?page=2".to_owned(),
        "https://lms.example.edu/nrps/contexts/ltisim-course-1/memberships".to_owned(),
    ] {
        let response = lms
            .api(
                Method::GET,
                &format!("/api/memberships?url={}", encode(&page)),
                &launch.ltik,
            )
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "URL_NOT_ALLOWED").await;
    }
    let without = lms.launch_with(Some(json!({NRPS_CLAIM: null}))).await;
    let response = lms
        .api_send(Method::GET, "/api/memberships", &without.ltik)
        .await;
    expect_error(response, 400, "SERVICE_NOT_AVAILABLE").await;
    assert_eq!(lms.sim.user_agent_seen(&lms.sim.token_endpoint()), None);
    assert_eq!(lms.sim.user_agent_seen(launch.memberships()), None);
}

const MEMBERSHIP_TYPE: &str = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";

/// The roster in LTIAAS's shape across three pages: each page is one platform page, its
/// `next` sent back as `url` (encoded once, then twice); every member once, with the LTIAAS
/// names; each request with the membership media type and the NRPS scope.
#[tokio::test]
async fn the_roster_pages_across_three_pages() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let pages = lms
        .all_pages("/api/memberships", &launch.ltik, |next, n| {
            next_as_url("/api/memberships", next, n)
        })
        .await;
    assert_eq!(pages.len(), 3);
    let mut seen = Vec::new();
    for page in &pages {
        assert_eq!(page["context"]["id"], "ltisim-course-1");
        assert!(
            page["id"]
                .as_str()
                .unwrap()
                .starts_with(launch.memberships())
        );
        for member in page["members"].as_array().unwrap() {
            assert!(member.get("user_id").is_none(), "{member}");
            assert!(member["roles"].is_array());
            assert!(member["status"].is_string());
            seen.push(member["userId"].as_str().unwrap().to_owned());
        }
    }
    let requests = lms.sim.service_requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.accept.as_deref() == Some(MEMBERSHIP_TYPE))
    );
    let roster: Vec<String> = lms
        .sim
        .memberships("ltisim-course-1")
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, roster);

    // The instructor of the launch, with every LTIAAS member name the simulator fills.
    let first = lms.api_json("/api/memberships?limit=1", &launch.ltik).await;
    let ada = &first["members"][0];
    let sim_ada = &lms.sim.memberships("ltisim-course-1")[0];
    assert_eq!(ada["userId"], sim_ada["user_id"]);
    assert_eq!(ada["givenName"], sim_ada["given_name"]);
    assert_eq!(ada["familyName"], sim_ada["family_name"]);
    assert_eq!(ada["email"], sim_ada["email"]);
    assert_eq!(ada["name"], sim_ada["name"]);

    let tokens = lms.sim.token_requests();
    assert_eq!(tokens.len(), 1, "one token for every page");
    assert_eq!(
        tokens[0].requested_scopes,
        ["https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"]
    );
}

/// The LTIAAS filters become the spec's parameters (`resourceLinkId` is `rlid`).
#[tokio::test]
async fn filters_become_the_specs_parameters() {
    let lms = Lms::start().await;
    let launch = lms.launch_with(None).await;
    let learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
    let response = lms
        .api(
            Method::GET,
            &format!(
                "/api/memberships?role={}&limit=5&resourceLinkId=ltisim-link-1",
                encode(learner)
            ),
            &launch.ltik,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: serde_json::Value = response.json().await.unwrap();
    let request = lms.sim.service_requests().pop().unwrap();
    let query: Vec<(String, String)> = url::Url::parse(&format!("http://x{}", request.path))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(
        query,
        [("role", learner), ("limit", "5"), ("rlid", "ltisim-link-1")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let members = page["members"].as_array().unwrap();
    assert_eq!(members.len(), 5);
    assert!(
        members
            .iter()
            .all(|m| m["roles"].to_string().contains("Learner"))
    );
    assert!(page["next"].is_string());
}
