//! Dynamic Registration and platform profiles over real HTTP on loopback: each profile
//! serves its real platform's documents on the simulator's host, and registers a tool the
//! way that platform does.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ltisim::{Failure, MessageType, Profile, Simulator, form_fields};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const TOOL_CONFIGURATION: &str = "https://purl.imsglobal.org/spec/lti-tool-configuration";
const PLATFORM_CONFIGURATION: &str = "https://purl.imsglobal.org/spec/lti-platform-configuration";

fn fixture(profile: Profile) -> Value {
    let text = match profile {
        Profile::Canvas => include_str!("../fixtures/canvas.json"),
        Profile::Moodle => include_str!("../fixtures/moodle.json"),
        Profile::SpecExample | Profile::Default => include_str!("../fixtures/spec-example.json"),
    };
    serde_json::from_str(text).expect("fixture parses")
}

/// The registration request a tool really sent that platform (the spec's example for the
/// default profile).
fn request_for(profile: Profile) -> Value {
    fixture(profile)["registration_request"].clone()
}

fn lti(name: &str) -> String {
    format!("https://purl.imsglobal.org/spec/lti/claim/{name}")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.expect("body");
        Self {
            status,
            content_type,
            body,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }
}

async fn get_configuration(url: &str, token: Option<&str>) -> Answer {
    let mut request = http().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::from(request.send().await.expect("answered")).await
}

async fn post_registration(sim: &Simulator, token: Option<&str>, body: &Value) -> Answer {
    let mut request = http().post(sim.registration_endpoint()).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::from(request.send().await.expect("answered")).await
}

/// Starts a registration with a token and registers the platform's real request.
async fn register(sim: &Simulator) -> Value {
    let (_, token) = sim.registration_start(true);
    let answer = post_registration(sim, token.as_deref(), &request_for(sim.profile())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.content_type.starts_with("application/json"));
    answer.json()
}

fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

#[tokio::test]
async fn each_profile_serves_its_platform_configuration_on_the_sim_host() {
    let expected = [
        (
            Profile::Canvas,
            "",
            "/api/lti/security/openid-configuration",
            [
                "/api/lti/authorize_redirect",
                "/login/oauth2/token",
                "/api/lti/security/jwks",
                "/api/lti/registrations",
            ],
        ),
        (
            Profile::Moodle,
            "/moodle",
            "/moodle/mod/lti/openid-configuration.php",
            [
                "/moodle/mod/lti/auth.php",
                "/moodle/mod/lti/token.php",
                "/moodle/mod/lti/certs.php",
                "/moodle/mod/lti/openid-registration.php",
            ],
        ),
        (
            Profile::SpecExample,
            "",
            "/.well-known/openid-configuration",
            [
                "/connect/authorize",
                "/connect/token",
                "/jwks.json",
                "/connect/register",
            ],
        ),
    ];
    for (profile, site, configuration_path, [auth, token, jwks, register]) in expected {
        let sim = Simulator::start_with(profile).await.expect("starts");
        let base = sim.base_url();
        assert_eq!(
            sim.openid_configuration_url(),
            format!("{base}{configuration_path}")
        );
        let (url, registration_token) = sim.registration_start(true);
        let answer = get_configuration(&url, registration_token.as_deref()).await;
        assert_eq!(answer.status, 200, "{profile:?}: {}", answer.body);
        let served = answer.json();
        let original = &fixture(profile)["openid_configuration"];

        // Same structure as the real document, on the simulator's host.
        let keys = |document: &Value| -> Vec<String> {
            document
                .as_object()
                .expect("object")
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(keys(&served), keys(original), "{profile:?}");
        assert_eq!(
            served[PLATFORM_CONFIGURATION],
            {
                let mut moved = original[PLATFORM_CONFIGURATION].clone();
                if profile == Profile::Canvas {
                    moved["https://canvas.instructure.com/lti/account_domain"] =
                        json!(base.trim_start_matches("http://"));
                }
                moved
            },
            "{profile:?}"
        );
        assert_eq!(served["scopes_supported"], original["scopes_supported"]);
        assert_eq!(served["issuer"], format!("{base}{site}"), "{profile:?}");
        assert_eq!(served["issuer"], sim.issuer());
        assert_eq!(served["authorization_endpoint"], format!("{base}{auth}"));
        assert_eq!(served["token_endpoint"], format!("{base}{token}"));
        assert_eq!(served["jwks_uri"], format!("{base}{jwks}"));
        assert_eq!(served["registration_endpoint"], format!("{base}{register}"));
        assert_eq!(
            served["authorization_endpoint"],
            sim.authorization_endpoint()
        );
        assert_eq!(served["jwks_uri"], sim.jwks_uri());
        assert_eq!(served["token_endpoint"], sim.token_endpoint());
        assert_eq!(served["registration_endpoint"], sim.registration_endpoint());
        assert!(
            !answer.body.contains(".example."),
            "{profile:?}: {}",
            answer.body
        );

        // The endpoints are routed to the real handlers.
        let keys: JwkSet = http()
            .get(sim.jwks_uri())
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("a JWK set");
        assert_eq!(keys.keys.len(), 1, "{profile:?}");
        let refused = http()
            .get(sim.authorization_endpoint())
            .send()
            .await
            .expect("answered");
        assert_eq!(
            refused.status(),
            400,
            "{profile:?}: the auth handler answers"
        );
    }
}

#[tokio::test]
async fn default_profile_keeps_its_paths_and_other_profiles_do_not_serve_them() {
    let sim = Simulator::start().await.expect("starts");
    assert_eq!(sim.profile(), Profile::Default);
    let (url, token) = sim.registration_start(true);
    assert_eq!(url, sim.openid_configuration_url());
    assert!(url.ends_with("/.well-known/openid-configuration"));
    let served = get_configuration(&url, None).await.json();
    assert_eq!(
        served["registration_endpoint"],
        format!("{}/register", sim.base_url())
    );
    assert!(token.is_some());

    let canvas = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    for path in ["/.well-known/openid-configuration", "/register", "/jwks"] {
        let answer = http()
            .get(format!("{}{path}", canvas.base_url()))
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn canvas_configuration_needs_the_registration_token_as_bearer() {
    let sim = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    let (url, token) = sim.registration_start(true);
    let token = token.expect("Canvas always issues a token");
    let query = url::Url::parse(&url).expect("url");
    let in_query: BTreeMap<_, _> = query.query_pairs().into_owned().collect();
    assert_eq!(in_query.get("registration_token"), Some(&token));
    assert_eq!(jwt_payload(&token)["user_id"], 1, "a Canvas-style JWT");

    let without = get_configuration(&url, None).await;
    assert_eq!(without.status, 401);
    assert!(without.json()["errors"][0]["message"].is_string());
    assert_eq!(get_configuration(&url, Some("forged")).await.status, 401);
    assert_eq!(get_configuration(&url, Some(&token)).await.status, 200);

    // Expired tokens open nothing.
    sim.set_registration_token_lifetime(Duration::ZERO);
    let (url, expired) = sim.registration_start(true);
    assert_eq!(
        get_configuration(&url, expired.as_deref()).await.status,
        401
    );
}

#[tokio::test]
async fn moodle_configuration_is_public_and_its_issuer_has_a_path() {
    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    let (url, token) = sim.registration_start(true);
    assert_eq!(url, sim.openid_configuration_url(), "no token in the URL");
    assert!(token.is_some());
    let answer = get_configuration(&url, None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json()["issuer"],
        format!("{}/moodle", sim.base_url())
    );
}

#[tokio::test]
async fn canvas_answers_with_deployment_id_at_the_top_level() {
    let sim = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    let answer = register(&sim).await;
    let client_id = answer["client_id"].as_str().expect("client_id");
    assert!(client_id.chars().all(|c| c.is_ascii_digit()), "{client_id}");
    let deployment_id = answer["deployment_id"]
        .as_str()
        .expect("top-level deployment_id");
    assert!(deployment_id.contains(':'), "Canvas's N:hash format");
    let tool_config = &answer[TOOL_CONFIGURATION];
    assert!(tool_config.get("deployment_id").is_none());
    let config_url = tool_config["https://canvas.instructure.com/lti/registration_config_url"]
        .as_str()
        .expect("Canvas extension");
    assert!(config_url.starts_with(&sim.registration_endpoint()));
    assert!(answer.get("contacts").is_none(), "Canvas drops contacts");
    assert_eq!(
        answer["grant_types"],
        json!(["client_credentials", "implicit"])
    );

    // Same shape as the real reply.
    let real = &fixture(Profile::Canvas)["registration_response"];
    let keys = |v: &Value| -> Vec<String> { v.as_object().expect("obj").keys().cloned().collect() };
    assert_eq!(keys(&answer), keys(real));
    assert_eq!(keys(tool_config), keys(&real[TOOL_CONFIGURATION]));

    let tool = sim.tool(client_id).expect("registered");
    assert_eq!(tool.deployment_id, deployment_id);
    assert_eq!(
        tool.login_url,
        "https://tool.example.com/lti/provider/login13"
    );
    assert_eq!(
        tool.redirect_uris,
        ["https://tool.example.com/lti/provider/redirect13"]
    );
    assert_eq!(
        tool.target_link_uri,
        "https://tool.example.com/lti/provider/launch13"
    );
}

#[tokio::test]
async fn moodle_answers_with_deployment_id_inside_the_tool_configuration() {
    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    let (_, token) = sim.registration_start(true);
    let token = token.expect("token");
    let subject = jwt_payload(&token)["sub"].as_str().expect("sub").to_owned();
    let mut request = request_for(Profile::Moodle);
    request["scope"] = json!("https://purl.imsglobal.org/spec/lti-ags/scope/score");
    let answer = post_registration(&sim, Some(&token), &request).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = answer.json();
    assert_eq!(
        answer["client_id"], subject,
        "Moodle's client_id is the token's sub"
    );
    assert!(answer.get("deployment_id").is_none());
    let tool_config = &answer[TOOL_CONFIGURATION];
    let deployment_id = tool_config["deployment_id"].as_str().expect("inside");
    assert_eq!(tool_config["version"], "1.3.0");
    assert_eq!(
        answer["grant_types"],
        json!(["client_credentials", "implicit"])
    );
    // The requested score scope becomes Moodle's partial grade sync scopes.
    let scope = answer["scope"].as_str().expect("scope");
    assert!(scope.contains("/lti-ags/scope/score") && scope.contains("result.readonly"));
    assert_eq!(
        tool_config["messages"],
        json!([{ "type": "LtiDeepLinkingRequest", "target_link_uri": "https://tool.example.com/lti_launches" }])
    );
    assert_eq!(
        sim.tool(&subject).expect("registered").deployment_id,
        deployment_id
    );

    // Without scopes Moodle answers the empty string, as captured.
    let answer = register(&sim).await;
    assert_eq!(answer["scope"], "");
    let real = &fixture(Profile::Moodle)["registration_response"];
    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().expect("obj").keys().cloned().collect();
        // Present only when the tool sent some (the captured tool did, this request not).
        keys.retain(|key| key != "custom_parameters");
        keys
    };
    assert_eq!(keys(&answer), keys(real));
    assert_eq!(
        keys(&answer[TOOL_CONFIGURATION]),
        keys(&real[TOOL_CONFIGURATION])
    );
}

#[tokio::test]
async fn spec_example_and_default_answer_without_deployment_id() {
    for profile in [Profile::SpecExample, Profile::Default] {
        let sim = Simulator::start_with(profile).await.expect("starts");
        let request = request_for(profile);
        let answer = register(&sim).await;
        let client_id = answer["client_id"].as_str().expect("client_id");
        assert!(answer.get("deployment_id").is_none(), "{profile:?}");
        assert!(answer[TOOL_CONFIGURATION].get("deployment_id").is_none());
        assert_eq!(
            answer["registration_client_uri"],
            format!("{}?client_id={client_id}", sim.registration_endpoint())
        );
        // Echoed as sent, the spec's misspelt grant type included.
        assert_eq!(
            answer["grant_types"],
            json!(["implict", "client_credentials"])
        );
        assert_eq!(answer["client_name#ja"], request["client_name#ja"]);
        // The platform deploys later: launches carry a deployment the tool never saw.
        let tool = sim.tool(client_id).expect("registered");
        assert!(!tool.deployment_id.is_empty());
        assert_eq!(
            tool.deep_linking_url.as_deref(),
            Some("https://client.example.org/lti/dl")
        );
        assert_eq!(sim.registrations(), [request]);
    }
}

/// What a tool does after registering: login initiation, authentication request, id_token.
async fn launch(sim: &Simulator, client_id: &str, redirect_uri: &str) -> Value {
    let login: BTreeMap<String, String> = sim
        .login_initiation_params(client_id, MessageType::ResourceLink)
        .into_iter()
        .collect();
    assert_eq!(login["iss"], sim.issuer());
    let request = [
        ("scope", "openid"),
        ("response_type", "id_token"),
        ("response_mode", "form_post"),
        ("prompt", "none"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("login_hint", &login["login_hint"]),
        ("lti_message_hint", &login["lti_message_hint"]),
        ("state", "s-1"),
        ("nonce", "n-1"),
    ];
    let response = http()
        .post(sim.authorization_endpoint())
        .form(&request)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let form = form_fields(&response.text().await.expect("body"));
    let token = form
        .get("id_token")
        .unwrap_or_else(|| panic!("no id_token: {form:?}"));
    let jwks: JwkSet = http()
        .get(sim.jwks_uri())
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("jwks");
    let kid = jsonwebtoken::decode_header(token)
        .expect("header")
        .kid
        .expect("kid");
    let key = DecodingKey::from_jwk(jwks.find(&kid).expect("published")).expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[sim.issuer()]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the id_token verifies")
        .claims
}

#[tokio::test]
async fn a_freshly_registered_tool_launches_with_the_platform_claim_set() {
    for profile in Profile::ALL {
        let sim = Simulator::start_with(profile).await.expect("starts");
        let answer = register(&sim).await;
        let client_id = answer["client_id"].as_str().expect("client_id");
        let redirect_uri = answer["redirect_uris"][0].as_str().expect("redirect_uri");
        let claims = launch(&sim, client_id, redirect_uri).await;
        let deployment_id = sim.tool(client_id).expect("registered").deployment_id;
        assert_eq!(claims[lti("deployment_id")], deployment_id, "{profile:?}");
        assert_eq!(
            claims[lti("target_link_uri")],
            answer[TOOL_CONFIGURATION]["target_link_uri"]
        );
        match profile {
            Profile::Canvas => {
                assert_eq!(answer["deployment_id"], deployment_id);
                assert_eq!(claims["aud"], client_id, "Canvas sends aud as a string");
                assert_eq!(claims["azp"], client_id);
                assert!(claims.get(lti("lti1p1")).is_some());
                assert!(
                    claims
                        .get("https://www.instructure.com/placement")
                        .is_some()
                );
                assert_eq!(
                    claims[lti("tool_platform")]["product_family_code"],
                    "canvas"
                );
            }
            Profile::Moodle => {
                assert_eq!(answer[TOOL_CONFIGURATION]["deployment_id"], deployment_id);
                assert_eq!(claims["iss"], format!("{}/moodle", sim.base_url()));
                assert_eq!(claims[lti("context")]["type"], json!(["CourseSection"]));
                assert_eq!(claims[lti("ext")]["lms"], "moodle-2");
                let ags = &claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"];
                assert!(
                    ags["lineitems"]
                        .as_str()
                        .expect("lineitems")
                        .starts_with(&format!("{}/moodle/mod/lti/services.php/", sim.base_url()))
                );
            }
            Profile::SpecExample => {
                assert_eq!(claims["aud"], json!([client_id]), "the spec's array aud");
                assert_eq!(claims["middle_name"], "Marie");
            }
            Profile::Default => {
                assert_eq!(
                    claims[lti("tool_platform")]["product_family_code"],
                    "ltisim"
                );
            }
        }
    }
}

#[tokio::test]
async fn registration_tokens_are_single_use() {
    // Moodle: plain-text 401s.
    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    let request = request_for(Profile::Moodle);
    let missing = post_registration(&sim, None, &request).await;
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (401, "missing_registration_token")
    );
    assert!(missing.content_type.starts_with("text/plain"));
    let (_, token) = sim.registration_start(true);
    assert_eq!(
        post_registration(&sim, token.as_deref(), &request)
            .await
            .status,
        200
    );
    let reused = post_registration(&sim, token.as_deref(), &request).await;
    assert_eq!(
        (reused.status, reused.body.as_str()),
        (401, "token_already_used")
    );
    let forged = post_registration(&sim, Some("forged"), &request).await;
    assert_eq!(forged.status, 401);

    // Canvas: JSON 401s.
    let sim = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    let request = request_for(Profile::Canvas);
    let (_, token) = sim.registration_start(true);
    assert_eq!(
        post_registration(&sim, token.as_deref(), &request)
            .await
            .status,
        200
    );
    let reused = post_registration(&sim, token.as_deref(), &request).await;
    assert_eq!(reused.status, 401);
    assert!(reused.json()["errors"][0]["message"].is_string());
    assert_eq!(post_registration(&sim, None, &request).await.status, 401);
    assert_eq!(sim.registrations().len(), 3, "every request is recorded");
}

#[tokio::test]
async fn registration_tokens_expire() {
    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    sim.set_registration_token_lifetime(Duration::from_millis(50));
    let (_, token) = sim.registration_start(true);
    let token = token.expect("token");
    let payload = jwt_payload(&token);
    assert_eq!(payload["scope"], "reg");
    tokio::time::sleep(Duration::from_millis(80)).await;
    let expired = post_registration(&sim, Some(&token), &request_for(Profile::Moodle)).await;
    assert_eq!(
        (expired.status, expired.body.as_str()),
        (401, "invalid_registration_token")
    );

    // A one hour token by default.
    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    let (_, token) = sim.registration_start(true);
    let payload = jwt_payload(&token.expect("token"));
    let lifetime = payload["exp"].as_u64().expect("exp") - payload["iat"].as_u64().expect("iat");
    assert_eq!(lifetime, 3600);
}

#[tokio::test]
async fn tokenless_registration_only_where_the_platform_opened_one() {
    let sim = Simulator::start().await.expect("starts");
    let request = request_for(Profile::Default);
    let unsolicited = post_registration(&sim, None, &request).await;
    assert_eq!(unsolicited.status, 401);
    assert_eq!(unsolicited.json()["error"], "invalid_token");
    let (url, token) = sim.registration_start(false);
    assert_eq!((url, token), (sim.openid_configuration_url(), None));
    assert_eq!(post_registration(&sim, None, &request).await.status, 200);
    assert_eq!(
        post_registration(&sim, None, &request).await.status,
        401,
        "once"
    );

    // Canvas never registers without a token.
    let canvas = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    let (url, token) = canvas.registration_start(false);
    assert!(token.is_none() && !url.contains("registration_token"));
    assert_eq!(get_configuration(&url, None).await.status, 401);
    let refused = post_registration(&canvas, None, &request_for(Profile::Canvas)).await;
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn strict_validation_answers_in_each_platform_style() {
    let mismatch = json!({ TOOL_CONFIGURATION: { "domain": "elsewhere.example.com" } });
    let no_jwks = json!({ "jwks_uri": null });

    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    let (_, token) = sim.registration_start(true);
    let token = token.as_deref();
    for (patch, text) in [
        (mismatch.clone(), "domain_targetlinkuri_mismatch"),
        (no_jwks.clone(), "missing required attribute jwks_uri"),
        (
            json!({ "response_types": ["code"] }),
            "invalid_response_types",
        ),
        (
            json!({ "token_endpoint_auth_method": "client_secret_post" }),
            "invalid_token_endpoint_auth_method",
        ),
        (
            json!({ TOOL_CONFIGURATION: { "domain": null } }),
            "missing_domain",
        ),
    ] {
        let mut request = request_for(Profile::Moodle);
        json_patch(&mut request, &patch);
        let answer = post_registration(&sim, token, &request).await;
        assert_eq!((answer.status, answer.body.as_str()), (400, text));
        assert!(answer.content_type.starts_with("text/plain"));
    }
    // www. is ignored; a refused request does not use the token up.
    let mut request = request_for(Profile::Moodle);
    request[TOOL_CONFIGURATION]["domain"] = json!("www.tool.example.com");
    assert_eq!(post_registration(&sim, token, &request).await.status, 200);

    let sim = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    let (_, token) = sim.registration_start(true);
    let mut request = request_for(Profile::Canvas);
    json_patch(&mut request, &mismatch);
    let answer = post_registration(&sim, token.as_deref(), &request).await;
    assert_eq!(answer.status, 422);
    assert!(answer.json()["errors"][0]["message"].is_string());

    let sim = Simulator::start_with(Profile::SpecExample)
        .await
        .expect("starts");
    let (_, token) = sim.registration_start(true);
    let mut request = request_for(Profile::SpecExample);
    request["redirect_uris"] = json!([]);
    let answer = post_registration(&sim, token.as_deref(), &request).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"], "invalid_redirect_uri");
    let mut request = request_for(Profile::SpecExample);
    json_patch(&mut request, &no_jwks);
    let answer = post_registration(&sim, token.as_deref(), &request).await;
    assert_eq!(answer.json()["error"], "invalid_client_metadata");

    // JSON only.
    let answer = Answer::from(
        http()
            .post(sim.registration_endpoint())
            .bearer_auth(token.as_deref().expect("token"))
            .header("content-type", "text/plain")
            .body(request_for(Profile::SpecExample).to_string())
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(answer.status, 415);
    assert_eq!(sim.registrations().len(), 3);
    assert!(sim.tool("anything").is_none());
}

/// RFC 7396, for building variants of the fixture requests.
fn json_patch(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(target), Some(patch)) => {
            for (name, value) in patch {
                if value.is_null() {
                    target.remove(name);
                } else {
                    json_patch(target.entry(name.clone()).or_insert(json!({})), value);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

#[tokio::test]
async fn configuration_patch_serves_a_variant() {
    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    sim.set_openid_configuration_patch(json!({
        "issuer": "https://evil.example.net",
        "jwks_uri": null,
    }));
    let served = get_configuration(&sim.openid_configuration_url(), None)
        .await
        .json();
    assert_eq!(served["issuer"], "https://evil.example.net");
    assert!(served.get("jwks_uri").is_none());
    assert_eq!(served, sim.openid_configuration());
    sim.set_openid_configuration_patch(Value::Null);
    let served = get_configuration(&sim.openid_configuration_url(), None)
        .await
        .json();
    assert_eq!(served["issuer"], sim.issuer());
    assert_eq!(served["jwks_uri"], sim.jwks_uri());
}

#[tokio::test]
async fn configuration_failures() {
    let sim = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    let (url, token) = sim.registration_start(true);
    let token = token.as_deref();

    sim.set_configuration_failure(Failure::Status(
        503,
        "down for maintenance".into(),
        "text/plain".into(),
    ));
    let answer = get_configuration(&url, token).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (503, "down for maintenance")
    );
    assert_eq!(answer.content_type, "text/plain");

    sim.set_configuration_failure(Failure::NotJson);
    let answer = get_configuration(&url, token).await;
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("text/html"));
    assert!(serde_json::from_str::<Value>(&answer.body).is_err());

    sim.set_configuration_failure(Failure::Oversized(3 << 20));
    let answer = get_configuration(&url, token).await;
    assert_eq!(answer.body.len(), 3 << 20);
    assert!(answer.json().is_object());

    sim.set_configuration_failure(Failure::Redirect("http://10.0.0.1/config".into()));
    let answer = http()
        .get(&url)
        .bearer_auth(token.expect("token"))
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), 302);
    assert_eq!(answer.headers()["location"], "http://10.0.0.1/config");

    sim.set_configuration_failure(Failure::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    let answer = get_configuration(&url, token).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 200, "then answers normally");

    sim.set_configuration_failure(None);
    assert_eq!(get_configuration(&url, token).await.status, 200);
}

#[tokio::test]
async fn registration_failures_register_nothing() {
    let sim = Simulator::start_with(Profile::Canvas)
        .await
        .expect("starts");
    let request = request_for(Profile::Canvas);
    let (_, token) = sim.registration_start(true);
    let token = token.as_deref();

    let body = r#"{"errors":[{"field":"scope","message":"invalid scope"}]}"#;
    sim.set_registration_failure(Failure::Status(422, body.into(), "application/json".into()));
    let answer = post_registration(&sim, token, &request).await;
    assert_eq!((answer.status, answer.body.as_str()), (422, body));

    sim.set_registration_failure(Failure::Status(401, "nope".into(), "text/plain".into()));
    assert_eq!(post_registration(&sim, token, &request).await.status, 401);

    sim.set_registration_failure(Failure::NotJson);
    let answer = post_registration(&sim, token, &request).await;
    assert!(answer.content_type.starts_with("text/html"));

    sim.set_registration_failure(Failure::Oversized(100_000));
    assert_eq!(
        post_registration(&sim, token, &request).await.body.len(),
        100_000
    );

    sim.set_registration_failure(Failure::Redirect("http://169.254.169.254/".into()));
    let answer = http()
        .post(sim.registration_endpoint())
        .json(&request)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), 307);
    assert_eq!(answer.headers()["location"], "http://169.254.169.254/");

    assert_eq!(sim.registrations().len(), 5, "all recorded");
    assert!(
        sim.registrations()
            .iter()
            .all(|received| *received == request)
    );

    // Nothing was registered: the token is still good.
    sim.set_registration_failure(Failure::Slow(Duration::from_millis(200)));
    let started = Instant::now();
    let answer = post_registration(&sim, token, &request).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        answer.status, 200,
        "a slow platform still registers: {}",
        answer.body
    );
    assert_eq!(
        answer.json()["client_id"],
        "10000000000001",
        "the first registration"
    );
}

#[tokio::test]
async fn registration_initiation_url_carries_what_the_tool_needs() {
    let sim = Simulator::start_with(Profile::Moodle)
        .await
        .expect("starts");
    let url = sim.registration_initiation_url("https://tool.example.com/lti/register", true);
    let url = url::Url::parse(&url).expect("url");
    assert_eq!(url.path(), "/lti/register");
    let query: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query["openid_configuration"],
        sim.openid_configuration_url()
    );
    let token = &query["registration_token"];
    let answer = post_registration(&sim, Some(token), &request_for(Profile::Moodle)).await;
    assert_eq!(answer.status, 200);

    let without =
        sim.registration_initiation_url("https://tool.example.com/lti/register?x=1", false);
    assert!(without.starts_with("https://tool.example.com/lti/register?x=1&openid_configuration="));
    assert!(!without.contains("registration_token"));
}
