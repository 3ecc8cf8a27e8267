//! The simulated LMS's state (keys, registered tools, claim template, tamper hooks) and the
//! operations the HTTP routes and the Rust API share.

use crate::claims::{self, Launch};
use crate::hints::{HintSigner, random_bytes};
use crate::keys::{KeyRing, SigningKey};
use crate::tamper::{Tamper, merge_patch};
use crate::token::{self, TokenKeys};
use crate::tool::{MessageType, Tool};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Everything one simulated LMS knows.
pub(crate) struct Platform {
    base_url: String,
    issuer: RwLock<String>,
    keys: RwLock<KeyRing>,
    foreign_key: OnceLock<SigningKey>,
    tools: RwLock<HashMap<String, Tool>>,
    claims_template: RwLock<Value>,
    tamper: RwLock<Tamper>,
    hints: HintSigner,
}

impl Platform {
    pub(crate) fn new(base_url: String) -> Self {
        Self {
            issuer: RwLock::new(base_url.clone()),
            keys: RwLock::new(KeyRing::new(SigningKey::generate())),
            foreign_key: OnceLock::new(),
            tools: RwLock::new(HashMap::new()),
            claims_template: RwLock::new(claims::default_template(&base_url)),
            tamper: RwLock::new(Tamper::default()),
            hints: HintSigner::new(),
            base_url,
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
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

    pub(crate) fn rotate_keys(&self, drop_old: bool) {
        // Generate outside the lock: it takes about 100 ms.
        let next = SigningKey::generate();
        write(&self.keys).rotate(next, drop_old);
    }

    pub(crate) fn add_tool(&self, tool: Tool) {
        write(&self.tools).insert(tool.client_id.clone(), tool);
    }

    pub(crate) fn tool(&self, client_id: &str) -> Option<Tool> {
        read(&self.tools).get(client_id).cloned()
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
        Ok(self.sign_tampered(claims))
    }

    /// Signs with the current tamper hooks applied.
    fn sign_tampered(&self, mut claims: Value) -> String {
        let tamper = read(&self.tamper).clone();
        merge_patch(&mut claims, &tamper.claims);
        self.encode(&tamper.header, &claims, &tamper.signing)
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
