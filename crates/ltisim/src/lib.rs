//! ltisim: a simulated LTI 1.3 platform (an LMS) served over real HTTP on loopback.
//!
//! It is the other side of the wire for ltigate's end-to-end tests, for `ltigate demo`
//! and for the launch benchmark. It is written from the 1EdTech specifications (LTI Core
//! 1.3, Security Framework 1.0, LTI Client Side postMessages / Platform Storage, Dynamic
//! Registration 1.0) and shares no code with ltigate, so a claim name or a check that is
//! wrong on one side cannot pass because the other side makes the same mistake.
//!
//! What it does:
//! - imitates a platform [`Profile`] (its own, or Canvas, Moodle or the Dynamic
//!   Registration spec's example, from the real documents in `fixtures/`): URL structure,
//!   OpenID configuration, launch claim set and registration exchange;
//! - serves an OpenID / LTI platform configuration and a JWKS, with key rotation on demand;
//! - is the platform side of LTI Dynamic Registration 1.0: hands out single-use,
//!   expiring registration tokens ([`Simulator::registration_start`]), validates the
//!   tool's registration like a strict platform, registers it (so it can launch at once)
//!   and answers in the imitated platform's shape; both endpoints misbehave on request
//!   ([`Failure`]) for the tool's refusal tests;
//! - starts third-party initiated logins ([`Simulator::login_initiation_params`], or the
//!   course page at `GET /launch` for a browser) and answers the OIDC authorization
//!   request at `/auth` like a strict platform, form-posting a signed id_token;
//! - builds id_tokens from a claim template (a realistic instructor launch by default, or
//!   a real platform's claims from the fixtures) and corrupts them on request
//!   ([`Tamper`]) to produce each kind of bad token the security tests need;
//! - acts as platform storage for cookie-less launches on its course page;
//! - serves LTI Advantage: a token endpoint that verifies the tool's `private_key_jwt`
//!   client assertion against the tool's JWKS ([`Simulator::token_requests`]), Assignment
//!   and Grade Services 2.0 with real line item, score and result storage
//!   ([`Simulator::line_items`], [`Simulator::scores_received`]), Names and Role
//!   Provisioning Services 2.0 over a 25-member roster in pages of 10, and a gradebook
//!   page at `GET /gradebook`;
//! - receives deep linking responses at `/deep_link_return`, verifies them against the
//!   tool's JWKS like a strict platform, and places their content items on the course page
//!   ([`Simulator::deep_linked_items`]).
//!
//! What it is not: a secure or persistent LMS. State lives in memory, and there are no users
//! or sessions (whoever loads the course page launches as the template's user). AGS and NRPS
//! are served at the same paths for every profile (those the default claims name).
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
//!     jwks_uri: Some("http://127.0.0.1:3000/lti/keys".into()),
//! });
//! let login = lms.login_initiation_params("tool-1", MessageType::ResourceLink);
//! # let _ = login;
//! # Ok(())
//! # }
//! ```

mod ags;
mod claims;
mod course_page;
mod deep_linking;
mod discovery;
mod failure;
mod gradebook;
mod hints;
mod html;
mod jws;
mod keys;
mod nrps;
mod oauth;
mod paging;
mod platform;
mod profile;
mod registration;
mod routes;
mod services;
mod tamper;
mod token;
mod tool;

pub use failure::{ConfigurationFailure, Failure, RegistrationFailure};
pub use html::form_fields;
pub use oauth::TokenRequestRecord;
pub use profile::Profile;
pub use services::ServiceRequestRecord;
pub use tamper::{Signing, Tamper};
pub use tool::{MessageType, Storage, Tool};

use platform::Platform;
use serde_json::Value;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
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
            .field("profile", &self.profile())
            .field("base_url", &self.base_url())
            .field("issuer", &self.issuer())
            .field("kid", &self.current_kid())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts the default profile on an ephemeral port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Profile::Default).await
    }

    /// Starts imitating `profile` on an ephemeral port of 127.0.0.1.
    pub async fn start_with(profile: Profile) -> std::io::Result<Self> {
        Self::start_on_with(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), profile).await
    }

    /// Starts the default profile on `addr`, serving in a tokio task.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        Self::start_on_with(addr, Profile::Default).await
    }

    /// Starts imitating `profile` on `addr`, serving in a tokio task.
    pub async fn start_on_with(addr: SocketAddr, profile: Profile) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let platform = Arc::new(Platform::new(base_url, profile));
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

    /// The platform this simulator imitates.
    pub fn profile(&self) -> Profile {
        self.platform().profile()
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.platform().base_url().to_owned()
    }

    /// The `iss` of every id_token and of the OpenID configuration: the base URL (Moodle:
    /// base + `/moodle`, an issuer with a path) unless changed with [`Self::set_issuer`].
    pub fn issuer(&self) -> String {
        self.platform().issuer()
    }

    /// Changes the issuer (e.g. to a hosted-Canvas issuer on another host), in the
    /// id_tokens and the served configuration. Endpoints stay where they are.
    pub fn set_issuer(&self, issuer: impl Into<String>) {
        self.platform().set_issuer(issuer.into());
    }

    /// The OIDC authorization endpoint: base + `/auth` (Canvas
    /// `/api/lti/authorize_redirect`, Moodle `/moodle/mod/lti/auth.php`, spec example
    /// `/connect/authorize`).
    pub fn authorization_endpoint(&self) -> String {
        self.platform()
            .url(self.platform().endpoints().authorization)
    }

    /// The JWKS: base + `/jwks` (Canvas `/api/lti/security/jwks`, Moodle
    /// `/moodle/mod/lti/certs.php`, spec example `/jwks.json`).
    pub fn jwks_uri(&self) -> String {
        self.platform().url(self.platform().endpoints().jwks)
    }

    /// The OAuth 2.0 token endpoint for service access tokens: base + `/token` (Canvas
    /// `/login/oauth2/token`, Moodle `/moodle/mod/lti/token.php`, spec example
    /// `/connect/token`).
    pub fn token_endpoint(&self) -> String {
        self.platform().url(self.platform().endpoints().token)
    }

    /// The Dynamic Registration endpoint (POST): base + `/register` (Canvas
    /// `/api/lti/registrations`, Moodle `/moodle/mod/lti/openid-registration.php`, spec
    /// example `/connect/register`).
    pub fn registration_endpoint(&self) -> String {
        self.platform()
            .url(self.platform().endpoints().registration)
    }

    /// Where the OpenID configuration is served: base +
    /// `/.well-known/openid-configuration` (default and spec example; Canvas
    /// `/api/lti/security/openid-configuration`, Moodle
    /// `/moodle/mod/lti/openid-configuration.php`). Without a registration token; see
    /// [`Self::registration_start`] for the URL an LMS hands a tool.
    pub fn openid_configuration_url(&self) -> String {
        self.platform()
            .url(self.platform().endpoints().configuration)
    }

    /// The OpenID configuration exactly as served (patch included).
    pub fn openid_configuration(&self) -> Value {
        self.platform().openid_configuration()
    }

    /// Serves a variant of the OpenID configuration: `patch` (RFC 7396 JSON merge patch)
    /// is applied to the document on every GET, e.g. `{"issuer": "https://elsewhere"}` or
    /// `{"jwks_uri": null}` to remove a member. `Value::Null` (or `{}`) serves the
    /// original again. An `authorization_server` member (e.g.
    /// `{"authorization_server": "<base>/oauth2/audience"}`) also becomes the `aud` the
    /// token endpoint requires of client assertions instead of the token endpoint URL.
    pub fn set_openid_configuration_patch(&self, patch: Value) {
        self.platform().set_configuration_patch(patch);
    }

    /// Starts a Dynamic Registration as the LMS does when the admin enters the tool's
    /// registration URL: returns the `openid_configuration` URL to hand the tool and,
    /// `with_token`, a fresh registration token (single use, valid for one hour unless
    /// changed with [`Self::set_registration_token_lifetime`]).
    ///
    /// Per profile: Canvas's URL carries `?registration_token=<token>` and its
    /// configuration GET also needs the token as Bearer (401 without); its token is a
    /// signed JWT. Moodle's configuration is public and its token a JWT whose `sub` is the
    /// client_id it will assign. Default and spec example: an opaque token. Without a
    /// token, the default and spec-example profiles accept one registration without
    /// Authorization; Canvas and Moodle refuse it (401).
    pub fn registration_start(&self, with_token: bool) -> (String, Option<String>) {
        self.platform().registration_start(with_token)
    }

    /// The URL the LMS opens to start a registration: `tool_registration_url` (e.g.
    /// `https://tool/lti/register`) with the `openid_configuration` and, `with_token`,
    /// `registration_token` query parameters of a fresh [`Self::registration_start`].
    pub fn registration_initiation_url(
        &self,
        tool_registration_url: &str,
        with_token: bool,
    ) -> String {
        let (configuration, token) = self.registration_start(with_token);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("openid_configuration", &configuration);
        if let Some(token) = &token {
            query.append_pair("registration_token", token);
        }
        let separator = if tool_registration_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{tool_registration_url}{separator}{}", query.finish())
    }

    /// How long registration tokens issued from now on are valid (default one hour).
    pub fn set_registration_token_lifetime(&self, lifetime: Duration) {
        self.platform().set_registration_token_lifetime(lifetime);
    }

    /// Every registration request body received so far, in order, whether accepted or
    /// not (a body that is not JSON is kept as a JSON string).
    pub fn registrations(&self) -> Vec<Value> {
        self.platform().registrations()
    }

    /// The `User-Agent` header of the last request to `url`'s path: a URL of this simulator
    /// (as [`Self::jwks_uri`] returns it) or a path. `None` when no request reached that
    /// path or the last one sent no (readable) `User-Agent`.
    pub fn user_agent_seen(&self, url: &str) -> Option<String> {
        let path = url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.path().to_owned());
        self.platform().user_agent_seen(&path)
    }

    /// Makes the configuration GET misbehave (`None` to stop).
    pub fn set_configuration_failure(&self, failure: impl Into<Option<Failure>>) {
        self.platform().set_configuration_failure(failure.into());
    }

    /// Makes the registration POST misbehave (`None` to stop).
    pub fn set_registration_failure(&self, failure: impl Into<Option<Failure>>) {
        self.platform().set_registration_failure(failure.into());
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

    /// How many times a tool fetched the JWKS (`GET /jwks`) so far.
    pub fn jwks_fetches(&self) -> u64 {
        self.platform().jwks_served()
    }

    /// Registers a tool (replacing any tool with the same client_id).
    pub fn add_tool(&self, tool: Tool) {
        self.platform().add_tool(tool);
    }

    /// The tool registered under `client_id` (by [`Self::add_tool`] or by Dynamic
    /// Registration: its deployment_id is the one launches carry, even when the
    /// registration response did not tell the tool).
    pub fn tool(&self, client_id: &str) -> Option<Tool> {
        self.platform().tool(client_id)
    }

    /// Replaces the launch claim template (by default the profile's: the fixture's
    /// `id_token_claims` with its URLs moved onto this simulator). The
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

    /// Every request to the token endpoint so far, in order, with what was granted or why
    /// it was refused.
    pub fn token_requests(&self) -> Vec<TokenRequestRecord> {
        self.platform().services.oauth.records()
    }

    /// How long access tokens issued from now on are valid (default one hour).
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.platform().services.oauth.set_lifetime(lifetime);
    }

    /// Every access token issued so far stops working: the next service call gets 401
    /// (or the status set with [`Self::set_expired_token_status`]).
    pub fn revoke_access_tokens(&self) {
        self.platform().services.oauth.revoke_all();
    }

    /// The status AGS and NRPS answer for a missing, unknown, expired or revoked token
    /// (default 401; Open edX answers 403).
    pub fn set_expired_token_status(&self, status: axum::http::StatusCode) {
        self.platform()
            .services
            .oauth
            .set_invalid_token_status(status);
    }

    /// The AGS line items of `context` (e.g. `ltisim-course-1`) as stored, each with its
    /// `id` (its URL).
    pub fn line_items(&self, context: &str) -> Vec<Value> {
        self.platform().services.ags.line_items(context)
    }

    /// Every score accepted for the line item `lineitem_url`, exactly as posted, in order.
    pub fn scores_received(&self, lineitem_url: &str) -> Vec<Value> {
        self.platform().services.ags.scores_received(lineitem_url)
    }

    /// Every AGS and NRPS request received so far, in order, whether answered or not.
    pub fn service_requests(&self) -> Vec<ServiceRequestRecord> {
        self.platform().services.requests()
    }

    /// Makes every AGS and NRPS call misbehave (`None` to stop); the call is still
    /// recorded. [`Failure::Redirect`] answers 307.
    pub fn set_service_failure(&self, failure: impl Into<Option<Failure>>) {
        self.platform().services.set_failure(failure.into());
    }

    /// Makes the token endpoint misbehave (`None` to stop); a failing request is not
    /// recorded in [`Self::token_requests`]. [`Failure::Redirect`] answers 307.
    pub fn set_token_failure(&self, failure: impl Into<Option<Failure>>) {
        self.platform().services.set_token_failure(failure.into());
    }

    /// The NRPS roster of `context`, every member (empty for an unknown context).
    pub fn memberships(&self, context: &str) -> Vec<Value> {
        nrps::roster(self.platform().base_url(), context).unwrap_or_default()
    }

    /// The gradebook page: base + `/gradebook`.
    pub fn gradebook_url(&self) -> String {
        self.platform().url("/gradebook")
    }

    /// The content items placed by every accepted deep linking response, in order.
    pub fn deep_linked_items(&self) -> Vec<Value> {
        self.platform().deep_links().items()
    }

    /// The claims of every deep linking response `POST /deep_link_return` accepted (after
    /// checking its signature against the tool's JWKS, aud, deployment_id, message_type,
    /// version, exp, a fresh nonce and the request's data).
    pub fn deep_link_responses(&self) -> Vec<Value> {
        self.platform().deep_links().responses()
    }

    /// Where tools post deep linking responses: base + `/deep_link_return`.
    pub fn deep_link_return_url(&self) -> String {
        self.platform().url("/deep_link_return")
    }

    /// Signs arbitrary claims with the current key. The header is `{alg: RS256, typ: JWT,
    /// kid}` merge-patched with `header_patch`; an RS384/RS512/PS* `alg` is signed with that
    /// scheme, any other alg still gets an RS256 signature.
    pub fn sign(&self, header_patch: Value, claims: &Value) -> String {
        self.platform()
            .encode(&header_patch, claims, &Signing::Normal)
    }
}
