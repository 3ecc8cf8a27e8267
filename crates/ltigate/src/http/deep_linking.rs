//! `POST /api/deeplinking` and `POST /api/deeplinking/form` (LTIAAS): the app hands over the
//! content items a user picked in a deep linking launch and gets the signed response, either
//! as `{message, target}` to post itself or as a ready self-submitting `{form}`.

use axum::extract::State;
use axum::{Json, Router};
use lti::deep_linking::ResponseRequest;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::api::LaunchAuth;
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi::DeepLinkingErrors;
use super::openapi::schemas::{DeepLinkingForm, DeepLinkingMessage, DeepLinkingRequest};
use super::pages::escape;
use crate::code::Code;
use crate::services::deep_linking::{DeepLinkingFailure, SignedResponse};

pub fn routes() -> Router<AppState> {
    documented().into()
}

/// The routes with their OpenAPI description (`openapi`).
pub(super) fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(message))
        .routes(routes!(form))
}

/// `{message: <JWT>, target: <deep_link_return_url>}`.
#[utoipa::path(
    post,
    path = "/api/deeplinking",
    operation_id = "deepLinkingMessage",
    tag = "deep linking",
    security(("ltik" = [])),
    request_body = DeepLinkingRequest,
    responses(
        (status = 200, description = "The signed response, for the app to post as field `JWT` to `target`.", body = DeepLinkingMessage),
        DeepLinkingErrors,
    )
)]
async fn message(
    State(state): State<AppState>,
    auth: LaunchAuth,
    ApiJson(body): ApiJson<ResponseRequest>,
) -> Result<Json<Value>, ApiError> {
    let signed = respond(&state, &auth, body).await?;
    Ok(Json(
        json!({ "message": signed.jwt, "target": signed.return_url.as_str() }),
    ))
}

/// `{form: <html>}`: a form that posts the response to the platform as soon as the app
/// puts it in a page.
#[utoipa::path(
    post,
    path = "/api/deeplinking/form",
    operation_id = "deepLinkingForm",
    tag = "deep linking",
    security(("ltik" = [])),
    request_body = DeepLinkingRequest,
    responses(
        (status = 200, description = "A form that posts the signed response to the platform.", body = DeepLinkingForm),
        DeepLinkingErrors,
    )
)]
async fn form(
    State(state): State<AppState>,
    auth: LaunchAuth,
    ApiJson(body): ApiJson<ResponseRequest>,
) -> Result<Json<Value>, ApiError> {
    let signed = respond(&state, &auth, body).await?;
    Ok(Json(json!({ "form": auto_post_form(&signed) })))
}

async fn respond(
    state: &AppState,
    auth: &LaunchAuth,
    body: ResponseRequest,
) -> Result<SignedResponse, ApiError> {
    Ok(state
        .deep_linker
        .respond(&auth.launch, &auth.platform, body)
        .await?)
}

/// The form posts field `JWT` (Deep Linking 2.0 §4.2, form_post); without script, a button
/// does. The return URL came from the platform, so it is escaped like any other value.
fn auto_post_form(signed: &SignedResponse) -> String {
    format!(
        "<form id=\"ltigate_deep_linking\" action=\"{action}\" method=\"post\" \
         enctype=\"application/x-www-form-urlencoded\">\
         <input type=\"hidden\" name=\"JWT\" value=\"{jwt}\">\
         <noscript><button type=\"submit\">Continue</button></noscript></form>\
         <script>document.getElementById(\"ltigate_deep_linking\").submit();</script>",
        action = escape(signed.return_url.as_str()),
        jwt = escape(&signed.jwt),
    )
}

/// The app is authenticated: it is told which rule its items broke and which item.
impl From<DeepLinkingFailure> for ApiError {
    fn from(e: DeepLinkingFailure) -> Self {
        match &e {
            DeepLinkingFailure::Refused(refusal) => {
                Self::described(Code::DeepLinkingItemRefused, refusal.to_string())
            }
            DeepLinkingFailure::NotDeepLinkingLaunch => Self::new(e.code()),
            _ => Self::internal(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_the_action_and_the_token() {
        let signed = SignedResponse {
            jwt: "a.b\"<c".into(),
            return_url: "https://lms.test/return?a=1&b='x'".parse().unwrap(),
        };
        let html = auto_post_form(&signed);
        // The URL is the parsed one (`'` percent-encoded); `&` still needs escaping.
        assert!(html.contains("action=\"https://lms.test/return?a=1&amp;b=%27x%27\""));
        assert!(html.contains("value=\"a.b&quot;&lt;c\""));
        assert!(html.contains("name=\"JWT\""));
        assert!(html.contains("<noscript><button type=\"submit\">"));
    }
}
