#![allow(clippy::unwrap_used)]

use serde_json::{Map, Value, json};

use lti::claims::uri;

use super::*;

const CANVAS: &str = include_str!("../../../ltisim/fixtures/canvas.json");
const MOODLE: &str = include_str!("../../../ltisim/fixtures/moodle.json");
const SPEC: &str = include_str!("../../../ltisim/fixtures/spec-example.json");

const PLATFORM: PlatformInfo<'static> = PlatformInfo {
    id: "pl_0c41aa08",
    issuer: "https://lms.example.edu",
    client_id: "client-123",
};

/// The answer for a payload, read back as `GET /api/idtoken` does: from the payload text, with
/// the launch's own rules.
fn idtoken_json(
    claims: &Map<String, Value>,
    platform: &PlatformInfo<'_>,
    service_key: Option<&str>,
) -> Value {
    let text = Value::Object(claims.clone()).to_string();
    let typed = LaunchClaims::from_json(&text).unwrap();
    serde_json::to_value(idtoken(&typed, platform, service_key)).unwrap()
}

/// Payloads the launch refuses are never stored, so the read never sees them.
fn refused_at_launch(claims: &Map<String, Value>) {
    let text = Value::Object(claims.clone()).to_string();
    assert!(LaunchClaims::from_json(&text).is_err(), "{text}");
}

/// The `id_token_claims` of a platform fixture.
fn fixture_claims(fixture: &str) -> Map<String, Value> {
    let doc: Value = serde_json::from_str(fixture).unwrap();
    doc["id_token_claims"].as_object().unwrap().clone()
}

fn claims_of(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// A minimal verified resource link launch.
fn minimal() -> Map<String, Value> {
    claims_of(json!({
        "iss": "https://lms.example.edu",
        "aud": "client-123",
        "sub": "u1",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "d1",
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": "https://tool.example.com/",
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "rl1"},
        "https://purl.imsglobal.org/spec/lti/claim/roles": [],
    }))
}

/// A deep linking request as Deep Linking 2.0 §4.4 describes it.
fn deep_linking_request() -> Map<String, Value> {
    let mut claims = minimal();
    claims.remove(uri::RESOURCE_LINK);
    claims.insert(uri::MESSAGE_TYPE.into(), json!("LtiDeepLinkingRequest"));
    claims.insert(
        uri::DEEP_LINKING_SETTINGS.into(),
        json!({
            "deep_link_return_url": "https://lms.example.edu/deep_links",
            "accept_types": ["link", "file", "html", "ltiResourceLink", "image"],
            "accept_media_types": "image/*, text/html",
            "accept_presentation_document_targets": ["iframe", "window", "embed"],
            "accept_multiple": true,
            "auto_create": true,
            "title": "This is the default title",
            "text": "This is the default text",
            "data": "csrftoken:c7fbba78-7b75-46e3-9201-11e6d5f36f53"
        }),
    );
    claims
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// No value anywhere in the body is `null` (LTIAAS clients reject `null` optionals).
fn assert_no_nulls(value: &Value, path: &str) {
    match value {
        Value::Null => panic!("null at {path}"),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                assert_no_nulls(v, &format!("{path}[{i}]"));
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                assert_no_nulls(v, &format!("{path}.{k}"));
            }
        }
        _ => {}
    }
}

#[test]
fn canvas_launch() {
    let body = idtoken_json(&fixture_claims(CANVAS), &PLATFORM, Some("svc-key"));
    assert_no_nulls(&body, "$");
    assert_eq!(body["ltiVersion"], "1.3.0");
    assert_eq!(
        body["user"],
        json!({
            "id": "e77934e7-4e98-4055-b4b4-3a8431e4f22a",
            "name": "TeacherFirst TeacherLast",
            "email": "teacher@example.edu",
            "givenName": "TeacherFirst",
            "familyName": "TeacherLast",
            "roles": [
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
                "http://purl.imsglobal.org/vocab/lis/v2/system/person#User"
            ]
        })
    );
    assert_eq!(
        body["platform"],
        json!({
            "id": "pl_0c41aa08",
            "url": "https://lms.example.edu",
            "clientId": "client-123",
            "deploymentId": "7:d3a2504bba5184799a38f141e8df2335cfa8206d",
            "name": "Example Lab",
            "guid": "zOUAtkfS3gI8nh5IskzlgAro1oCx3rx6SGGahiLL:canvas-lms",
            "productFamilyCode": "canvas",
            "version": "cloud",
            "lis": {
                "person_sourcedid": "7858675309",
                "course_offering_sourcedid": "$CourseSection.sourcedId"
            }
        })
    );
    let launch = &body["launch"];
    assert_eq!(launch["type"], "LtiResourceLinkRequest");
    assert_eq!(
        launch["target"],
        "https://tool.example.com/lti/provider/launch13"
    );
    assert_eq!(
        launch["context"],
        json!({
            "id": "d3a2504bba5184799a38f141e8df2335cfa8206d",
            "label": "LTI13",
            "title": "LTI 1.3 Test Course",
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]
        })
    );
    assert_eq!(
        launch["resourceLink"],
        json!({
            "id": "8aa641d1-b4d4-4fea-8a9b-e9fedfb62b1e",
            "title": "Test LTI 1.3 Assignment Name",
            "description": "<p>Assignment Description</p>"
        })
    );
    assert_eq!(
        launch["custom"],
        json!({"custom1": "value1", "custom2": "value2"})
    );
    assert_eq!(
        launch["presentation"],
        json!({
            "locale": "en",
            "document_target": "iframe",
            "documentTarget": "iframe",
            "returnUrl": "https://canvas.example.edu/courses/3/assignments"
        })
    );
    assert_eq!(
        body["services"],
        json!({
            "outcomes": {"available": false},
            "deepLinking": {"available": false},
            "assignmentAndGrades": {
                "available": true,
                "lineItemId": "https://canvas.example.edu/api/lti/courses/3/line_items/1",
                "scopes": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                    "https://canvas.instructure.com/lti-ags/progress/scope/show"
                ]
            },
            "namesAndRoles": {"available": true},
            "serviceKey": "svc-key"
        })
    );
}

#[test]
fn moodle_launch() {
    let body = idtoken_json(&fixture_claims(MOODLE), &PLATFORM, Some("k"));
    assert_no_nulls(&body, "$");
    let user = &body["user"];
    assert_eq!(user["id"], "2");
    assert_eq!(user["name"], "Admin User");
    assert_eq!(user["email"], "admin@example.edu");
    assert_eq!(user["givenName"], "Admin");
    assert_eq!(user["familyName"], "User");
    assert_eq!(
        user["roles"][1],
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    );
    assert_eq!(user["roles"].as_array().unwrap().len(), 3);
    assert!(user.get("roleScopeMentor").is_none());

    let platform = &body["platform"];
    assert_eq!(platform["deploymentId"], "4");
    assert_eq!(platform["name"], "moodle");
    assert_eq!(platform["description"], "mooodle");
    assert_eq!(platform["guid"], "moodle.example.edu");
    assert_eq!(platform["productFamilyCode"], "moodle");
    assert_eq!(platform["version"], "2023100903");
    assert!(platform.get("contactEmail").is_none());

    let launch = &body["launch"];
    // Moodle's short context type is passed through as sent.
    assert_eq!(
        launch["context"],
        json!({"id": "2", "label": "aaaa", "title": "Aaaa", "type": ["CourseSection"]})
    );
    // An empty description stays an empty string: it was sent.
    assert_eq!(
        launch["resourceLink"],
        json!({"id": "7", "title": "ad", "description": ""})
    );
    assert_eq!(launch["presentation"]["documentTarget"], "window");
    assert_eq!(
        launch["presentation"]["returnUrl"],
        "https://moodle.example.edu/moodle/mod/lti/return.php?course=2&launch_container=4&instanceid=7&sesskey=lcaBrFzpIX"
    );
    assert_eq!(
        launch["custom"]["context_memberships_url"],
        "https://moodle.example.edu/moodle/mod/lti/services.php/CourseSection/2/bindings/4/memberships"
    );

    let services = &body["services"];
    assert_eq!(services["outcomes"], json!({"available": true}));
    assert_eq!(services["deepLinking"], json!({"available": false}));
    assert_eq!(services["assignmentAndGrades"]["available"], true);
    assert_eq!(
        services["assignmentAndGrades"]["lineItemId"],
        "https://moodle.example.edu/moodle/mod/lti/services.php/2/lineitems/11/lineitem?type_id=4"
    );
    assert_eq!(services["namesAndRoles"], json!({"available": true}));
    assert_eq!(services["serviceKey"], "k");
}

#[test]
fn spec_example_launch() {
    let body = idtoken_json(&fixture_claims(SPEC), &PLATFORM, None);
    assert_no_nulls(&body, "$");
    assert_eq!(body["user"]["id"], "a6d5c443-1f51-4783-ba1a-7686ffe3b54a");
    assert_eq!(body["user"]["name"], "Ms Jane Marie Doe");
    assert_eq!(
        body["user"]["roleScopeMentor"],
        json!([
            "fad5fb29-a91c-770-3c110-1e687120efd9",
            "5d7373de-c76c-e2b-01214-69e487e2bd33",
            "d779cfd4-bc7b-019-9bf1a-04bf1915d4d0"
        ])
    );
    assert_eq!(
        body["platform"]["contactEmail"],
        "support@platform.example.edu"
    );
    assert_eq!(body["platform"]["description"], "An Example Tool Platform");
    assert_eq!(
        body["platform"]["productFamilyCode"],
        "ExamplePlatformVendor-Product"
    );
    assert_eq!(body["platform"]["version"], "1.0");
    assert_eq!(body["launch"]["context"]["label"], "ECON 1010");
    assert_eq!(
        body["launch"]["resourceLink"]["title"],
        "Introduction Assignment"
    );
    // Sizes stay numbers, as the spec sends them.
    assert_eq!(
        body["launch"]["presentation"],
        json!({
            "document_target": "iframe",
            "documentTarget": "iframe",
            "returnUrl": "https://platform.example.edu/terms/201601/courses/7/sec/1/resources/2",
            "width": 240,
            "height": 320
        })
    );
    // No AGS or NRPS claim: nothing available and no service key.
    assert_eq!(
        body["services"],
        json!({
            "outcomes": {"available": false},
            "deepLinking": {"available": false},
            "assignmentAndGrades": {"available": false},
            "namesAndRoles": {"available": false}
        })
    );
}

#[test]
fn top_level_shape_is_the_ltiaas_one() {
    let body = idtoken_json(&fixture_claims(CANVAS), &PLATFORM, None);
    let mut top = keys(&body);
    top.sort_unstable();
    assert_eq!(
        top,
        ["launch", "ltiVersion", "platform", "services", "user"]
    );
    // Section members are LTIAAS camelCase names, never claim names.
    for section in ["user", "launch", "services"] {
        for key in keys(&body[section]) {
            assert!(!key.contains('_') && !key.contains('/'), "{section}.{key}");
        }
    }
}

#[test]
fn service_key_only_when_given() {
    let claims = fixture_claims(CANVAS);
    let with = idtoken_json(&claims, &PLATFORM, Some("abc"));
    assert_eq!(with["services"]["serviceKey"], "abc");
    let without = idtoken_json(&claims, &PLATFORM, None);
    assert!(without["services"].get("serviceKey").is_none());
}

#[test]
fn deep_linking_request_carries_settings() {
    let body = idtoken_json(&deep_linking_request(), &PLATFORM, None);
    assert_no_nulls(&body, "$");
    assert_eq!(body["launch"]["type"], "LtiDeepLinkingRequest");
    assert!(body["launch"].get("resourceLink").is_none());
    assert_eq!(
        body["services"]["deepLinking"],
        json!({
            "available": true,
            "acceptTypes": ["link", "file", "html", "ltiResourceLink", "image"],
            "acceptMediaTypes": ["image/*", "text/html"],
            "acceptPresentationDocumentTargets": ["iframe", "window", "embed"],
            "acceptMultiple": true,
            "title": "This is the default title",
            "text": "This is the default text"
        })
    );
}

#[test]
fn deep_linking_settings_read_liberally() {
    let mut claims = deep_linking_request();
    claims.insert(
        uri::DEEP_LINKING_SETTINGS.into(),
        json!({
            "deep_link_return_url": "https://lms.example.edu/dl",
            "accept_types": ["ltiResourceLink"],
            "accept_media_types": "image/png, ,",
            "accept_multiple": false,
            "title": null
        }),
    );
    let dl = &idtoken_json(&claims, &PLATFORM, None)["services"]["deepLinking"];
    assert_eq!(
        *dl,
        json!({
            "available": true,
            "acceptTypes": ["ltiResourceLink"],
            "acceptMediaTypes": ["image/png"],
            "acceptMultiple": false
        })
    );
    // Shapes the launch refuses (CLAIM_INVALID) never reach the read.
    for (member, odd) in [
        ("accept_types", json!("ltiResourceLink")),
        ("accept_media_types", json!(["image/png", 7])),
        ("accept_multiple", json!("false")),
    ] {
        let mut claims = deep_linking_request();
        claims[uri::DEEP_LINKING_SETTINGS][member] = odd;
        refused_at_launch(&claims);
    }
}

#[test]
fn deep_linking_unavailable_without_return_url_or_request() {
    // A request without a return URL is refused at the launch (DEEP_LINKING_SETTINGS_MISSING).
    let mut no_url = deep_linking_request();
    no_url.insert(
        uri::DEEP_LINKING_SETTINGS.into(),
        json!({"accept_types": ["link"]}),
    );
    refused_at_launch(&no_url);
    let mut null_settings = deep_linking_request();
    null_settings.insert(uri::DEEP_LINKING_SETTINGS.into(), Value::Null);
    refused_at_launch(&null_settings);

    // Settings on a resource link launch cannot be answered.
    let mut wrong_type = deep_linking_request();
    wrong_type.insert(uri::MESSAGE_TYPE.into(), json!("LtiResourceLinkRequest"));
    wrong_type.insert(uri::RESOURCE_LINK.into(), json!({"id": "rl1"}));
    assert_eq!(
        idtoken_json(&wrong_type, &PLATFORM, None)["services"]["deepLinking"],
        json!({"available": false})
    );
}

#[test]
fn anonymous_launch_has_no_user_id() {
    let mut claims = fixture_claims(CANVAS);
    for claim in ["sub", "name", "email", "given_name", "family_name"] {
        claims.remove(claim);
    }
    let body = idtoken_json(&claims, &PLATFORM, None);
    assert_no_nulls(&body, "$");
    // Only the roles remain: no id, not even an empty one.
    assert_eq!(keys(&body["user"]), ["roles"]);
    assert_eq!(body["user"]["roles"].as_array().unwrap().len(), 3);

    // An empty id is not an id: the launch refuses it (LTI Core 1.3 §5.3.6).
    claims.insert("sub".into(), json!(""));
    refused_at_launch(&claims);
}

#[test]
fn empty_or_missing_roles_give_an_empty_list() {
    let body = idtoken_json(&minimal(), &PLATFORM, None);
    assert_eq!(body["user"]["roles"], json!([]));

    // Roles are required in a resource link launch, optional in a deep linking request.
    let mut claims = minimal();
    claims.remove(uri::ROLES);
    refused_at_launch(&claims);
    let mut claims = deep_linking_request();
    claims.remove(uri::ROLES);
    let body = idtoken_json(&claims, &PLATFORM, None);
    assert_eq!(body["user"]["roles"], json!([]));

    claims.insert(uri::ROLES.into(), Value::Null);
    let body = idtoken_json(&claims, &PLATFORM, None);
    assert_eq!(body["user"]["roles"], json!([]));
}

#[test]
fn minimal_launch_has_required_sections_only() {
    let body = idtoken_json(&minimal(), &PLATFORM, None);
    assert_no_nulls(&body, "$");
    assert_eq!(
        body,
        json!({
            "ltiVersion": "1.3.0",
            "user": {"id": "u1", "roles": []},
            "platform": {
                "id": "pl_0c41aa08",
                "url": "https://lms.example.edu",
                "clientId": "client-123",
                "deploymentId": "d1"
            },
            "launch": {
                "type": "LtiResourceLinkRequest",
                "target": "https://tool.example.com/",
                "resourceLink": {"id": "rl1"},
                "custom": {},
                "presentation": {}
            },
            "services": {
                "outcomes": {"available": false},
                "deepLinking": {"available": false},
                "assignmentAndGrades": {"available": false},
                "namesAndRoles": {"available": false}
            }
        })
    );
}

/// What the launch accepts in optional places, however odd, reads, and never as `null`.
#[test]
fn odd_types_are_dropped_or_coerced_never_null() {
    let mut claims = fixture_claims(CANVAS);
    let accepted = [
        ("name", json!(null)),
        (uri::LIS, json!(null)),
        (uri::NRPS, json!(null)),
        (uri::BASIC_OUTCOME, json!("yes")),
        (uri::CUSTOM, json!({"n": 3, "nested": {"a": [1]}})),
        (
            uri::CONTEXT,
            json!({"id": "99", "title": null, "type": null}),
        ),
        (
            uri::LAUNCH_PRESENTATION,
            json!({"document_target": "iframe", "width": "600", "height": "100%", "locale": null}),
        ),
        (
            uri::TOOL_PLATFORM,
            json!({"guid": "g", "contactEmail": 5, "extra": [1]}),
        ),
        (uri::AGS_ENDPOINT, json!({"lineitem": null, "scope": null})),
        ("https://lms.example/odd", json!([1, null, {"a": "b"}])),
    ];
    for (claim, value) in accepted {
        claims.insert(claim.into(), value);
    }
    let body = idtoken_json(&claims, &PLATFORM, None);
    assert_no_nulls(&body, "$");
    assert!(body["user"].get("name").is_none());
    assert_eq!(
        body["platform"],
        json!({
            "id": "pl_0c41aa08",
            "url": "https://lms.example.edu",
            "clientId": "client-123",
            "deploymentId": "7:d3a2504bba5184799a38f141e8df2335cfa8206d",
            "guid": "g"
        })
    );
    assert_eq!(body["launch"]["context"], json!({"id": "99", "type": []}));
    assert_eq!(
        body["launch"]["custom"],
        json!({"n": 3, "nested": {"a": [1]}})
    );
    // Sizes are numbers: a numeric string is read as one, anything else dropped.
    assert_eq!(
        body["launch"]["presentation"],
        json!({"document_target": "iframe", "documentTarget": "iframe", "width": 600})
    );
    assert_eq!(
        body["services"],
        json!({
            "outcomes": {"available": false},
            "deepLinking": {"available": false},
            "assignmentAndGrades": {"available": true},
            "namesAndRoles": {"available": false}
        })
    );

    // Shapes the launch refuses (CLAIM_INVALID or a missing claim) are never stored.
    let refused = [
        ("sub", json!(42)),
        ("email", json!(["a@b"])),
        ("given_name", json!({"x": 1})),
        ("family_name", json!(true)),
        (
            uri::ROLES,
            json!([
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
                5
            ]),
        ),
        (uri::ROLE_SCOPE_MENTOR, json!("m1")),
        (uri::DEPLOYMENT_ID, json!(null)),
        (uri::TOOL_PLATFORM, json!("canvas")),
        (uri::CONTEXT, json!({"id": 99})),
        (uri::RESOURCE_LINK, json!([1, 2])),
        (uri::CUSTOM, json!("a=b")),
        (uri::LAUNCH_PRESENTATION, json!({"document_target": 1})),
        (uri::AGS_ENDPOINT, json!({"scope": "x"})),
        (uri::MESSAGE_TYPE, json!(7)),
        (uri::TARGET_LINK_URI, json!(null)),
    ];
    for (claim, value) in refused {
        let mut claims = fixture_claims(CANVAS);
        claims.insert(claim.into(), value);
        refused_at_launch(&claims);
    }
}

#[test]
fn empty_payload_does_not_panic() {
    // Not a launch: refused, never stored, so `/api/idtoken` never reads it.
    refused_at_launch(&Map::new());
    assert!(LaunchClaims::from_json("").is_err());
}

#[test]
fn raw_mode_keeps_every_claim_and_adds_the_version() {
    let claims = fixture_claims(CANVAS);
    let raw = raw_idtoken_json(&claims);
    let raw = raw.as_object().unwrap();
    assert_eq!(raw["ltiVersion"], "1.3.0");
    assert_eq!(raw.len(), claims.len() + 1);
    for (name, value) in &claims {
        assert_eq!(&raw[name], value, "{name}");
    }
    // Canvas's explicit null stays: raw is raw.
    assert_eq!(raw["https://www.instructure.com/placement"], Value::Null);
    assert_eq!(raw["sub"], "e77934e7-4e98-4055-b4b4-3a8431e4f22a");
}

#[test]
fn raw_mode_version_overrides_a_claim_of_that_name() {
    let mut claims = minimal();
    claims.insert("ltiVersion".into(), json!("1.1"));
    let raw = raw_idtoken_json(&claims);
    assert_eq!(raw["ltiVersion"], "1.3.0");
    assert_eq!(raw["sub"], "u1");
}

/// Each platform fixture, the service key its launch gets, and the whole expected answer.
const ANSWERS: [(&str, &str, Option<&str>); 3] = [
    ("canvas", CANVAS, Some("svc-key")),
    ("moodle", MOODLE, Some("svc-key")),
    ("spec-example", SPEC, None),
];

/// The whole answer for each platform fixture, as recorded in `answers/`: any change to the
/// body an app sees shows up here.
#[test]
fn platform_fixtures_give_the_recorded_answers() {
    for (name, fixture, key) in ANSWERS {
        let body = idtoken_json(&fixture_claims(fixture), &PLATFORM, key);
        let path = format!(
            "{}/src/api_shape/answers/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(body, expected, "{name}");
    }
}
