//! The LTIAAS line item and score routes: `GET|POST /api/lineitems`,
//! `GET|PUT|DELETE /api/lineitems/{id}` and `GET|POST /api/lineitems/{id}/scores`.
//!
//! One wildcard route serves a line item and its scores: the id is the platform's line item
//! URL, which clients encode in several ways (some leave its `/` unencoded), so the handler
//! reads the raw path and dispatches on a trailing `/scores` (`api_shape::service_url`).

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use lti::ags::{LineItemsQuery, ResultsQuery};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::service_auth::ServiceAuth;
use crate::api_shape::lineitems::{LineItemBodyError, line_items_page};
use crate::api_shape::scores::scores_page;
use crate::api_shape::service_url::{LineItemPath, parse_lineitem_path, parse_paging_url};
use crate::code::Code;
use crate::services::ags::{Ags, AgsServiceError};

const PREFIX: &str = "/api/lineitems/";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/lineitems", get(list).post(create))
        .route(
            "/api/lineitems/{*id}",
            get(read_one).put(replace).delete(remove).post(post_score),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    resource_link_id: Option<String>,
    resource_id: Option<String>,
    tag: Option<String>,
    limit: Option<u32>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultsParams {
    user_id: Option<String>,
    #[serde(rename = "user_id")]
    user_id_snake: Option<String>,
    limit: Option<u32>,
    url: Option<String>,
}

/// `GET /api/lineitems`.
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
