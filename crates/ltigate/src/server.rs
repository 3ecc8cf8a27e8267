//! Start-up and shutdown of the HTTP service, and its background work.

mod connection;

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Config;
use crate::http::admin_page::AdminSessions;
use crate::http::{self, ApiKeys, AppState, Services};
use crate::keys::{self, KeyError, KeyRing};
use crate::launch::state::StateSigner;
use crate::launch::{Launcher, PlatformKeys, Refusals};
use crate::outbound::{FetchError, Outbound, OutboundPolicy};
use crate::platforms::Platforms;
use crate::registration::Registrar;
use crate::secret::{KeyHash, Random, random_token};
use crate::services::deep_linking::DeepLinker;
use crate::services::keys::ServiceKeys;
use crate::services::tokens::ServiceClient;
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] FetchError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A service ready to run: database open, keys present, socket bound.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    /// The separate `/metrics` listener (`metrics.listen`), when configured.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    /// The server's own upkeep (purges) and tests use it; handlers go through services.
    store: Store,
    /// An API key generated at this start, to be shown once.
    pub generated_api_key: Option<String>,
}

impl Server {
    /// Opens the store, makes sure a tool key exists and binds the listening socket.
    pub async fn bind(config: Config, clock: Clock) -> Result<Self, StartError> {
        Self::bind_with(config, clock, Random::System).await
    }

    /// [`Server::bind`] drawing every token (API key, state ids, nonces, ltiks, registration
    /// ids) from `random`.
    pub async fn bind_with(
        mut config: Config,
        clock: Clock,
        random: Random,
    ) -> Result<Self, StartError> {
        lti::install_crypto_provider();
        let store = Store::connect_with(&config.database_url, config.database_max_connections)
            .await?
            .with_platform_cache(config.launch.platform_cache_ttl, clock.clone());
        let now = clock.now();
        if keys::ensure_key(&store, now).await? {
            tracing::info!("generated the first tool signing key");
        }
        let mut api_key_hashes = config.api_keys.clone();
        let stored: Vec<KeyHash> = store
            .api_key_hashes()
            .await?
            .iter()
            .filter_map(|h| KeyHash::parse(h).ok())
            .collect();
        let mut generated_api_key = None;
        if api_key_hashes.is_empty() && stored.is_empty() {
            let key = random.token(24);
            store
                .insert_api_key(&KeyHash::of(&key).to_stored(), now)
                .await?;
            api_key_hashes.push(KeyHash::of(&key));
            generated_api_key = Some(key);
        }
        api_key_hashes.extend(stored);
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let metrics_listener = match config.metrics.listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Listen { addr, source })?,
            ),
            None => None,
        };
        // With port 0 the OS picks the port; URLs derived from `listen` must use the real one.
        if let Ok(addr) = listener.local_addr() {
            config.listen = addr;
        }
        let state_secret = store
            .server_secret("login_state_key", || random.token(32), now)
            .await?;
        // From the system, not `random`: tests that pin `random` expect its tokens in order.
        let admin_session_secret = store
            .server_secret("admin_session_key", || random_token(32), now)
            .await?;
        let outbound =
            Outbound::new(OutboundPolicy::from_config(&config)).map_err(StartError::HttpClient)?;
        let platform_keys = PlatformKeys::new(
            outbound.clone(),
            clock.clone(),
            config.launch.jwks_ttl,
            config.launch.jwks_min_refetch,
        );
        let metrics = Metrics::new(&config.metrics, store.clone());
        let config = Arc::new(config);
        let signer = StateSigner::new(state_secret.as_bytes());
        let service_keys = ServiceKeys::new(
            store.clone(),
            signer.clone(),
            clock.clone(),
            config.launch.platform_cache_ttl,
        );
        let refusals = Refusals::new(clock.clone());
        let launcher = Launcher::new(
            store.clone(),
            platform_keys,
            signer,
            clock.clone(),
            config.clone(),
            service_keys.clone(),
        )
        .with_random(random.clone());
        let keys = KeyRing::new(store.clone(), clock.clone(), &config.keys);
        let services =
            ServiceClient::new(store.clone(), outbound.clone(), keys.clone(), clock.clone())
                .with_random(random.clone());
        let registrar = Registrar::new(store.clone(), outbound, config.clone(), clock.clone())
            .with_random(random.clone());
        let deep_linker = DeepLinker::new(keys.clone(), clock.clone(), random);
        let state = AppState::new(Services {
            launcher,
            registrar,
            platforms: Platforms::new(store.clone(), keys.clone(), clock.clone()),
            deep_linker,
            metrics,
            keys,
            services,
            service_keys,
            refusals,
            admin_sessions: AdminSessions::new(admin_session_secret.as_bytes())
                .with_key_limit(&config.admin_sign_in_limit),
            admin_key: config.admin_key.clone(),
            api_keys: ApiKeys::new(api_key_hashes),
            config,
            clock,
        });
        Ok(Self {
            listener,
            metrics_listener,
            state,
            store,
            generated_api_key,
        })
    }

    /// The bound address (useful when listening on port 0).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// The bound address of the separate metrics listener, when there is one.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener.as_ref()?.local_addr().ok()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The store behind the services (for setup and tests; handlers never see it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` completes, then drains in-flight requests: the listener closes,
    /// in-flight requests get `shutdown_grace` to finish, then the open connections are dropped.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let config = &self.state.config;
        let bounds = connection::Bounds {
            header_read: config.timeouts.header_read,
            keep_alive_idle: config.timeouts.keep_alive_idle,
            request: config.timeouts.request,
            max_connections: config.limits.max_connections,
            shutdown_grace: config.timeouts.shutdown_grace,
        };
        if let Some(addr) = self.metrics_addr() {
            if addr.ip().is_loopback() {
                tracing::info!(%addr, "serving /metrics");
            } else {
                tracing::warn!(%addr, "serving /metrics, unauthenticated, beyond loopback");
            }
        }
        let app = http::app(self.state.clone());
        let purge = tokio::spawn(purge_loop(self.store, self.state.clone()));
        let upkeep = tokio::spawn(self.state.metrics.clone().upkeep());
        // Scrapes are short and carry nothing to finish: the listener stops with the server.
        let metrics = self.metrics_listener.map(|listener| {
            let app = self.state.metrics.clone().listener_app();
            tokio::spawn(connection::serve(
                listener,
                app,
                bounds,
                std::future::pending(),
            ))
        });
        connection::serve(self.listener, app, bounds, shutdown).await;
        purge.abort();
        upkeep.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        Ok(())
    }
}

/// Deletes expired short-lived rows at the configured interval.
async fn purge_loop(store: Store, state: AppState) {
    let mut tick = tokio::time::interval(state.config.timeouts.purge_interval);
    loop {
        tick.tick().await;
        let pending_ttl = state.config.registration.pending_platform_ttl;
        match store.purge_expired(state.clock.now(), pending_ttl).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "purged expired rows"),
            Err(e) => tracing::warn!(error = %e, "purge of expired rows failed"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
