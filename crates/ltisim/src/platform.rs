//! The simulated LMS's state (keys, registered tools, claim template, tamper hooks) and the
//! operations the HTTP routes and the Rust API share.

use crate::claims::{self, Launch};
use crate::deep_linking::DeepLinks;
use crate::failure::Failure;
use crate::hints::{HintSigner, random_bytes};
use crate::keys::{KeyRing, SigningKey};
use crate::profile::{Endpoints, Profile, authority};
use crate::registration::{self, Ids, Presented, RefusalKind, Refused, Tokens};
use crate::tamper::{Tamper, merge_patch};
use crate::token::{self, TokenKeys};
use crate::tool::{MessageType, Tool};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Everything one simulated LMS knows.
pub(crate) struct Platform {
    base_url: String,
    profile: Profile,
    issuer: RwLock<String>,
    keys: RwLock<KeyRing>,
    foreign_key: OnceLock<SigningKey>,
    tools: RwLock<HashMap<String, Tool>>,
    claims_template: RwLock<Value>,
    tamper: RwLock<Tamper>,
    hints: HintSigner,
    registry: RwLock<Registry>,
    /// RFC 7396 merge patch applied to the served OpenID configuration.
    configuration_patch: RwLock<Value>,
    configuration_failure: RwLock<Option<Failure>>,
    registration_failure: RwLock<Option<Failure>>,
    /// How many times `GET /jwks` was answered (tests bound a tool's refetches with it).
    jwks_served: AtomicU64,
    /// The `User-Agent` of the last request to each routed path (Canvas refuses tools that
    /// send none; tests check the tool sends one).
    user_agents: RwLock<HashMap<String, Option<String>>>,
    /// Token endpoint, AGS and NRPS state.
    pub(crate) services: crate::services::Services,
    /// Deep linking requests sent and the content placed by their responses.
    deep_links: DeepLinks,
}

/// Most paths whose `User-Agent` is remembered (the service routes are wildcards).
const MAX_USER_AGENT_PATHS: usize = 256;

/// Dynamic Registration state.
struct Registry {
    tokens: Tokens,
    token_lifetime: Duration,
    /// Every registration request body received, in order.
    received: Vec<Value>,
    /// Registrations granted so far.
    granted: u64,
}

impl Platform {
    pub(crate) fn new(base_url: String, profile: Profile) -> Self {
        let claims = profile
            .id_token_claims(&base_url)
            .unwrap_or_else(|| claims::default_template(&base_url));
        Self {
            issuer: RwLock::new(format!("{base_url}{}", profile.endpoints().site)),
            keys: RwLock::new(KeyRing::new(SigningKey::generate())),
            foreign_key: OnceLock::new(),
            tools: RwLock::new(HashMap::new()),
            claims_template: RwLock::new(claims),
            tamper: RwLock::new(Tamper::default()),
            hints: HintSigner::new(),
            registry: RwLock::new(Registry {
                tokens: Tokens::default(),
                token_lifetime: registration::DEFAULT_TOKEN_LIFETIME,
                received: Vec::new(),
                granted: 0,
            }),
            configuration_patch: RwLock::new(Value::Null),
            configuration_failure: RwLock::new(None),
            registration_failure: RwLock::new(None),
            jwks_served: AtomicU64::new(0),
            user_agents: RwLock::new(HashMap::new()),
            services: crate::services::Services::new(&base_url),
            deep_links: DeepLinks::default(),
            profile,
            base_url,
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn profile(&self) -> Profile {
        self.profile
    }

    pub(crate) fn endpoints(&self) -> Endpoints {
        self.profile.endpoints()
    }

    /// A URL on this platform.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub(crate) fn issuer(&self) -> String {
        read(&self.issuer).clone()
    }

    pub(crate) fn set_issuer(&self, issuer: String) {
        *write(&self.issuer) = issuer;
    }

    pub(crate) fn current_key(&self) -> std::sync::Arc<SigningKey> {
        read(&self.keys).current()
    }

    pub(crate) fn jwks(&self) -> Value {
        read(&self.keys).jwks()
    }

    /// The JWKS, counted as one fetch by a tool.
    pub(crate) fn serve_jwks(&self) -> Value {
        self.jwks_served.fetch_add(1, Ordering::Relaxed);
        self.jwks()
    }

    pub(crate) fn jwks_served(&self) -> u64 {
        self.jwks_served.load(Ordering::Relaxed)
    }

    pub(crate) fn rotate_keys(&self, drop_old: bool) {
        // Generate outside the lock: it takes about 100 ms.
        let next = SigningKey::generate();
        write(&self.keys).rotate(next, drop_old);
    }

    pub(crate) fn deep_links(&self) -> &DeepLinks {
        &self.deep_links
    }

    pub(crate) fn add_tool(&self, tool: Tool) {
        // A tool added by hand may use every service scope.
        self.services
            .oauth
            .set_registered_scopes(&tool.client_id, None);
        write(&self.tools).insert(tool.client_id.clone(), tool);
    }

    pub(crate) fn tool(&self, client_id: &str) -> Option<Tool> {
        read(&self.tools).get(client_id).cloned()
    }

    /// The OpenID configuration as served: the profile's document (or the generated one)
    /// with the current issuer, then the configuration patch.
    pub(crate) fn openid_configuration(&self) -> Value {
        let mut document = self
            .profile
            .openid_configuration(&self.base_url)
            .unwrap_or_else(|| crate::discovery::openid_configuration(self));
        document["issuer"] = json!(self.issuer());
        merge_patch(&mut document, &read(&self.configuration_patch));
        document
    }

    pub(crate) fn set_configuration_patch(&self, patch: Value) {
        *write(&self.configuration_patch) = patch;
    }

    pub(crate) fn configuration_failure(&self) -> Option<Failure> {
        read(&self.configuration_failure).clone()
    }

    pub(crate) fn set_configuration_failure(&self, failure: Option<Failure>) {
        *write(&self.configuration_failure) = failure;
    }

    pub(crate) fn registration_failure(&self) -> Option<Failure> {
        read(&self.registration_failure).clone()
    }

    pub(crate) fn set_registration_failure(&self, failure: Option<Failure>) {
        *write(&self.registration_failure) = failure;
    }

    pub(crate) fn record_user_agent(&self, path: &str, user_agent: Option<String>) {
        let mut seen = write(&self.user_agents);
        if seen.len() < MAX_USER_AGENT_PATHS || seen.contains_key(path) {
            seen.insert(path.to_owned(), user_agent);
        }
    }

    pub(crate) fn user_agent_seen(&self, path: &str) -> Option<String> {
        read(&self.user_agents).get(path).cloned().flatten()
    }

    pub(crate) fn set_registration_token_lifetime(&self, lifetime: Duration) {
        write(&self.registry).token_lifetime = lifetime;
    }

    /// Whether the configuration GET may be answered: Canvas wants a live registration
    /// token as Bearer; the others serve it to anyone.
    pub(crate) fn may_read_configuration(&self, authorization: Option<&str>) -> bool {
        if self.profile != Profile::Canvas {
            return true;
        }
        match Presented::from_header(authorization) {
            Presented::Bearer(token) => read(&self.registry).tokens.is_live(token),
            Presented::None | Presented::Malformed => false,
        }
    }

    /// Opens a registration the way the LMS does when the admin pastes the tool's URL:
    /// the openid_configuration URL to hand the tool and, `with_token`, a fresh
    /// single-use registration token (without one, a single tokenless registration is
    /// allowed where the profile accepts those).
    pub(crate) fn registration_start(&self, with_token: bool) -> (String, Option<String>) {
        let configuration_url = self.url(self.endpoints().configuration);
        let lifetime = read(&self.registry).token_lifetime;
        if !with_token {
            write(&self.registry).tokens.open_window(lifetime);
            return (configuration_url, None);
        }
        let now = unix_now();
        let exp = now + lifetime.as_secs();
        let (token, client_id) = match self.profile {
            Profile::Canvas => {
                let payload = json!({
                    "uuid": crate::registration::alphanumeric(32),
                    "user_id": 1,
                    "root_account_global_id": 10_000_000_000_001u64,
                    "root_account_domain": authority(&self.base_url),
                    "iat": now,
                    "exp": exp,
                });
                (
                    self.encode(&json!({}), &payload, &crate::Signing::Normal),
                    None,
                )
            }
            Profile::Moodle => {
                // Moodle picks the client_id now: the token's subject.
                let client_id = crate::registration::alphanumeric(15);
                let payload = json!({ "sub": client_id, "scope": "reg", "iat": now, "exp": exp });
                let token = self.encode(&json!({}), &payload, &crate::Signing::Normal);
                (token, Some(client_id))
            }
            Profile::Default | Profile::SpecExample => {
                (URL_SAFE_NO_PAD.encode(random_bytes::<24>()), None)
            }
        };
        write(&self.registry)
            .tokens
            .issue(token.clone(), lifetime, client_id);
        let url = if self.profile == Profile::Canvas {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("registration_token", &token)
                .finish();
            format!("{configuration_url}?{query}")
        } else {
            configuration_url
        };
        (url, Some(token))
    }

    /// Records a registration request body (JSON, or the raw text when it is not JSON).
    pub(crate) fn record_registration(&self, body: &[u8]) {
        let recorded = serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
        write(&self.registry).received.push(recorded);
    }

    pub(crate) fn registrations(&self) -> Vec<Value> {
        read(&self.registry).received.clone()
    }

    /// Handles a Dynamic Registration POST (LTI DR 1.0 §3.5-3.6): checks the token,
    /// validates the request, registers the tool and answers in the profile's shape.
    pub(crate) fn register(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Value, Refused> {
        let presented = Presented::from_header(authorization);
        let token_optional = matches!(self.profile, Profile::Default | Profile::SpecExample);
        write(&self.registry)
            .tokens
            .check(presented, token_optional, false)?;
        let is_json = content_type
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(Refused::new(
                RefusalKind::MediaType,
                "invalid_content_type",
                "the registration request must be sent as application/json",
            ));
        }
        let request: Value = serde_json::from_slice(body).map_err(|error| {
            Refused::new(
                RefusalKind::Metadata,
                "invalid_json",
                format!("the registration request is not JSON: {error}"),
            )
        })?;
        let valid = registration::validate(&request)?;
        let ids = {
            let mut registry = write(&self.registry);
            let grant = registry.tokens.check(presented, token_optional, true)?;
            registry.granted += 1;
            Ids::new(self.profile, registry.granted, grant)
        };
        self.add_tool(Tool {
            client_id: ids.client_id.clone(),
            deployment_id: ids.deployment_id.clone(),
            login_url: valid.initiate_login_uri,
            redirect_uris: valid.redirect_uris,
            target_link_uri: valid.target_link_uri,
            deep_linking_url: valid.deep_linking_uri,
            jwks_uri: Some(valid.jwks_uri),
        });
        let registration_url = self.url(self.endpoints().registration);
        let answer = registration::response(self.profile, &request, &ids, &registration_url);
        // The tool may ask for the scopes the platform answered with, nothing else.
        let granted = answer["scope"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace();
        let granted = granted.map(str::to_owned).collect();
        self.services
            .oauth
            .set_registered_scopes(&ids.client_id, Some(granted));
        Ok(answer)
    }

    pub(crate) fn set_claims_template(&self, claims: Value) {
        *write(&self.claims_template) = claims;
    }

    pub(crate) fn set_tamper(&self, tamper: Tamper) {
        *write(&self.tamper) = tamper;
    }

    /// The parameters of a third-party initiated login (LTI Core 1.3 §4.1) for the user of
    /// the current claim template. For an unknown client the tool-specific parameters
    /// (target_link_uri, lti_deployment_id) are left out and the authorization endpoint
    /// will refuse the login.
    pub(crate) fn login_initiation_params(
        &self,
        client_id: &str,
        message_type: MessageType,
    ) -> Vec<(String, String)> {
        let user = read(&self.claims_template)
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (login_hint, message_hint) = self.hints.issue(client_id, message_type, user.as_deref());
        let mut params = vec![
            ("iss".to_owned(), self.issuer()),
            ("login_hint".to_owned(), login_hint),
        ];
        let tool = self.tool(client_id);
        if let Some(tool) = &tool {
            params.push((
                "target_link_uri".to_owned(),
                tool.target_for(message_type).to_owned(),
            ));
        }
        params.push(("lti_message_hint".to_owned(), message_hint));
        params.push(("client_id".to_owned(), client_id.to_owned()));
        if let Some(tool) = tool {
            params.push(("lti_deployment_id".to_owned(), tool.deployment_id));
        }
        params
    }

    /// Validates an OIDC authentication request (LTI Security Framework §5.1.1.2) like a
    /// strict platform and signs the id_token it asks for, with the tamper hooks applied.
    pub(crate) fn authorize(&self, params: &[(String, String)]) -> Result<Authorized, Refusal> {
        let params = Params(params);
        let client_id = params.required("client_id").map_err(Refusal::Unsafe)?;
        let tool = self
            .tool(client_id)
            .ok_or_else(|| Refusal::Unsafe(format!("unknown client_id {client_id:?}")))?;
        let redirect_uri = params.required("redirect_uri").map_err(Refusal::Unsafe)?;
        if !tool.redirect_uris.iter().any(|uri| uri == redirect_uri) {
            return Err(Refusal::Unsafe(format!(
                "redirect_uri {redirect_uri:?} is not registered for client_id {client_id:?}"
            )));
        }
        // From here the redirect_uri is trusted: errors go back to the tool (OIDC §3.1.2.6).
        let state = params.optional("state").ok().flatten().map(str::to_owned);
        let to_tool = |description: String| Refusal::ToTool {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            description,
        };
        let id_token = self.check_and_sign(&params, &tool).map_err(to_tool)?;
        Ok(Authorized {
            redirect_uri: redirect_uri.to_owned(),
            state,
            id_token,
        })
    }

    fn check_and_sign(&self, params: &Params<'_>, tool: &Tool) -> Result<String, String> {
        params.expect_exactly("scope", "openid")?;
        params.expect_exactly("response_type", "id_token")?;
        params.expect_exactly("response_mode", "form_post")?;
        params.expect_exactly("prompt", "none")?;
        params.optional("state")?;
        let nonce = params.required("nonce")?;
        let login_hint = params.required("login_hint")?;
        let message_hint = params.required("lti_message_hint")?;
        let login = self
            .hints
            .verify(message_hint)
            .ok_or("lti_message_hint was not issued by this platform")?;
        if login.client_id != tool.client_id {
            return Err("lti_message_hint was issued for another client_id".to_owned());
        }
        if login.login_hint != login_hint {
            return Err("login_hint does not match the one issued with lti_message_hint".into());
        }
        let deep_link_data = URL_SAFE_NO_PAD.encode(random_bytes::<16>());
        let claims = claims::launch_claims(
            &read(&self.claims_template),
            &Launch {
                issuer: &self.issuer(),
                tool,
                message_type: login.message_type,
                user: login.user.as_deref(),
                nonce,
                now: unix_now(),
                deep_link_return_url: &self.url("/deep_link_return"),
                deep_link_data: &deep_link_data,
            },
        );
        let tamper = read(&self.tamper).clone();
        let mut claims = claims;
        merge_patch(&mut claims, &tamper.claims);
        if login.message_type == MessageType::DeepLinking {
            // What the tool must echo is the data as sent, tampered or not (a test may
            // send an object, as some platforms do).
            let data = &claims[claims::DEEP_LINKING_SETTINGS]["data"];
            self.deep_links.issue(data, &tool.client_id);
        }
        Ok(self.encode(&tamper.header, &claims, &tamper.signing))
    }

    /// Signs `claims` as they are, with the current key and a patched header.
    pub(crate) fn encode(
        &self,
        header_patch: &Value,
        claims: &Value,
        signing: &crate::Signing,
    ) -> String {
        let current = self.current_key();
        let keys = TokenKeys {
            current: &current,
            foreign: &self.foreign_key,
        };
        token::encode(&keys, header_patch, claims, signing)
    }
}

/// A successful authorization: the id_token to post to the tool.
pub(crate) struct Authorized {
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) id_token: String,
}

/// A refused authorization request.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// client_id or redirect_uri is bad: nowhere safe to send the browser (400 page).
    Unsafe(String),
    /// Any other problem, reported to the tool's redirect_uri as `invalid_request`.
    ToTool {
        redirect_uri: String,
        state: Option<String>,
        description: String,
    },
}

impl Refusal {
    pub(crate) fn description(&self) -> &str {
        match self {
            Self::Unsafe(description) | Self::ToTool { description, .. } => description,
        }
    }
}

/// Request parameters, refusing duplicates as OAuth 2.0 (RFC 6749 §3.1) asks.
struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn optional(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(format!("parameter {name} is repeated"));
        }
        Ok(first)
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        match self.optional(name)? {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(format!("parameter {name} is missing")),
        }
    }

    fn expect_exactly(&self, name: &str, expected: &str) -> Result<(), String> {
        let value = self.required(name)?;
        if value == expected {
            Ok(())
        } else {
            Err(format!("{name} must be {expected:?}, not {value:?}"))
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

// A panic while holding a lock cannot leave these values half-written (each write is one
// assignment), so a poisoned lock is still safe to use.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
