//! The platform's HTTP endpoints. Handlers only parse and shape: the decisions are in
//! [`Platform`].

use crate::course_page::{course_page, storage_frame_page};
use crate::discovery::openid_configuration;
use crate::html::{auto_post_page, error_page};
use crate::platform::{Platform, Refusal};
use crate::tool::{MessageType, Storage};
use axum::Router;
use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{any, get};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(configuration))
        .route("/jwks", get(jwks))
        .route("/auth", get(authorize).post(authorize))
        .route("/launch", get(launch_page))
        .route("/storage_frame", get(storage_frame))
        // Later issues fill these in; the claims and configuration already point at them.
        .route("/token", any(not_implemented))
        .route("/register", any(not_implemented))
        .route("/deep_link_return", any(not_implemented))
        .route("/ags/{*rest}", any(not_implemented))
        .route("/nrps/{*rest}", any(not_implemented))
        .with_state(platform)
}

async fn configuration(State(platform): State<Arc<Platform>>) -> Response {
    Json(openid_configuration(&platform)).into_response()
}

async fn jwks(State(platform): State<Arc<Platform>>) -> Response {
    Json(platform.jwks()).into_response()
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

async fn not_implemented() -> Response {
    let body = json!({
        "error": "not_implemented",
        "error_description": "the simulator does not implement this endpoint yet",
    });
    (StatusCode::NOT_IMPLEMENTED, Json(body)).into_response()
}

fn bad_request(detail: &str) -> Response {
    let page = error_page("Bad request", detail);
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}
