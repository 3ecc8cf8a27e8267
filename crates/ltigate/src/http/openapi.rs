//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the app API and the admin API.
//!
//! The document is generated from the code: each API module builds its routes with
//! utoipa-axum's `OpenApiRouter`, which registers a handler and its `#[utoipa::path]`
//! description together, so the router the server runs and the document come from the same
//! calls. The line item wildcard is the one route axum cannot describe; its module adds the
//! two paths it serves by hand (see `ags`). Error responses are listed per route from the
//! code table (`errors`), so each status carries the codes it can give.
//!
//! It does not describe the LMS-facing routes (`/lti/...`) or the ops endpoints: those are
//! for platforms and probes, not API clients.

mod errors;
pub mod schemas;

use std::sync::LazyLock;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) use errors::*;

use super::AppState;

/// Security scheme names, as the handlers' `security(...)` attributes spell them.
const LTIK: &str = "ltik";
const SERVICE_KEY: &str = "serviceKey";
const API_KEY: &str = "apiKey";
const ADMIN_KEY: &str = "adminKey";

/// The route that serves the document.
pub fn routes() -> Router<AppState> {
    documented().into()
}

fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// The whole document: every documented router, merged as `http::router` merges them.
pub fn document() -> &'static OpenApi {
    static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(build);
    &DOCUMENT
}

/// The document as served, serialised once.
fn document_json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        // Serialising plain maps and strings cannot fail; an empty body would fail the tests.
        serde_json::to_string(document()).unwrap_or_default()
    });
    &JSON
}

fn build() -> OpenApi {
    // The error body and the schemas it refers to.
    let mut error_schemas = vec![(
        schemas::API_ERROR.to_owned(),
        <schemas::ApiErrorBody as PartialSchema>::schema(),
    )];
    <schemas::ApiErrorBody as ToSchema>::schemas(&mut error_schemas);
    let base = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("ltigate")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(LTIK, api_key_scheme(LTIK_DESCRIPTION))
                .security_scheme(SERVICE_KEY, api_key_scheme(SERVICE_KEY_DESCRIPTION))
                .security_scheme(API_KEY, bearer_scheme(API_KEY_DESCRIPTION))
                .security_scheme(ADMIN_KEY, bearer_scheme(ADMIN_KEY_DESCRIPTION))
                .schemas_from_iter(error_schemas)
                .build(),
        ))
        .build();
    OpenApiRouter::<AppState>::with_openapi(base)
        .merge(super::api::documented())
        .merge(super::ags::documented())
        .merge(super::nrps::documented())
        .merge(super::deep_linking::documented())
        .merge(super::registration::documented())
        .merge(documented())
        .nest("/admin", super::admin::documented())
        .into_openapi()
}

const DESCRIPTION: &str = "The app API (compatible with the LTIAAS API: same paths, fields, \
    authorization headers and error shape) and the admin API of an ltigate server. Every error \
    answer is `{status, error, details{message, description}, requestId}`: `details.message` is \
    a stable SCREAMING_SNAKE code; each response below lists the codes it can carry.";

const LTIK_DESCRIPTION: &str = "`Authorization: LTIK-AUTH-V2 <API_KEY>:<LTIK>`: one launch. \
    The ltik is the `ltik` query parameter ltigate added to the app's launch URL; it reads for \
    `ltik_ttl` (24 hours by default). API_KEY is one of the app's API keys.";

const SERVICE_KEY_DESCRIPTION: &str = "`Authorization: SERVICE-AUTH-V1 <API_KEY>:<SERVICE_KEY>`: \
    background grade and roster sync for one context. The service key is \
    `services.serviceKey` of a launch's `/api/idtoken`; it does not expire and an administrator \
    can revoke it (`POST /admin/servicekeys/revoke`).";

const API_KEY_DESCRIPTION: &str = "`Authorization: Bearer <API_KEY>`: the app, outside a launch \
    (the intermediate page of Dynamic Registration).";

const ADMIN_KEY_DESCRIPTION: &str = "`Authorization: Bearer <ADMIN_KEY>`: the administrator. \
    The admin API answers `ADMIN_API_DISABLED` when no admin key is configured.";

/// The LTIAAS schemes are not HTTP auth schemes OpenAPI knows, so they are described as the
/// raw `Authorization` header.
fn api_key_scheme(description: &str) -> SecurityScheme {
    SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        "Authorization",
        description,
    )))
}

fn bearer_scheme(description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(description))
            .build(),
    )
}

/// This document. Public: it describes the API and holds no secret.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "getOpenApi",
    tag = "ops",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], document_json())
}
