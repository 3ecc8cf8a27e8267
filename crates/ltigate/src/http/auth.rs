//! Authentication of API callers: the admin key and the app's API keys, compared as hashes.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::admin_page::session::KeyRefused;
use super::error::ApiError;
use super::extract::ClientIp;
use crate::code::Code;
use crate::secret::KeyHash;

/// The app API keys: configured ones plus those ltigate generated (stored hashed).
#[derive(Debug, Clone, Default)]
pub struct ApiKeys(Arc<Vec<KeyHash>>);

impl ApiKeys {
    pub fn new(keys: Vec<KeyHash>) -> Self {
        Self(Arc::new(keys))
    }

    pub fn accepts(&self, key: &str) -> bool {
        // Check all so timing does not reveal which key matched.
        self.0.iter().fold(false, |hit, k| k.matches(key) | hit)
    }
}

/// Proof that the request carried the admin key (`Authorization: Bearer <ADMIN_KEY>`).
/// Wrong keys count against the client's limit shared with the admin page's sign-in: a
/// limit on one door only would send guessing to the other.
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(admin_key) = &state.admin_key else {
            return Err(ApiError::described(
                Code::AdminApiDisabled,
                "The admin API is disabled: set admin_key in the configuration.",
            )
            .into_response());
        };
        let ClientIp(client) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let key = bearer(parts, "Send Authorization: Bearer <ADMIN_KEY>.")
            .map_err(IntoResponse::into_response)?;
        match state.admin_sessions.check_key(admin_key, key, client) {
            Ok(()) => Ok(Admin),
            Err(KeyRefused::Invalid) => Err(ApiError::described(
                Code::InvalidAdminKey,
                "The admin key is not valid.",
            )
            .into_response()),
            Err(KeyRefused::RateLimited(limited)) => {
                tracing::warn!(client = ?client, "admin API key checks over the rate limit");
                let mut answer = ApiError::new(Code::AdminSignInRateLimited).into_response();
                answer
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(limited.retry_after_secs()));
                Err(answer)
            }
        }
    }
}

/// Proof that the request carried an app API key (`Authorization: Bearer <API_KEY>`).
#[derive(Debug)]
pub struct AppKey;

impl FromRequestParts<AppState> for AppKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(parts, "Send Authorization: Bearer <API_KEY>.")?;
        if state.api_keys.accepts(key) {
            Ok(AppKey)
        } else {
            Err(ApiError::described(
                Code::InvalidApiKey,
                "The API key is not valid.",
            ))
        }
    }
}

/// The `Authorization` header; `MISSING_AUTHORIZATION` (with `hint`) when absent.
pub fn authorization<'a>(parts: &'a Parts, hint: &str) -> Result<&'a str, ApiError> {
    parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::described(Code::MissingAuthorization, hint))
}

/// The credential of an `Authorization: Bearer` header.
fn bearer<'a>(parts: &'a Parts, hint: &str) -> Result<&'a str, ApiError> {
    authorization(parts, hint)?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .ok_or_else(|| ApiError::described(Code::MissingAuthorization, hint))
}

#[cfg(test)]
mod tests;
