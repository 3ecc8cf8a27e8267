//! Configuration: a TOML file overridden by `LTIGATE_*` environment variables.
//!
//! Nested keys use a double underscore (`LTIGATE_APP__LAUNCH_URL`). Every value is checked
//! here, once, so the rest of the server works with parsed URLs and durations and a bad
//! value stops start-up with one line naming the field. An unknown key in the file is an
//! error; an `LTIGATE_*` variable that names no field is ignored with one warning, because
//! the environment is shared (Kubernetes injects `LTIGATE_PORT` for a Service named ltigate).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use figment::Figment;
use figment::error::Kind;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use url::Url;

use crate::secret::KeyHash;

/// The whole configuration, as read from file and environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The URL LMSes and browsers use to reach ltigate. Defaults to `http://<listen>`.
    #[serde(default)]
    pub public_url: Option<Url>,
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// Most database connections this node holds; unset: 4 for SQLite (one writer at a
    /// time anyway), 16 for PostgreSQL. Mind PostgreSQL's `max_connections` across nodes.
    #[serde(default)]
    pub database_max_connections: Option<std::num::NonZeroU32>,
    /// Accept `http://` platform URLs (local development only).
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// API keys for the app API: plain values or `sha256:<hex>`.
    #[serde(default)]
    pub api_keys: Vec<KeyHash>,
    /// Key for the admin API; the admin API is off when absent.
    #[serde(default)]
    pub admin_key: Option<KeyHash>,
    /// Wrong admin keys allowed per client address, on the admin page's sign-in and the
    /// admin API together; over it every attempt is refused (429) until the bucket refills.
    #[serde(default)]
    pub admin_sign_in_limit: RateLimitConfig,
    #[serde(default)]
    pub app: AppConfig,
    #[serde(default)]
    pub tool: ToolConfig,
    #[serde(default)]
    pub keys: KeysConfig,
    #[serde(default)]
    pub launch: LaunchConfig,
    #[serde(default)]
    pub timeouts: TimeoutsConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub registration: RegistrationConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// Where the app lives: ltigate hands verified launches to these URLs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    pub launch_url: Option<Url>,
    pub deep_linking_url: Option<Url>,
}

/// How the tool describes itself to LMSes (used by registration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolConfig {
    #[serde(default = "default_tool_name")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub logo_uri: Option<Url>,
    #[serde(default)]
    pub client_uri: Option<Url>,
    #[serde(default)]
    pub tos_uri: Option<Url>,
    #[serde(default)]
    pub policy_uri: Option<Url>,
    #[serde(default)]
    pub contacts: Vec<String>,
    /// LTI Advantage scopes the tool asks for (AGS, NRPS).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Claims the tool wants in launches (`sub`, `name`, `email`, ...).
    #[serde(default = "default_claims")]
    pub claims: Vec<String>,
    #[serde(default = "default_messages")]
    pub messages: Vec<ToolMessage>,
    #[serde(default)]
    pub custom_parameters: std::collections::BTreeMap<String, String>,
}

/// One LTI message the tool accepts, and where the LMS may place it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ToolMessage {
    #[serde(rename = "type")]
    pub message_type: String,
    #[serde(default)]
    pub placements: Vec<String>,
    #[serde(default)]
    pub label: Option<String>,
}

/// Tool key rotation timing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// How long a new key is published before it signs (platforms cache JWKS).
    #[serde(default = "default_rotation_delay", with = "secs")]
    pub rotation_delay: Duration,
    /// The longest life of anything ltigate signs; an old key stays published this long
    /// after it stops signing.
    #[serde(default = "default_max_token_lifetime", with = "secs")]
    pub max_token_lifetime: Duration,
    /// How often a node rereads the key set from the database.
    #[serde(default = "default_key_refresh", with = "secs")]
    pub refresh_interval: Duration,
}

/// Lifetimes and tolerances of the launch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchConfig {
    /// How long an ltik (the app's handle on a launch) is valid.
    #[serde(default = "default_ltik_ttl", with = "secs")]
    pub ltik_ttl: Duration,
    /// How long a login may take before its launch arrives.
    #[serde(default = "default_state_ttl", with = "secs")]
    pub state_ttl: Duration,
    /// Allowed clock skew on the id_token's exp and iat.
    #[serde(default = "default_leeway", with = "secs")]
    pub leeway: Duration,
    /// How long a platform's JWKS is cached.
    #[serde(default = "default_jwks_ttl", with = "secs")]
    pub jwks_ttl: Duration,
    /// The rate of JWKS refetches for unknown kids: two at once (a key rotated just after a
    /// fetch is found), then one per this interval; also the retry delay after a failed fetch.
    #[serde(default = "default_jwks_min_refetch", with = "secs")]
    pub jwks_min_refetch: Duration,
    /// How long a node trusts its cached copy of a platform (changes made through other
    /// nodes or the CLI show within this time; 0 turns the cache off).
    #[serde(default = "default_platform_cache_ttl", with = "secs")]
    pub platform_cache_ttl: Duration,
}

/// Time bounds on outbound requests and short-lived records.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsConfig {
    #[serde(default = "default_http_connect", with = "secs")]
    pub http_connect: Duration,
    #[serde(default = "default_http_total", with = "secs")]
    pub http_total: Duration,
    /// How often expired rows are purged.
    #[serde(default = "default_purge_interval", with = "secs")]
    pub purge_interval: Duration,
    /// How long in-flight requests may run after SIGTERM.
    #[serde(default = "default_shutdown_grace", with = "secs")]
    pub shutdown_grace: Duration,
    /// How long a client may take to send a request's headers, counted from the connection's
    /// start (so a connection that never sends a byte is closed) or from the first byte of a
    /// following request.
    #[serde(default = "default_header_read", with = "secs")]
    pub header_read: Duration,
    /// How long a keep-alive connection may sit idle between a response and the next request.
    #[serde(default = "default_keep_alive_idle", with = "secs")]
    pub keep_alive_idle: Duration,
    /// The longest a request may take once its headers are in, body included (then 408).
    #[serde(default = "default_request", with = "secs")]
    pub request: Duration,
}

/// Dynamic registration, and the outbound fetches whose URLs come from platforms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Let outbound fetches (platform configuration, registration endpoint, JWKS, ...) reach
    /// loopback, private and link-local addresses (tests, the demo, an LMS on the same host).
    #[serde(default)]
    pub allow_private_networks: bool,
    /// Dynamically registered platforms start active instead of pending.
    #[serde(default)]
    pub auto_activate: bool,
    /// The app's page shown before the registration completes (`?registrationId=...`).
    #[serde(default)]
    pub intermediate_url: Option<Url>,
    /// How long a parked registration can be completed (LMS tokens live about an hour).
    #[serde(default = "default_pending_ttl", with = "secs")]
    pub pending_ttl: Duration,
    /// Hosted issuers added to the built-in table (Instructure, Blackboard).
    #[serde(default)]
    pub hosted_issuers: Vec<HostedIssuerConfig>,
    /// Calls to `/lti/register` allowed per client address.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Reverse proxies (exact addresses) whose `X-Forwarded-For` names the client; from any
    /// other peer the header is ignored, so a client cannot pick its own rate-limit key.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Registrations waiting for an admin (pending platforms and parked registrations) at
    /// most; further registrations are refused until an admin acts.
    #[serde(default = "default_max_pending")]
    pub max_pending: u32,
    /// Pending platforms (and proposed changes) never approved are deleted after this long
    /// (0: kept forever).
    #[serde(default = "default_pending_platform_ttl", with = "secs")]
    pub pending_platform_ttl: Duration,
}

/// A token bucket per client address: `burst` calls at once, refilled at `per_minute`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained calls per minute (0 turns the limit off).
    #[serde(default = "default_rate_per_minute")]
    pub per_minute: u32,
    /// Calls allowed in a burst.
    #[serde(default = "default_rate_burst")]
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_minute: default_rate_per_minute(),
            burst: default_rate_burst(),
        }
    }
}

/// An issuer whose configuration is served from other hosts, and the domains its keys and
/// login endpoint must be on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostedIssuerConfig {
    pub issuers: Vec<String>,
    pub endpoint_domains: Vec<String>,
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            auto_activate: false,
            intermediate_url: None,
            pending_ttl: default_pending_ttl(),
            hosted_issuers: Vec::new(),
            rate_limit: RateLimitConfig::default(),
            trusted_proxies: Vec::new(),
            max_pending: default_max_pending(),
            pending_platform_ttl: default_pending_platform_ttl(),
        }
    }
}

/// Where Prometheus metrics are served. Both off by default: nothing is served to anyone
/// until an operator chooses a place.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// A second listener serving only `GET /metrics`, without authentication: bind it to
    /// loopback or an internal interface the scraper reaches.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// Also serve `GET /metrics` on the main listener, to `Authorization: Bearer <admin_key>`
    /// only (needs `admin_key`).
    #[serde(default)]
    pub behind_admin_key: bool,
}

impl MetricsConfig {
    /// Whether metrics are served anywhere (and so worth recording).
    pub fn enabled(&self) -> bool {
        self.listen.is_some() || self.behind_admin_key
    }
}

/// Size limits on inbound requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Open client connections served at once; further clients wait in the listen backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

mod secs {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 3000))
}
fn default_database_url() -> String {
    "sqlite://ltigate.db".into()
}
fn default_tool_name() -> String {
    "ltigate tool".into()
}
fn default_scopes() -> Vec<String> {
    [
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    ]
    .map(String::from)
    .to_vec()
}
fn default_claims() -> Vec<String> {
    [
        "sub",
        "iss",
        "name",
        "given_name",
        "family_name",
        "email",
        "picture",
        "locale",
    ]
    .map(String::from)
    .to_vec()
}
fn default_messages() -> Vec<ToolMessage> {
    ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]
        .map(|t| ToolMessage {
            message_type: t.into(),
            placements: Vec::new(),
            label: None,
        })
        .to_vec()
}
fn default_rotation_delay() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_max_token_lifetime() -> Duration {
    Duration::from_secs(3600)
}
fn default_key_refresh() -> Duration {
    Duration::from_secs(60)
}
fn default_ltik_ttl() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_state_ttl() -> Duration {
    Duration::from_secs(600)
}
fn default_leeway() -> Duration {
    Duration::from_secs(60)
}
fn default_jwks_ttl() -> Duration {
    Duration::from_secs(3600)
}
fn default_jwks_min_refetch() -> Duration {
    Duration::from_secs(10)
}
fn default_platform_cache_ttl() -> Duration {
    Duration::from_secs(5)
}
fn default_pending_ttl() -> Duration {
    Duration::from_secs(3600)
}
fn default_rate_per_minute() -> u32 {
    6
}
fn default_rate_burst() -> u32 {
    10
}
fn default_max_pending() -> u32 {
    100
}
fn default_pending_platform_ttl() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}
fn default_http_connect() -> Duration {
    Duration::from_secs(3)
}
fn default_http_total() -> Duration {
    Duration::from_secs(10)
}
fn default_purge_interval() -> Duration {
    Duration::from_secs(300)
}
fn default_shutdown_grace() -> Duration {
    Duration::from_secs(10)
}
fn default_header_read() -> Duration {
    Duration::from_secs(10)
}
fn default_keep_alive_idle() -> Duration {
    Duration::from_secs(60)
}
fn default_request() -> Duration {
    Duration::from_secs(30)
}
fn default_max_body() -> usize {
    64 * 1024
}
fn default_max_connections() -> u32 {
    10_000
}

impl Default for ToolConfig {
    fn default() -> Self {
        Self {
            name: default_tool_name(),
            description: None,
            logo_uri: None,
            client_uri: None,
            tos_uri: None,
            policy_uri: None,
            contacts: Vec::new(),
            scopes: default_scopes(),
            claims: default_claims(),
            messages: default_messages(),
            custom_parameters: Default::default(),
        }
    }
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            rotation_delay: default_rotation_delay(),
            max_token_lifetime: default_max_token_lifetime(),
            refresh_interval: default_key_refresh(),
        }
    }
}

impl Default for LaunchConfig {
    fn default() -> Self {
        Self {
            ltik_ttl: default_ltik_ttl(),
            state_ttl: default_state_ttl(),
            leeway: default_leeway(),
            jwks_ttl: default_jwks_ttl(),
            jwks_min_refetch: default_jwks_min_refetch(),
            platform_cache_ttl: default_platform_cache_ttl(),
        }
    }
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        Self {
            http_connect: default_http_connect(),
            http_total: default_http_total(),
            purge_interval: default_purge_interval(),
            shutdown_grace: default_shutdown_grace(),
            header_read: default_header_read(),
            keep_alive_idle: default_keep_alive_idle(),
            request: default_request(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: default_max_body(),
            max_connections: default_max_connections(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: None,
            listen: default_listen(),
            database_url: default_database_url(),
            database_max_connections: None,
            allow_insecure_http: false,
            api_keys: Vec::new(),
            admin_key: None,
            admin_sign_in_limit: RateLimitConfig::default(),
            app: AppConfig::default(),
            tool: ToolConfig::default(),
            keys: KeysConfig::default(),
            launch: LaunchConfig::default(),
            timeouts: TimeoutsConfig::default(),
            limits: LimitsConfig::default(),
            registration: RegistrationConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

/// A configuration that could not be loaded; `Display` is the one line shown at start-up.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads `path` (when it exists, or always when `required`) and the environment.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        if required && !path.exists() {
            return Err(ConfigError(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        let env = ConfigEnv::read();
        if let Some(warning) = env.warning() {
            tracing::warn!("{warning}");
        }
        Self::from_figment(Figment::new().merge(Toml::file(path)).merge(env.fields))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| {
            let field = e.path.join(".");
            let kind = e.kind.to_string();
            if field.is_empty() {
                ConfigError(kind)
            } else {
                ConfigError(format!("field `{field}`: {kind}"))
            }
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        for (field, url) in [
            ("public_url", self.public_url.as_ref()),
            ("app.launch_url", self.app.launch_url.as_ref()),
            ("app.deep_linking_url", self.app.deep_linking_url.as_ref()),
            (
                "registration.intermediate_url",
                self.registration.intermediate_url.as_ref(),
            ),
        ] {
            if let Some(url) = url
                && !matches!(url.scheme(), "http" | "https")
            {
                return Err(ConfigError(format!(
                    "field `{field}`: must be an http(s) URL, got {url}"
                )));
            }
        }
        if self.metrics.behind_admin_key && self.admin_key.is_none() {
            return Err(ConfigError(
                "field `metrics.behind_admin_key`: needs `admin_key`".into(),
            ));
        }
        if self.keys.max_token_lifetime.is_zero() {
            return Err(ConfigError(
                "field `keys.max_token_lifetime`: must be greater than 0".into(),
            ));
        }
        // A zero server timeout or connection cap would refuse every client.
        for (field, zero) in [
            ("timeouts.header_read", self.timeouts.header_read.is_zero()),
            (
                "timeouts.keep_alive_idle",
                self.timeouts.keep_alive_idle.is_zero(),
            ),
            ("timeouts.request", self.timeouts.request.is_zero()),
            ("limits.max_connections", self.limits.max_connections == 0),
        ] {
            if zero {
                return Err(ConfigError(format!(
                    "field `{field}`: must be greater than 0"
                )));
            }
        }
        Ok(())
    }

    /// The URL LMSes see; falls back to `http://<listen>`.
    pub fn public_url(&self) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{}", self.listen)).expect("a socket address forms a URL")
        })
    }

    /// `public_url` joined with an absolute path such as `/lti/login`.
    pub fn public_endpoint(&self, path: &str) -> String {
        let base = self.public_url();
        format!("{}{path}", base.as_str().trim_end_matches('/'))
    }
}

/// The prefix of the environment variables that set configuration fields.
const ENV_PREFIX: &str = "LTIGATE_";
/// The config file's path (read by the CLI), which is not a field.
const ENV_CONFIG_PATH: &str = "config";

/// The `LTIGATE_*` environment, sorted into configuration fields and other variables.
struct ConfigEnv {
    /// A provider of only the variables that name a field.
    fields: Env,
    /// The other variables' names (never their values, which may be secrets), sorted.
    ignored: Vec<String>,
}

impl ConfigEnv {
    fn read() -> Self {
        let all = Env::prefixed(ENV_PREFIX)
            .split("__")
            .ignore(&[ENV_CONFIG_PATH]);
        // Each variable alone is a field when serde does not call it unknown. This asks the
        // config types themselves, so a field added anywhere is known without a list here;
        // a field with a bad value stays in, so the full load names it as an error.
        let mut ignored_keys: Vec<String> = all
            .iter()
            .map(|(key, _)| key.as_str().to_owned())
            .filter(|key| {
                Figment::from(all.clone().only(&[key.as_str()]))
                    .extract::<Config>()
                    .is_err_and(|e| {
                        e.into_iter()
                            .any(|e| matches!(e.kind, Kind::UnknownField(..)))
                    })
            })
            .collect();
        ignored_keys.sort();
        ignored_keys.dedup();
        let ignored = ignored_keys
            .iter()
            .map(|key| {
                format!(
                    "{ENV_PREFIX}{}",
                    key.replace('.', "__").to_ascii_uppercase()
                )
            })
            .collect();
        let fields = all.filter(move |key| !ignored_keys.iter().any(|k| key == k.as_str()));
        Self { fields, ignored }
    }

    /// The one start-up warning about variables that set nothing.
    fn warning(&self) -> Option<String> {
        (!self.ignored.is_empty()).then(|| {
            format!(
                "ignoring environment variables that are not configuration fields: {}",
                self.ignored.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests;
