use serde_json::json;

use super::*;

fn settings(extra: Value) -> DeepLinkingSettings {
    let mut settings = json!({
        "deep_link_return_url": "https://lms.example.edu/dl/return",
        "accept_types": ["ltiResourceLink", "link", "file", "html", "image"],
        "accept_multiple": true,
        "accept_lineitem": true,
        "data": "opaque-data"
    });
    if let (Some(base), Value::Object(extra)) = (settings.as_object_mut(), extra) {
        base.extend(extra);
    }
    serde_json::from_value(settings).expect("settings")
}

fn one(item: Value) -> Result<Value, DeepLinkingError> {
    let items = content_items(vec![item], &settings(json!({})))?;
    Ok(serde_json::to_value(&items[0]).expect("serializes"))
}

fn refused(items: Vec<Value>, settings: &DeepLinkingSettings) -> DeepLinkingError {
    content_items(items, settings).expect_err("refused")
}

#[test]
fn a_resource_link_with_every_property_keeps_the_spec_names() {
    let item = json!({
        "type": "ltiResourceLink",
        "url": "https://tool.example/activity/7",
        "title": "Activity 7",
        "text": "Do it",
        "icon": {"url": "https://tool.example/i.png", "width": 16, "height": 16},
        "thumbnail": {"url": "https://tool.example/t.png", "width": 90, "height": 60},
        "lineItem": {
            "label": "Activity 7", "scoreMaximum": 100, "resourceId": "a7",
            "tag": "grade", "gradesReleased": true
        },
        "available": {"startDateTime": "2026-09-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"},
        "submission": {"endDateTime": "2026-11-01T00:00:00Z"},
        "iframe": {"width": 800, "height": 600},
        "window": {"targetName": "t", "width": 500, "height": 400, "windowFeatures": "menubar=no"},
        "custom": {"activity": "7", "empty": ""}
    });
    assert_eq!(one(item.clone()).expect("accepted"), item);
}

#[test]
fn link_file_html_and_image_convert() {
    let items = [
        json!({
            "type": "link", "url": "https://example.org/page", "title": "Page",
            "embed": {"html": "<iframe src=\"https://example.org/e\"></iframe>"},
            "iframe": {"src": "https://example.org/e", "width": 640, "height": 480},
            "window": {"targetName": "page"}
        }),
        json!({
            "type": "file", "url": "https://tool.example/f.pdf", "title": "Notes",
            "mediaType": "application/pdf", "expiresAt": "2026-12-24T12:00:00Z"
        }),
        json!({"type": "html", "html": "<p>Hello</p>", "title": "Greeting", "text": "t"}),
        json!({
            "type": "image", "url": "https://tool.example/p.png", "width": 300, "height": 200,
            "thumbnail": {"url": "https://tool.example/p-small.png"}
        }),
    ];
    for item in items {
        assert_eq!(one(item.clone()).expect("accepted"), item);
    }
}

#[test]
fn explicit_nulls_are_dropped_at_both_levels() {
    let converted = one(json!({
        "type": "ltiResourceLink",
        "url": null,
        "title": "T",
        "icon": {"url": "https://tool.example/i.png", "width": null},
        "lineItem": {"scoreMaximum": 10, "label": null, "tag": null},
        "https://canvas.instructure.com/lti/x": null
    }))
    .expect("accepted");
    assert_eq!(
        converted,
        json!({
            "type": "ltiResourceLink",
            "title": "T",
            "icon": {"url": "https://tool.example/i.png"},
            "lineItem": {"scoreMaximum": 10}
        })
    );
}

#[test]
fn extension_properties_pass_through_unchanged() {
    let canvas = json!({"placement": "editor_button", "nested": [1, {"a": null}]});
    let converted = one(json!({
        "type": "ltiResourceLink",
        "https://canvas.instructure.com/lti/submission": canvas,
        "lineItem": {"scoreMaximum": 5, "https://canvas.instructure.com/lti/x": true},
        "window": {"targetName": "w", "vendorHint": 3}
    }))
    .expect("accepted");
    assert_eq!(
        converted["https://canvas.instructure.com/lti/submission"],
        canvas
    );
    assert_eq!(
        converted["lineItem"]["https://canvas.instructure.com/lti/x"],
        true
    );
    assert_eq!(converted["window"]["vendorHint"], 3);
}

#[test]
fn required_properties_per_type() {
    for (item, kind, property) in [
        (json!({"type": "link"}), ContentItemType::Link, "url"),
        (
            json!({"type": "file", "url": ""}),
            ContentItemType::File,
            "url",
        ),
        (
            json!({"type": "image", "title": "x"}),
            ContentItemType::Image,
            "url",
        ),
        (
            json!({"type": "html", "url": "https://x"}),
            ContentItemType::Html,
            "html",
        ),
    ] {
        let error = one(item).expect_err("refused");
        assert_eq!(
            error,
            DeepLinkingError::PropertyMissing {
                index: 0,
                kind,
                property
            }
        );
        assert_eq!(error.rule(), "content_item");
        assert!(error.to_string().contains(property), "{error}");
    }
    // A resource link may leave its URL to the tool's default.
    assert!(one(json!({"type": "ltiResourceLink"})).is_ok());
}

#[test]
fn malformed_items_name_the_index_and_property() {
    let valid = json!({"type": "link", "url": "https://x"});
    let cases = [
        (json!("link"), DeepLinkingError::ItemNotObject { index: 1 }),
        (
            json!({"url": "https://x"}),
            DeepLinkingError::TypeMissing { index: 1 },
        ),
        (
            json!({"type": "video"}),
            DeepLinkingError::TypeUnknown { index: 1 },
        ),
        (
            json!({"type": 3}),
            DeepLinkingError::TypeUnknown { index: 1 },
        ),
        (
            json!({"type": "link", "url": "https://x", "icon": {"width": 3}}),
            DeepLinkingError::PropertyInvalid {
                index: 1,
                property: "icon",
            },
        ),
        (
            json!({"type": "ltiResourceLink", "custom": {"n": 3}}),
            DeepLinkingError::PropertyInvalid {
                index: 1,
                property: "custom",
            },
        ),
        (
            json!({"type": "ltiResourceLink", "lineItem": {"label": "x"}}),
            DeepLinkingError::PropertyInvalid {
                index: 1,
                property: "lineItem",
            },
        ),
        (
            json!({"type": "ltiResourceLink", "lineItem": {"scoreMaximum": 0}}),
            DeepLinkingError::PropertyInvalid {
                index: 1,
                property: "lineItem.scoreMaximum",
            },
        ),
        (
            json!({"type": "image", "url": "https://x", "width": "wide"}),
            DeepLinkingError::PropertyInvalid {
                index: 1,
                property: "width",
            },
        ),
    ];
    for (bad, expected) in cases {
        let error = refused(vec![valid.clone(), bad], &settings(json!({})));
        assert_eq!(error, expected);
        assert!(error.to_string().contains("content item 1"), "{error}");
        assert_eq!(error.code(), "DEEP_LINKING_ITEM_REFUSED");
    }
}

#[test]
fn accept_types_is_enforced() {
    let only_links = settings(json!({"accept_types": ["ltiResourceLink"]}));
    let error = refused(
        vec![
            json!({"type": "ltiResourceLink"}),
            json!({"type": "html", "html": "<b>x</b>"}),
        ],
        &only_links,
    );
    assert_eq!(
        error,
        DeepLinkingError::TypeNotAccepted {
            index: 1,
            kind: ContentItemType::Html
        }
    );
    assert_eq!(error.rule(), "accept_types");
    assert_eq!(
        error.to_string(),
        "accept_types: the platform does not accept content items of type html (item 1)"
    );
}

#[test]
fn accept_multiple_is_enforced_and_defaults_to_one() {
    let two = vec![
        json!({"type": "link", "url": "https://a"}),
        json!({"type": "link", "url": "https://b"}),
    ];
    for single in [
        json!({"accept_multiple": false}),
        json!({"accept_multiple": null}),
    ] {
        let error = refused(two.clone(), &settings(single));
        assert_eq!(error, DeepLinkingError::MultipleNotAccepted { count: 2 });
        assert_eq!(error.rule(), "accept_multiple");
        assert!(error.to_string().starts_with("accept_multiple:"));
    }
    assert!(content_items(two, &settings(json!({}))).is_ok());
    let one_only = settings(json!({"accept_multiple": false}));
    assert!(content_items(vec![json!({"type": "link", "url": "https://a"})], &one_only).is_ok());
}

#[test]
fn accept_lineitem_false_refuses_line_items_and_absent_allows_them() {
    let graded = json!({"type": "ltiResourceLink", "lineItem": {"scoreMaximum": 1}});
    let error = refused(
        vec![graded.clone()],
        &settings(json!({"accept_lineitem": false})),
    );
    assert_eq!(error, DeepLinkingError::LineItemNotAccepted { index: 0 });
    assert_eq!(error.rule(), "accept_lineitem");
    assert!(content_items(vec![graded], &settings(json!({"accept_lineitem": null}))).is_ok());
}

fn response(settings: &DeepLinkingSettings, request: Value) -> Map<String, Value> {
    let context = ResponseContext {
        client_id: &ClientId::new("client-1"),
        platform_issuer: &Issuer::new("https://lms.example.edu"),
        deployment_id: &DeploymentId::new("dep-1"),
        settings,
        now: 1_000,
        nonce: "n-1",
    };
    let request: ResponseRequest = serde_json::from_value(request).expect("request body");
    response_claims(&context, request).expect("claims")
}

#[test]
fn response_claims_carry_the_spec_members() {
    let claims = response(
        &settings(json!({})),
        json!({
            "contentItems": [{"type": "link", "url": "https://a", "title": null}],
            "options": {"message": "Done", "log": "ok", "errMessage": "Oops", "errLog": "bad"}
        }),
    );
    assert_eq!(claims["iss"], "client-1");
    assert_eq!(claims["aud"], "https://lms.example.edu");
    assert_eq!(claims["iat"], 1_000);
    assert_eq!(claims["exp"], 1_300);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims[uri::DEPLOYMENT_ID], "dep-1");
    assert_eq!(claims[uri::MESSAGE_TYPE], "LtiDeepLinkingResponse");
    assert_eq!(claims[uri::VERSION], "1.3.0");
    assert_eq!(claims[uri::DATA], "opaque-data");
    assert_eq!(
        claims[uri::CONTENT_ITEMS],
        json!([{"type": "link", "url": "https://a"}])
    );
    assert_eq!(claims[uri::MSG], "Done");
    assert_eq!(claims[uri::LOG], "ok");
    assert_eq!(claims[uri::ERRORMSG], "Oops");
    assert_eq!(claims[uri::ERRORLOG], "bad");
}

#[test]
fn data_is_echoed_as_sent_and_only_when_sent() {
    let object = json!({"csrf": "x", "n": [1, 2]});
    let claims = response(&settings(json!({"data": object})), json!({}));
    assert_eq!(claims[uri::DATA], object);
    let claims = response(&settings(json!({"data": null})), json!({}));
    assert!(!claims.contains_key(uri::DATA));
}

#[test]
fn null_body_members_mean_no_items_and_no_messages() {
    let claims = response(
        &settings(json!({})),
        json!({"contentItems": null, "options": null}),
    );
    assert_eq!(claims[uri::CONTENT_ITEMS], json!([]));
    for claim in [uri::MSG, uri::LOG, uri::ERRORMSG, uri::ERRORLOG] {
        assert!(!claims.contains_key(claim), "{claim}");
    }
    let claims = response(
        &settings(json!({})),
        json!({"options": {"message": null, "log": "l"}}),
    );
    assert!(!claims.contains_key(uri::MSG));
    assert_eq!(claims[uri::LOG], "l");
}
