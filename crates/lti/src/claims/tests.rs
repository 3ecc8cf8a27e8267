use serde_json::json;

use super::*;

fn resource_link() -> Map<String, Value> {
    let value = json!({
        "sub": "u1",
        uri::VERSION: "1.3.0",
        uri::MESSAGE_TYPE: "LtiResourceLinkRequest",
        uri::DEPLOYMENT_ID: "d1",
        uri::TARGET_LINK_URI: "https://tool.example.com/launch",
        uri::RESOURCE_LINK: {"id": "rl1"},
        uri::ROLES: [],
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn deep_linking() -> Map<String, Value> {
    let mut raw = resource_link();
    raw.insert(uri::MESSAGE_TYPE.into(), json!("LtiDeepLinkingRequest"));
    raw.remove(uri::RESOURCE_LINK);
    raw.remove(uri::ROLES);
    raw.remove(uri::TARGET_LINK_URI);
    raw.insert(
        uri::DEEP_LINKING_SETTINGS.into(),
        json!({"deep_link_return_url": "https://lms.example.edu/dl/return",
               "accept_types": ["ltiResourceLink"], "accept_multiple": true, "data": "opaque"}),
    );
    raw
}

fn with(mut raw: Map<String, Value>, key: &str, value: Value) -> Map<String, Value> {
    raw.insert(key.to_owned(), value);
    raw
}

fn without(mut raw: Map<String, Value>, key: &str) -> Map<String, Value> {
    raw.remove(key);
    raw
}

/// Both entry points (map and payload text) must give the same refusal.
fn refused(raw: Map<String, Value>) -> LaunchError {
    let from_map = LaunchClaims::from_raw(&raw).expect_err("must be refused");
    let from_text = LaunchClaims::from_json(&Value::Object(raw).to_string());
    assert_eq!(from_text, Err(from_map.clone()), "map and text disagree");
    from_map
}

fn invalid(claim: &'static str) -> LaunchError {
    LaunchError::ClaimInvalid { claim }
}

#[test]
fn minimal_resource_link_reads() {
    let claims = LaunchClaims::from_raw(&resource_link()).expect("valid");
    assert_eq!(claims.message_type(), MessageType::ResourceLink);
    assert_eq!(claims.deployment_id().as_str(), "d1");
    assert_eq!(claims.sub().map(Subject::as_str), Some("u1"));
    assert_eq!(
        claims.target_link_uri().map(Url::as_str),
        Some("https://tool.example.com/launch")
    );
    assert_eq!(claims.resource_link().map(|l| l.id.as_str()), Some("rl1"));
    assert!(claims.roles().is_empty());
    assert!(claims.custom().is_empty());
    assert!(claims.context().is_none() && claims.ags().is_none() && claims.nrps().is_none());
}

#[test]
fn version_must_be_1_3_0() {
    assert_eq!(
        refused(without(resource_link(), uri::VERSION)),
        LaunchError::VersionMissing
    );
    assert_eq!(
        refused(with(resource_link(), uri::VERSION, json!("1.1"))),
        LaunchError::VersionInvalid
    );
    assert_eq!(
        refused(with(resource_link(), uri::VERSION, json!(1.3))),
        invalid("version")
    );
}

#[test]
fn message_type_must_be_resource_link_or_deep_linking() {
    assert_eq!(
        refused(without(resource_link(), uri::MESSAGE_TYPE)),
        LaunchError::MessageTypeMissing
    );
    assert_eq!(
        refused(with(resource_link(), uri::MESSAGE_TYPE, Value::Null)),
        LaunchError::MessageTypeMissing
    );
    for other in ["LtiSubmissionReviewRequest", "basic-lti-launch-request", ""] {
        assert_eq!(
            refused(with(resource_link(), uri::MESSAGE_TYPE, json!(other))),
            LaunchError::MessageTypeUnsupported
        );
    }
}

#[test]
fn deployment_id_must_be_present_non_empty_and_short() {
    assert_eq!(
        refused(without(resource_link(), uri::DEPLOYMENT_ID)),
        LaunchError::DeploymentIdMissing
    );
    assert_eq!(
        refused(with(resource_link(), uri::DEPLOYMENT_ID, json!(""))),
        LaunchError::DeploymentIdMissing
    );
    let longest = "d".repeat(MAX_DEPLOYMENT_ID_LEN);
    assert!(
        LaunchClaims::from_raw(&with(resource_link(), uri::DEPLOYMENT_ID, json!(longest))).is_ok()
    );
    let too_long = "d".repeat(MAX_DEPLOYMENT_ID_LEN + 1);
    assert_eq!(
        refused(with(resource_link(), uri::DEPLOYMENT_ID, json!(too_long))),
        invalid("deployment_id")
    );
    assert_eq!(
        refused(with(resource_link(), uri::DEPLOYMENT_ID, json!(4))),
        invalid("deployment_id")
    );
}

#[test]
fn resource_link_requires_its_claims() {
    assert_eq!(
        refused(without(resource_link(), uri::RESOURCE_LINK)),
        LaunchError::ResourceLinkMissing
    );
    assert_eq!(
        refused(with(
            resource_link(),
            uri::RESOURCE_LINK,
            json!({"title": "x"})
        )),
        LaunchError::ResourceLinkMissing
    );
    assert_eq!(
        refused(with(resource_link(), uri::RESOURCE_LINK, json!({"id": ""}))),
        LaunchError::ResourceLinkMissing
    );
    assert_eq!(
        refused(without(resource_link(), uri::TARGET_LINK_URI)),
        LaunchError::TargetLinkUriMissing
    );
    assert_eq!(
        refused(without(resource_link(), uri::ROLES)),
        LaunchError::RolesMissing
    );
}

#[test]
fn anonymous_resource_link_launch_has_no_sub() {
    let claims = LaunchClaims::from_raw(&without(resource_link(), "sub")).expect("valid");
    assert!(claims.sub().is_none());
}

#[test]
fn present_sub_must_be_a_non_empty_string() {
    assert_eq!(
        refused(with(resource_link(), "sub", json!(""))),
        invalid("sub")
    );
    assert_eq!(
        refused(with(resource_link(), "sub", json!(12))),
        invalid("sub")
    );
}

#[test]
fn deep_linking_reads_settings() {
    let claims = LaunchClaims::from_raw(&deep_linking()).expect("valid");
    assert_eq!(claims.message_type(), MessageType::DeepLinking);
    let settings = claims.deep_linking_settings().expect("settings");
    assert_eq!(
        settings.deep_link_return_url.as_str(),
        "https://lms.example.edu/dl/return"
    );
    assert_eq!(settings.accept_types, ["ltiResourceLink"]);
    assert_eq!(settings.accept_multiple, Some(true));
    assert_eq!(settings.data, Some(serde_json::json!("opaque")));
    assert!(claims.resource_link().is_none() && claims.target_link_uri().is_none());
}

#[test]
fn deep_linking_requires_sub_and_return_url() {
    assert_eq!(
        refused(without(deep_linking(), "sub")),
        LaunchError::SubMissing
    );
    assert_eq!(
        refused(without(deep_linking(), uri::DEEP_LINKING_SETTINGS)),
        LaunchError::DeepLinkingSettingsMissing
    );
    assert_eq!(
        refused(with(
            deep_linking(),
            uri::DEEP_LINKING_SETTINGS,
            json!({"accept_types": []})
        )),
        LaunchError::DeepLinkingSettingsMissing
    );
    assert_eq!(
        refused(with(
            deep_linking(),
            uri::DEEP_LINKING_SETTINGS,
            json!({"deep_link_return_url": "not a url"})
        )),
        invalid("deep_linking_settings")
    );
}

#[test]
fn wrong_claim_shapes_name_the_claim() {
    let cases = [
        (uri::ROLES, json!("Instructor"), "roles"),
        (uri::ROLES, json!([1, 2]), "roles"),
        (uri::RESOURCE_LINK, json!("rl1"), "resource_link"),
        (uri::RESOURCE_LINK, json!({"id": 7}), "resource_link"),
        (uri::CONTEXT, json!(["c"]), "context"),
        (uri::CONTEXT, json!({"title": "no id"}), "context"),
        (uri::CUSTOM, json!("x=1"), "custom"),
        (uri::TOOL_PLATFORM, json!(true), "tool_platform"),
        (uri::LAUNCH_PRESENTATION, json!(1), "launch_presentation"),
        (uri::LIS, json!([]), "lis"),
        (uri::AGS_ENDPOINT, json!({"scope": "one"}), "ags_endpoint"),
        (
            uri::NRPS,
            json!({"service_versions": ["2.0"]}),
            "namesroleservice",
        ),
        (uri::ROLE_SCOPE_MENTOR, json!("m"), "role_scope_mentor"),
        (uri::TARGET_LINK_URI, json!("/relative"), "target_link_uri"),
        (
            uri::TARGET_LINK_URI,
            json!(["https://a"]),
            "target_link_uri",
        ),
        ("email", json!(["a@b"]), "email"),
        ("name", json!({"first": "x"}), "name"),
        (uri::MESSAGE_TYPE, json!(1), "message_type"),
    ];
    for (key, value, claim) in cases {
        assert_eq!(
            refused(with(resource_link(), key, value)),
            invalid(claim),
            "{key}"
        );
    }
}

#[test]
fn null_optional_claims_count_as_absent() {
    let mut raw = resource_link();
    for key in [
        uri::CONTEXT,
        uri::CUSTOM,
        uri::LIS,
        uri::AGS_ENDPOINT,
        uri::NRPS,
        "email",
        "https://www.instructure.com/placement",
    ] {
        raw.insert(key.to_owned(), Value::Null);
    }
    raw.insert(
        uri::CONTEXT.into(),
        json!({"id": "c1", "type": null, "label": null}),
    );
    let claims = LaunchClaims::from_raw(&raw).expect("valid");
    let context = claims.context().expect("context");
    assert!(context.types.is_empty() && context.label.is_none());
    assert!(claims.email().is_none() && claims.custom().is_empty());
}

#[test]
fn real_platform_quirks_are_accepted() {
    let raw = with(
        with(
            resource_link(),
            uri::CONTEXT,
            json!({"id": "2", "type": ["CourseSection"]}),
        ),
        uri::CUSTOM,
        json!({"uid": "$Canvas.user.id", "n": 3, "nested": {"a": [1]}}),
    );
    let raw = with(
        raw,
        uri::LAUNCH_PRESENTATION,
        json!({"document_target": "iframe", "height": "400", "width": "100%"}),
    );
    let raw = with(raw, uri::LIS, json!({"person_sourcedid": "", "extra": 1}));
    let claims = LaunchClaims::from_raw(&raw).expect("valid");
    assert_eq!(
        claims.context().map(|c| c.types.clone()),
        Some(vec!["CourseSection".to_owned()])
    );
    assert_eq!(claims.custom()["uid"], json!("$Canvas.user.id"));
    assert_eq!(claims.custom()["n"], json!(3));
    let presentation = claims.launch_presentation().expect("presentation");
    assert_eq!((presentation.height, presentation.width), (Some(400), None));
    assert_eq!(
        claims.lis().and_then(|l| l.person_sourcedid.as_deref()),
        Some("")
    );
}

#[test]
fn typed_claims_are_all_read() {
    let raw = json!({
        "name": "Ms Jane Marie Doe", "given_name": "Jane", "family_name": "Doe",
        "middle_name": "Marie", "email": "jane@example.edu", "picture": "https://p/j.jpg",
        "locale": "en-US",
        uri::ROLES: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"],
        uri::ROLE_SCOPE_MENTOR: ["s1", "s2"],
        uri::TOOL_PLATFORM: {"guid": "g", "name": "LMS", "product_family_code": "canvas"},
        uri::AGS_ENDPOINT: {"scope": ["a"], "lineitems": "https://lms/li", "lineitem": null},
        uri::NRPS: {"context_memberships_url": "https://lms/m", "service_versions": ["2.0"]},
    });
    let mut map = resource_link();
    if let Value::Object(extra) = raw {
        map.extend(extra);
    }
    let claims = LaunchClaims::from_raw(&map).expect("valid");
    assert_eq!(claims.name(), Some("Ms Jane Marie Doe"));
    assert_eq!(claims.given_name(), Some("Jane"));
    assert_eq!(claims.family_name(), Some("Doe"));
    assert_eq!(claims.middle_name(), Some("Marie"));
    assert_eq!(claims.email(), Some("jane@example.edu"));
    assert_eq!(claims.picture(), Some("https://p/j.jpg"));
    assert_eq!(claims.locale(), Some("en-US"));
    assert_eq!(claims.roles().len(), 1);
    assert_eq!(claims.role_scope_mentor(), ["s1", "s2"]);
    assert_eq!(
        claims
            .tool_platform()
            .and_then(|p| p.product_family_code.as_deref()),
        Some("canvas")
    );
    let ags = claims.ags().expect("ags");
    assert_eq!(ags.lineitems.as_deref(), Some("https://lms/li"));
    assert!(ags.lineitem.is_none());
    assert_eq!(
        claims.nrps().map(|n| n.context_memberships_url.as_str()),
        Some("https://lms/m")
    );
}

#[test]
fn message_type_wire_names_round_trip() {
    for mt in [MessageType::ResourceLink, MessageType::DeepLinking] {
        assert_eq!(MessageType::from_wire(mt.as_str()), Some(mt));
        let json = serde_json::to_value(mt).expect("serialize");
        assert_eq!(json, json!(mt.as_str()));
    }
}

#[test]
fn map_and_text_readings_agree() {
    for raw in [
        resource_link(),
        deep_linking(),
        without(resource_link(), "sub"),
    ] {
        let from_map = LaunchClaims::from_raw(&raw).expect("map");
        let from_text = LaunchClaims::from_json(&Value::Object(raw).to_string()).expect("text");
        assert_eq!(from_map, from_text);
    }
}

#[test]
fn every_claim_name_constant_is_read_from_text() {
    // Each constant, used as a key with a wrong-shaped value, must be noticed by the text
    // reader: proves the table's names and the constants are the same strings.
    for key in [
        uri::MESSAGE_TYPE,
        uri::VERSION,
        uri::DEPLOYMENT_ID,
        uri::TARGET_LINK_URI,
        uri::RESOURCE_LINK,
        uri::ROLES,
        uri::ROLE_SCOPE_MENTOR,
        uri::CONTEXT,
        uri::TOOL_PLATFORM,
        uri::LAUNCH_PRESENTATION,
        uri::CUSTOM,
        uri::LIS,
        uri::AGS_ENDPOINT,
        uri::NRPS,
        uri::DEEP_LINKING_SETTINGS,
    ] {
        let text = Value::Object(with(resource_link(), key, json!(false))).to_string();
        assert!(
            matches!(
                LaunchClaims::from_json(&text),
                Err(LaunchError::ClaimInvalid { .. })
            ),
            "{key} not read"
        );
    }
}

#[test]
fn text_with_escaped_slashes_reads_like_plain_text() {
    // PHP platforms (Moodle) escape '/' as '\/' in keys and values.
    let plain = Value::Object(resource_link()).to_string();
    let escaped = plain.replace('/', "\\/");
    assert_ne!(plain, escaped);
    let claims = LaunchClaims::from_json(&escaped).expect("escaped text");
    assert_eq!(claims, LaunchClaims::from_json(&plain).expect("plain text"));
    assert_eq!(
        claims.target_link_uri().map(Url::as_str),
        Some("https://tool.example.com/launch")
    );
}

#[test]
fn text_that_is_not_one_json_object_is_malformed() {
    for text in ["[]", "[\"1.3.0\"]", "\"x\"", "", "{", "{} {}", "null"] {
        assert!(
            matches!(
                LaunchClaims::from_json(text),
                Err(LaunchError::Malformed { .. })
            ),
            "{text:?}"
        );
    }
}

#[test]
fn text_with_a_duplicated_claim_is_malformed() {
    let text = format!(
        "{{\"{}\": \"1.3.0\", \"{}\": \"1.1\"}}",
        uri::VERSION,
        uri::VERSION
    );
    assert!(matches!(
        LaunchClaims::from_json(&text),
        Err(LaunchError::Malformed { .. })
    ));
}

#[test]
fn basic_outcome_is_read_but_never_refused() {
    let outcome = json!({"lis_result_sourcedid": "{\"a\":1}", "lis_outcome_service_url": 7});
    let claims =
        LaunchClaims::from_raw(&with(resource_link(), uri::BASIC_OUTCOME, outcome)).expect("valid");
    let read = claims.basic_outcome().expect("an object is read");
    assert_eq!(read.lis_result_sourcedid.as_deref(), Some("{\"a\":1}"));
    assert_eq!(read.lis_outcome_service_url, None);
    for odd in [json!("yes"), json!([1]), json!(null)] {
        let raw = with(resource_link(), uri::BASIC_OUTCOME, odd);
        let text = Value::Object(raw.clone()).to_string();
        for claims in [LaunchClaims::from_raw(&raw), LaunchClaims::from_json(&text)] {
            assert_eq!(claims.expect("not refused").basic_outcome(), None);
        }
    }
}

#[test]
fn tool_platform_contact_email_has_two_spellings() {
    let read = |tool_platform: Value| {
        let raw = with(resource_link(), uri::TOOL_PLATFORM, tool_platform);
        let claims = LaunchClaims::from_raw(&raw).expect("valid");
        claims
            .tool_platform()
            .and_then(|tp| tp.any_contact_email().map(str::to_owned))
    };
    assert_eq!(read(json!({"contactEmail": "a@b"})).as_deref(), Some("a@b"));
    assert_eq!(
        read(json!({"contact_email": "s@b", "contactEmail": "a@b"})).as_deref(),
        Some("s@b")
    );
    // Not the spec's member: another type is ignored, not refused.
    assert_eq!(read(json!({"contactEmail": 1})), None);
}
