//! LMS-facing routes.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/lti/keys", get(jwks))
}

/// The tool's public JWKS. Short caching: platforms should see a new key soon after rotation.
async fn jwks(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let jwks = state.keys.jwks().await?;
    Ok((
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        Json(jwks.as_ref().clone()),
    ))
}
