//! The app API (LTIAAS-compatible): the app reads the verified launch it was handed.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::authorization;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::IdtokenErrors;
use super::openapi::schemas::IdTokenAnswer;
use lti::claims::LaunchClaims;

use crate::api_shape::{PlatformInfo, idtoken, raw_idtoken_json};
use crate::code::Code;
use crate::store::{Platform, PlatformStatus, StoredLaunch};

pub fn routes() -> Router<AppState> {
    documented().into()
}

/// The routes with their OpenAPI description (`openapi`).
pub(super) fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(idtoken_route))
}

/// A launch the request proved it may read: `Authorization: LTIK-AUTH-V2 <API_KEY>:<LTIK>`.
#[derive(Debug)]
pub struct LaunchAuth {
    pub launch: StoredLaunch,
    pub platform: Platform,
}

impl FromRequestParts<AppState> for LaunchAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = authorization(parts, "Send Authorization: LTIK-AUTH-V2 <API_KEY>:<LTIK>.")?;
        let ltik = credential(header, LTIK_SCHEME, state)?;
        let invalid_ltik = || ApiError::described(Code::InvalidLtik, "Invalid or expired ltik.");
        let (launch, platform) = state
            .launcher
            .handed_off(ltik)
            .await?
            .ok_or_else(invalid_ltik)?;
        check_active(&platform)?;
        Ok(Self { launch, platform })
    }
}

const LTIK_SCHEME: &str = "LTIK-AUTH-V2";

/// The credential after the API key of `<SCHEME> <API_KEY>:<CREDENTIAL>`, once the API key
/// is checked.
pub fn credential<'a>(
    header: &'a str,
    scheme: &str,
    state: &AppState,
) -> Result<&'a str, ApiError> {
    let (api_key, credential) = header
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|creds| creds.trim().split_once(':'))
        .ok_or_else(|| {
            ApiError::described(
                Code::InvalidAuthorization,
                format!("The Authorization header must be {scheme} <API_KEY>:<CREDENTIAL>."),
            )
        })?;
    if !state.api_keys.accepts(api_key) {
        return Err(ApiError::described(
            Code::InvalidApiKey,
            "The API key is not valid.",
        ));
    }
    Ok(credential)
}

/// Deactivating a platform stops its launches and service keys at once, not when they
/// expire. The platform read is the cached one, so this costs the hot path no query.
pub fn check_active(platform: &Platform) -> Result<(), ApiError> {
    if platform.settings.status != PlatformStatus::Active {
        return Err(ApiError::described(
            Code::PlatformInactive,
            "The platform of this launch is not active; an administrator can activate it.",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct IdtokenQuery {
    /// `true`, `True` or `1`: the launch's claims as the platform sent them, plus `ltiVersion`.
    raw: Option<String>,
}

/// `GET /api/idtoken`: the launch in LTIAAS's shape, or the raw claims with `?raw=true`.
#[utoipa::path(
    get,
    path = "/api/idtoken",
    operation_id = "getIdToken",
    tag = "launch",
    security(("ltik" = [])),
    params(IdtokenQuery),
    responses(
        (status = 200, description = "The launch (with `?raw=true`: its raw claims).", body = IdTokenAnswer),
        IdtokenErrors,
    )
)]
async fn idtoken_route(
    State(_): State<AppState>,
    auth: LaunchAuth,
    ApiQuery(query): ApiQuery<IdtokenQuery>,
) -> Result<Response, ApiError> {
    let raw = query
        .raw
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("true") || r == "1");
    if raw {
        let claims: Map<String, Value> =
            serde_json::from_str(&auth.launch.claims).map_err(|e| ApiError::internal(&e))?;
        return Ok(Json(raw_idtoken_json(&claims)).into_response());
    }
    // The stored payload is the one the launch verified, re-read with the launch's own rules:
    // only the claims the answer needs are parsed.
    let claims =
        LaunchClaims::from_json(&auth.launch.claims).map_err(|e| ApiError::internal(&e))?;
    let platform = PlatformInfo {
        id: &auth.platform.id,
        issuer: auth.platform.settings.issuer.as_str(),
        client_id: auth.platform.settings.client_id.as_str(),
    };
    let body = idtoken(&claims, &platform, auth.launch.service_key.as_deref());
    Ok(Json(body).into_response())
}
