//! The LTIAAS memberships route: `GET /api/memberships` (role, limit, resourceLinkId, url).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use lti::nrps::MembershipsQuery;

use super::AppState;
use super::ags::{limit, paging_url};
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::MembershipsErrors;
use super::service_auth::ServiceAuth;
use crate::api_shape::memberships::{MembershipsPage, memberships_page};
use crate::services::nrps::{NrpsServiceError, memberships};

pub fn routes() -> Router<AppState> {
    documented().into()
}

/// The routes with their OpenAPI description (`openapi`).
pub(super) fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct MembershipsParams {
    role: Option<String>,
    limit: Option<u32>,
    resource_link_id: Option<String>,
    url: Option<String>,
}

/// `GET /api/memberships`: one platform page, `next` to pass back as `url`.
#[utoipa::path(
    get,
    path = "/api/memberships",
    operation_id = "listMemberships",
    tag = "roster",
    security(("ltik" = []), ("serviceKey" = [])),
    params(MembershipsParams),
    responses(
        (status = 200, description = "One platform page of members; `next` goes back as `url`.", body = MembershipsPage),
        MembershipsErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    ServiceAuth(ctx): ServiceAuth,
    ApiQuery(query): ApiQuery<MembershipsParams>,
) -> Result<Response, ApiError> {
    let url = paging_url(query.url.as_deref())?;
    let filters = MembershipsQuery {
        role: query.role,
        limit: limit(query.limit)?,
        rlid: query.resource_link_id,
    };
    let answer = memberships(&state.services, &ctx, &filters, url).await?;
    let body = memberships_page(
        answer.page,
        answer.read_from.as_str(),
        ctx.context.as_ref(),
        answer.next,
    );
    Ok(Json(body).into_response())
}

impl From<NrpsServiceError> for ApiError {
    fn from(e: NrpsServiceError) -> Self {
        match e {
            NrpsServiceError::Call(e) => e.into(),
            NrpsServiceError::AnswerInvalid(_) => {
                let detail = crate::code::DisplayChain(&e).to_string();
                Self::described(e.code(), e.to_string()).with_detail(detail)
            }
            other => Self::described(other.code(), other.to_string()),
        }
    }
}
