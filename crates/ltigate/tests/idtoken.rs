//! `GET /api/idtoken` over loopback: what a launch accepted, the app can read.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::lms::{Lms, Outcome};
use ltisim::{MessageType, Tamper};
use serde_json::{Value, json};

const LTI: &str = "https://purl.imsglobal.org/spec/lti/claim/";

/// Odd but accepted values in optional claims read back (200, no `null`); the odd shapes the
/// launch refuses issue no ltik, so there is never a stored launch that cannot be read.
#[tokio::test]
async fn a_launch_with_odd_optional_claims_reads_and_refused_shapes_are_never_stored() {
    let lms = Lms::start().await;
    let accepted = json!({
        "name": null,
        format!("{LTI}custom"): {"n": 3, "nested": {"a": [1]}, "s": "$Canvas.user.id"},
        format!("{LTI}context"): {"id": "c1", "type": null, "title": null},
        format!("{LTI}launch_presentation"): {"width": "600", "height": "100%"},
        format!("{LTI}tool_platform"): {"guid": "g", "contactEmail": 5},
        format!("{LTI}lis"): {"person_sourcedid": "", "extra": [1]},
        "https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome": "yes",
        "https://lms.example/odd": [1, null, {"a": "b"}],
    });
    lms.sim.set_tamper(Tamper::claims(accepted));
    let outcome = lms.do_launch(MessageType::ResourceLink).await;
    lms.sim.reset_tamper();
    let Outcome::Handoff { ltik, .. } = &outcome else {
        panic!("refused: {outcome:?}");
    };
    let response = lms.idtoken(ltik, "").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(!body.to_string().contains("null"), "{body}");
    // The simulator merges these into its own claims: check the members set here.
    let launch = &body["launch"];
    assert_eq!(launch["custom"]["n"], 3);
    assert_eq!(launch["custom"]["nested"], json!({"a": [1]}));
    assert_eq!(launch["custom"]["s"], "$Canvas.user.id");
    assert_eq!(launch["context"]["id"], "c1");
    assert_eq!(launch["context"]["type"], json!([]));
    assert!(launch["context"].get("title").is_none());
    assert_eq!(launch["presentation"]["width"], 600);
    assert!(launch["presentation"].get("height").is_none());
    assert_eq!(body["platform"]["guid"], "g");
    assert_eq!(body["platform"]["lis"]["person_sourcedid"], "");
    assert_eq!(body["services"]["outcomes"], json!({"available": false}));
    let raw: Value = lms.idtoken(ltik, "?raw=true").await.json().await.unwrap();
    assert_eq!(raw["https://lms.example/odd"], json!([1, null, {"a": "b"}]));

    for (claim, odd) in [
        ("custom", json!("a=b")),
        (
            "roles",
            json!([
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
                5
            ]),
        ),
        ("context", json!({"id": 99})),
    ] {
        let tamper = Tamper::claims(json!({format!("{LTI}{claim}"): odd}));
        assert_eq!(
            lms.do_launch_until_error(tamper).await,
            "CLAIM_INVALID",
            "{claim}"
        );
    }
}
