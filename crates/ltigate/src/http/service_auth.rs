//! Who may call AGS and NRPS: the launch of an ltik (`LTIK-AUTH-V2 <API_KEY>:<LTIK>`) or a
//! service key (`SERVICE-AUTH-V1 <API_KEY>:<SERVICE_KEY>`, for background sync), resolved to
//! the context the call may reach.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lti::claims::LaunchClaims;

use super::AppState;
use super::api::{LaunchAuth, check_active, credential};
use super::auth::authorization;
use super::error::ApiError;
use crate::code::Code;
use crate::services::ServiceContext;
use crate::services::keys::ServiceKeyError;

const SERVICE_SCHEME: &str = "SERVICE-AUTH-V1";

/// The context an authenticated call may reach.
#[derive(Debug)]
pub struct ServiceAuth(pub ServiceContext);

impl FromRequestParts<AppState> for ServiceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = authorization(
            parts,
            "Send Authorization: LTIK-AUTH-V2 <API_KEY>:<LTIK> or SERVICE-AUTH-V1 <API_KEY>:<SERVICE_KEY>.",
        )?;
        if !header.starts_with(SERVICE_SCHEME) {
            let auth = LaunchAuth::from_request_parts(parts, state).await?;
            // The stored payload is the one the launch verified.
            let claims =
                LaunchClaims::from_json(&auth.launch.claims).map_err(|e| ApiError::internal(&e))?;
            return Ok(Self(ServiceContext::of_launch(
                auth.platform,
                auth.launch.deployment_id,
                &claims,
            )));
        }
        let key = credential(header, SERVICE_SCHEME, state)?;
        let context = state
            .service_keys
            .context_of(key)
            .await?
            .ok_or_else(|| ApiError::new(Code::InvalidServiceKey))?;
        check_active(&context.platform)?;
        Ok(Self(context))
    }
}

impl From<ServiceKeyError> for ApiError {
    fn from(e: ServiceKeyError) -> Self {
        match e {
            ServiceKeyError::Store(e) => e.into(),
            other => Self::internal(&other),
        }
    }
}
