//! The HTTP surface: LMS-facing routes, the app API, the admin API and ops endpoints.
//!
//! Handlers are thin: extractors authenticate and parse, a handler makes one call into the
//! store or the protocol core and shapes the answer.

pub mod admin;
pub mod admin_page;
mod ags;
mod api;
mod auth;
pub mod codes;
mod cookie;
mod deep_linking;
pub mod error;
mod extract;
mod lti;
mod metrics;
mod nrps;
pub mod openapi;
mod ops;
pub mod pages;
mod registration;
pub mod request_id;
#[cfg(test)]
mod router_tests;
mod service_auth;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Uri};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use tower::ServiceExt;
use tower::util::MapRequest;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::KeyRing;
use crate::launch::{Launcher, Refusals};
use crate::platforms::Platforms;
use crate::registration::Registrar;
use crate::secret::KeyHash;
use crate::services::deep_linking::DeepLinker;
use crate::services::keys::ServiceKeys;
use crate::services::tokens::ServiceClient;

pub use auth::ApiKeys;

/// What every handler can reach. axum clones it for every request (and every middleware
/// layer), so it is one `Arc`: one reference count to touch instead of one per service.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
#[derive(Debug)]
pub struct Services {
    pub config: Arc<Config>,
    pub keys: KeyRing,
    pub clock: Clock,
    pub api_keys: ApiKeys,
    pub admin_key: Option<KeyHash>,
    pub launcher: Launcher,
    pub registrar: Registrar,
    pub platforms: Platforms,
    pub services: ServiceClient,
    pub service_keys: ServiceKeys,
    pub deep_linker: DeepLinker,
    pub metrics: crate::telemetry::Metrics,
    /// This node's tally of refused logins and launches (shown on the admin page).
    pub refusals: Refusals,
    pub admin_sessions: admin_page::AdminSessions,
}

/// The routes, without path normalisation (see [`app`]).
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.limits.max_body_bytes;
    Router::new()
        .merge(lti::routes())
        .merge(api::routes())
        .merge(ags::routes())
        .merge(nrps::routes())
        .merge(deep_linking::routes())
        .merge(registration::routes())
        .merge(ops::routes())
        .merge(metrics::routes(&state.config.metrics))
        .merge(openapi::routes())
        .nest("/admin", admin::routes())
        .merge(admin_page::routes())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn(no_store_on_api))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Failures are logged where they are answered, with their code and detail.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_id::span)
                .on_failure(()),
        )
        .layer(from_fn(request_id::assign))
        .layer(from_fn(crate::telemetry::track))
        .with_state(state)
}

/// API and admin answers are per caller and may carry personal data: never cached.
async fn no_store_on_api(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let private = path.starts_with("/api/") || path.starts_with("/admin/") || path == "/admin";
    let mut response = next.run(request).await;
    if private {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The whole application as a service: the router behind path normalisation.
pub fn app(state: AppState) -> MapRequest<Router, fn(Request) -> Request> {
    router(state).map_request(collapse_slashes as fn(Request) -> Request)
}

/// Existing LTIAAS clients join `base + "/" + "/api/..."`, so requests arrive as
/// `//api/idtoken`: collapse repeated slashes in the path before routing.
fn collapse_slashes(mut request: Request) -> Request {
    let uri = request.uri();
    if !uri.path().contains("//") {
        return request;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(new_uri) = Uri::from_parts(parts) {
            *request.uri_mut() = new_uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_after(uri: &str) -> String {
        let request = Request::builder()
            .uri(uri)
            .body(Default::default())
            .unwrap();
        collapse_slashes(request).uri().to_string()
    }

    #[test]
    fn repeated_slashes_collapse_and_query_is_kept() {
        assert_eq!(
            path_after("//api//idtoken?raw=true"),
            "/api/idtoken?raw=true"
        );
        assert_eq!(path_after("/api/idtoken"), "/api/idtoken");
        assert_eq!(
            path_after("http://h//api/x?u=https://a//b"),
            "http://h/api/x?u=https://a//b"
        );
    }
}
