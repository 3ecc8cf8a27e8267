//! A registration is proven by its first launch: the admin API shows per platform when it
//! first and last launched. Real launches through the LMS simulator on loopback; only
//! launches ltigate accepted count.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::lms::Lms;
use common::manual_clock_at_now;
use ltigate::clock::Clock;
use ltisim::{MessageType, Signing, Tamper};
use reqwest::Method;
use serde_json::{Value, json};

/// `(firstLaunchAt, lastLaunchAt)` of the platform in `GET /admin/platforms/{id}`, after
/// checking that the list answer agrees.
async fn activity(lms: &Lms) -> (Value, Value) {
    let one = lms.platform().await;
    let path = format!("/admin/platforms?id={}", lms.platform_id);
    let listed = lms.gate.admin_json(Method::GET, &path, None).await;
    let listed = &listed["platforms"][0];
    for field in ["firstLaunchAt", "lastLaunchAt"] {
        assert!(one.get(field).is_some(), "{field} is always present: {one}");
        assert_eq!(listed[field], one[field], "{field}: list and item agree");
    }
    (one["firstLaunchAt"].clone(), one["lastLaunchAt"].clone())
}

#[tokio::test]
async fn a_platform_has_no_launch_until_its_first_accepted_one() {
    let clock = manual_clock_at_now();
    let lms = Lms::start_at(clock.clone(), json!({})).await;
    assert_eq!(activity(&lms).await, (Value::Null, Value::Null));

    // Refused launches prove nothing.
    let refused = lms
        .do_launch_until_error(Tamper::signing(Signing::CorruptSignature))
        .await;
    assert_eq!(refused, "SIGNATURE_INVALID");
    assert_eq!(activity(&lms).await, (Value::Null, Value::Null));

    let login = lms.login(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;
    lms.post_launch(&form, login.cookie.as_deref()).await.ltik();
    let launched_at = json!(clock.now());
    assert_eq!(
        activity(&lms).await,
        (launched_at.clone(), launched_at.clone()),
        "written before the launch answered"
    );

    // A minute later the same id_token again: refused, and it moves nothing (had it
    // counted, the throttle window is over and lastLaunchAt would be a minute later).
    clock.advance(61);
    let replay = lms.post_launch(&form, login.cookie.as_deref()).await;
    assert_eq!(replay.code(), "NONCE_REPLAYED");
    assert_eq!(activity(&lms).await, (launched_at.clone(), launched_at));
}

#[tokio::test]
async fn the_admin_api_reads_activity_past_the_platform_cache() {
    // The launch path caches the platform (read at login, before the launch is written);
    // the admin API must not answer from that copy.
    let lms = Lms::start_at(Clock::System, json!({})).await;
    lms.login(MessageType::ResourceLink).await;
    assert_eq!(activity(&lms).await, (Value::Null, Value::Null));
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    let (first, last) = activity(&lms).await;
    assert!(first.is_i64() && first == last, "{first} {last}");
}
