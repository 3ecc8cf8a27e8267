//! The LTIAAS line item and score routes: `GET|POST /api/lineitems`,
//! `GET|PUT|DELETE /api/lineitems/{id}` and `GET|POST /api/lineitems/{id}/scores`.
//!
//! One wildcard route serves a line item and its scores: the id is the platform's line item
//! URL, which clients encode in several ways (some leave its `/` unencoded), so the handler
//! reads the raw path and dispatches on a trailing `/scores` (`api_shape::service_url`).
//! OpenAPI cannot describe such a wildcard, so the document has the two paths it serves,
//! `/api/lineitems/{id}` and `/api/lineitems/{id}/scores`, added by hand ([`LineItemPaths`]).

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use lti::ags::{LineItemsQuery, ResultsQuery};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::openapi::AgsErrors;
use super::openapi::schemas::{LineItem, ScoreBody};
use super::service_auth::ServiceAuth;
use crate::api_shape::lineitems::{LineItemBodyError, LineItemsPage, line_items_page};
use crate::api_shape::scores::{ScoresPage, scores_page};
use crate::api_shape::service_url::{LineItemPath, parse_lineitem_path, parse_paging_url};
use crate::code::Code;
use crate::services::ags::{Ags, AgsServiceError};

const PREFIX: &str = "/api/lineitems/";

pub fn routes() -> Router<AppState> {
    documented().into()
}

/// The routes with their OpenAPI description (`openapi`).
pub(super) fn documented() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(create))
        .route(
            "/api/lineitems/{*id}",
            get(read_one).put(replace).delete(remove).post(post_score),
        );
    router.get_openapi_mut().merge(LineItemPaths::openapi());
    router
}

/// What the wildcard route serves, as OpenAPI paths.
#[derive(OpenApi)]
#[openapi(paths(read_one, read_scores_doc, replace, remove, post_score))]
struct LineItemPaths;

/// The line item URL in the path, and why it is not a plain segment.
const ID_DOC: &str = "The line item's id, which is the platform's line item URL,     percent-encoded (`encodeURIComponent`). Clients that leave its `/` unencoded are served     too: the route takes the rest of the path and strips a trailing `/scores`.";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    resource_link_id: Option<String>,
    resource_id: Option<String>,
    tag: Option<String>,
    limit: Option<u32>,
    url: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ResultsParams {
    user_id: Option<String>,
    #[serde(rename = "user_id")]
    user_id_snake: Option<String>,
    limit: Option<u32>,
    url: Option<String>,
}

/// `GET /api/lineitems`.
#[utoipa::path(
    get,
    path = "/api/lineitems",
    operation_id = "listLineItems",
    tag = "grades",
    security(("ltik" = []), ("serviceKey" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One platform page of line items; `next` goes back as `url`.", body = LineItemsPage),
        AgsErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    ServiceAuth(ctx): ServiceAuth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let url = paging_url(query.url.as_deref())?;
    let filters = LineItemsQuery {
        resource_link_id: query.resource_link_id,
        resource_id: query.resource_id,
        tag: query.tag,
        limit: limit(query.limit)?,
    };
    let page = Ags::of(&state.services, &ctx)?
        .line_items(&filters, url)
        .await?;
    Ok(Json(line_items_page(page.items, page.links)).into_response())
}

/// `POST /api/lineitems`: 201 with the platform's line item.
#[utoipa::path(
    post,
    path = "/api/lineitems",
    operation_id = "createLineItem",
    tag = "grades",
    security(("ltik" = []), ("serviceKey" = [])),
    request_body = LineItem,
    responses(
        (status = 201, description = "The line item the platform created.", body = LineItem),
        AgsErrors,
    )
)]
async fn create(
    State(state): State<AppState>,
    ServiceAuth(ctx): ServiceAuth,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let item = Ags::of(&state.services, &ctx)?
        .create_line_item(body)
        .await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

/// `GET /api/lineitems/{id}` (a line item) and `GET /api/lineitems/{id}/scores` (its results).
#[utoipa::path(
    get,
    path = "/api/lineitems/{id}",
    operation_id = "getLineItem",
    tag = "grades",
    security(("ltik" = []), ("serviceKey" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    responses((status = 200, description = "The line item.", body = LineItem), AgsErrors)
)]
async fn read_one(
    State(state): State<AppState>,
    ServiceAuth(ctx): ServiceAuth,
    uri: Uri,
    ApiQuery(query): ApiQuery<ResultsParams>,
) -> Result<Response, ApiError> {
    let path = lineitem_path(&uri)?;
    let ags = Ags::of(&state.services, &ctx)?;
    if !path.scores {
        return Ok(Json(ags.line_item(&path.item).await?).into_response());
    }
    let url = paging_url(query.url.as_deref())?;
    let filters = ResultsQuery {
        user_id: query.user_id.or(query.user_id_snake),
        limit: limit(query.limit)?,
    };
    let page = ags.results(&path.item, &filters, url).await?;
    Ok(Json(scores_page(page.items, page.links)).into_response())
}

/// `PUT /api/lineitems/{id}`.
#[utoipa::path(
    put,
    path = "/api/lineitems/{id}",
    operation_id = "replaceLineItem",
    tag = "grades",
    security(("ltik" = []), ("serviceKey" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    request_body = LineItem,
    responses((status = 200, description = "The line item as the platform stored it.", body = LineItem), AgsErrors)
)]
async fn replace(
    State(state): State<AppState>,
    ServiceAuth(ctx): ServiceAuth,
    uri: Uri,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let path = item_only(&uri, &Method::PUT)?;
    let item = Ags::of(&state.services, &ctx)?
        .replace_line_item(&path.item, body)
        .await?;
    Ok(Json(item).into_response())
}

/// `DELETE /api/lineitems/{id}`: 204.
#[utoipa::path(
    delete,
    path = "/api/lineitems/{id}",
    operation_id = "deleteLineItem",
    tag = "grades",
    security(("ltik" = []), ("serviceKey" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    responses((status = 204, description = "Deleted at the platform."), AgsErrors)
)]
async fn remove(
    State(state): State<AppState>,
    ServiceAuth(ctx): ServiceAuth,
    uri: Uri,
) -> Result<Response, ApiError> {
    let path = item_only(&uri, &Method::DELETE)?;
    Ags::of(&state.services, &ctx)?
        .delete_line_item(&path.item)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/lineitems/{id}/scores`: 204.
#[utoipa::path(
    post,
    path = "/api/lineitems/{id}/scores",
    operation_id = "postScore",
    tag = "grades",
    security(("ltik" = []), ("serviceKey" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    request_body = ScoreBody,
    responses((status = 204, description = "The platform took the score."), AgsErrors)
)]
async fn post_score(
    State(state): State<AppState>,
    ServiceAuth(ctx): ServiceAuth,
    uri: Uri,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let path = lineitem_path(&uri)?;
    if !path.scores {
        return Err(ApiError::described(
            Code::InvalidParameter,
            "A line item accepts GET, PUT and DELETE; scores are posted to /api/lineitems/{id}/scores.",
        ));
    }
    Ags::of(&state.services, &ctx)?
        .post_score(&path.item, body, state.clock.now_millis())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/lineitems/{id}/scores`: served by [`read_one`], which the wildcard routes both
/// reads to; this function only carries the description.
#[utoipa::path(
    get,
    path = "/api/lineitems/{id}/scores",
    operation_id = "listScores",
    tag = "grades",
    security(("ltik" = []), ("serviceKey" = [])),
    params(("id" = String, Path, description = ID_DOC), ResultsParams),
    responses(
        (status = 200, description = "One platform page of results; `next` goes back as `url`.", body = ScoresPage),
        AgsErrors,
    )
)]
#[allow(dead_code)]
fn read_scores_doc() {}

/// The line item the raw path names (the router has only collapsed repeated slashes).
fn lineitem_path(uri: &Uri) -> Result<LineItemPath, ApiError> {
    let raw = uri.path().strip_prefix(PREFIX).unwrap_or_default();
    parse_lineitem_path(raw).map_err(|e| ApiError::described(Code::InvalidParameter, e.to_string()))
}

fn item_only(uri: &Uri, method: &Method) -> Result<LineItemPath, ApiError> {
    let path = lineitem_path(uri)?;
    if path.scores {
        return Err(ApiError::described(
            Code::InvalidParameter,
            format!("Scores accept GET and POST, not {method}."),
        ));
    }
    Ok(path)
}

pub(super) fn paging_url(value: Option<&str>) -> Result<Option<url::Url>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            parse_paging_url(v)
                .map_err(|e| ApiError::described(Code::InvalidParameter, e.to_string()))
        })
        .transpose()
}

/// `limit` is at least 1 (LTIAAS).
pub(super) fn limit(limit: Option<u32>) -> Result<Option<u32>, ApiError> {
    match limit {
        Some(0) => Err(ApiError::described(
            Code::InvalidParameter,
            "limit must be at least 1.",
        )),
        other => Ok(other),
    }
}

/// The caller is the app with a valid key for this context: the rule a body or URL broke is
/// described; the platform's own failures keep the service client's shape.
impl From<AgsServiceError> for ApiError {
    fn from(e: AgsServiceError) -> Self {
        match e {
            AgsServiceError::Call(e) => e.into(),
            AgsServiceError::Encode(_) => Self::internal(&e),
            AgsServiceError::AnswerInvalid { .. } => {
                let detail = crate::code::DisplayChain(&e).to_string();
                Self::described(e.code(), e.to_string()).with_detail(detail)
            }
            // serde's message may quote the body: logged, not echoed.
            AgsServiceError::LineItemBody(LineItemBodyError::Shape(ref cause)) => {
                Self::refused(e.code(), cause.to_string())
            }
            other => Self::described(other.code(), other.to_string()),
        }
    }
}
