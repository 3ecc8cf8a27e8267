//! The LTI 1.3 launch: OIDC login initiation, id_token validation and the hand-off to the app.
//!
//! The flow is split so each step does one thing: [`Launcher::login`] finds the platform and
//! seals a state; [`Launcher::launch`] opens the state, checks the browser binding, finds the
//! platform key, lets the protocol core verify the token, then checks what needs the store
//! (deployment, nonce replay) and stores the launch. Handlers only parse and render.

mod failure;
mod platform_keys;
pub mod refusals;
pub mod state;

use std::sync::Arc;

use lti::claims::MessageType;
use lti::id_token::{Expectations, UnverifiedIdToken, verify};
use lti::ids::Nonce;
use url::Url;

pub use failure::LaunchFailure;
pub use platform_keys::PlatformKeys;
pub use refusals::Refusals;
use state::{LoginState, StateSigner};

use crate::clock::Clock;
use crate::config::Config;
use crate::secret::{KeyHash, Random};
use crate::services::keys::ServiceKeys;
use crate::store::{
    LaunchWrite, LaunchWriteError, Platform, PlatformFilter, PlatformStatus, Store, StoreError,
    StoredLaunch,
};

/// Parameters of a third-party initiated login (LTI Core §5.1.1, 1EdTech Security §5.1.1.1).
#[derive(Debug, Default, serde::Deserialize)]
pub struct LoginRequest {
    pub iss: Option<String>,
    pub login_hint: Option<String>,
    pub target_link_uri: Option<String>,
    pub lti_message_hint: Option<String>,
    pub client_id: Option<String>,
    pub lti_deployment_id: Option<String>,
    pub lti_storage_target: Option<String>,
}

/// A login ready to go to the platform.
#[derive(Debug)]
pub struct LoginRedirect {
    /// The platform's authorization endpoint with the OIDC request in its query.
    pub url: Url,
    pub state_id: String,
    /// The value of the state's binding cookie (and platform storage entry).
    pub binding: String,
    pub storage_target: Option<String>,
}

/// A verified, stored launch for the app.
#[derive(Debug)]
pub struct Handoff {
    /// Where to send the browser: the app URL with `ltik` in its query.
    pub location: Url,
    pub state_id: String,
}

/// What the browser presented to prove it started the login.
#[derive(Debug, Clone, Copy)]
pub enum Binding<'a> {
    /// The value of the state's cookie.
    Cookie(&'a str),
    /// A value posted in the launch form, as ltigate's relaunch page does after reading it
    /// back from platform storage. Anyone can post a form cross-site, so it only counts for a
    /// login that used platform storage, posted by ltigate's own page.
    Form {
        value: &'a str,
        /// Whether the browser said the post came from ltigate's own origin (`Origin` or
        /// `Sec-Fetch-Site`), which a cross-site page cannot fake.
        same_origin: bool,
    },
    None,
}

/// Runs logins and launches.
#[derive(Debug, Clone)]
pub struct Launcher {
    store: Store,
    keys: PlatformKeys,
    signer: StateSigner,
    clock: Clock,
    random: Random,
    config: Arc<Config>,
    service_keys: ServiceKeys,
}

impl Launcher {
    pub fn new(
        store: Store,
        keys: PlatformKeys,
        signer: StateSigner,
        clock: Clock,
        config: Arc<Config>,
        service_keys: ServiceKeys,
    ) -> Self {
        Self {
            store,
            keys,
            signer,
            clock,
            random: Random::System,
            config,
            service_keys,
        }
    }

    /// Draws state ids, nonces and ltiks from `random` (tests pin it).
    pub fn with_random(mut self, random: Random) -> Self {
        self.random = random;
        self
    }

    /// The launch an ltik was handed off with, and its platform; `None` when the ltik is
    /// unknown or expired, or its platform is gone. The platform read is the cached one.
    pub async fn handed_off(
        &self,
        ltik: &str,
    ) -> Result<Option<(StoredLaunch, Platform)>, StoreError> {
        let Some(launch) = self
            .store
            .launch(&KeyHash::of(ltik).to_stored(), self.clock.now())
            .await?
        else {
            return Ok(None);
        };
        let platform = self.store.platform(&launch.platform_id).await?;
        Ok(platform.map(|p| (launch, p)))
    }

    /// Ready when the database answers.
    pub async fn ready(&self) -> bool {
        self.store.ping().await
    }

    /// OIDC login initiation: find the platform, seal a state, build the auth request.
    pub async fn login(&self, req: LoginRequest) -> Result<LoginRedirect, LaunchFailure> {
        let missing = LaunchFailure::LoginParamMissing;
        let iss = req.iss.as_deref().ok_or_else(|| missing("iss"))?;
        let login_hint = req
            .login_hint
            .as_deref()
            .ok_or_else(|| missing("login_hint"))?;
        req.target_link_uri
            .as_deref()
            .ok_or_else(|| missing("target_link_uri"))?;
        let platform = self.find_platform(iss, req.client_id.as_deref()).await?;
        check_status(&platform)?;

        let now = self.clock.now();
        let state = LoginState {
            id: self.random.token(16),
            platform_id: platform.id.clone(),
            nonce: self.random.token(16),
            started_at: now,
            expires_at: now + self.config.launch.state_ttl.as_secs() as i64,
            storage_target: req.lti_storage_target.clone().filter(|t| !t.is_empty()),
        };
        let mut url = platform.settings.auth_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("scope", "openid")
                .append_pair("response_type", "id_token")
                .append_pair("response_mode", "form_post")
                .append_pair("prompt", "none")
                .append_pair("client_id", platform.settings.client_id.as_str())
                .append_pair("redirect_uri", &self.config.public_endpoint("/lti/launch"))
                .append_pair("login_hint", login_hint)
                .append_pair("state", &self.signer.seal(&state))
                .append_pair("nonce", &state.nonce);
            if let Some(hint) = &req.lti_message_hint {
                q.append_pair("lti_message_hint", hint);
            }
        }
        Ok(LoginRedirect {
            url,
            binding: self.signer.binding(&state.id),
            state_id: state.id,
            storage_target: state.storage_target,
        })
    }

    /// The origin of the authorization endpoint of the login's platform: the platform storage
    /// frame lives there.
    pub async fn storage_origin(&self, state: &LoginState) -> Result<String, LaunchFailure> {
        let platform = self
            .store
            .platform(&state.platform_id)
            .await?
            .ok_or_else(platform_not_found)?;
        Ok(platform
            .settings
            .auth_endpoint
            .origin()
            .ascii_serialization())
    }

    /// Opens a state without checking its binding (to decide how the browser proves it).
    pub fn open_state(&self, sealed: Option<&str>) -> Result<LoginState, LaunchFailure> {
        let sealed = sealed
            .filter(|s| !s.is_empty())
            .ok_or_else(|| LaunchFailure::StateMissing)?;
        self.signer.open(sealed, self.clock.now())
    }

    /// Validates an id_token answering `state` and stores the launch.
    pub async fn launch(
        &self,
        state: &LoginState,
        binding: Binding<'_>,
        id_token: Option<&str>,
    ) -> Result<Handoff, LaunchFailure> {
        self.check_binding(state, binding)?;
        let token = id_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| LaunchFailure::TokenMissing)?;
        let token = UnverifiedIdToken::parse(token)?;
        let platform = self
            .store
            .platform(&state.platform_id)
            .await?
            .ok_or_else(platform_not_found)?;
        check_status(&platform)?;
        let key = self.keys.key_for(&platform, token.kid()).await?;
        let now = self.clock.now();
        let nonce = Nonce::new(state.nonce.as_str());
        let verified = verify(
            &token,
            &key,
            &Expectations {
                issuer: &platform.settings.issuer,
                client_id: &platform.settings.client_id,
                nonce: &nonce,
                now: u64::try_from(now).unwrap_or(0),
                issued_after: u64::try_from(state.started_at).unwrap_or(0),
                leeway_secs: self.config.launch.leeway.as_secs(),
            },
        )?;
        let claims = verified.claims();
        let deployment_id = claims.deployment_id().as_str();
        let known = platform
            .settings
            .deployment_ids
            .iter()
            .any(|d| d == deployment_id);
        if !known && !platform.settings.allow_new_deployments {
            return Err(LaunchFailure::DeploymentUnknown);
        }
        let target = self.app_target(claims.message_type(), claims.target_link_uri())?;
        let service_key = if claims.ags().is_some() || claims.nrps().is_some() {
            Some(
                self.service_keys
                    .issue(&platform.id, deployment_id, claims)
                    .await?,
            )
        } else {
            None
        };
        let ltik = self.random.token(24);
        // The payload exactly as signed: nothing to re-serialise.
        let raw = verified.raw_json();
        let write = LaunchWrite {
            nonce_hash: &KeyHash::of(&state.nonce).to_stored(),
            ltik_hash: &KeyHash::of(&ltik).to_stored(),
            platform_id: &platform.id,
            deployment_id,
            record_deployment: !known,
            claims: raw,
            service_key: service_key.as_deref(),
            now,
            expires_at: now + self.config.launch.ltik_ttl.as_secs() as i64,
        };
        match self.store.record_launch(&write).await {
            Ok(()) => self.store.note_launch(&platform.id, now).await,
            Err(LaunchWriteError::NonceReplayed) => {
                return Err(LaunchFailure::NonceReplayed);
            }
            Err(LaunchWriteError::Store(e)) => return Err(e.into()),
        }
        if !known {
            tracing::info!(platform = %platform.id, "recorded a new deployment at first launch");
        }
        Ok(Handoff {
            location: with_ltik(target, &ltik),
            state_id: state.id.clone(),
        })
    }

    /// The state is bound to the browser that started the login: otherwise a cross-site post
    /// of the attacker's own launch signs the victim in as the attacker (login CSRF).
    fn check_binding(&self, state: &LoginState, binding: Binding<'_>) -> Result<(), LaunchFailure> {
        let value = match binding {
            Binding::Cookie(value) => value,
            Binding::Form { .. } if state.storage_target.is_none() => {
                return Err(LaunchFailure::StateStorageNotUsed);
            }
            Binding::Form {
                same_origin: false, ..
            } => {
                return Err(LaunchFailure::StateBindingCrossSite);
            }
            Binding::Form { value, .. } => value,
            Binding::None => {
                return Err(LaunchFailure::StateNotBound);
            }
        };
        if !self.signer.check_binding(&state.id, value) {
            return Err(LaunchFailure::StateMismatch);
        }
        Ok(())
    }

    async fn find_platform(
        &self,
        iss: &str,
        client_id: Option<&str>,
    ) -> Result<Platform, LaunchFailure> {
        if let Some(client_id) = client_id {
            return self
                .store
                .platform_by_client(iss, client_id)
                .await?
                .ok_or_else(platform_not_found);
        }
        let mut candidates = self
            .store
            .platforms(&PlatformFilter {
                issuer: Some(iss.to_owned()),
                ..Default::default()
            })
            .await?;
        match candidates.len() {
            0 => Err(platform_not_found()),
            1 => Ok(candidates.remove(0)),
            _ => Err(LaunchFailure::ClientIdAmbiguous),
        }
    }

    /// The app URL for this message: the configured URL, or the target_link_uri itself when
    /// it points into the app (so deep links into the app keep their path and query).
    fn app_target(
        &self,
        message_type: MessageType,
        target_link_uri: Option<&Url>,
    ) -> Result<Url, LaunchFailure> {
        let configured = match message_type {
            MessageType::DeepLinking => self.config.app.deep_linking_url.as_ref().or(self
                .config
                .app
                .launch_url
                .as_ref()),
            _ => self.config.app.launch_url.as_ref(),
        };
        let base = configured.ok_or_else(|| LaunchFailure::AppNotConfigured)?;
        Ok(match target_link_uri {
            Some(t) if t.origin() == base.origin() => t.clone(),
            _ => base.clone(),
        })
    }
}

/// The app URL with the launch's ltik as the only `ltik` in its query: a target_link_uri such
/// as `/app?ltik=attacker` must not put a value of the sender's choice before the real one.
/// The other pairs keep their order and their exact encoding.
fn with_ltik(mut url: Url, ltik: &str) -> Url {
    let kept = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| {
            // Compared decoded, as the app will read it (`%6Ctik=` is `ltik=` too).
            url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .is_some_and(|(name, _)| name != "ltik")
        })
        .collect::<Vec<_>>()
        .join("&");
    url.set_query((!kept.is_empty()).then_some(kept.as_str()));
    url.query_pairs_mut().append_pair("ltik", ltik);
    url
}

fn platform_not_found() -> LaunchFailure {
    LaunchFailure::PlatformNotFound
}

fn check_status(platform: &Platform) -> Result<(), LaunchFailure> {
    match platform.settings.status {
        PlatformStatus::Active => Ok(()),
        PlatformStatus::Pending => Err(LaunchFailure::PlatformPending),
        PlatformStatus::Inactive => Err(LaunchFailure::PlatformInactive),
    }
}

#[cfg(test)]
mod tests;
