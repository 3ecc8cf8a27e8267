//! ltigate and the LMS simulator talking over loopback: a registered platform and helpers
//! that drive the browser's part of a launch (login, authorization, form post).

use ltisim::{MessageType, Simulator, Tamper, Tool};
use reqwest::Method;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use ltigate::clock::Clock;

use super::TestGate;

pub const CLIENT_ID: &str = "ltigate-test-client";
pub const DEPLOYMENT_ID: &str = "deployment-1";
pub const APP_LAUNCH_URL: &str = "http://app.test/launch";
pub const APP_DEEP_LINKING_URL: &str = "http://app.test/deep-linking";

/// A simulator registered as an active platform of a running ltigate.
pub struct Lms {
    pub gate: TestGate,
    pub sim: Simulator,
    pub platform_id: String,
    /// ltigate's client id at the simulator.
    pub client_id: String,
}

/// What the browser ended with.
#[derive(Debug)]
pub enum Outcome {
    /// Redirected to the app with this ltik.
    Handoff { location: String, ltik: String },
    /// An error page with this stable code and HTTP status.
    Refused { code: String, status: u16 },
}

impl Outcome {
    pub fn ltik(&self) -> &str {
        match self {
            Self::Handoff { ltik, .. } => ltik,
            Self::Refused { code, .. } => panic!("launch refused with {code}"),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Self::Refused { code, .. } => code,
            Self::Handoff { .. } => panic!("launch was accepted: an ltik was issued"),
        }
    }
}

/// A login's result: where the platform was told to send the browser, and the cookie.
pub struct Login {
    pub auth_url: String,
    pub cookie: Option<String>,
}

/// The platform's answer to the authorization request: the form to post to ltigate.
pub struct AuthResponse {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl Lms {
    /// Starts both sides and registers the simulator through the admin API.
    pub async fn start() -> Self {
        Self::start_with(json!({})).await
    }

    /// As `start`, with fields of the platform registration overridden.
    pub async fn start_with(overrides: Value) -> Self {
        Self::start_at(Clock::System, overrides).await
    }

    /// As `start_with`, with ltigate reading time from `clock`.
    pub async fn start_at(clock: Clock, overrides: Value) -> Self {
        let sim = Simulator::start().await.expect("simulator starts");
        let gate = TestGate::start_at(clock, loopback_lms).await;
        Self::register(gate, sim, overrides).await
    }

    /// Registers `sim` at `gate` (which must allow what [`loopback_lms`] allows) through the
    /// admin API, and `gate` as a tool at `sim`.
    pub async fn register(gate: TestGate, sim: Simulator, overrides: Value) -> Self {
        sim.add_tool(Tool {
            client_id: CLIENT_ID.into(),
            deployment_id: DEPLOYMENT_ID.into(),
            login_url: gate.url("/lti/login"),
            redirect_uris: vec![gate.url("/lti/launch")],
            target_link_uri: gate.url("/lti/launch"),
            deep_linking_url: None,
            jwks_uri: Some(gate.url("/lti/keys")),
        });
        let mut body = json!({
            "url": sim.issuer(),
            "clientId": CLIENT_ID,
            "name": "Simulated LMS",
            "authenticationEndpoint": sim.authorization_endpoint(),
            "accesstokenEndpoint": sim.token_endpoint(),
            "authConfig": {"method": "JWK_SET", "key": sim.jwks_uri()},
            "deploymentIds": [DEPLOYMENT_ID],
        });
        merge(&mut body, overrides);
        let created: Value = gate
            .admin(Method::POST, "/admin/platforms")
            .json(&body)
            .send()
            .await
            .expect("admin API answers")
            .json()
            .await
            .expect("platform JSON");
        let platform_id = created["id"].as_str().expect("platform id").to_owned();
        Self {
            gate,
            sim,
            platform_id,
            client_id: CLIENT_ID.into(),
        }
    }

    /// The LMS sends the browser to ltigate's login URL: ltigate's raw answer.
    pub async fn login_response(&self, message_type: MessageType) -> reqwest::Response {
        let params = self
            .sim
            .login_initiation_params(&self.client_id, message_type);
        self.login_response_with(params).await
    }

    /// The login with these parameters: ltigate's raw answer.
    pub async fn login_response_with(&self, params: Vec<(String, String)>) -> reqwest::Response {
        self.gate
            .client
            .post(self.gate.url("/lti/login"))
            .form(&params)
            .send()
            .await
            .expect("login answers")
    }

    /// A login that ltigate refuses: its code.
    pub async fn login_refusal(&self) -> String {
        let response = self.login_response(MessageType::ResourceLink).await;
        outcome(response).await.code().to_owned()
    }

    /// Step 1: the LMS sends the browser to ltigate's login URL.
    pub async fn login(&self, message_type: MessageType) -> Login {
        let response = self.login_response(message_type).await;
        assert_eq!(response.status(), 302, "login redirects to the platform");
        let cookie = state_cookie(&response);
        let auth_url = response.headers()[LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        Login { auth_url, cookie }
    }

    /// Step 1 for a login that offers platform storage (`lti_storage_target`): ltigate answers
    /// a page that stores the binding in the platform's frame, then goes on to the platform.
    pub async fn login_with_storage(&self, message_type: MessageType) -> Login {
        let mut params = self
            .sim
            .login_initiation_params(&self.client_id, message_type);
        params.push(("lti_storage_target".into(), "_parent".into()));
        let response = self.login_response_with(params).await;
        assert_eq!(response.status(), 200, "login answers the storage page");
        let cookie = state_cookie(&response);
        let html = response.text().await.expect("page");
        let auth_url = between(&html, "<a href=\"", "\"")
            .unwrap_or_else(|| panic!("no link to the platform on the page: {html}"))
            // The template escapes `&` as a numeric reference.
            .replace("&#38;", "&");
        Login { auth_url, cookie }
    }

    /// Step 2: the browser follows the redirect to the platform, which answers a form.
    pub async fn authorize(&self, login: &Login) -> AuthResponse {
        let html = self
            .gate
            .client
            .get(&login.auth_url)
            .send()
            .await
            .expect("platform answers")
            .text()
            .await
            .expect("html");
        let mut fields = ltisim::form_fields(&html);
        let action = fields.remove("__action").expect("an auto-post form");
        AuthResponse {
            action,
            fields: fields.into_iter().collect(),
        }
    }

    /// Step 3: the browser posts the form to ltigate, with the cookie it holds.
    pub async fn post_launch(&self, form: &AuthResponse, cookie: Option<&str>) -> Outcome {
        outcome(self.post_launch_response(form, cookie).await).await
    }

    /// Step 3, ltigate's raw answer.
    pub async fn post_launch_response(
        &self,
        form: &AuthResponse,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.gate.client.post(&form.action).form(&form.fields);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("launch answers")
    }

    /// A whole launch as a browser runs it.
    pub async fn do_launch(&self, message_type: MessageType) -> Outcome {
        let login = self.login(message_type).await;
        let form = self.authorize(&login).await;
        self.post_launch(&form, login.cookie.as_deref()).await
    }

    /// A resource link launch with a tampered id_token; the refusal code.
    pub async fn do_launch_until_error(&self, tamper: Tamper) -> String {
        self.sim.set_tamper(tamper);
        let outcome = self.do_launch(MessageType::ResourceLink).await;
        self.sim.reset_tamper();
        outcome.code().to_owned()
    }

    /// The platform as the admin API shows it now.
    pub async fn platform(&self) -> Value {
        let path = format!("/admin/platforms/{}", self.platform_id);
        self.gate
            .admin_json(reqwest::Method::GET, &path, None)
            .await
    }

    /// `GET /api/idtoken` with the test API key.
    pub async fn idtoken(&self, ltik: &str, query: &str) -> reqwest::Response {
        self.gate
            .client
            .get(self.gate.url(&format!("/api/idtoken{query}")))
            .header(
                "Authorization",
                format!("LTIK-AUTH-V2 {}:{ltik}", super::API_KEY),
            )
            .send()
            .await
            .expect("API answers")
    }
}

/// Config for an LMS on loopback: plain http and private addresses allowed, app URLs set.
pub fn loopback_lms(c: &mut ltigate::config::Config) {
    c.allow_insecure_http = true;
    c.registration.allow_private_networks = true;
    c.app.launch_url = Some(APP_LAUNCH_URL.parse().expect("url"));
    c.app.deep_linking_url = Some(APP_DEEP_LINKING_URL.parse().expect("url"));
}

/// The `name=value` of the state cookie a login set.
fn state_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ltigate_state_"))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// Reads where a launch response sent the browser.
pub async fn outcome(response: reqwest::Response) -> Outcome {
    let status = response.status().as_u16();
    if status == 302 {
        let location = response.headers()[LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        let url = url::Url::parse(&location).expect("absolute location");
        if let Some((_, ltik)) = url.query_pairs().find(|(k, _)| k == "ltik") {
            assert_eq!(
                response.headers()["referrer-policy"],
                "no-referrer",
                "the ltik must not leak through Referer"
            );
            return Outcome::Handoff {
                ltik: ltik.into_owned(),
                location,
            };
        }
        panic!("redirect without an ltik: {location}");
    }
    let html = response.text().await.expect("page");
    let code = between(&html, "Error code <code>", "</code>")
        .unwrap_or_else(|| panic!("no error code on the page: {html}"))
        .to_owned();
    assert!(!html.contains("ltik="), "no ltik on an error page");
    Outcome::Refused { code, status }
}

/// The text between the first `start` in `page` and the next `end`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> Option<&'a str> {
    page.split_once(start)?.1.split(end).next()
}

fn merge(base: &mut Value, patch: Value) {
    if let (Some(base), Value::Object(patch)) = (base.as_object_mut(), patch) {
        for (k, v) in patch {
            base.insert(k, v);
        }
    }
}
