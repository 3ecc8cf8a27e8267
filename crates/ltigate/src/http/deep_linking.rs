//! `POST /api/deeplinking` and `POST /api/deeplinking/form` (LTIAAS): the app hands over the
//! content items a user picked in a deep linking launch and gets the signed response, either
//! as `{message, target}` to post itself or as a ready self-submitting `{form}`.

use askama::Template;
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
    let form = AutoPostForm {
        action: signed.return_url.as_str(),
        jwt: &signed.jwt,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({ "form": form })))
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
/// does. The return URL came from the platform: the template escapes it like any value.
#[derive(Template)]
#[template(path = "deep_linking_form.html")]
struct AutoPostForm<'a> {
    action: &'a str,
    jwt: &'a str,
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
        // A return URL is parsed (so `"`, `<`, `'` arrive percent-encoded), but the template
        // must hold even for raw text.
        let form = AutoPostForm {
            action: "https://lms.test/return?a=1&b=\"><script>alert(1)</script>'",
            jwt: "a.b\"<c'",
        }
        .render()
        .unwrap();
        assert!(
            form.contains(
                "action=\"https://lms.test/return?a=1&#38;b=&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;\""
            ),
            "{form}"
        );
        assert!(form.contains("value=\"a.b&#34;&#60;c&#39;\""), "{form}");
        assert_eq!(
            form.matches("<script>").count(),
            1,
            "only the submit script"
        );
        assert!(form.contains("name=\"JWT\""));
        assert!(form.contains("<noscript><button type=\"submit\">"));
    }
}
