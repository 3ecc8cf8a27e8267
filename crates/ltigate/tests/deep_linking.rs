//! Deep Linking 2.0 over loopback: a deep linking launch, the app's items through
//! `/api/deeplinking` and `/api/deeplinking/form`, and the simulator (the platform) verifying
//! the signed response against ltigate's `/lti/keys` and placing the items.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::lms::{CLIENT_ID, DEPLOYMENT_ID, Lms};
use common::{expect_error, manual_clock_at_now};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ltisim::{MessageType, Storage, Tamper};
use serde_json::{Value, json};

const SETTINGS: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";
const DL: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/";
const LTI: &str = "https://purl.imsglobal.org/spec/lti/claim/";

/// One item of every type, as an app sends them (with `null`s and a platform extension).
fn every_type() -> Value {
    json!([
        {
            "type": "ltiResourceLink", "title": "Quiz 1", "url": "http://app.test/quiz/1",
            "text": null,
            "lineItem": {"scoreMaximum": 10, "label": "Quiz 1", "resourceId": "q1", "tag": null},
            "available": {"startDateTime": "2026-09-01T00:00:00Z"},
            "custom": {"quiz": "1"},
            "https://canvas.instructure.com/lti/course_navigation": {"enabled": true}
        },
        {"type": "link", "title": "Reading", "url": "https://example.org/reading",
         "window": {"targetName": "reading"}},
        {"type": "file", "title": "Notes", "url": "http://app.test/notes.pdf",
         "mediaType": "application/pdf"},
        {"type": "html", "title": "Welcome", "html": "<p>Welcome</p>"},
        {"type": "image", "title": "Diagram", "url": "http://app.test/d.png",
         "width": 300, "height": 200}
    ])
}

/// The items as the response must carry them: `null`s dropped, everything else unchanged.
fn every_type_in_the_response() -> Value {
    let mut items = every_type();
    let first = items[0].as_object_mut().unwrap();
    first.remove("text");
    first["lineItem"].as_object_mut().unwrap().remove("tag");
    items
}

/// A deep linking launch: its ltik.
async fn deep_linking_launch(lms: &Lms) -> String {
    lms.do_launch(MessageType::DeepLinking)
        .await
        .ltik()
        .to_owned()
}

/// A deep linking launch whose settings are patched (RFC 7396) by the platform.
async fn deep_linking_launch_with(lms: &Lms, settings: Value) -> String {
    lms.sim
        .set_tamper(Tamper::claims(json!({ SETTINGS: settings })));
    let ltik = deep_linking_launch(lms).await;
    lms.sim.reset_tamper();
    ltik
}

/// `POST path` with the launch's ltik and a JSON body.
async fn post_api(lms: &Lms, ltik: &str, path: &str, body: &Value) -> reqwest::Response {
    lms.gate
        .client
        .post(lms.gate.url(path))
        .header(
            "Authorization",
            format!("LTIK-AUTH-V2 {}:{ltik}", common::API_KEY),
        )
        .json(body)
        .send()
        .await
        .expect("API answers")
}

/// `POST /api/deeplinking` that must succeed: `(message, target)`.
async fn signed_response(lms: &Lms, ltik: &str, body: &Value) -> (String, String) {
    let response = post_api(lms, ltik, "/api/deeplinking", body).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    (
        answer["message"].as_str().unwrap().to_owned(),
        answer["target"].as_str().unwrap().to_owned(),
    )
}

/// The browser posts the response to the platform: status and page.
async fn post_to_platform(lms: &Lms, target: &str, jwt: &str) -> (u16, String) {
    let response = lms
        .gate
        .client
        .post(target)
        .form(&[("JWT", jwt)])
        .send()
        .await
        .expect("platform answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Verifies `jwt` as any platform would: with the key its kid names in ltigate's JWKS.
async fn verify_with_tool_jwks(lms: &Lms, jwt: &str) -> (jsonwebtoken::Header, Value) {
    lti::install_crypto_provider();
    let jwks: JwkSet = lms.gate.tool_jwks().await;
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[lms.sim.issuer()]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    let data =
        jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .expect("the response verifies with the tool's JWKS");
    (header, data.claims)
}

/// The `data` the platform put in the launch's settings.
async fn request_data(lms: &Lms, ltik: &str) -> Value {
    let raw: Value = lms.idtoken(ltik, "?raw=true").await.json().await.unwrap();
    raw[SETTINGS]["data"].clone()
}

#[tokio::test]
async fn the_response_verifies_with_the_tool_jwks_and_the_platform_places_the_items() {
    let lms = Lms::start().await;
    let ltik = deep_linking_launch(&lms).await;
    let body = json!({
        "contentItems": every_type(),
        "options": {"message": "Added 5 items", "log": "dl ok", "errMessage": null}
    });
    let (jwt, target) = signed_response(&lms, &ltik, &body).await;
    assert_eq!(target, lms.sim.deep_link_return_url());

    let (header, claims) = verify_with_tool_jwks(&lms, &jwt).await;
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["aud"], lms.sim.issuer());
    assert_eq!(claims[format!("{LTI}deployment_id")], DEPLOYMENT_ID);
    assert_eq!(
        claims[format!("{LTI}message_type")],
        "LtiDeepLinkingResponse"
    );
    assert_eq!(claims[format!("{LTI}version")], "1.3.0");
    let data = request_data(&lms, &ltik).await;
    assert!(data.is_string(), "the simulator sends data");
    assert_eq!(claims[format!("{DL}data")], data);
    assert_eq!(
        claims[format!("{DL}content_items")],
        every_type_in_the_response()
    );
    assert_eq!(claims[format!("{DL}msg")], "Added 5 items");
    assert_eq!(claims[format!("{DL}log")], "dl ok");
    assert!(claims.get(format!("{DL}errormsg")).is_none());
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(exp > iat && exp - iat <= 600, "short-lived: {iat}..{exp}");
    assert!(claims["nonce"].as_str().is_some_and(|n| n.len() >= 16));

    // A second response for the same launch has its own nonce.
    let (again, _) = signed_response(&lms, &ltik, &body).await;
    let (_, again) = verify_with_tool_jwks(&lms, &again).await;
    assert_ne!(again["nonce"], claims["nonce"]);

    let (status, page) = post_to_platform(&lms, &target, &jwt).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Added 5 items") && page.contains("Quiz 1"),
        "{page}"
    );
    assert_eq!(
        Value::Array(lms.sim.deep_linked_items()),
        every_type_in_the_response()
    );
    assert_eq!(lms.sim.deep_link_responses(), vec![claims]);
    let course = lms
        .gate
        .client
        .get(
            lms.sim
                .launch_page_url(CLIENT_ID, MessageType::ResourceLink, Storage::Cookie),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for title in ["Quiz 1", "Reading", "Notes", "Welcome", "Diagram"] {
        assert!(course.contains(title), "{title} on the course page");
    }

    // The platform accepts a response once.
    let (status, page) = post_to_platform(&lms, &target, &jwt).await;
    assert_eq!(status, 400);
    assert!(page.contains("replayed"), "{page}");
    assert_eq!(lms.sim.deep_linked_items().len(), 5);
}

#[tokio::test]
async fn the_form_posts_to_the_platform_and_escapes_a_hostile_return_url() {
    let lms = Lms::start().await;
    let hostile = format!(
        "{}?next=\"><script>alert(1)</script>&x='y'",
        lms.sim.deep_link_return_url()
    );
    let ltik = deep_linking_launch_with(&lms, json!({ "deep_link_return_url": hostile })).await;
    let body =
        json!({"contentItems": [{"type": "link", "url": "https://example.org/x", "title": "X"}]});
    let response = post_api(&lms, &ltik, "/api/deeplinking/form", &body).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let form = answer["form"].as_str().unwrap();
    assert!(!form.contains("<script>alert"), "{form}");
    assert!(!form.contains("'y'"), "{form}");
    assert!(
        form.contains("method=\"post\"") && form.contains("<noscript>"),
        "{form}"
    );

    let fields = ltisim::form_fields(form);
    // What the launch parsed as the URL (a browser would post to the same).
    let expected = url::Url::parse(&hostile).unwrap();
    assert_eq!(fields["__action"], expected.as_str());
    let (status, page) = post_to_platform(&lms, &fields["__action"], &fields["JWT"]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(lms.sim.deep_linked_items()[0]["title"], "X");
}

/// Some platforms send `data` as an object: it comes back exactly as sent.
#[tokio::test]
async fn object_data_from_the_platform_is_echoed_unchanged() {
    let lms = Lms::start().await;
    let data = json!({"csrf": "c-1", "ids": [1, 2.5], "nested": {"a": "b"}});
    let ltik = deep_linking_launch_with(&lms, json!({ "data": data })).await;
    let (jwt, target) = signed_response(&lms, &ltik, &json!({"contentItems": []})).await;
    let (_, claims) = verify_with_tool_jwks(&lms, &jwt).await;
    assert_eq!(claims[format!("{DL}data")], data);
    assert_eq!(claims[format!("{DL}content_items")], json!([]));
    let (status, page) = post_to_platform(&lms, &target, &jwt).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn a_resource_link_launch_cannot_answer_with_content_items() {
    let lms = Lms::start().await;
    let outcome = lms.do_launch(MessageType::ResourceLink).await;
    let body = json!({"contentItems": []});
    for path in [
        "/api/deeplinking",
        "/api/deeplinking/form",
        "//api/deeplinking",
    ] {
        let response = post_api(&lms, outcome.ltik(), path, &body).await;
        expect_error(response, 400, "NOT_DEEP_LINKING_LAUNCH").await;
    }
}

#[tokio::test]
async fn items_breaking_the_request_settings_are_refused_naming_the_rule() {
    let lms = Lms::start().await;
    let strict = json!({
        "accept_types": ["link", "ltiResourceLink"],
        "accept_multiple": false,
        "accept_lineitem": false
    });
    let ltik = deep_linking_launch_with(&lms, strict).await;
    let link = json!({"type": "link", "url": "https://example.org"});
    let cases = [
        (
            json!([{"type": "html", "html": "<b>x</b>"}]),
            "accept_types: the platform does not accept content items of type html (item 0)",
        ),
        (
            json!([link, link]),
            "accept_multiple: the platform accepts one content item at most, not 2",
        ),
        (
            json!([{"type": "ltiResourceLink", "lineItem": {"scoreMaximum": 5}}]),
            "accept_lineitem: the platform does not accept a lineItem (item 0)",
        ),
        (
            json!([{"type": "link", "title": "no url"}]),
            "content item 0 of type link lacks its required property url",
        ),
    ];
    for (items, description) in cases {
        for path in ["/api/deeplinking", "/api/deeplinking/form"] {
            let response = post_api(&lms, &ltik, path, &json!({ "contentItems": items })).await;
            let body = expect_error(response, 400, "DEEP_LINKING_ITEM_REFUSED").await;
            assert_eq!(body["details"]["description"], description, "{path}");
        }
    }
    // The one item the settings allow goes through.
    signed_response(
        &lms,
        &ltik,
        &json!({ "contentItems": [link], "options": null }),
    )
    .await;
}

#[tokio::test]
async fn the_platform_refuses_a_tampered_or_expired_response() {
    // The tool key is made at start: start in the past so it still signs after the clock
    // is turned back below.
    let clock = manual_clock_at_now();
    clock.advance(-1_000);
    let lms = Lms::start_at(clock.clone(), json!({})).await;
    clock.advance(1_000);
    let ltik = deep_linking_launch(&lms).await;
    let body =
        json!({"contentItems": [{"type": "link", "url": "https://example.org", "title": "T"}]});
    let (jwt, target) = signed_response(&lms, &ltik, &body).await;

    // A changed payload under the original signature.
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&b64_decode(&parts[1])).unwrap();
    claims[format!("{DL}content_items")][0]["url"] = json!("https://evil.example");
    parts[1] = b64_encode(&serde_json::to_vec(&claims).unwrap());
    let (status, page) = post_to_platform(&lms, &target, &parts.join(".")).await;
    assert_eq!(status, 400);
    assert!(page.contains("signature does not verify"), "{page}");

    // A response signed ten minutes ago has expired by the time it arrives.
    clock.advance(-600);
    let (stale, _) = signed_response(&lms, &ltik, &body).await;
    let (status, page) = post_to_platform(&lms, &target, &stale).await;
    assert_eq!(status, 400);
    assert!(page.contains("expired"), "{page}");

    // A form without the field.
    let (status, _) = post_to_platform(&lms, &target, "").await;
    assert_eq!(status, 400);
    assert!(lms.sim.deep_linked_items().is_empty());

    // The untouched response is still accepted.
    let (status, page) = post_to_platform(&lms, &target, &jwt).await;
    assert_eq!(status, 200, "{page}");
}

fn b64_decode(segment: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .unwrap()
}

fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
