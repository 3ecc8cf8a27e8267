//! Dynamic Registration routes: `/lti/register` for the LMS administrator, and the app API of
//! the intermediate page flow (`/api/registrations/{id}`, `.../complete`).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::AppKey;
use super::error::ApiError;
use super::extract::ClientIp;
use super::openapi::schemas::{RegistrationCompleted, RegistrationOffer};
use super::openapi::{RegistrationCompleteErrors, RegistrationShowErrors};
use super::pages::{Nonce, refusal_page, script_page};
use crate::code::Code;
use crate::code::DisplayChain;
use crate::registration::{CompleteOptions, Completed, RegistrationFailure};
use crate::store::PlatformStatus;
use lti::registration::ToolMessage;

pub fn routes() -> Router<AppState> {
    documented().into()
}

/// The routes with their OpenAPI description (`openapi`); `/lti/register` is the LMS's, not
/// the API's, and stays out of it.
pub(super) fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/lti/register", get(register))
        .routes(routes!(show))
        .routes(routes!(complete))
}

#[derive(Debug, Deserialize)]
struct RegisterQuery {
    openid_configuration: Option<String>,
    registration_token: Option<String>,
}

/// The script that closes the LMS's registration dialog (`close.js`), for the app's
/// intermediate page: Brightspace opens a tab (opener), the others an iframe (parent). The
/// message carries no data, so any origin may read it.
#[derive(Template)]
#[template(path = "close_script.html")]
struct CloseScript;

/// What the administrator sees before `close.js` closes the dialog.
#[derive(Template)]
#[template(path = "registered.html")]
struct RegisteredPage<'a> {
    title: &'a str,
    nonce: &'a Nonce,
    change_proposed: bool,
    active: bool,
    platform_name: &'a str,
    platform_id: &'a str,
}

async fn register(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    query: Result<Query<RegisterQuery>, QueryRejection>,
) -> Response {
    // Every call counts, readable or not: each may cost outbound fetches.
    if let Err(limited) = state.registrar.admit(client) {
        tracing::warn!(client = ?client, "registration call over the rate limit");
        let mut page = failure_page(&limited.failure());
        page.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(limited.retry_after_secs()));
        return page;
    }
    let Ok(Query(query)) = query else {
        return failure_page(&RegistrationFailure::RequestInvalid("could not be read"));
    };
    let Some(url) = query.openid_configuration.filter(|u| !u.is_empty()) else {
        return failure_page(&RegistrationFailure::RequestInvalid(
            "has no openid_configuration",
        ));
    };
    let token = query.registration_token.filter(|t| !t.is_empty());
    let registrar = &state.registrar;
    let config = match registrar.fetch_configuration(&url, token.as_deref()).await {
        Ok(c) => c,
        Err(f) => return failure_page(&f),
    };
    if let Some(intermediate) = &state.config.registration.intermediate_url {
        return match registrar.park(&url, &config, token.as_deref()).await {
            Ok(id) => {
                let mut target = intermediate.clone();
                target.query_pairs_mut().append_pair("registrationId", &id);
                (StatusCode::FOUND, [(LOCATION, target.to_string())]).into_response()
            }
            Err(f) => failure_page(&f),
        };
    }
    match registrar
        .register(&config, token.as_deref(), &CompleteOptions::default())
        .await
    {
        Ok(done) => confirmation_page(&done),
        Err(f) => failure_page(&f),
    }
}

/// The code's fixed sentences and the request id; the platform's answer, OS errors and
/// addresses in `f.message` go to the log only (a stranger could otherwise probe with them).
fn failure_page(f: &RegistrationFailure) -> Response {
    crate::telemetry::registration_refused(f.code());
    refusal_page(
        "The tool could not be registered",
        f.code(),
        "registration",
        &DisplayChain(f).to_string(),
    )
}

/// What the administrator sees, then the dialog closes. A re-registration shows nothing of
/// the existing platform: whoever opens the URL need not be its administrator.
fn confirmation_page(done: &Completed) -> Response {
    let nonce = Nonce::new();
    let page = RegisteredPage {
        title: "Registration complete",
        nonce: &nonce,
        change_proposed: done.change_proposed,
        active: done.status == PlatformStatus::Active,
        platform_name: &done.platform_name,
        platform_id: &done.platform_id,
    };
    script_page(&page, &nonce, &[])
}

/// `GET /api/registrations/{id}`: what the platform offers, for the app's intermediate page.
#[utoipa::path(
    get,
    path = "/api/registrations/{id}",
    operation_id = "getRegistration",
    tag = "registration",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The `registrationId` ltigate added to the app's intermediate page URL.")),
    responses(
        (status = 200, description = "What the platform offers.", body = RegistrationOffer),
        RegistrationShowErrors,
    )
)]
async fn show(
    _: AppKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (pending, config) = state.registrar.parked(&id).await?;
    let messages: Vec<Value> = config
        .messages_supported
        .iter()
        .map(|m| json!({"type": m.message_type, "placements": m.placements}))
        .collect();
    Ok(Json(json!({
        "url": config.issuer,
        "configurationUrl": pending.configuration_url,
        "familyCode": config.product_family_code,
        "version": config.version,
        "supportedScopes": config.scopes_supported,
        "supportedMessages": messages,
    })))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CompleteBody {
    platform_name: Option<String>,
    auto_activate: Option<bool>,
    messages: Option<Vec<MessageChoice>>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct MessageChoice {
    #[serde(rename = "type")]
    message_type: String,
    #[serde(default)]
    placements: Option<Vec<String>>,
}

/// `POST /api/registrations/{id}/complete`: registers with the platform; single use.
#[utoipa::path(
    post,
    path = "/api/registrations/{id}/complete",
    operation_id = "completeRegistration",
    tag = "registration",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The `registrationId` of the intermediate page.")),
    request_body(content = Option<CompleteBody>, description = "Optional: an empty body takes every default."),
    responses(
        (status = 200, description = "Registered with the platform.", body = RegistrationCompleted),
        RegistrationCompleteErrors,
    )
)]
async fn complete(
    _: AppKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: an empty one takes every default.
    let body: CompleteBody = if body.iter().all(u8::is_ascii_whitespace) {
        CompleteBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::refused(Code::InvalidBody, e.to_string()))?
    };
    let options = CompleteOptions {
        platform_name: body.platform_name,
        auto_activate: body.auto_activate,
        messages: body.messages.map(|ms| {
            ms.into_iter()
                .map(|m| ToolMessage {
                    message_type: m.message_type,
                    placements: m.placements.unwrap_or_default(),
                    label: None,
                    target_link_uri: None,
                })
                .collect()
        }),
    };
    let done = state
        .registrar
        .complete(&id, &options)
        .await
        .inspect_err(|f| crate::telemetry::registration_refused(f.code()))?;
    let html = CloseScript.render().map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({
        "platformId": done.platform_id,
        "status": done.status.as_str(),
        "html": html,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_gets_the_bare_close_script() {
        assert_eq!(
            CloseScript.render().unwrap(),
            "<script>(window.opener || window.parent).postMessage(\
             {subject: 'org.imsglobal.lti.close'}, '*');</script>"
        );
    }
}
