//! The simulator's deep linking return endpoint over loopback, with a tool played by the
//! test: an RSA key of its own (aws-lc-rs), its JWKS served on a loopback port, responses
//! signed with jsonwebtoken.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ltisim::{MessageType, Simulator, Storage, Tool};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

const CLIENT_ID: &str = "dl-tool";
const DEPLOYMENT_ID: &str = "dl-deployment";
const REDIRECT_URI: &str = "https://tool.example.com/lti/launch";
const KID: &str = "tool-key-1";
const LTI: &str = "https://purl.imsglobal.org/spec/lti/claim/";
const DL: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/";

/// The tool: its signing key and where its JWKS is served.
struct TestTool {
    key: EncodingKey,
    jwks_uri: String,
}

impl TestTool {
    async fn start() -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("key");
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("pkcs8");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der.as_ref())
        );
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key");
        let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let jwks = json!({"keys": [{
            "kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e),
        }]});
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let jwks_uri = format!("http://{}/keys", listener.local_addr().expect("addr"));
        let app = axum::Router::new().route(
            "/keys",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { key, jwks_uri }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.into());
        jsonwebtoken::encode(&header, claims, &self.key).expect("signs")
    }
}

async fn simulator(tool: &TestTool) -> Simulator {
    lti_crypto();
    let sim = Simulator::start().await.expect("simulator starts");
    sim.add_tool(Tool {
        client_id: CLIENT_ID.into(),
        deployment_id: DEPLOYMENT_ID.into(),
        login_url: "https://tool.example.com/lti/login".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        target_link_uri: REDIRECT_URI.into(),
        deep_linking_url: None,
        jwks_uri: Some(tool.jwks_uri.clone()),
    });
    sim
}

fn lti_crypto() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// The claims of a deep linking request the simulator signs for the tool.
fn deep_linking_request(sim: &Simulator) -> Value {
    let login: BTreeMap<String, String> = sim
        .login_initiation_params(CLIENT_ID, MessageType::DeepLinking)
        .into_iter()
        .collect();
    let request: Vec<(String, String)> = [
        ("scope", "openid"),
        ("response_type", "id_token"),
        ("response_mode", "form_post"),
        ("prompt", "none"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("login_hint", &login["login_hint"]),
        ("lti_message_hint", &login["lti_message_hint"]),
        ("nonce", "n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let id_token = sim.id_token_for(&request).expect("id_token");
    let payload = id_token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// An honest response to `request` carrying `items`.
fn response(sim: &Simulator, request: &Value, items: Value) -> Value {
    let settings = &request["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"];
    json!({
        "iss": CLIENT_ID,
        "aud": sim.issuer(),
        "iat": now(),
        "exp": now() + 300,
        "nonce": format!("nonce-{}", URL_SAFE_NO_PAD.encode(now().to_be_bytes())),
        format!("{LTI}deployment_id"): DEPLOYMENT_ID,
        format!("{LTI}message_type"): "LtiDeepLinkingResponse",
        format!("{LTI}version"): "1.3.0",
        format!("{DL}data"): settings["data"],
        format!("{DL}content_items"): items,
        format!("{DL}msg"): "Picked <one>",
    })
}

async fn post(sim: &Simulator, jwt: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(sim.deep_link_return_url())
        .form(&[("JWT", jwt)])
        .send()
        .await
        .expect("answers");
    (
        response.status().as_u16(),
        response.text().await.expect("page"),
    )
}

#[tokio::test]
async fn the_request_settings_are_realistic() {
    let tool = TestTool::start().await;
    let sim = simulator(&tool).await;
    let request = deep_linking_request(&sim);
    let settings = &request["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"];
    assert_eq!(settings["deep_link_return_url"], sim.deep_link_return_url());
    assert_eq!(
        settings["accept_types"],
        json!(["ltiResourceLink", "link", "html", "file", "image"])
    );
    assert_eq!(settings["accept_multiple"], true);
    assert_eq!(settings["accept_lineitem"], true);
    assert!(settings["data"].as_str().is_some_and(|d| d.len() >= 16));
    let other = deep_linking_request(&sim);
    assert_ne!(
        other["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]["data"],
        settings["data"],
        "data is fresh per request"
    );
}

#[tokio::test]
async fn an_honest_response_is_placed_and_shown_escaped() {
    let tool = TestTool::start().await;
    let sim = simulator(&tool).await;
    let request = deep_linking_request(&sim);
    let items = json!([
        {"type": "ltiResourceLink", "title": "<b>Quiz</b>", "url": "https://tool.example.com/q"},
        {"type": "html", "html": "<p>x</p>"}
    ]);
    let claims = response(&sim, &request, items.clone());
    let (status, page) = post(&sim, &tool.sign(&claims)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("&lt;b&gt;Quiz&lt;/b&gt;"), "{page}");
    assert!(page.contains("Picked &lt;one&gt;"), "{page}");
    assert!(!page.contains("<b>Quiz"), "{page}");
    assert_eq!(Value::Array(sim.deep_linked_items()), items);
    assert_eq!(sim.deep_link_responses(), vec![claims]);
    let course =
        reqwest::get(sim.launch_page_url(CLIENT_ID, MessageType::ResourceLink, Storage::Cookie))
            .await
            .expect("course page")
            .text()
            .await
            .expect("html");
    assert!(course.contains("&lt;b&gt;Quiz&lt;/b&gt;"), "{course}");
}

#[tokio::test]
async fn each_broken_rule_is_refused_with_a_readable_page() {
    let tool = TestTool::start().await;
    let sim = simulator(&tool).await;
    let request = deep_linking_request(&sim);
    let honest = response(
        &sim,
        &request,
        json!([{"type": "link", "url": "https://x.test"}]),
    );
    let patched = |patch: Value| {
        let mut claims = honest.clone();
        for (name, value) in patch.as_object().expect("object") {
            claims[name] = value.clone();
        }
        tool.sign(&claims)
    };
    let cases = [
        (patched(json!({"aud": "https://other-lms.test"})), "aud"),
        (patched(json!({"iss": "someone-else"})), "iss"),
        (
            patched(json!({format!("{LTI}deployment_id"): "other"})),
            "deployment_id",
        ),
        (
            patched(json!({format!("{LTI}message_type"): "LtiResourceLinkRequest"})),
            "message_type",
        ),
        (patched(json!({format!("{LTI}version"): "1.1"})), "version"),
        (patched(json!({format!("{DL}data"): "forged"})), "data"),
        (patched(json!({format!("{DL}data"): null})), "data"),
        (patched(json!({"exp": now() - 10})), "expired"),
        (patched(json!({"nonce": null})), "nonce"),
        (
            patched(json!({format!("{DL}content_items"): [{"url": "https://x"}]})),
            "type",
        ),
        (
            {
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some("unknown-kid".into());
                jsonwebtoken::encode(&header, &honest, &tool.key).expect("signs")
            },
            "kid",
        ),
        (
            {
                let mut header = Header::new(Algorithm::RS384);
                header.kid = Some(KID.into());
                jsonwebtoken::encode(&header, &honest, &tool.key).expect("signs")
            },
            "RS256",
        ),
        ("not-a-jwt".to_owned(), "three"),
    ];
    for (jwt, reason) in cases {
        let (status, page) = post(&sim, &jwt).await;
        assert_eq!(status, 400, "{reason}: {page}");
        assert!(page.contains(reason), "{reason}: {page}");
    }
    assert!(sim.deep_linked_items().is_empty());

    // A tool without a registered JWKS cannot deep link.
    let mut without_jwks = sim.tool(CLIENT_ID).expect("tool");
    without_jwks.jwks_uri = None;
    sim.add_tool(without_jwks);
    let (status, page) = post(&sim, &tool.sign(&honest)).await;
    assert_eq!(status, 400);
    assert!(page.contains("no registered JWKS"), "{page}");
}
