//! The admin API (`Authorization: Bearer <ADMIN_KEY>`): manual platform registration and
//! management, with LTIAAS field names.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::openapi::schemas::PlatformList;
use super::openapi::{
    AdminChangeErrors, AdminListErrors, AdminPlatformErrors, AdminPlatformInputErrors,
    AdminRevokeErrors,
};
use crate::code::Code;
use crate::platform_input::{self, PlatformFields};
use crate::platforms::PlatformRecord;
use crate::store::{KeyMethod, Platform, PlatformChange, PlatformFilter, PlatformStatus};

pub fn routes() -> Router<AppState> {
    documented().into()
}

/// The routes with their OpenAPI description (`openapi`), relative to `/admin`.
pub(super) fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, replace, modify, remove))
        .routes(routes!(activate))
        .routes(routes!(deactivate))
        .routes(routes!(approve_change))
        .routes(routes!(reject_change))
        .routes(routes!(revoke_service_key))
}

/// A platform as the admin API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Platform)]
pub struct PlatformView {
    id: String,
    url: String,
    client_id: String,
    name: String,
    authentication_endpoint: String,
    accesstoken_endpoint: String,
    authorization_server: Option<String>,
    auth_config: AuthConfigView,
    /// The tool's current public key (PEM), for platforms that want it pasted.
    public_key: String,
    active: bool,
    #[schema(pattern = "^(active|pending|inactive)$")]
    status: &'static str,
    allow_new_deployments: bool,
    deployment_ids: Vec<String>,
    product_family_code: Option<String>,
    version: Option<String>,
    scopes: Vec<String>,
    /// New endpoints from a re-registration, waiting for approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_change: Option<ChangeView>,
    created_at: i64,
    updated_at: i64,
    /// When the platform first launched the tool (Unix seconds); null: it never has, so the
    /// registration is not proven yet.
    first_launch_at: Option<i64>,
    /// When it last launched the tool (Unix seconds, up to a minute behind); null: never.
    last_launch_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PlatformChange)]
struct ChangeView {
    authentication_endpoint: String,
    accesstoken_endpoint: String,
    authorization_server: Option<String>,
    auth_config: AuthConfigView,
    deployment_id: Option<String>,
    product_family_code: Option<String>,
    version: Option<String>,
    scopes: Vec<String>,
    created_at: i64,
}

impl From<PlatformChange> for ChangeView {
    fn from(c: PlatformChange) -> Self {
        Self {
            authentication_endpoint: c.auth_endpoint,
            accesstoken_endpoint: c.token_endpoint,
            authorization_server: c.authorization_server,
            auth_config: AuthConfigView {
                method: KeyMethod::JwkSet.as_str(),
                key: c.jwks_uri,
            },
            deployment_id: c.deployment_id,
            product_family_code: c.product_family,
            version: c.version,
            scopes: c.scopes.0,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlatformAuthConfig)]
struct AuthConfigView {
    method: &'static str,
    key: String,
}

impl PlatformView {
    /// The view of a record from the platforms service.
    pub fn of(r: PlatformRecord, public_key: &str) -> Self {
        Self::new(r.platform, public_key, r.change)
    }

    pub fn new(p: Platform, public_key: &str, change: Option<PlatformChange>) -> Self {
        Self {
            auth_config: AuthConfigView {
                method: p.settings.key.method(),
                key: p.settings.key.key().to_owned(),
            },
            active: p.settings.status == PlatformStatus::Active,
            status: p.settings.status.as_str(),
            id: p.id,
            url: p.settings.issuer.into_string(),
            client_id: p.settings.client_id.into_string(),
            name: p.settings.name,
            authentication_endpoint: p.settings.auth_endpoint.into(),
            accesstoken_endpoint: p.settings.token_endpoint.into(),
            authorization_server: p.settings.authorization_server,
            public_key: public_key.to_owned(),
            allow_new_deployments: p.settings.allow_new_deployments,
            deployment_ids: p.settings.deployment_ids,
            product_family_code: p.settings.product_family,
            version: p.settings.version,
            scopes: p.settings.scopes,
            pending_change: change.map(ChangeView::from),
            created_at: p.created_at,
            updated_at: p.updated_at,
            first_launch_at: p.activity.first_at,
            last_launch_at: p.activity.last_at,
        }
    }
}

/// `GET /admin/platforms` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    id: Option<String>,
    url: Option<String>,
    client_id: Option<String>,
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/platforms",
    operation_id = "listPlatforms",
    summary = "The platforms, filtered by `id`, `url`, `clientId` or `status`.",
    tag = "admin",
    security(("adminKey" = [])),
    params(ListQuery),
    responses((status = 200, description = "The platforms.", body = PlatformList), AdminListErrors)
)]
async fn list(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(PlatformStatus::parse(s).ok_or_else(|| {
            ApiError::described(
                Code::InvalidParameter,
                "status must be one of active, pending, inactive.",
            )
        })?),
    };
    let filter = PlatformFilter {
        id: query.id,
        issuer: query.url,
        client_id: query.client_id,
        status,
    };
    let records = state.platforms.list(&filter).await?;
    let public_key = state.platforms.public_key().await?;
    let views: Vec<PlatformView> = records
        .into_iter()
        .map(|r| PlatformView::of(r, &public_key))
        .collect();
    Ok(Json(serde_json::json!({ "platforms": views })))
}

#[utoipa::path(
    post,
    path = "/platforms",
    operation_id = "createPlatform",
    summary = "Registers a platform by hand.",
    tag = "admin",
    security(("adminKey" = [])),
    request_body = PlatformFields,
    responses((status = 201, description = "The platform.", body = PlatformView), AdminPlatformInputErrors)
)]
async fn create(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PlatformFields>,
) -> Result<(StatusCode, Json<PlatformView>), ApiError> {
    let new = platform_input::new_platform(body, state.config.allow_insecure_http)?;
    let record = state.platforms.create(&new).await?;
    Ok((StatusCode::CREATED, view(&state, record).await?))
}

#[utoipa::path(
    get,
    path = "/platforms/{id}",
    operation_id = "getPlatform",
    summary = "One platform.",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    responses((status = 200, description = "The platform.", body = PlatformView), AdminPlatformErrors)
)]
async fn show(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    view(&state, state.platforms.get(&id).await?).await
}

/// PUT: the body is a whole platform, as for POST.
#[utoipa::path(
    put,
    path = "/platforms/{id}",
    operation_id = "replacePlatform",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    request_body = PlatformFields,
    responses((status = 200, description = "The platform.", body = PlatformView), AdminPlatformInputErrors)
)]
async fn replace(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlatformFields>,
) -> Result<Json<PlatformView>, ApiError> {
    let full = platform_input::new_platform(body, state.config.allow_insecure_http)?;
    let update = platform_input::full_update(full);
    view(&state, state.platforms.update(&id, &update).await?).await
}

/// PATCH: only the fields present change.
#[utoipa::path(
    patch,
    path = "/platforms/{id}",
    operation_id = "updatePlatform",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    request_body = PlatformFields,
    responses((status = 200, description = "The platform.", body = PlatformView), AdminPlatformInputErrors)
)]
async fn modify(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlatformFields>,
) -> Result<Json<PlatformView>, ApiError> {
    let update = platform_input::partial_update(body, state.config.allow_insecure_http)?;
    view(&state, state.platforms.update(&id, &update).await?).await
}

#[utoipa::path(
    post,
    path = "/platforms/{id}/activate",
    operation_id = "activatePlatform",
    summary = "Lets the platform launch (also approves a pending registration).",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    responses((status = 200, description = "The platform.", body = PlatformView), AdminPlatformErrors)
)]
async fn activate(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    let record = state
        .platforms
        .set_status(&id, PlatformStatus::Active)
        .await?;
    view(&state, record).await
}

#[utoipa::path(
    post,
    path = "/platforms/{id}/deactivate",
    operation_id = "deactivatePlatform",
    summary = "Stops the platform's launches, ltiks and service keys at once.",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    responses((status = 200, description = "The platform.", body = PlatformView), AdminPlatformErrors)
)]
async fn deactivate(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    let record = state
        .platforms
        .set_status(&id, PlatformStatus::Inactive)
        .await?;
    view(&state, record).await
}

#[utoipa::path(
    delete,
    path = "/platforms/{id}",
    operation_id = "deletePlatform",
    summary = "Deletes the platform.",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    responses((status = 204, description = "Deleted."), AdminPlatformErrors)
)]
async fn remove(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.platforms.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies the endpoints a re-registration proposed.
#[utoipa::path(
    post,
    path = "/platforms/{id}/change/approve",
    operation_id = "approvePlatformChange",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    responses((status = 200, description = "The platform.", body = PlatformView), AdminChangeErrors)
)]
async fn approve_change(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    view(&state, state.platforms.approve_change(&id).await?).await
}

/// Drops the endpoints a re-registration proposed; the platform stays as it is.
#[utoipa::path(
    post,
    path = "/platforms/{id}/change/reject",
    operation_id = "rejectPlatformChange",
    tag = "admin",
    security(("adminKey" = [])),
    params(("id" = String, Path, description = "ltigate's platform id.")),
    responses((status = 200, description = "The platform.", body = PlatformView), AdminChangeErrors)
)]
async fn reject_change(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    view(&state, state.platforms.reject_change(&id).await?).await
}

/// `POST /admin/servicekeys/revoke` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RevokeBody {
    service_key: String,
}

/// Revokes a service key (sent in the body: never in a URL, which logs keep). It stops
/// working at once; the context's next launch hands the app a new one.
#[utoipa::path(
    post,
    path = "/servicekeys/revoke",
    operation_id = "revokeServiceKey",
    tag = "admin",
    security(("adminKey" = [])),
    request_body = RevokeBody,
    responses((status = 204, description = "Revoked."), AdminRevokeErrors)
)]
async fn revoke_service_key(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RevokeBody>,
) -> Result<StatusCode, ApiError> {
    if state.service_keys.revoke(&body.service_key).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(Code::ServiceKeyNotFound))
    }
}

/// The platform as the admin API answers it, with the tool's current public key.
async fn view(state: &AppState, record: PlatformRecord) -> Result<Json<PlatformView>, ApiError> {
    let public_key = state.platforms.public_key().await?;
    Ok(Json(PlatformView::of(record, &public_key)))
}
