//! ltisim: a simulated LTI 1.3 platform (an LMS) served over real HTTP on loopback.
//!
//! It is the other side of the wire for ltigate's end-to-end tests, for `ltigate demo`
//! and for the launch benchmark. It is written from the 1EdTech specifications (LTI Core
//! 1.3, Security Framework 1.0, LTI Client Side postMessages / Platform Storage, Dynamic
//! Registration 1.0) and shares no code with ltigate, so a claim name or a check that is
//! wrong on one side cannot pass because the other side makes the same mistake.
//!
//! What it does:
//! - serves an OpenID / LTI platform configuration and a JWKS, with key rotation on demand;
//! - starts third-party initiated logins ([`Simulator::login_initiation_params`], or the
//!   course page at `GET /launch` for a browser) and answers the OIDC authorization
//!   request at `/auth` like a strict platform, form-posting a signed id_token;
//! - builds id_tokens from a claim template (a realistic instructor launch by default, or
//!   a real platform's claims from the fixtures) and corrupts them on request
//!   ([`Tamper`]) to produce each kind of bad token the security tests need;
//! - acts as platform storage for cookie-less launches on its course page.
//!
//! What it is not: a secure or persistent LMS. State lives in memory, there are no users
//! or sessions (whoever loads the course page launches as the template's user), and the
//! token, registration, AGS, NRPS and deep-linking-return endpoints answer 501 for now.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use ltisim::{MessageType, Simulator, Tool};
//! let lms = Simulator::start().await?;
//! lms.add_tool(Tool {
//!     client_id: "tool-1".into(),
//!     deployment_id: "deployment-1".into(),
//!     login_url: "http://127.0.0.1:3000/lti/login".into(),
//!     redirect_uris: vec!["http://127.0.0.1:3000/lti/launch".into()],
//!     target_link_uri: "http://127.0.0.1:3000/lti/launch".into(),
//!     deep_linking_url: None,
//! });
//! let login = lms.login_initiation_params("tool-1", MessageType::ResourceLink);
//! # let _ = login;
//! # Ok(())
//! # }
//! ```

mod claims;
mod course_page;
mod discovery;
mod hints;
mod html;
mod keys;
mod platform;
mod routes;
mod tamper;
mod token;
mod tool;

pub use html::form_fields;
pub use tamper::{Signing, Tamper};
pub use tool::{MessageType, Storage, Tool};

use platform::Platform;
use serde_json::Value;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running simulated platform. Cheap to clone; the server stops when the last clone is
/// dropped.
#[derive(Clone)]
pub struct Simulator {
    running: Arc<Running>,
}

struct Running {
    platform: Arc<Platform>,
    /// Dropping this sender shuts the server down.
    _stop: oneshot::Sender<()>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url())
            .field("issuer", &self.issuer())
            .field("kid", &self.current_kid())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts on an ephemeral port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts on `addr`, serving in a tokio task.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let platform = Arc::new(Platform::new(base_url));
        let app = routes::router(Arc::clone(&platform));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                // Resolves (with an error) when every Simulator handle is gone.
                let _ = stopped.await;
            };
            // The only error is a failing accept loop; there is no one left to tell.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(Self {
            running: Arc::new(Running {
                platform,
                _stop: stop,
            }),
        })
    }

    fn platform(&self) -> &Platform {
        &self.running.platform
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.platform().base_url().to_owned()
    }

    /// The `iss` of every id_token; the base URL unless changed with [`Self::set_issuer`].
    pub fn issuer(&self) -> String {
        self.platform().issuer()
    }

    /// Changes the issuer (e.g. to a Moodle-style issuer with a path, or a hosted-Canvas
    /// issuer on another host). Endpoints stay on the base URL.
    pub fn set_issuer(&self, issuer: impl Into<String>) {
        self.platform().set_issuer(issuer.into());
    }

    /// The OIDC authorization endpoint, base + `/auth`.
    pub fn authorization_endpoint(&self) -> String {
        self.platform().url("/auth")
    }

    /// base + `/jwks`
    pub fn jwks_uri(&self) -> String {
        self.platform().url("/jwks")
    }

    /// base + `/token` (answers 501 for now).
    pub fn token_endpoint(&self) -> String {
        self.platform().url("/token")
    }

    /// base + `/.well-known/openid-configuration`
    pub fn openid_configuration_url(&self) -> String {
        self.platform().url("/.well-known/openid-configuration")
    }

    /// The course page that launches `client_id` in an iframe (see `GET /launch`).
    pub fn launch_page_url(
        &self,
        client_id: &str,
        message_type: MessageType,
        storage: Storage,
    ) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("message_type", message_type.query_value())
            .append_pair("storage", storage.query_value())
            .finish();
        self.platform().url(&format!("/launch?{query}"))
    }

    /// The current signing key's public key, PEM (SubjectPublicKeyInfo).
    pub fn public_key_pem(&self) -> String {
        self.platform().current_key().public_pem().to_owned()
    }

    /// The current signing key's `kid`.
    pub fn current_kid(&self) -> String {
        self.platform().current_key().kid().to_owned()
    }

    /// The JWKS as `GET /jwks` serves it.
    pub fn jwks(&self) -> Value {
        self.platform().jwks()
    }

    /// Registers a tool (replacing any tool with the same client_id).
    pub fn add_tool(&self, tool: Tool) {
        self.platform().add_tool(tool);
    }

    /// Replaces the launch claim template, e.g. with a fixture's `id_token_claims`. The
    /// platform still sets iss, aud (keeping the template's string or array shape), azp
    /// (only when the template has one), sub (from the login), nonce, iat, exp,
    /// deployment_id, target_link_uri and message_type; a template without `sub` gives
    /// anonymous launches.
    pub fn set_base_claims(&self, claims: Value) {
        self.platform().set_claims_template(claims);
    }

    /// Corrupts every id_token from now on, until [`Self::reset_tamper`].
    pub fn set_tamper(&self, tamper: Tamper) {
        self.platform().set_tamper(tamper);
    }

    /// Back to honest id_tokens.
    pub fn reset_tamper(&self) {
        self.platform().set_tamper(Tamper::default());
    }

    /// A new RSA-2048 key signs from now on; the JWKS publishes it and keeps the old ones.
    pub fn rotate_keys(&self) {
        self.platform().rotate_keys(false);
    }

    /// A new RSA-2048 key signs from now on and is the only key in the JWKS.
    pub fn rotate_keys_dropping_old(&self) {
        self.platform().rotate_keys(true);
    }

    /// The parameters of a third-party initiated login for the template's user: iss,
    /// login_hint, target_link_uri, lti_message_hint, client_id, lti_deployment_id.
    /// For an unregistered client_id, target_link_uri and lti_deployment_id are left out
    /// (and the authorization endpoint will refuse the login).
    pub fn login_initiation_params(
        &self,
        client_id: &str,
        message_type: MessageType,
    ) -> Vec<(String, String)> {
        self.platform()
            .login_initiation_params(client_id, message_type)
    }

    /// Exactly the id_token `GET /auth` would sign for these query parameters (tamper
    /// hooks included), or why it would refuse them.
    pub fn id_token_for(&self, auth_request: &[(String, String)]) -> Result<String, String> {
        self.platform()
            .authorize(auth_request)
            .map(|authorized| authorized.id_token)
            .map_err(|refusal| refusal.description().to_owned())
    }

    /// Signs arbitrary claims with the current key. The header is `{alg: RS256, typ: JWT,
    /// kid}` merge-patched with `header_patch`; an RS384/RS512/PS* `alg` is signed with that
    /// scheme, any other alg still gets an RS256 signature.
    pub fn sign(&self, header_patch: Value, claims: &Value) -> String {
        self.platform()
            .encode(&header_patch, claims, &Signing::Normal)
    }
}
