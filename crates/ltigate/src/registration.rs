//! Dynamic Registration, tool side (1EdTech LTI Dynamic Registration 1.0).
//!
//! `/lti/register` hands over an openid_configuration URL and a registration token. The
//! [`Registrar`] fetches and validates the platform's configuration through the outbound
//! policy, builds the tool's registration request from the `[tool]` config, POSTs it, and
//! stores the platform. It never changes a live platform: a registration that comes back
//! with a known (issuer, client_id) becomes a change an admin approves. With an intermediate
//! app page, the validated configuration is parked until the app completes the registration.
//!
//! `/lti/register` is open to anyone, so each client address gets a small burst of calls
//! ([`ClientLimiter`]), and registrations waiting for an admin are capped (`max_pending`);
//! the store forgets pending platforms nobody approved (`pending_platform_ttl`).

mod rate_limit;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lti::ids::{ClientId, Issuer};
use lti::registration::{
    HostedIssuer, PlatformConfiguration, RegistrationResponse, ToolDescription, ToolMessage,
    check_issuer, parse_registration_response, registration_request,
};
use url::Url;

use crate::clock::Clock;
use crate::code::Code;
use crate::config::Config;
use crate::outbound::{FetchError, Outbound};
use crate::secret::Random;
use crate::store::{
    NewPlatform, PendingRegistration, PlatformKey, PlatformStatus, Registered, Store, StoreError,
};
use crate::telemetry::{self, OutboundKind, RegistrationOutcome};

use lti::registration::MAX_DOCUMENT_LEN as MAX_DOCUMENT_BYTES;

pub use rate_limit::FailureLimiter;
pub use rate_limit::{ClientLimiter, client_address};

/// Which exchange with the platform failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exchange {
    /// GET of its openid configuration.
    Configuration,
    /// POST of the tool's registration.
    Registration,
}

impl std::fmt::Display for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Configuration => "serve its configuration",
            Self::Registration => "register the tool",
        })
    }
}

/// A refused registration. The messages (and causes) may quote the platform's answer or name
/// addresses: they go to the log and to API-key callers, never to the registration page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationFailure {
    #[error("too many registration attempts came from this address")]
    RateLimited,
    #[error("the tool has too many registrations waiting for approval")]
    TooManyPending,
    #[error("a change to this platform already waits for approval")]
    ChangeAlreadyPending,
    /// The `/lti/register` request itself is incomplete or unreadable.
    #[error("the registration request {0}")]
    RequestInvalid(&'static str),
    #[error("the openid_configuration parameter is not a valid URL")]
    ConfigurationUrlInvalid,
    #[error("the platform could not {exchange}")]
    Fetch {
        exchange: Exchange,
        #[source]
        source: FetchError,
    },
    #[error("no registration has this id")]
    NotFound,
    #[error("this registration was already completed or has expired")]
    Gone,
    #[error("the platform does not support {0}")]
    MessageNotSupported(String),
    #[error("the platform does not offer the placement {placement} for {message_type}")]
    PlacementNotSupported {
        placement: String,
        message_type: String,
    },
    /// The platform's document breaks a rule of the protocol core.
    #[error(transparent)]
    Document(#[from] lti::registration::RegistrationError),
    /// A failure of ltigate itself.
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl RegistrationFailure {
    /// The stable code shown on the page and logged.
    pub fn code(&self) -> Code {
        match self {
            Self::RateLimited => Code::RegistrationRateLimited,
            Self::TooManyPending => Code::TooManyPendingRegistrations,
            Self::ChangeAlreadyPending => Code::ChangeAlreadyPending,
            Self::RequestInvalid(_) => Code::RegistrationInvalid,
            Self::ConfigurationUrlInvalid => Code::ConfigurationUrlInvalid,
            // The platform's error answer gets the exchange's code; anything else keeps the
            // fetch's own code.
            Self::Fetch {
                exchange,
                source: FetchError::Status(_),
            } => match exchange {
                Exchange::Configuration => Code::ConfigurationUnavailable,
                Exchange::Registration => Code::PlatformRefusedRegistration,
            },
            Self::Fetch { source, .. } => source.code(),
            Self::NotFound => Code::RegistrationNotFound,
            Self::Gone => Code::RegistrationGone,
            Self::MessageNotSupported(_) => Code::MessageNotSupported,
            Self::PlacementNotSupported { .. } => Code::PlacementNotSupported,
            Self::Document(e) => Code::of_core(e.code(), Code::ConfigInvalid),
            Self::Store(_) => Code::InternalError,
        }
    }
}

/// A call refused by the rate limit, and when the client may try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after: Duration,
}

impl RateLimited {
    /// Whole seconds for `Retry-After`, never 0 (0 would invite an immediate retry).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }

    pub fn failure(&self) -> RegistrationFailure {
        RegistrationFailure::RateLimited
    }
}

/// Choices made when completing a registration (from the app's intermediate page).
#[derive(Debug, Default, Clone)]
pub struct CompleteOptions {
    pub platform_name: Option<String>,
    pub auto_activate: Option<bool>,
    /// Messages and placements to register instead of the configured ones.
    pub messages: Option<Vec<ToolMessage>>,
}

/// A registration that went through.
#[derive(Debug)]
pub struct Completed {
    pub platform_id: String,
    pub status: PlatformStatus,
    /// True when the platform already existed and the new values wait for an admin.
    pub change_proposed: bool,
    pub platform_name: String,
}

/// Runs dynamic registrations.
#[derive(Debug, Clone)]
pub struct Registrar {
    store: Store,
    outbound: Outbound,
    config: Arc<Config>,
    clock: Clock,
    random: Random,
    hosted: Arc<Vec<HostedIssuer>>,
    limiter: ClientLimiter,
}

impl Registrar {
    pub fn new(store: Store, outbound: Outbound, config: Arc<Config>, clock: Clock) -> Self {
        let mut hosted = lti::registration::default_hosted_issuers();
        hosted.extend(
            config
                .registration
                .hosted_issuers
                .iter()
                .map(|h| HostedIssuer {
                    issuers: h.issuers.clone(),
                    endpoint_domains: h.endpoint_domains.clone(),
                }),
        );
        Self {
            store,
            outbound,
            limiter: ClientLimiter::new(&config.registration.rate_limit),
            config,
            clock,
            random: Random::System,
            hosted: Arc::new(hosted),
        }
    }

    /// Draws registration ids from `random` (tests pin it).
    pub fn with_random(mut self, random: Random) -> Self {
        self.random = random;
        self
    }

    /// Counts one `/lti/register` call of `client` (None: address unknown) against its limit.
    pub fn admit(&self, client: Option<IpAddr>) -> Result<(), RateLimited> {
        self.limiter
            .check(client)
            .map_err(|retry_after| RateLimited { retry_after })
    }

    /// The cap on registrations waiting for an admin.
    fn pending_cap(&self) -> u32 {
        self.config.registration.max_pending
    }

    /// GETs the configuration exactly as given (query kept), with the token as Bearer when
    /// present (Canvas wants it), and validates it, including the issuer rule.
    pub async fn fetch_configuration(
        &self,
        configuration_url: &str,
        token: Option<&str>,
    ) -> Result<PlatformConfiguration, RegistrationFailure> {
        let url = Url::parse(configuration_url)
            .map_err(|_| RegistrationFailure::ConfigurationUrlInvalid)?;
        let fetched = telemetry::outbound(
            OutboundKind::Configuration,
            self.outbound
                .get_json(configuration_url, token, MAX_DOCUMENT_BYTES),
        )
        .await
        .map_err(|source| RegistrationFailure::Fetch {
            exchange: Exchange::Configuration,
            source,
        })?;
        let config = PlatformConfiguration::parse(&fetched.body)?;
        check_issuer(&config, &url, &self.hosted, self.config.allow_insecure_http)?;
        Ok(config)
    }

    /// Registers the tool with the platform and stores the result.
    pub async fn register(
        &self,
        platform: &PlatformConfiguration,
        token: Option<&str>,
        options: &CompleteOptions,
    ) -> Result<Completed, RegistrationFailure> {
        // Refuse before the platform creates a registration on its side that we would drop.
        if !self.starts_active(options)
            && self.store.pending_count(self.clock.now()).await? >= u64::from(self.pending_cap())
        {
            return Err(RegistrationFailure::TooManyPending);
        }
        let tool = self.tool_description(options);
        let request = registration_request(&tool, platform);
        let answer = telemetry::outbound(
            OutboundKind::Registration,
            self.outbound.post_json(
                platform.registration_endpoint.as_str(),
                token,
                &request,
                MAX_DOCUMENT_BYTES,
            ),
        )
        .await
        .map_err(|source| RegistrationFailure::Fetch {
            exchange: Exchange::Registration,
            source,
        })?;
        let response = parse_registration_response(&answer.body)?;
        self.store_platform(platform, &response, options).await
    }

    async fn store_platform(
        &self,
        platform: &PlatformConfiguration,
        response: &RegistrationResponse,
        options: &CompleteOptions,
    ) -> Result<Completed, RegistrationFailure> {
        let active = self.starts_active(options);
        let name = options
            .platform_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| default_platform_name(platform));
        let new = NewPlatform {
            issuer: Issuer::new(platform.issuer.as_str()),
            client_id: ClientId::new(response.client_id.as_str()),
            name: name.clone(),
            auth_endpoint: platform.authorization_endpoint.clone(),
            token_endpoint: platform.token_endpoint.clone(),
            authorization_server: platform.authorization_server.clone(),
            key: PlatformKey::JwkSet(platform.jwks_uri.clone()),
            status: if active {
                PlatformStatus::Active
            } else {
                PlatformStatus::Pending
            },
            // The institution may deploy later: the first launch records the deployment.
            allow_new_deployments: true,
            product_family: Some(platform.product_family_code.clone()),
            version: platform.version.clone(),
            scopes: response.scopes.clone(),
            deployment_ids: response.deployment_id.iter().cloned().collect(),
        };
        let now = self.clock.now();
        // Checked again in the insert itself: concurrent registrations cannot pass the cap.
        let cap = (!active).then(|| self.pending_cap());
        Ok(match self.store.store_registration(&new, now, cap).await? {
            Registered::Created(p) => {
                telemetry::registration(if p.settings.status == PlatformStatus::Active {
                    RegistrationOutcome::Active
                } else {
                    RegistrationOutcome::Pending
                });
                tracing::info!(platform = %p.id, status = p.settings.status.as_str(), "platform registered dynamically");
                Completed {
                    platform_id: p.id,
                    status: p.settings.status,
                    change_proposed: false,
                    platform_name: name,
                }
            }
            Registered::ChangeProposed(p) => {
                telemetry::registration(RegistrationOutcome::ChangeProposed);
                tracing::warn!(platform = %p.id, "re-registration of a known platform kept for admin approval");
                Completed {
                    platform_id: p.id,
                    status: p.settings.status,
                    change_proposed: true,
                    platform_name: p.settings.name,
                }
            }
            Registered::ChangeAlreadyPending(p) => {
                // The first proposal stays until an admin acts: a stranger cannot replace it.
                tracing::warn!(platform = %p.id, "re-registration refused: a change already waits for approval");
                return Err(RegistrationFailure::ChangeAlreadyPending);
            }
            Registered::TooManyPending => return Err(RegistrationFailure::TooManyPending),
        })
    }

    fn starts_active(&self, options: &CompleteOptions) -> bool {
        options
            .auto_activate
            .unwrap_or(self.config.registration.auto_activate)
    }

    /// Parks a validated configuration for the app's intermediate page; returns its id.
    pub async fn park(
        &self,
        configuration_url: &str,
        platform: &PlatformConfiguration,
        token: Option<&str>,
    ) -> Result<String, RegistrationFailure> {
        let now = self.clock.now();
        let pending = PendingRegistration {
            id: self.random.token(18),
            configuration_url: configuration_url.to_owned(),
            configuration: platform.raw.to_string(),
            registration_token: token.map(str::to_owned),
            expires_at: now + self.config.registration.pending_ttl.as_secs() as i64,
            completed_at: None,
        };
        if !self
            .store
            .insert_registration(&pending, now, self.pending_cap())
            .await?
        {
            return Err(RegistrationFailure::TooManyPending);
        }
        telemetry::registration(RegistrationOutcome::Parked);
        Ok(pending.id)
    }

    /// A parked registration that can still be completed.
    pub async fn parked(
        &self,
        id: &str,
    ) -> Result<(PendingRegistration, PlatformConfiguration), RegistrationFailure> {
        let pending = self
            .store
            .registration(id)
            .await?
            .ok_or(RegistrationFailure::NotFound)?;
        if pending.completed_at.is_some() || pending.expires_at <= self.clock.now() {
            return Err(RegistrationFailure::Gone);
        }
        let config = PlatformConfiguration::parse(pending.configuration.as_bytes())?;
        Ok((pending, config))
    }

    /// Completes a parked registration once (single use even under concurrency).
    pub async fn complete(
        &self,
        id: &str,
        options: &CompleteOptions,
    ) -> Result<Completed, RegistrationFailure> {
        let (pending, config) = self.parked(id).await?;
        if let Some(messages) = &options.messages {
            check_messages(messages, &config)?;
        }
        if !self.store.claim_registration(id, self.clock.now()).await? {
            return Err(RegistrationFailure::Gone);
        }
        let result = self
            .register(&config, pending.registration_token.as_deref(), options)
            .await;
        if result.is_err() {
            // Nothing was stored: let the app try again while the token lives.
            self.store.release_registration(id).await?;
        }
        result
    }

    fn tool_description(&self, options: &CompleteOptions) -> ToolDescription {
        let c = &self.config;
        let tool = &c.tool;
        let launch = c.public_endpoint("/lti/launch");
        let messages = options.messages.clone().unwrap_or_else(|| {
            tool.messages
                .iter()
                .map(|m| ToolMessage {
                    message_type: m.message_type.clone(),
                    placements: m.placements.clone(),
                    label: m.label.clone(),
                    target_link_uri: None,
                })
                .collect()
        });
        ToolDescription {
            client_name: tool.name.clone(),
            description: tool.description.clone(),
            logo_uri: tool.logo_uri.as_ref().map(Url::to_string),
            client_uri: tool.client_uri.as_ref().map(Url::to_string),
            tos_uri: tool.tos_uri.as_ref().map(Url::to_string),
            policy_uri: tool.policy_uri.as_ref().map(Url::to_string),
            contacts: tool.contacts.clone(),
            initiate_login_uri: c.public_endpoint("/lti/login"),
            redirect_uris: vec![launch.clone()],
            target_link_uri: launch,
            jwks_uri: c.public_endpoint("/lti/keys"),
            domain: domain_of(&c.public_url()),
            scopes: tool.scopes.clone(),
            claims: tool.claims.clone(),
            messages,
            custom_parameters: tool.custom_parameters.clone(),
        }
    }
}

/// The tool's domain as platforms compare it with target_link_uri: the host, with the port
/// when it is not the scheme's default (Moodle compares `host[:port]`).
fn domain_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Placements the app chose must be ones the platform offers for that message type.
fn check_messages(
    messages: &[ToolMessage],
    config: &PlatformConfiguration,
) -> Result<(), RegistrationFailure> {
    for message in messages {
        let Some(supported) = config.message(&message.message_type) else {
            return Err(RegistrationFailure::MessageNotSupported(
                message.message_type.clone(),
            ));
        };
        if let Some(bad) = message
            .placements
            .iter()
            .find(|p| !supported.placements.is_empty() && supported.find_placement(p).is_none())
        {
            return Err(RegistrationFailure::PlacementNotSupported {
                placement: bad.clone(),
                message_type: message.message_type.clone(),
            });
        }
    }
    Ok(())
}

fn default_platform_name(platform: &PlatformConfiguration) -> String {
    let host = Url::parse(&platform.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| platform.issuer.clone());
    format!("{} ({host})", platform.product_family_code)
}
