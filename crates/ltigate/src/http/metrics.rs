//! `GET /metrics` on the main listener, for admin key holders only, when
//! `metrics.behind_admin_key` is set; otherwise the route does not exist (404). The separate
//! metrics listener (`metrics.listen`) is the server's, not this router's.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::auth::Admin;
use crate::config::MetricsConfig;

pub fn routes(config: &MetricsConfig) -> Router<AppState> {
    if !config.behind_admin_key {
        return Router::new();
    }
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(_: Admin, State(state): State<AppState>) -> Response {
    state.metrics.answer()
}
