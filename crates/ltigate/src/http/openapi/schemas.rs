//! Schemas of bodies that are not serialised from a Rust type of ltigate: the error shape
//! (built in `http::error`), the protocol core's AGS and deep linking types (`lti` stays free
//! of documentation dependencies) and the small answers built with `json!`.
//!
//! `tests/openapi.rs` checks real answers against these, so they cannot drift silently.

#![allow(dead_code)] // The fields are read by the schema derive, never by code.

use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The name of [`ApiErrorBody`] in `components.schemas`.
pub const API_ERROR: &str = "ApiError";

/// Every API error: `details.message` is the stable code.
#[derive(Debug, ToSchema)]
#[schema(as = ApiError)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorBody {
    /// The HTTP status.
    status: u16,
    /// The status's reason phrase (`Unauthorized`).
    error: String,
    details: ApiErrorDetails,
    /// The request id, as in the `x-request-id` header and the server log.
    request_id: String,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorDetails {
    /// The stable SCREAMING_SNAKE code.
    message: String,
    /// What happened, for a human.
    description: String,
    /// On AGS and NRPS calls: the platform's status, when the platform answered with an error.
    platform_status: Option<u16>,
    /// On AGS and NRPS calls: the platform's error body (at most 2000 characters).
    platform_body: Option<String>,
}

/// `GET /api/idtoken`: the formatted token, or with `?raw=true` the raw claims.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum IdTokenAnswer<'a> {
    Formatted(Box<crate::api_shape::IdToken<'a>>),
    Raw(RawIdToken),
}

/// The launch's claims as the platform sent them, plus `ltiVersion`.
#[derive(Debug, ToSchema)]
pub struct RawIdToken {
    #[serde(rename = "ltiVersion")]
    lti_version: String,
    /// Always there: a launch without it was refused.
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/message_type")]
    message_type: String,
    #[serde(flatten)]
    claims: Map<String, Value>,
}

/// An AGS 2.0 line item, as the platform sent it (platform extensions included, absent
/// values omitted). `id` is the line item URL, which `/api/lineitems/{id}` takes encoded.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    id: Option<String>,
    label: String,
    score_maximum: f64,
    resource_link_id: Option<String>,
    resource_id: Option<String>,
    tag: Option<String>,
    start_date_time: Option<String>,
    end_date_time: Option<String>,
    grades_released: Option<bool>,
}

/// A score for `POST /api/lineitems/{id}/scores` (AGS 2.0 §3.4). `user_id` is accepted for
/// `userId`; `timestamp` defaults to the time of the call; other members are passed on.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScoreBody {
    user_id: String,
    #[schema(pattern = "^(Initialized|Started|InProgress|Submitted|Completed)$")]
    activity_progress: String,
    #[schema(pattern = "^(FullyGraded|Pending|PendingManual|Failed|NotReady)$")]
    grading_progress: String,
    score_given: Option<f64>,
    score_maximum: Option<f64>,
    comment: Option<String>,
    timestamp: Option<String>,
    submission: Option<Value>,
}

/// An AGS result as LTIAAS gives it: `resultMaximum` is 1 when the platform left it out.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScoreResult {
    id: Option<String>,
    user_id: String,
    score_of: Option<String>,
    result_score: Option<f64>,
    result_maximum: Option<f64>,
    comment: Option<String>,
}

/// The body of `POST /api/deeplinking` and `/api/deeplinking/form`.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeepLinkingRequest {
    /// Deep Linking 2.0 content items (`type`, `url`, `title`, ...).
    content_items: Option<Vec<Map<String, Value>>>,
    options: Option<DeepLinkingOptions>,
}

/// Become the response's `msg`, `log`, `errormsg` and `errorlog`.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeepLinkingOptions {
    message: Option<String>,
    log: Option<String>,
    err_message: Option<String>,
    err_log: Option<String>,
}

/// The signed `LtiDeepLinkingResponse` and where to post it (field `JWT`).
#[derive(Debug, ToSchema)]
pub struct DeepLinkingMessage {
    /// The signed JWT.
    message: String,
    /// The platform's `deep_link_return_url`.
    target: String,
}

/// A self-submitting form that posts the response to the platform.
#[derive(Debug, ToSchema)]
pub struct DeepLinkingForm {
    /// HTML to put in the page.
    form: String,
}

/// What the platform offers, for the app's intermediate registration page.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationOffer {
    /// The platform's issuer.
    url: String,
    /// The platform's openid configuration URL the registration started from.
    configuration_url: String,
    family_code: Option<String>,
    version: Option<String>,
    supported_scopes: Vec<String>,
    supported_messages: Vec<SupportedMessage>,
}

#[derive(Debug, ToSchema)]
pub struct SupportedMessage {
    #[serde(rename = "type")]
    message_type: String,
    placements: Option<Vec<String>>,
}

/// The registration is done.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationCompleted {
    /// ltigate's id of the new (or existing) platform.
    platform_id: String,
    #[schema(pattern = "^(active|pending|inactive)$")]
    status: String,
    /// A script that closes the LMS's registration dialog.
    html: String,
}

/// `GET /admin/platforms`.
#[derive(Debug, ToSchema)]
pub struct PlatformList {
    #[schema(value_type = Vec<crate::http::admin::PlatformView>)]
    platforms: Vec<Value>,
}
