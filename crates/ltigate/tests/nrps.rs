//! Names and Role Provisioning Services through ltigate's LTIAAS API, against the LMS
//! simulator over loopback.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::expect_error;
use common::lms::Lms;
use common::services::{NRPS_CLAIM, encode};
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
        .api(Method::GET, "/api/memberships", &without.ltik)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "SERVICE_NOT_AVAILABLE").await;
    assert_eq!(lms.sim.user_agent_seen(&lms.sim.token_endpoint()), None);
    assert_eq!(lms.sim.user_agent_seen(launch.memberships()), None);
}
