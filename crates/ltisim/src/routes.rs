//! The platform's HTTP endpoints. Handlers only parse and shape: the decisions are in
//! [`Platform`].

use crate::course_page::{course_page, storage_frame_page};
use crate::deep_linking::deep_link_return;
use crate::failure::misbehave;
use crate::html::{auto_post_page, error_page};
use crate::platform::{Platform, Refusal};
use crate::services;
use crate::tool::{MessageType, Storage};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, RawForm, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

const LINE_ITEMS: &str = "/ags/contexts/{context}/lineitems";
const LINE_ITEM: &str = "/ags/contexts/{context}/lineitems/{item}";

/// The profile decides where the configuration and the OIDC / registration endpoints
/// live; the simulator's own pages and services are at the same paths for every profile.
pub(crate) fn router(platform: Arc<Platform>) -> Router {
    let endpoints = platform.endpoints();
    Router::new()
        .route(endpoints.configuration, get(configuration))
        .route(endpoints.jwks, get(jwks))
        .route(endpoints.authorization, get(authorize).post(authorize))
        .route(endpoints.registration, post(register))
        .route("/launch", get(launch_page))
        .route("/storage_frame", get(storage_frame))
        .route("/deep_link_return", post(deep_link_return))
        .route(endpoints.token, post(services::token))
        .route(
            LINE_ITEMS,
            get(services::list_line_items).post(services::create_line_item),
        )
        .route(
            LINE_ITEM,
            get(services::get_line_item)
                .put(services::put_line_item)
                .delete(services::delete_line_item),
        )
        .route(&format!("{LINE_ITEM}/scores"), post(services::post_score))
        .route(&format!("{LINE_ITEM}/results"), get(services::results))
        .route(
            "/nrps/contexts/{context}/memberships",
            get(services::memberships),
        )
        .route("/gradebook", get(services::gradebook_page))
        .route("/avatars/{file}", get(services::avatar))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&platform),
            record_user_agent,
        ))
        .with_state(platform)
}

/// Remembers who called, before the handler runs, so a test reading it after the answer
/// sees this request.
async fn record_user_agent(
    State(platform): State<Arc<Platform>>,
    request: Request,
    next: Next,
) -> Response {
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    platform.record_user_agent(request.uri().path(), user_agent);
    next.run(request).await
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// The OpenID configuration (LTI DR 1.0 §3.4), with the configuration failure knob.
async fn configuration(State(platform): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    if let Some(response) = misbehave(platform.configuration_failure(), StatusCode::FOUND).await {
        return response;
    }
    if !platform.may_read_configuration(authorization(&headers)) {
        // Canvas: only the tool the admin is registering may read it.
        let body = json!({ "errors": [{ "message": "Unauthorized: a valid registration token is required" }] });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    Json(platform.openid_configuration()).into_response()
}

/// The registration endpoint (LTI DR 1.0 §3.5-3.6), with the registration failure knob.
async fn register(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    platform.record_registration(&body);
    let failure = platform.registration_failure();
    if let Some(response) = misbehave(failure, StatusCode::TEMPORARY_REDIRECT).await {
        return response;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    match platform.register(authorization(&headers), content_type, &body) {
        Ok(answer) => Json(answer).into_response(),
        Err(refused) => {
            let profile = platform.profile();
            let status =
                StatusCode::from_u16(refused.status(profile)).unwrap_or(StatusCode::BAD_REQUEST);
            let (body, content_type) = refused.body(profile);
            let mut response =
                (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
            if status == StatusCode::UNAUTHORIZED && profile != crate::Profile::Moodle {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            response
        }
    }
}

async fn jwks(State(platform): State<Arc<Platform>>) -> Response {
    Json(platform.serve_jwks()).into_response()
}

/// The OIDC authorization endpoint (GET query or POST form).
async fn authorize(State(platform): State<Arc<Platform>>, RawForm(body): RawForm) -> Response {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    match platform.authorize(&params) {
        Ok(authorized) => {
            let mut fields = vec![("id_token".to_owned(), authorized.id_token)];
            fields.extend(authorized.state.map(|state| ("state".to_owned(), state)));
            Html(auto_post_page(&authorized.redirect_uri, &fields)).into_response()
        }
        Err(Refusal::ToTool {
            redirect_uri,
            state,
            description,
        }) => {
            let mut fields = vec![
                ("error".to_owned(), "invalid_request".to_owned()),
                ("error_description".to_owned(), description),
            ];
            fields.extend(state.map(|state| ("state".to_owned(), state)));
            Html(auto_post_page(&redirect_uri, &fields)).into_response()
        }
        Err(refusal @ Refusal::Unsafe(_)) => bad_request(refusal.description()),
    }
}

/// `GET /launch?client_id=…&message_type=resource_link|deep_linking&storage=cookie|platform|platform_frame`
async fn launch_page(
    State(platform): State<Arc<Platform>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(tool) = query.get("client_id").and_then(|id| platform.tool(id)) else {
        return bad_request("client_id is missing or not registered");
    };
    let message_type = match query.get("message_type") {
        None => MessageType::ResourceLink,
        Some(value) => match MessageType::from_query_value(value) {
            Some(message_type) => message_type,
            None => return bad_request("message_type must be resource_link or deep_linking"),
        },
    };
    let storage = match query.get("storage") {
        None => Storage::Cookie,
        Some(value) => match Storage::from_query_value(value) {
            Some(storage) => storage,
            None => return bad_request("storage must be cookie, platform or platform_frame"),
        },
    };
    Html(course_page(&platform, &tool, message_type, storage)).into_response()
}

async fn storage_frame(
    State(platform): State<Arc<Platform>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match query.get("client_id").and_then(|id| platform.tool(id)) {
        Some(tool) => Html(storage_frame_page(&tool)).into_response(),
        None => bad_request("client_id is missing or not registered"),
    }
}

fn bad_request(detail: &str) -> Response {
    let page = error_page("Bad request", detail);
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}
