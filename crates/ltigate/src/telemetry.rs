//! Prometheus metrics: what ltigate counts, and the exposition text `/metrics` serves.
//!
//! Counting goes through the `metrics` facade. The Prometheus recorder is installed once per
//! process, and only when a server is configured to serve metrics (`[metrics]`); until then
//! every count is a no-op and the request middleware does nothing. Several servers in one
//! process (tests) share that one registry, so counters only ever go up: read them as deltas.
//!
//! Labels are fixed words and stable error codes, never paths, URLs, ids or client input,
//! so the number of series stays bounded whatever the traffic. Where the `/metrics` route
//! lives and who may read it is `http::metrics` and the server's separate listener; this
//! module does not authenticate.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::code::Code;
use crate::config::MetricsConfig;
use crate::outbound::FetchError;
use crate::store::Store;

pub const BUILD_INFO: &str = "ltigate_build_info";
pub const HTTP_REQUESTS: &str = "ltigate_http_requests_total";
pub const HTTP_SECONDS: &str = "ltigate_http_request_duration_seconds";
pub const LOGINS: &str = "ltigate_logins_total";
pub const LAUNCHES: &str = "ltigate_launches_total";
pub const OUTBOUND_REQUESTS: &str = "ltigate_outbound_requests_total";
pub const OUTBOUND_SECONDS: &str = "ltigate_outbound_request_duration_seconds";
pub const SERVICE_TOKENS: &str = "ltigate_service_tokens_total";
pub const REGISTRATIONS: &str = "ltigate_registrations_total";
pub const POOL_OPEN: &str = "ltigate_database_connections";
pub const POOL_IDLE: &str = "ltigate_database_idle_connections";
pub const POOL_MAX: &str = "ltigate_database_max_connections";

/// Histogram buckets in seconds: a launch takes about a millisecond, an outbound call to a
/// slow LMS several seconds (the default outbound deadline is 10 s).
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// How often histogram samples are folded into their buckets between scrapes, so memory
/// stays flat when nobody scrapes for a while.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
/// The exposition format's media type (Prometheus text format 0.0.4).
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The scope prefix of Names and Role Provisioning Services; other service calls are AGS.
const NRPS_SCOPE_PREFIX: &str = "https://purl.imsglobal.org/spec/lti-nrps/";

/// Set once the recorder is installed: until then the middleware skips its timing.
static RECORDING: AtomicBool = AtomicBool::new(false);

/// What `/metrics` renders: the process's registry, plus this server's database pool read
/// at scrape time. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// `None` when metrics are not served (or the process has another recorder).
    handle: Option<PrometheusHandle>,
    store: Store,
}

impl Metrics {
    /// Installs the process's recorder when `config` serves metrics anywhere.
    pub fn new(config: &MetricsConfig, store: Store) -> Self {
        let handle = if config.enabled() { recorder() } else { None };
        Self { handle, store }
    }

    /// Whether there is anything to serve.
    pub fn enabled(&self) -> bool {
        self.handle.is_some()
    }

    /// The exposition text, after reading the pool gauges; `None` when metrics are off.
    pub fn render(&self) -> Option<String> {
        let handle = self.handle.as_ref()?;
        let pool = self.store.pool_use();
        gauge!(POOL_OPEN).set(pool.open);
        gauge!(POOL_IDLE).set(pool.idle);
        gauge!(POOL_MAX).set(pool.max);
        Some(handle.render())
    }

    /// The `/metrics` answer: the exposition text, or 404 when metrics are off.
    pub fn answer(&self) -> Response {
        match self.render() {
            Some(text) => (
                [(CONTENT_TYPE, EXPOSITION), (CACHE_CONTROL, "no-store")],
                text,
            )
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }

    /// Folds histogram samples into buckets every few seconds; returns at once when metrics
    /// are off. Runs until dropped.
    pub async fn upkeep(self) {
        let Some(handle) = self.handle else { return };
        let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    }

    /// The app of the separate metrics listener: `GET /metrics` and nothing else.
    pub fn listener_app(self) -> Router {
        Router::new()
            .route(
                "/metrics",
                get(|State(m): State<Metrics>| async move { m.answer() }),
            )
            .with_state(self)
    }
}

/// The process's recorder, installed on first use; `None` if another recorder was there.
fn recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    describe();
                    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1);
                    RECORDING.store(true, Ordering::Relaxed);
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are off: cannot install the recorder");
                    None
                }
            }
        })
        .clone()
}

/// The `# HELP` lines.
fn describe() {
    describe_gauge!(BUILD_INFO, "ltigate's version (always 1)");
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route family and status class"
    );
    describe_histogram!(
        HTTP_SECONDS,
        metrics::Unit::Seconds,
        "time to answer an HTTP request, by route family"
    );
    describe_counter!(
        LOGINS,
        "OIDC logins (/lti/login) by outcome, with the error code of refusals"
    );
    describe_counter!(
        LAUNCHES,
        "launches (/lti/launch) by outcome, with the error code of refusals"
    );
    describe_counter!(
        OUTBOUND_REQUESTS,
        "requests to platforms by kind and outcome (ok or the class of failure)"
    );
    describe_histogram!(
        OUTBOUND_SECONDS,
        metrics::Unit::Seconds,
        "time of a request to a platform, by kind"
    );
    describe_counter!(
        SERVICE_TOKENS,
        "service access tokens used, by where they came from (memory, store, fetched)"
    );
    describe_counter!(
        REGISTRATIONS,
        "dynamic registrations by outcome, with the error code of refusals"
    );
    describe_gauge!(POOL_OPEN, "open database connections of this node");
    describe_gauge!(POOL_IDLE, "idle database connections of this node");
    describe_gauge!(POOL_MAX, "most database connections this node opens");
}

tokio::task_local! {
    /// The code of the refusal page a login or launch answered, set by the page.
    static REFUSAL: Cell<Option<Code>>;
}

/// Notes that the current request was refused with `code` (the login and launch failure
/// page calls this; outside a tracked request it does nothing).
pub fn refused(code: Code) {
    let _outside_a_request = REFUSAL.try_with(|slot| slot.set(Some(code)));
}

/// Middleware: request latency and count per route family, and the outcome of logins and
/// launches.
pub async fn track(request: Request, next: Next) -> Response {
    if !RECORDING.load(Ordering::Relaxed) {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let family = family(route);
    let step = route.and_then(Step::of);
    let started = Instant::now();
    let (response, refusal) = REFUSAL
        .scope(Cell::new(None), async move {
            let response = next.run(request).await;
            (response, REFUSAL.with(Cell::get))
        })
        .await;
    histogram!(HTTP_SECONDS, "family" => family).record(started.elapsed());
    let status = response.status();
    counter!(HTTP_REQUESTS, "family" => family, "status" => status_class(status)).increment(1);
    if let Some(step) = step {
        step.count(status, refusal);
    }
    response
}

/// The route family of a matched route template (`None`: no route matched).
pub fn family(route: Option<&str>) -> &'static str {
    let Some(route) = route else {
        return "unmatched";
    };
    if route.starts_with("/lti/register") || route.starts_with("/api/registrations") {
        "registration"
    } else if route.starts_with("/lti/") {
        "lti"
    } else if route.starts_with("/api/") {
        "api"
    } else if route == "/admin" || route.starts_with("/admin/") {
        "admin"
    } else if matches!(route, "/healthz" | "/readyz" | "/metrics") {
        "ops"
    } else {
        "other"
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The two browser steps whose outcomes are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Login,
    Launch,
}

impl Step {
    fn of(route: &str) -> Option<Self> {
        match route {
            "/lti/login" => Some(Self::Login),
            "/lti/launch" => Some(Self::Launch),
            _ => None,
        }
    }

    /// A refusal page counts as refused with its code. Otherwise a login succeeded when it
    /// sent the browser on (a redirect, or the platform storage page), a launch when it
    /// handed off to the app (a redirect); the platform storage relaunch page (200) is a
    /// step in between and not counted.
    fn count(self, status: StatusCode, refusal: Option<Code>) {
        let name = match self {
            Self::Login => LOGINS,
            Self::Launch => LAUNCHES,
        };
        match refusal {
            Some(code) => {
                counter!(name, "outcome" => "refused", "code" => code.as_str()).increment(1);
            }
            None if status.is_redirection() || (self == Self::Login && status.is_success()) => {
                counter!(name, "outcome" => "ok").increment(1);
            }
            None => {}
        }
    }
}

/// What an outbound request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundKind {
    /// A platform's openid configuration (dynamic registration).
    Configuration,
    /// The registration POST (dynamic registration).
    Registration,
    /// A platform's key set.
    Jwks,
    /// A service access token.
    Token,
    /// Assignment and Grade Services.
    Ags,
    /// Names and Role Provisioning Services.
    Nrps,
}

impl OutboundKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Configuration => "configuration",
            Self::Registration => "registration",
            Self::Jwks => "jwks",
            Self::Token => "token",
            Self::Ags => "ags",
            Self::Nrps => "nrps",
        }
    }

    /// The service a call asking for `scopes` goes to.
    pub fn of_service(scopes: &[&str]) -> Self {
        if scopes.iter().any(|s| s.starts_with(NRPS_SCOPE_PREFIX)) {
            Self::Nrps
        } else {
            Self::Ags
        }
    }
}

/// Runs one outbound request and counts it with its time and outcome.
pub async fn outbound<T>(
    kind: OutboundKind,
    request: impl Future<Output = Result<T, FetchError>>,
) -> Result<T, FetchError> {
    let started = Instant::now();
    let result = request.await;
    let kind = kind.as_str();
    histogram!(OUTBOUND_SECONDS, "kind" => kind).record(started.elapsed());
    let outcome = result.as_ref().map_or_else(failure_class, |_| "ok");
    counter!(OUTBOUND_REQUESTS, "kind" => kind, "outcome" => outcome).increment(1);
    result
}

/// A failed outbound request's class: a few words, so the label set stays small.
pub fn failure_class(error: &FetchError) -> &'static str {
    match error {
        FetchError::Status(answer) => match answer.status {
            400..=499 => "http_4xx",
            500..=599 => "http_5xx",
            _ => "http_other",
        },
        FetchError::Timeout => "timeout",
        FetchError::Transport(_) | FetchError::Client(_) => "transport",
        FetchError::Refused(_) | FetchError::PrivateAddress { .. } => "refused",
        FetchError::TooLarge(_) | FetchError::NotJson(_) | FetchError::TooManyRedirects(_) => {
            "bad_answer"
        }
    }
}

/// Where a service access token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// This node's memory (a hit).
    Memory,
    /// The shared store, put there by this or another node (a hit).
    Store,
    /// The platform's token endpoint (a miss).
    Fetched,
}

pub fn service_token(source: TokenSource) {
    let source = match source {
        TokenSource::Memory => "memory",
        TokenSource::Store => "store",
        TokenSource::Fetched => "fetched",
    };
    counter!(SERVICE_TOKENS, "source" => source).increment(1);
}

/// How a dynamic registration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationOutcome {
    /// A new platform, active at once.
    Active,
    /// A new platform waiting for an admin.
    Pending,
    /// A known platform: its new values wait for an admin.
    ChangeProposed,
    /// Validated and parked for the app's intermediate page.
    Parked,
}

pub fn registration(outcome: RegistrationOutcome) {
    let outcome = match outcome {
        RegistrationOutcome::Active => "active",
        RegistrationOutcome::Pending => "pending",
        RegistrationOutcome::ChangeProposed => "change_proposed",
        RegistrationOutcome::Parked => "parked",
    };
    counter!(REGISTRATIONS, "outcome" => outcome).increment(1);
}

pub fn registration_refused(code: Code) {
    counter!(REGISTRATIONS, "outcome" => "refused", "code" => code.as_str()).increment(1);
}

#[cfg(test)]
mod tests;
