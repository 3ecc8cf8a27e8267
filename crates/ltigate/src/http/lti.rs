//! LMS-facing routes: the tool's JWKS, OIDC login initiation and the launch.

use askama::Template;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Form, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, LOCATION, ORIGIN, REFERRER_POLICY, SET_COOKIE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::pages::{JsString, Nonce, failure_page, js_string, script_page};
use crate::launch::state::cookie_name;
use crate::launch::{Binding, LaunchFailure, LoginRedirect, LoginRequest};

/// The id_token form may carry a 64 KiB token plus the state.
const LAUNCH_BODY_LIMIT: usize = 96 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lti/keys", get(jwks))
        .route("/lti/login", get(login_get).post(login_post))
        .route(
            "/lti/launch",
            post(launch).layer(DefaultBodyLimit::max(LAUNCH_BODY_LIMIT)),
        )
}

/// The tool's public JWKS. Short caching: platforms should see a new key soon after rotation.
async fn jwks(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let jwks = state.keys.jwks().await?;
    Ok((
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        // Serialised straight from the shared key set: no per-request copy of it.
        serde_json::to_vec(jwks.as_ref()).map_err(|e| ApiError::internal(&e))?,
    ))
}

async fn login_get(
    State(state): State<AppState>,
    query: Result<Query<LoginRequest>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(req)) => login(&state, req).await,
        Err(_) => failure_page(&state.refusals, &malformed_login()),
    }
}

async fn login_post(
    State(state): State<AppState>,
    form: Result<Form<LoginRequest>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(req)) => login(&state, req).await,
        Err(_) => failure_page(&state.refusals, &malformed_login()),
    }
}

fn malformed_login() -> LaunchFailure {
    LaunchFailure::LoginUnreadable
}

async fn login(state: &AppState, req: LoginRequest) -> Response {
    let redirect = match state.launcher.login(req).await {
        Ok(r) => r,
        Err(failure) => return failure_page(&state.refusals, &failure),
    };
    let cookie = state_cookie(
        state,
        &redirect.state_id,
        &redirect.binding,
        state_ttl(state),
    );
    let mut response = match &redirect.storage_target {
        Some(target) => storage_put_page(&redirect, target),
        None => (StatusCode::FOUND, [(LOCATION, redirect.url.to_string())]).into_response(),
    };
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The launch form: an id_token and state, or an OIDC error from the platform.
#[derive(Debug, Deserialize)]
struct LaunchForm {
    id_token: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// The binding read back from platform storage by [`storage_get_page`].
    lti_storage_binding: Option<String>,
}

async fn launch(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LaunchForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(FormRejection::BytesRejection(_)) => {
            return failure_page(&state.refusals, &LaunchFailure::LaunchTooLarge);
        }
        Err(_) => {
            return failure_page(&state.refusals, &LaunchFailure::LaunchUnreadable);
        }
    };
    if let Some(error) = &form.error {
        let description = form.error_description.as_deref().unwrap_or("");
        return failure_page(
            &state.refusals,
            &LaunchFailure::PlatformError {
                error: error.clone(),
                description: description.to_owned(),
            },
        );
    }
    let login = match state.launcher.open_state(form.state.as_deref()) {
        Ok(login) => login,
        Err(failure) => return failure_page(&state.refusals, &failure),
    };
    let cookie = super::cookie::read(&headers, &cookie_name(&login.id));
    let binding = match (cookie.as_deref(), form.lti_storage_binding.as_deref()) {
        (Some(value), _) => Binding::Cookie(value),
        (None, Some(value)) => Binding::Form {
            value,
            same_origin: posted_from_own_origin(&headers, &state.config.public_url()),
        },
        (None, None) => match (&login.storage_target, &form.id_token, &form.state) {
            (Some(target), Some(id_token), Some(sealed)) => {
                return storage_get_page(state, &login, target, id_token, sealed).await;
            }
            _ => Binding::None,
        },
    };
    match state
        .launcher
        .launch(&login, binding, form.id_token.as_deref())
        .await
    {
        Ok(handoff) => {
            let mut response = (
                StatusCode::FOUND,
                [
                    (LOCATION, handoff.location.to_string()),
                    (REFERRER_POLICY, "no-referrer".to_string()),
                    (CACHE_CONTROL, "no-store".to_string()),
                ],
            )
                .into_response();
            // The state is spent: drop its cookie.
            let expired = state_cookie(&state, &handoff.state_id, "", 0);
            if let Ok(value) = expired.parse() {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        Err(failure) => failure_page(&state.refusals, &failure),
    }
}

fn state_ttl(state: &AppState) -> u64 {
    state.config.launch.state_ttl.as_secs()
}

/// The binding cookie of one state. Over https it is `SameSite=None; Secure; Partitioned` so
/// it survives the platform's cross-site form post inside the LMS frame; on plain http
/// (local development) browsers refuse `SameSite=None` without `Secure`, so it is `Lax`.
fn state_cookie(state: &AppState, state_id: &str, value: &str, max_age: u64) -> String {
    let name = cookie_name(state_id);
    if state.config.public_url().scheme() == "https" {
        format!(
            "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=None; Partitioned"
        )
    } else {
        format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax")
    }
}

/// Whether the browser says this post comes from a page of ltigate's own origin (its platform
/// storage relaunch page): `Origin` equal to `public_url`'s origin, or `Sec-Fetch-Site:
/// same-origin`. Browsers set both and pages cannot change them; a post without either is
/// not trusted.
fn posted_from_own_origin(headers: &HeaderMap, public_url: &url::Url) -> bool {
    let own = public_url.origin().ascii_serialization();
    let origin_is_own = headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| origin == own);
    let fetch_same_origin = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site.eq_ignore_ascii_case("same-origin"));
    origin_is_own || fetch_same_origin
}

/// The login page that stores the state's binding in the platform's storage, then goes to
/// the authorization endpoint (`storage.js` is the shared postMessage client).
#[derive(Template)]
#[template(path = "storage_put.html")]
struct StoragePutPage<'a> {
    title: &'a str,
    nonce: &'a Nonce,
    /// The authorization URL, for the link.
    url: &'a str,
    url_js: JsString,
    target: JsString,
    origin: JsString,
    key: JsString,
    value: JsString,
}

/// The relaunch page: reads the binding back from platform storage and posts the launch
/// again with it.
#[derive(Template)]
#[template(path = "storage_get.html")]
struct StorageGetPage<'a> {
    title: &'a str,
    nonce: &'a Nonce,
    action: &'a str,
    id_token: &'a str,
    state: &'a str,
    target: JsString,
    origin: JsString,
    key: JsString,
}

/// Login with `lti_storage_target`: store the state's binding in the platform's storage,
/// then go to the authorization endpoint. The cookie is set too, as the fallback.
fn storage_put_page(redirect: &LoginRedirect, target: &str) -> Response {
    let nonce = Nonce::new();
    let page = StoragePutPage {
        title: "Signing in",
        nonce: &nonce,
        url: redirect.url.as_str(),
        url_js: js_string(redirect.url.as_str()),
        target: js_string(target),
        origin: js_string(&redirect.url.origin().ascii_serialization()),
        key: js_string(&cookie_name(&redirect.state_id)),
        value: js_string(&redirect.binding),
    };
    script_page(&page, &nonce, &[])
}

/// Launch without the cookie, after a login that used platform storage: read the binding
/// back from the platform's storage and post the launch again with it.
async fn storage_get_page(
    state: AppState,
    login: &crate::launch::state::LoginState,
    target: &str,
    id_token: &str,
    sealed_state: &str,
) -> Response {
    let origin = match state.launcher.storage_origin(login).await {
        Ok(origin) => origin,
        Err(failure) => return failure_page(&state.refusals, &failure),
    };
    let nonce = Nonce::new();
    let action = state.config.public_endpoint("/lti/launch");
    let page = StorageGetPage {
        title: "Opening the tool",
        nonce: &nonce,
        action: &action,
        id_token,
        state: sealed_state,
        target: js_string(target),
        origin: js_string(&origin),
        key: js_string(&cookie_name(&login.id)),
    };
    // The relaunch answers with a redirect to the app, which `form-action` must allow.
    let app_origins: Vec<String> = [
        &state.config.app.launch_url,
        &state.config.app.deep_linking_url,
    ]
    .into_iter()
    .flatten()
    .map(|url| url.origin())
    .filter(|origin| origin.is_tuple())
    .map(|origin| origin.ascii_serialization())
    .collect();
    script_page(&page, &nonce, &app_origins)
}

#[cfg(test)]
mod tests;
