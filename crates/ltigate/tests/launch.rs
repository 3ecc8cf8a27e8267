//! The LTI 1.3 launch end to end: ltigate and the LMS simulator over loopback.
//! Every refusal asserts that no ltik was issued (see `Outcome::code`).
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::lms::{APP_DEEP_LINKING_URL, APP_LAUNCH_URL, CLIENT_ID, DEPLOYMENT_ID, Lms};
use ltisim::{MessageType, Signing, Tamper};
use reqwest::Method;
use serde_json::{Value, json};

const LTI: &str = "https://purl.imsglobal.org/spec/lti/claim/";

fn claim(name: &str) -> String {
    format!("{LTI}{name}")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn resource_link_launch_hands_off_to_the_app_and_the_app_reads_it() {
    let lms = Lms::start().await;
    let outcome = lms.do_launch(MessageType::ResourceLink).await;
    let common::lms::Outcome::Handoff { location, ltik } = &outcome else {
        panic!("refused: {outcome:?}");
    };
    assert!(
        location.starts_with(&format!("{APP_LAUNCH_URL}?ltik=")),
        "{location}"
    );
    assert!(ltik.len() >= 22, "at least 128 random bits");

    let response = lms.idtoken(ltik, "").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ltiVersion"], "1.3.0");
    assert_eq!(body["platform"]["id"], lms.platform_id.as_str());
    assert_eq!(body["platform"]["url"], lms.sim.issuer());
    assert_eq!(body["platform"]["clientId"], CLIENT_ID);
    assert_eq!(body["platform"]["deploymentId"], DEPLOYMENT_ID);
    assert_eq!(body["launch"]["type"], "LtiResourceLinkRequest");
    assert!(body["user"]["id"].as_str().is_some_and(|s| !s.is_empty()));
    // The simulator's default launch carries AGS and NRPS claims.
    assert_eq!(body["services"]["assignmentAndGrades"]["available"], true);
    assert_eq!(body["services"]["namesAndRoles"]["available"], true);
    let service_key = body["services"]["serviceKey"].as_str().unwrap().to_owned();

    let raw: Value = lms.idtoken(ltik, "?raw=True").await.json().await.unwrap();
    assert_eq!(raw["ltiVersion"], "1.3.0");
    assert_eq!(raw[claim("deployment_id")], DEPLOYMENT_ID);
    assert_eq!(raw["aud"], CLIENT_ID);

    // A second launch in the same context gets a new ltik but the same service key.
    let again = lms.do_launch(MessageType::ResourceLink).await;
    assert_ne!(again.ltik(), ltik);
    let body2: Value = lms.idtoken(again.ltik(), "").await.json().await.unwrap();
    assert_eq!(body2["services"]["serviceKey"], service_key.as_str());
}

#[tokio::test]
async fn deep_linking_request_goes_to_the_deep_linking_url() {
    let lms = Lms::start().await;
    let outcome = lms.do_launch(MessageType::DeepLinking).await;
    let common::lms::Outcome::Handoff { location, ltik } = &outcome else {
        panic!("refused: {outcome:?}");
    };
    assert!(location.starts_with(APP_DEEP_LINKING_URL), "{location}");
    let body: Value = lms.idtoken(ltik, "").await.json().await.unwrap();
    assert_eq!(body["launch"]["type"], "LtiDeepLinkingRequest");
    assert_eq!(body["services"]["deepLinking"]["available"], true);
}

#[tokio::test]
async fn anonymous_launch_and_empty_roles_are_accepted() {
    let lms = Lms::start().await;
    lms.sim
        .set_tamper(Tamper::claims(json!({"sub": null, claim("roles"): []})));
    let ltik = lms
        .do_launch(MessageType::ResourceLink)
        .await
        .ltik()
        .to_owned();
    let body: Value = lms.idtoken(&ltik, "").await.json().await.unwrap();
    assert_eq!(body["user"]["roles"], json!([]));
    assert!(body["user"].get("id").is_none_or(Value::is_null));
}

#[tokio::test]
async fn api_refuses_bad_credentials() {
    let lms = Lms::start().await;
    let ltik = lms
        .do_launch(MessageType::ResourceLink)
        .await
        .ltik()
        .to_owned();
    let call = |auth: Option<String>| {
        let mut request = lms.gate.client.get(lms.gate.url("//api/idtoken"));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send()
    };
    common::expect_error(call(None).await.unwrap(), 401, "MISSING_AUTHORIZATION").await;
    common::expect_error(
        call(Some(format!("Bearer {ltik}"))).await.unwrap(),
        401,
        "INVALID_AUTHORIZATION",
    )
    .await;
    common::expect_error(
        call(Some(format!("LTIK-AUTH-V2 wrong-key:{ltik}")))
            .await
            .unwrap(),
        401,
        "INVALID_API_KEY",
    )
    .await;
    common::expect_error(
        call(Some(format!(
            "LTIK-AUTH-V2 {}:not-an-ltik",
            common::API_KEY
        )))
        .await
        .unwrap(),
        401,
        "INVALID_LTIK",
    )
    .await;
    // Double slash from LTIAAS clients reaches the route.
    let ok = call(Some(format!("LTIK-AUTH-V2 {}:{ltik}", common::API_KEY)))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

/// One tampered claim or header per refusal the Security Framework requires.
#[tokio::test]
async fn every_bad_id_token_is_refused_with_its_own_code() {
    let lms = Lms::start().await;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "alg none",
            Tamper::signing(Signing::AlgNone),
            "ALG_NOT_ALLOWED",
        ),
        (
            "HS256 keyed with the public key",
            Tamper::signing(Signing::Hs256WithPublicKeyPem),
            "ALG_NOT_ALLOWED",
        ),
        (
            "tampered signature",
            Tamper::signing(Signing::CorruptSignature),
            "SIGNATURE_INVALID",
        ),
        (
            "foreign key with the platform's kid",
            Tamper::signing(Signing::ForeignKey),
            "SIGNATURE_INVALID",
        ),
        (
            "key in a jwk header",
            Tamper::signing(Signing::ForeignKey)
                .with_header(json!({"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}})),
            "SIGNATURE_INVALID",
        ),
        (
            "key URL in a jku header",
            Tamper::signing(Signing::ForeignKey)
                .with_header(json!({"jku": "http://127.0.0.1:9/jwks"})),
            "SIGNATURE_INVALID",
        ),
        (
            "missing kid",
            Tamper::header(json!({"kid": null})),
            "KID_MISSING",
        ),
        (
            "unknown kid",
            Tamper::header(json!({"kid": "no-such-key"})),
            "KID_UNKNOWN",
        ),
        (
            "expired",
            Tamper::claims(json!({"exp": 1_000_000_000, "iat": 999_999_000})),
            "TOKEN_EXPIRED",
        ),
        (
            "issued at the epoch, expiring far in the future",
            Tamper::claims(json!({"iat": 0, "exp": 4_000_000_000u64})),
            "IAT_BEFORE_LOGIN",
        ),
        (
            "issued an hour before the login",
            Tamper::claims(json!({"iat": unix_now() - 3600})),
            "IAT_BEFORE_LOGIN",
        ),
        (
            "iat in the future",
            Tamper::claims(json!({"iat": 4_000_000_000u64, "exp": 4_000_000_300u64})),
            "IAT_IN_FUTURE",
        ),
        (
            "wrong aud",
            Tamper::claims(json!({"aud": "someone-else"})),
            "AUD_MISMATCH",
        ),
        (
            "two audiences without azp",
            Tamper::claims(json!({"aud": [CLIENT_ID, "other"], "azp": null})),
            "AZP_MISSING",
        ),
        (
            "wrong azp",
            Tamper::claims(json!({"azp": "other"})),
            "AZP_MISMATCH",
        ),
        (
            "wrong iss",
            Tamper::claims(json!({"iss": "https://evil.example"})),
            "ISS_MISMATCH",
        ),
        (
            "unknown deployment",
            Tamper::claims(json!({claim("deployment_id"): "not-registered"})),
            "DEPLOYMENT_UNKNOWN",
        ),
        (
            "missing deployment",
            Tamper::claims(json!({claim("deployment_id"): null})),
            "DEPLOYMENT_ID_MISSING",
        ),
        (
            "wrong version",
            Tamper::claims(json!({claim("version"): "1.1"})),
            "VERSION_INVALID",
        ),
        (
            "missing version",
            Tamper::claims(json!({claim("version"): null})),
            "VERSION_MISSING",
        ),
        (
            "missing message_type",
            Tamper::claims(json!({claim("message_type"): null})),
            "MESSAGE_TYPE_MISSING",
        ),
        (
            "unsupported message_type",
            Tamper::claims(json!({claim("message_type"): "LtiSubmissionReviewRequest"})),
            "MESSAGE_TYPE_UNSUPPORTED",
        ),
        (
            "resource link without id",
            Tamper::claims(json!({claim("resource_link"): null})),
            "RESOURCE_LINK_MISSING",
        ),
        (
            "resource link without roles",
            Tamper::claims(json!({claim("roles"): null})),
            "ROLES_MISSING",
        ),
        (
            "nonce of another login",
            Tamper::claims(json!({"nonce": "some-other-nonce"})),
            "NONCE_MISMATCH",
        ),
        (
            "no nonce",
            Tamper::claims(json!({"nonce": null})),
            "NONCE_MISSING",
        ),
        (
            "garbage token",
            Tamper::signing(Signing::Raw("not.a.jwt".into())),
            "TOKEN_MALFORMED",
        ),
        (
            "oversized token",
            Tamper::signing(Signing::Raw(format!(
                "{}.{}.{}",
                "a".repeat(40_000),
                "b".repeat(30_000),
                "c"
            ))),
            "TOKEN_TOO_LARGE",
        ),
    ];
    let mut failures = Vec::new();
    for (name, tamper, expected) in cases {
        let code = lms.do_launch_until_error(tamper).await;
        if code != expected {
            failures.push(format!("{name}: expected {expected}, got {code}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn deep_linking_without_sub_is_refused() {
    let lms = Lms::start().await;
    lms.sim.set_tamper(Tamper::claims(json!({"sub": null})));
    let outcome = lms.do_launch(MessageType::DeepLinking).await;
    assert_eq!(outcome.code(), "SUB_MISSING");
}

#[tokio::test]
async fn replayed_id_token_is_refused() {
    let lms = Lms::start().await;
    let login = lms.login(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;
    lms.post_launch(&form, login.cookie.as_deref()).await.ltik();
    let replay = lms.post_launch(&form, login.cookie.as_deref()).await;
    assert_eq!(replay.code(), "NONCE_REPLAYED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_submissions_give_exactly_one_launch() {
    let lms = Lms::start().await;
    let login = lms.login(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let request = lms
            .gate
            .client
            .post(&form.action)
            .form(&form.fields)
            .header("cookie", login.cookie.clone().unwrap());
        tasks.spawn(async move { common::lms::outcome(request.send().await.unwrap()).await });
    }
    let outcomes = tasks.join_all().await;
    let accepted = outcomes
        .iter()
        .filter(|o| matches!(o, common::lms::Outcome::Handoff { .. }))
        .count();
    assert_eq!(accepted, 1, "{outcomes:?}");
    for outcome in &outcomes {
        if let common::lms::Outcome::Refused { code, .. } = outcome {
            assert_eq!(code, "NONCE_REPLAYED");
        }
    }
}

#[tokio::test]
async fn state_must_be_ours_and_bound_to_the_browser() {
    let lms = Lms::start().await;
    let login = lms.login(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;

    let no_cookie = lms.post_launch(&form, None).await;
    assert_eq!(no_cookie.code(), "STATE_NOT_BOUND");

    let other_login = lms.login(MessageType::ResourceLink).await;
    let wrong_cookie = other_login
        .cookie
        .as_deref()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap();
    let name = login.cookie.as_deref().unwrap().split('=').next().unwrap();
    let mismatched = lms
        .post_launch(&form, Some(&format!("{name}={wrong_cookie}")))
        .await;
    assert_eq!(mismatched.code(), "STATE_MISMATCH");

    let mut forged = common::lms::AuthResponse {
        action: form.action.clone(),
        fields: form.fields.clone(),
    };
    for (k, v) in &mut forged.fields {
        if k == "state" {
            v.push('x');
        }
    }
    assert_eq!(
        lms.post_launch(&forged, login.cookie.as_deref())
            .await
            .code(),
        "STATE_INVALID"
    );
    forged.fields.retain(|(k, _)| k != "state");
    assert_eq!(
        lms.post_launch(&forged, login.cookie.as_deref())
            .await
            .code(),
        "STATE_MISSING"
    );
    // The untouched launch still works afterwards: refusals consumed nothing.
    lms.post_launch(&form, login.cookie.as_deref()).await.ltik();
}

#[tokio::test]
async fn platform_oidc_error_is_shown() {
    let lms = Lms::start().await;
    let login = lms.login(MessageType::ResourceLink).await;
    let form = common::lms::AuthResponse {
        action: lms.gate.url("/lti/launch"),
        fields: vec![
            ("error".into(), "login_required".into()),
            (
                "error_description".into(),
                "<script>alert(1)</script>".into(),
            ),
        ],
    };
    let response = lms
        .gate
        .client
        .post(&form.action)
        .form(&form.fields)
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(html.contains("PLATFORM_ERROR"));
    assert!(!html.contains("<script>alert"), "platform text is escaped");
    drop(login);
}

#[tokio::test]
async fn pending_inactive_and_unknown_platforms_cannot_launch() {
    let lms = Lms::start().await;
    let login = lms.login(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;
    lms.gate
        .admin(
            Method::POST,
            &format!("/admin/platforms/{}/deactivate", lms.platform_id),
        )
        .send()
        .await
        .unwrap();
    // A launch in flight when the platform is turned off is refused too.
    assert_eq!(
        lms.post_launch(&form, login.cookie.as_deref()).await.code(),
        "PLATFORM_INACTIVE"
    );
    assert_eq!(lms.login_refusal().await, "PLATFORM_INACTIVE");

    let unknown = lms
        .gate
        .client
        .get(
            lms.gate
                .url("/lti/login?iss=https%3A%2F%2Fnobody.example&login_hint=x&target_link_uri=x"),
        )
        .send()
        .await
        .unwrap();
    let outcome = common::lms::outcome(unknown).await;
    assert_eq!(outcome.code(), "PLATFORM_NOT_FOUND");
    let missing = lms
        .gate
        .client
        .get(lms.gate.url("/lti/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(common::lms::outcome(missing).await.code(), "LOGIN_INVALID");
}

#[tokio::test]
async fn new_deployments_are_recorded_when_allowed() {
    let lms = Lms::start_with(json!({"deploymentIds": [], "allowNewDeployments": true})).await;
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    let platform = lms.platform().await;
    assert_eq!(platform["deploymentIds"], json!([DEPLOYMENT_ID]));
}

#[tokio::test]
async fn real_canvas_and_moodle_claim_sets_launch() {
    for fixture in [
        include_str!("../../ltisim/fixtures/canvas.json"),
        include_str!("../../ltisim/fixtures/moodle.json"),
        include_str!("../../ltisim/fixtures/spec-example.json"),
    ] {
        let doc: Value = serde_json::from_str(fixture).unwrap();
        let claims = doc["id_token_claims"].clone();
        let lms = Lms::start().await;
        lms.sim.set_base_claims(claims.clone());
        let outcome = lms.do_launch(MessageType::ResourceLink).await;
        let body: Value = lms.idtoken(outcome.ltik(), "").await.json().await.unwrap();
        assert_eq!(body["user"]["id"], claims["sub"], "{}", doc["platform"]);
        assert_eq!(
            body["launch"]["context"]["id"],
            claims[claim("context")]["id"],
            "{}",
            doc["platform"]
        );
    }
}

/// The attacker's storage login: its launch form, and the binding from the attacker's own cookie.
async fn attacker_storage_login(lms: &Lms) -> (common::lms::AuthResponse, String) {
    let login = lms.login_with_storage(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;
    let binding = login.cookie.unwrap().split_once('=').unwrap().1.to_owned();
    (form, binding)
}

/// Posts a launch form with `lti_storage_binding` and no cookie, as a browser would when
/// some page makes it submit the form.
async fn post_with_binding(
    lms: &Lms,
    form: &common::lms::AuthResponse,
    binding: &str,
    headers: &[(&str, &str)],
) -> common::lms::Outcome {
    let mut fields = form.fields.clone();
    fields.push(("lti_storage_binding".into(), binding.into()));
    let mut request = lms.gate.client.post(&form.action).form(&fields);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    common::lms::outcome(request.send().await.unwrap()).await
}

/// Login CSRF: the attacker's own launch, posted from the victim's browser with the binding
/// from the attacker's cookie, must not sign the victim in as the attacker.
#[tokio::test]
async fn a_storage_binding_counts_only_when_ltigates_own_page_posts_it() {
    let lms = Lms::start().await;
    let (form, binding) = attacker_storage_login(&lms).await;
    let foreign: [&[(&str, &str)]; 6] = [
        &[("origin", "https://evil.example")],
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        &[("origin", "null")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://localhost")],
        // Neither header: nothing proves where the post came from.
        &[],
    ];
    for headers in foreign {
        assert_eq!(
            post_with_binding(&lms, &form, &binding, headers)
                .await
                .code(),
            "STATE_BINDING_CROSS_SITE",
            "{headers:?}"
        );
    }
    // ltigate's relaunch page posts from ltigate's origin: that works (the refusals above
    // consumed nothing).
    let own_origin = lms.gate.url("");
    post_with_binding(&lms, &form, &binding, &[("origin", &own_origin)])
        .await
        .ltik();
    // Sec-Fetch-Site alone is enough too.
    let (form, binding) = attacker_storage_login(&lms).await;
    post_with_binding(&lms, &form, &binding, &[("sec-fetch-site", "same-origin")])
        .await
        .ltik();
}

#[tokio::test]
async fn a_form_binding_is_refused_for_a_login_without_platform_storage() {
    let lms = Lms::start().await;
    let login = lms.login(MessageType::ResourceLink).await;
    let form = lms.authorize(&login).await;
    let cookie = login.cookie.as_deref().unwrap();
    let binding = cookie.split_once('=').unwrap().1;
    let own_origin = lms.gate.url("");
    for headers in [
        [("origin", own_origin.as_str())],
        [("sec-fetch-site", "same-origin")],
        [("origin", "https://evil.example")],
    ] {
        assert_eq!(
            post_with_binding(&lms, &form, binding, &headers)
                .await
                .code(),
            "STATE_STORAGE_NOT_USED",
            "{headers:?}"
        );
    }
    lms.post_launch(&form, Some(cookie)).await.ltik();
}

#[tokio::test]
async fn a_target_link_uri_cannot_bring_its_own_ltik() {
    let lms = Lms::start().await;
    lms.sim.set_tamper(Tamper::claims(json!({
        claim("target_link_uri"): format!("{APP_LAUNCH_URL}/page?a=1&ltik=attacker&b=x%20y&ltik=2"),
    })));
    let outcome = lms.do_launch(MessageType::ResourceLink).await;
    let common::lms::Outcome::Handoff { location, ltik } = &outcome else {
        panic!("refused: {outcome:?}");
    };
    assert_eq!(
        location,
        &format!("{APP_LAUNCH_URL}/page?a=1&b=x%20y&ltik={ltik}")
    );
    assert_eq!(lms.idtoken(ltik, "").await.status(), 200);
}

/// `levels` arrays around a number.
fn nested_arrays(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!([inner]))
}

/// A 302 always means a launch the app can read: a payload too deep to read back is refused
/// at the launch, and one at the limit reads.
#[tokio::test]
async fn deeply_nested_claims_are_refused_and_those_at_the_limit_read_back() {
    let lms = Lms::start().await;
    let deep = |levels| Tamper::claims(json!({"https://lms.example/deep": nested_arrays(levels)}));
    for levels in [127, 200] {
        assert_eq!(
            lms.do_launch_until_error(deep(levels)).await,
            "TOKEN_TOO_DEEP"
        );
    }
    // The payload object is one level: this claim brings it to the limit.
    let max = lti::id_token::UnverifiedIdToken::MAX_DEPTH;
    lms.sim.set_tamper(deep(max - 1));
    let outcome = lms.do_launch(MessageType::ResourceLink).await;
    lms.sim.reset_tamper();
    let ltik = outcome.ltik();
    assert_eq!(lms.idtoken(ltik, "").await.status(), 200);
    let raw: Value = lms.idtoken(ltik, "?raw=true").await.json().await.unwrap();
    assert_eq!(raw["https://lms.example/deep"], nested_arrays(max - 1));
}
