//! The admin API (`Authorization: Bearer <ADMIN_KEY>`): manual platform registration and
//! management, with LTIAAS field names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::auth::Admin;
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use crate::platform_input::{self, PlatformFields};
use crate::store::{Platform, PlatformFilter, PlatformStatus, PlatformUpdate};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/platforms", get(list).post(create))
        .route(
            "/platforms/{id}",
            get(show).put(replace).patch(modify).delete(remove),
        )
        .route("/platforms/{id}/activate", post(activate))
        .route("/platforms/{id}/deactivate", post(deactivate))
}

/// A platform as the admin API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformView {
    id: String,
    url: String,
    client_id: String,
    name: String,
    authentication_endpoint: String,
    accesstoken_endpoint: String,
    auth_config: AuthConfigView,
    /// The tool's current public key (PEM), for platforms that want it pasted.
    public_key: String,
    active: bool,
    status: &'static str,
    allow_new_deployments: bool,
    deployment_ids: Vec<String>,
    product_family_code: Option<String>,
    version: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug, Serialize)]
struct AuthConfigView {
    method: &'static str,
    key: String,
}

impl PlatformView {
    pub fn new(p: Platform, public_key: &str) -> Self {
        Self {
            auth_config: AuthConfigView {
                method: p.key.method(),
                key: p.key.key().to_owned(),
            },
            active: p.status == PlatformStatus::Active,
            status: p.status.as_str(),
            id: p.id,
            url: p.issuer,
            client_id: p.client_id,
            name: p.name,
            authentication_endpoint: p.auth_endpoint,
            accesstoken_endpoint: p.token_endpoint,
            public_key: public_key.to_owned(),
            allow_new_deployments: p.allow_new_deployments,
            deployment_ids: p.deployment_ids,
            product_family_code: p.product_family,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// `GET /admin/platforms` filters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    id: Option<String>,
    url: Option<String>,
    client_id: Option<String>,
    status: Option<String>,
}

async fn list(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(PlatformStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_PARAMETER",
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
    let platforms = state.store.platforms(&filter).await?;
    let public_key = state.keys.signing_key().await?.public_pem;
    let views: Vec<PlatformView> = platforms
        .into_iter()
        .map(|p| PlatformView::new(p, &public_key))
        .collect();
    Ok(Json(serde_json::json!({ "platforms": views })))
}

async fn create(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PlatformFields>,
) -> Result<(StatusCode, Json<PlatformView>), ApiError> {
    let new = platform_input::new_platform(body, state.config.allow_insecure_http)?;
    let platform = state.store.insert_platform(&new, state.clock.now()).await?;
    tracing::info!(platform = %platform.id, "platform registered through the admin API");
    Ok((StatusCode::CREATED, Json(view(&state, platform).await?)))
}

async fn show(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    let platform = state.store.platform(&id).await?.ok_or_else(not_found)?;
    Ok(Json(view(&state, platform).await?))
}

/// PUT: the body is a whole platform, as for POST.
async fn replace(
    admin: Admin,
    state: State<AppState>,
    id: Path<String>,
    ApiJson(body): ApiJson<PlatformFields>,
) -> Result<Json<PlatformView>, ApiError> {
    let full = platform_input::new_platform(body, state.config.allow_insecure_http)?;
    apply(admin, state, id, platform_input::full_update(full)).await
}

/// PATCH: only the fields present change.
async fn modify(
    admin: Admin,
    state: State<AppState>,
    id: Path<String>,
    ApiJson(body): ApiJson<PlatformFields>,
) -> Result<Json<PlatformView>, ApiError> {
    let update = platform_input::partial_update(body, state.config.allow_insecure_http)?;
    apply(admin, state, id, update).await
}

async fn activate(
    admin: Admin,
    state: State<AppState>,
    id: Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    let update = PlatformUpdate {
        status: Some(PlatformStatus::Active),
        ..Default::default()
    };
    apply(admin, state, id, update).await
}

async fn deactivate(
    admin: Admin,
    state: State<AppState>,
    id: Path<String>,
) -> Result<Json<PlatformView>, ApiError> {
    let update = PlatformUpdate {
        status: Some(PlatformStatus::Inactive),
        ..Default::default()
    };
    apply(admin, state, id, update).await
}

async fn apply(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    update: PlatformUpdate,
) -> Result<Json<PlatformView>, ApiError> {
    let platform = state
        .store
        .update_platform(&id, &update, state.clock.now())
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(platform = %platform.id, status = platform.status.as_str(), "platform updated");
    Ok(Json(view(&state, platform).await?))
}

async fn remove(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.delete_platform(&id).await? {
        tracing::info!(platform = %id, "platform removed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

async fn view(state: &AppState, platform: Platform) -> Result<PlatformView, ApiError> {
    let public_key = state.keys.signing_key().await?.public_pem;
    Ok(PlatformView::new(platform, &public_key))
}

fn not_found() -> ApiError {
    ApiError::not_found("PLATFORM_NOT_FOUND", "No platform has this id.")
}
