//! The simulator over real HTTP on loopback, checked with independent tools: reqwest for
//! the wire and jsonwebtoken for the JOSE side.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ltisim::{MessageType, Signing, Simulator, Storage, Tamper, Tool, form_fields};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const CLIENT_ID: &str = "tool-client-1";
const DEPLOYMENT_ID: &str = "deployment-7";
const REDIRECT_URI: &str = "https://tool.example.com/lti/launch";
const DL_URL: &str = "https://tool.example.com/lti/deep";
const DEEP_LINKING_SETTINGS: &str =
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";

fn lti(name: &str) -> String {
    format!("https://purl.imsglobal.org/spec/lti/claim/{name}")
}

async fn simulator() -> Simulator {
    let sim = Simulator::start().await.expect("simulator starts");
    sim.add_tool(Tool {
        client_id: CLIENT_ID.into(),
        deployment_id: DEPLOYMENT_ID.into(),
        login_url: "https://tool.example.com/lti/login".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        target_link_uri: REDIRECT_URI.into(),
        deep_linking_url: Some(DL_URL.into()),
        jwks_uri: None,
    });
    sim
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

/// The authentication request a tool sends after the login initiation (LTI Security
/// Framework §5.1.1.2), as query pairs.
fn auth_request(sim: &Simulator, message_type: MessageType) -> Vec<(String, String)> {
    let login: BTreeMap<String, String> = sim
        .login_initiation_params(CLIENT_ID, message_type)
        .into_iter()
        .collect();
    [
        ("scope", "openid"),
        ("response_type", "id_token"),
        ("response_mode", "form_post"),
        ("prompt", "none"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("login_hint", &login["login_hint"]),
        ("lti_message_hint", &login["lti_message_hint"]),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn with(request: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    request
        .iter()
        .map(|(k, v)| {
            let v = if k == name { value } else { v.as_str() };
            (k.clone(), v.to_owned())
        })
        .collect()
}

/// GET /auth, returning the status and the parsed form of the answer.
async fn do_auth(sim: &Simulator, request: &[(String, String)]) -> (u16, BTreeMap<String, String>) {
    let response = http()
        .get(sim.authorization_endpoint())
        .query(request)
        .send()
        .await
        .expect("auth request is answered");
    let status = response.status().as_u16();
    (status, form_fields(&response.text().await.expect("body")))
}

async fn fetch_jwks(sim: &Simulator) -> JwkSet {
    http()
        .get(sim.jwks_uri())
        .send()
        .await
        .expect("jwks answered")
        .json()
        .await
        .expect("jwks is a JWK set")
}

/// Verifies an RS256 id_token against the simulator's published JWKS.
async fn verify(sim: &Simulator, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let jwks = fetch_jwks(sim).await;
    let kid = jsonwebtoken::decode_header(token)?
        .kid
        .expect("the sim always sends a kid");
    let jwk = jwks.find(&kid).expect("kid is published");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[sim.issuer()]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation)
        .map(|data| data.claims)
}

/// Header, claims and signature bytes of a compact JWS, without verifying anything.
fn parts(token: &str) -> (Value, Value, Vec<u8>) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "compact JWS has three segments: {token}");
    let json = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("json")
    };
    let signature = URL_SAFE_NO_PAD.decode(segments[2]).expect("base64url");
    (json(segments[0]), json(segments[1]), signature)
}

#[tokio::test]
async fn configuration_is_an_lti_platform_configuration() {
    let sim = simulator().await;
    let config: Value = http()
        .get(sim.openid_configuration_url())
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(config["issuer"], sim.issuer());
    assert_eq!(sim.issuer(), sim.base_url());
    assert_eq!(
        config["authorization_endpoint"],
        sim.authorization_endpoint()
    );
    assert_eq!(config["jwks_uri"], sim.jwks_uri());
    assert_eq!(config["token_endpoint"], sim.token_endpoint());
    assert_eq!(
        config["registration_endpoint"],
        format!("{}/register", sim.base_url())
    );
    assert_eq!(
        config["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(config["response_types_supported"], json!(["id_token"]));
    assert!(
        config["scopes_supported"]
            .as_array()
            .expect("array")
            .contains(&json!("openid"))
    );
    assert!(config["claims_supported"].is_array());
    let lti = &config["https://purl.imsglobal.org/spec/lti-platform-configuration"];
    assert_eq!(lti["product_family_code"], "ltisim");
    assert!(lti["version"].is_string());
    let types: Vec<&str> = lti["messages_supported"]
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]);
}

#[tokio::test]
async fn jwks_loads_into_a_jose_library_and_verifies_what_the_sim_signs() {
    let sim = simulator().await;
    let jwks = fetch_jwks(&sim).await;
    assert_eq!(jwks.keys.len(), 1);
    let raw: Value = http()
        .get(sim.jwks_uri())
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let key = &raw["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], sim.current_kid());
    assert!(key["n"].is_string() && key["e"].is_string());

    let claims = json!({ "iss": sim.issuer(), "aud": CLIENT_ID, "exp": 4_000_000_000u64 });
    let token = sim.sign(json!({}), &claims);
    assert_eq!(verify(&sim, &token).await.expect("verifies"), claims);

    // The PEM is the same key.
    let by_pem = DecodingKey::from_rsa_pem(sim.public_key_pem().as_bytes()).expect("PEM loads");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT_ID]);
    jsonwebtoken::decode::<Value>(&token, &by_pem, &validation).expect("verifies with PEM");
}

#[tokio::test]
async fn sign_uses_the_rsa_scheme_the_header_names() {
    let sim = simulator().await;
    let claims = json!({ "aud": CLIENT_ID, "exp": 4_000_000_000u64 });
    let token = sim.sign(json!({ "alg": "RS512", "typ": null }), &claims);
    let (header, _, _) = parts(&token);
    assert_eq!(header, json!({ "alg": "RS512", "kid": sim.current_kid() }));
    let key = DecodingKey::from_rsa_pem(sim.public_key_pem().as_bytes()).expect("PEM loads");
    let mut validation = Validation::new(Algorithm::RS512);
    validation.set_audience(&[CLIENT_ID]);
    jsonwebtoken::decode::<Value>(&token, &key, &validation).expect("RS512 verifies");
}

#[tokio::test]
async fn correct_auth_request_form_posts_a_verifiable_id_token() {
    let sim = simulator().await;
    let (status, form) = do_auth(&sim, &auth_request(&sim, MessageType::ResourceLink)).await;
    assert_eq!(status, 200);
    assert_eq!(form["__action"], REDIRECT_URI);
    assert_eq!(form["state"], "state-123");
    assert_eq!(
        form.len(),
        3,
        "only id_token and state are posted: {form:?}"
    );
    let claims = verify(&sim, &form["id_token"]).await.expect("verifies");
    assert_eq!(claims["nonce"], "nonce-456");
    assert_eq!(claims["aud"], CLIENT_ID);
    assert!(claims.get("azp").is_none());
    assert_eq!(claims["sub"], "ltisim-user-1001");
    assert_eq!(claims[lti("deployment_id")], DEPLOYMENT_ID);
    assert_eq!(claims[lti("message_type")], "LtiResourceLinkRequest");
    assert_eq!(claims[lti("version")], "1.3.0");
    assert_eq!(claims[lti("target_link_uri")], REDIRECT_URI);
    assert_eq!(claims[lti("resource_link")]["id"], "ltisim-link-1");
    let exp = claims["exp"].as_u64().expect("exp");
    let iat = claims["iat"].as_u64().expect("iat");
    assert_eq!(exp - iat, 300);
    assert!(
        claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitems"]
            .as_str()
            .expect("AGS lineitems")
            .starts_with(&format!("{}/ags/", sim.base_url()))
    );
    assert_eq!(
        claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]["service_versions"],
        json!(["2.0"])
    );
}

#[tokio::test]
async fn auth_also_accepts_a_post_form() {
    let sim = simulator().await;
    let response = http()
        .post(sim.authorization_endpoint())
        .form(&auth_request(&sim, MessageType::ResourceLink))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let form = form_fields(&response.text().await.expect("body"));
    verify(&sim, &form["id_token"]).await.expect("verifies");
}

#[tokio::test]
async fn deep_linking_request_carries_settings_and_no_resource_link() {
    let sim = simulator().await;
    let (_, form) = do_auth(&sim, &auth_request(&sim, MessageType::DeepLinking)).await;
    let claims = verify(&sim, &form["id_token"]).await.expect("verifies");
    assert_eq!(claims[lti("message_type")], "LtiDeepLinkingRequest");
    assert_eq!(claims[lti("target_link_uri")], DL_URL);
    assert!(claims.get(lti("resource_link")).is_none());
    let settings = &claims[DEEP_LINKING_SETTINGS];
    assert_eq!(
        settings["deep_link_return_url"],
        format!("{}/deep_link_return", sim.base_url())
    );
    for field in [
        "accept_types",
        "accept_presentation_document_targets",
        "accept_multiple",
        "auto_create",
        "data",
    ] {
        assert!(settings.get(field).is_some(), "{field} in {settings}");
    }
}

#[tokio::test]
async fn auth_answers_400_when_there_is_nowhere_safe_to_post() {
    let sim = simulator().await;
    let request = auth_request(&sim, MessageType::ResourceLink);
    for bad in [
        with(&request, "redirect_uri", "https://attacker.example/steal"),
        with(
            &request,
            "redirect_uri",
            "https://tool.example.com/lti/launch/",
        ),
        with(&request, "client_id", "unknown-client"),
    ] {
        let (status, form) = do_auth(&sim, &bad).await;
        assert_eq!(status, 400);
        assert!(!form.contains_key("id_token"));
    }
}

#[tokio::test]
async fn auth_reports_other_problems_to_the_tool_as_invalid_request() {
    let sim = simulator().await;
    let request = auth_request(&sim, MessageType::ResourceLink);
    let other_login = auth_request(&sim, MessageType::ResourceLink);
    let mut repeated_nonce = request.clone();
    repeated_nonce.push(("nonce".into(), "second".into()));
    let without_nonce: Vec<_> = request
        .iter()
        .filter(|(k, _)| k != "nonce")
        .cloned()
        .collect();
    let cases = [
        ("scope", with(&request, "scope", "openid profile")),
        ("response_type", with(&request, "response_type", "code")),
        ("response_mode", with(&request, "response_mode", "query")),
        ("prompt", with(&request, "prompt", "login")),
        ("login_hint", with(&request, "login_hint", "someone-else")),
        (
            "lti_message_hint",
            with(&request, "lti_message_hint", "forged"),
        ),
        ("nonce", without_nonce),
        ("nonce", repeated_nonce),
    ];
    for (check, bad) in cases {
        let (status, form) = do_auth(&sim, &bad).await;
        assert_eq!(status, 200, "{check}");
        assert_eq!(form["__action"], REDIRECT_URI, "{check}");
        assert_eq!(form["error"], "invalid_request", "{check}");
        assert_eq!(form["state"], "state-123", "{check}");
        assert!(
            form["error_description"].contains(check),
            "{check}: {form:?}"
        );
        assert!(!form.contains_key("id_token"), "{check}");
        assert!(sim.id_token_for(&bad).is_err(), "{check}");
    }
    // A message hint from another login is fine as long as it matches its login_hint.
    assert!(sim.id_token_for(&other_login).is_ok());
}

#[tokio::test]
async fn message_hint_is_bound_to_its_client() {
    let sim = simulator().await;
    sim.add_tool(Tool {
        client_id: "other-client".into(),
        deployment_id: "d".into(),
        login_url: "https://other.example.com/login".into(),
        redirect_uris: vec!["https://other.example.com/launch".into()],
        target_link_uri: "https://other.example.com/launch".into(),
        deep_linking_url: None,
        jwks_uri: None,
    });
    let request = auth_request(&sim, MessageType::ResourceLink);
    let stolen = with(
        &with(&request, "client_id", "other-client"),
        "redirect_uri",
        "https://other.example.com/launch",
    );
    let error = sim.id_token_for(&stolen).expect_err("refused");
    assert!(error.contains("another client_id"), "{error}");
}

#[tokio::test]
async fn id_token_for_signs_what_auth_would() {
    let sim = simulator().await;
    let request = auth_request(&sim, MessageType::ResourceLink);
    let direct = verify(&sim, &sim.id_token_for(&request).expect("signs"))
        .await
        .expect("verifies");
    let (_, form) = do_auth(&sim, &request).await;
    let over_http = verify(&sim, &form["id_token"]).await.expect("verifies");
    let without_times = |mut claims: Value| {
        for time in ["iat", "exp"] {
            claims.as_object_mut().expect("object").remove(time);
        }
        claims
    };
    assert_eq!(without_times(direct), without_times(over_http));
}

#[tokio::test]
async fn fixture_claims_replace_the_template() {
    let sim = simulator().await;
    sim.set_base_claims(json!({
        "aud": ["someone"],
        "azp": "someone",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/roles": []
    }));
    let token = sim
        .id_token_for(&auth_request(&sim, MessageType::ResourceLink))
        .expect("signs");
    let claims = verify(&sim, &token).await.expect("verifies");
    assert_eq!(claims["aud"], json!([CLIENT_ID]));
    assert_eq!(claims["azp"], CLIENT_ID);
    assert!(claims.get("sub").is_none(), "no sub in template: anonymous");
    assert_eq!(claims[lti("roles")], json!([]));
}

#[tokio::test]
async fn claim_and_header_patches_apply_until_reset() {
    let sim = simulator().await;
    sim.set_tamper(
        Tamper::claims(json!({ "nonce": "other", (lti("version")): null }))
            .with_header(json!({ "jku": "https://attacker.example/jwks" })),
    );
    let token = sim
        .id_token_for(&auth_request(&sim, MessageType::ResourceLink))
        .expect("signs");
    let (header, _, _) = parts(&token);
    assert_eq!(header["jku"], "https://attacker.example/jwks");
    let claims = verify(&sim, &token).await.expect("still validly signed");
    assert_eq!(claims["nonce"], "other");
    assert!(claims.get(lti("version")).is_none());

    sim.reset_tamper();
    let token = sim
        .id_token_for(&auth_request(&sim, MessageType::ResourceLink))
        .expect("signs");
    assert_eq!(
        verify(&sim, &token).await.expect("verifies")["nonce"],
        "nonce-456"
    );
}

#[tokio::test]
async fn each_signing_mode_produces_what_it_says() {
    let sim = simulator().await;
    let request = auth_request(&sim, MessageType::ResourceLink);
    let token_with = |signing: Signing| {
        sim.set_tamper(Tamper::signing(signing));
        sim.id_token_for(&request).expect("signs")
    };

    let none = token_with(Signing::AlgNone);
    assert!(none.ends_with('.'), "empty signature: {none}");
    let (header, claims, signature) = parts(&none);
    assert_eq!(header["alg"], "none");
    assert_eq!(claims["nonce"], "nonce-456");
    assert!(signature.is_empty());

    let hs256 = token_with(Signing::Hs256WithPublicKeyPem);
    assert_eq!(parts(&hs256).0["alg"], "HS256");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[CLIENT_ID]);
    let secret = DecodingKey::from_secret(sim.public_key_pem().as_bytes());
    jsonwebtoken::decode::<Value>(&hs256, &secret, &validation)
        .expect("HMAC keyed with the public key PEM");

    let foreign = token_with(Signing::ForeignKey);
    assert_eq!(parts(&foreign).0["kid"], sim.current_kid());
    assert_eq!(parts(&foreign).0["alg"], "RS256");
    assert_eq!(parts(&foreign).2.len(), 256, "a real RSA-2048 signature");
    assert!(verify(&sim, &foreign).await.is_err());

    let corrupt = token_with(Signing::CorruptSignature);
    let honest_claims = parts(&corrupt).1;
    assert_eq!(honest_claims["nonce"], "nonce-456");
    assert!(verify(&sim, &corrupt).await.is_err());

    assert_eq!(token_with(Signing::Raw("not.a.jwt".into())), "not.a.jwt");
    let (_, form) = do_auth(&sim, &request).await;
    assert_eq!(
        form["id_token"], "not.a.jwt",
        "raw tokens go over the wire too"
    );

    sim.reset_tamper();
    verify(&sim, &sim.id_token_for(&request).expect("signs"))
        .await
        .expect("honest again");
}

#[tokio::test]
async fn rotation_changes_the_kid_and_the_jwks() {
    let sim = simulator().await;
    let old_kid = sim.current_kid();
    let old_pem = sim.public_key_pem();
    let old_token = sim.sign(
        json!({}),
        &json!({ "aud": CLIENT_ID, "iss": sim.issuer(), "exp": 4_000_000_000u64 }),
    );

    sim.rotate_keys();
    let new_kid = sim.current_kid();
    assert_ne!(new_kid, old_kid);
    assert_ne!(sim.public_key_pem(), old_pem);
    let jwks = fetch_jwks(&sim).await;
    assert_eq!(jwks.keys.len(), 2);
    assert!(jwks.find(&old_kid).is_some() && jwks.find(&new_kid).is_some());
    let token = sim
        .id_token_for(&auth_request(&sim, MessageType::ResourceLink))
        .expect("signs");
    assert_eq!(parts(&token).0["kid"], new_kid);
    verify(&sim, &token).await.expect("new key verifies");
    verify(&sim, &old_token)
        .await
        .expect("old key still published");

    sim.rotate_keys_dropping_old();
    let jwks = fetch_jwks(&sim).await;
    assert_eq!(jwks.keys.len(), 1);
    assert!(jwks.find(&sim.current_kid()).is_some());
    assert!(jwks.find(&old_kid).is_none() && jwks.find(&new_kid).is_none());
}

#[tokio::test]
async fn login_initiation_params_name_the_tool_and_message() {
    let sim = simulator().await;
    let params: BTreeMap<_, _> = sim
        .login_initiation_params(CLIENT_ID, MessageType::DeepLinking)
        .into_iter()
        .collect();
    let names: Vec<&str> = params.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "iss",
            "login_hint",
            "lti_deployment_id",
            "lti_message_hint",
            "target_link_uri"
        ]
    );
    assert_eq!(params["iss"], sim.issuer());
    assert_eq!(params["target_link_uri"], DL_URL);
    assert_eq!(params["lti_deployment_id"], DEPLOYMENT_ID);
}

#[tokio::test]
async fn course_page_posts_the_login_into_the_tool_frame() {
    let sim = simulator().await;
    let page = |storage| {
        let url = sim.launch_page_url(CLIENT_ID, MessageType::ResourceLink, storage);
        async move {
            let response = http().get(url).send().await.expect("answered");
            assert_eq!(response.status(), 200);
            response.text().await.expect("body")
        }
    };

    let cookie = page(Storage::Cookie).await;
    assert!(cookie.contains(r#"id="launch""#));
    assert!(cookie.contains(r#"name="tool_frame""#));
    assert!(cookie.contains(r#"target="tool_frame""#));
    assert!(!cookie.contains("<script"), "no platform storage");
    let form = form_fields(&cookie);
    assert_eq!(form["__action"], "https://tool.example.com/lti/login");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert!(!form.contains_key("lti_storage_target"));
    // The hints on the page are good for a real login.
    let mut request = auth_request(&sim, MessageType::ResourceLink);
    request = with(&request, "login_hint", &form["login_hint"]);
    request = with(&request, "lti_message_hint", &form["lti_message_hint"]);
    assert!(sim.id_token_for(&request).is_ok());

    let platform = page(Storage::Platform).await;
    assert_eq!(form_fields(&platform)["lti_storage_target"], "_parent");
    assert!(platform.contains(r#""origins":["https://tool.example.com"]"#));
    assert!(platform.contains("lti.get_data"));
    assert!(!platform.contains("'*'") && !platform.contains(r#""*""#));

    let framed = page(Storage::PlatformFrame).await;
    assert_eq!(form_fields(&framed)["lti_storage_target"], "ltisim_storage");
    assert!(framed.contains(r#"<iframe name="ltisim_storage""#));
    let frame = http()
        .get(format!(
            "{}/storage_frame?client_id={CLIENT_ID}",
            sim.base_url()
        ))
        .send()
        .await
        .expect("answered");
    assert_eq!(frame.status(), 200);
    assert!(frame.text().await.expect("body").contains("lti.put_data"));

    let unknown = http()
        .get(sim.launch_page_url("nobody", MessageType::ResourceLink, Storage::Cookie))
        .send()
        .await
        .expect("answered");
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let sim = simulator().await;
    let url = sim.jwks_uri();
    let clone = sim.clone();
    drop(sim);
    assert!(http().get(&url).send().await.is_ok(), "a clone keeps it up");
    drop(clone);
    let mut stopped = false;
    for _ in 0..50 {
        // A fresh client: no pooled connection to keep the server task alive.
        if http().get(&url).send().await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(stopped);
}
