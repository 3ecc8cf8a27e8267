//! Names and Role Provisioning Services for the app: one page of the memberships of the
//! context a call may reach.
//!
//! Before anything leaves ltigate: the launch (or service key) must carry the NRPS claim, and
//! a `url` page the app names must be on the same origin and path as that claim's
//! `context_memberships_url`. The request asks for the membership container media type; the
//! next page comes from the platform's `Link` header.

use url::Url;

use lti::nrps::{
    MEMBERSHIP_CONTAINER_MEDIA_TYPE, MembershipContainer, MembershipsQuery,
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
};

use super::ServiceContext;
use super::endpoint::{MAX_PAGE_BYTES, endpoint_url, json_body, page_links, same_endpoint};
use super::tokens::{ServiceCallError, ServiceClient};
use crate::code::Code;
use crate::outbound::Request;

/// Why an NRPS call was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NrpsServiceError {
    #[error("the launch carries no Names and Role Provisioning Services claim with a usable URL")]
    NotAvailable,
    #[error("the URL is not on this context's memberships endpoint")]
    UrlNotAllowed,
    #[error("the platform's answer is not a valid membership container")]
    AnswerInvalid(#[source] serde_json::Error),
    #[error(transparent)]
    Call(#[from] ServiceCallError),
}

impl NrpsServiceError {
    /// The stable code.
    pub fn code(&self) -> Code {
        match self {
            Self::NotAvailable => Code::ServiceNotAvailable,
            Self::UrlNotAllowed => Code::UrlNotAllowed,
            Self::AnswerInvalid(_) => Code::ServiceAnswerInvalid,
            Self::Call(e) => e.code(),
        }
    }
}

/// One page of memberships as the platform sent it.
#[derive(Debug)]
pub struct MembershipsAnswer {
    pub page: MembershipContainer,
    /// The URL that answered.
    pub read_from: Url,
    /// The platform's next page, if any.
    pub next: Option<String>,
}

/// One page of the memberships of `ctx`: the filtered list, or the `url` page.
pub async fn memberships(
    client: &ServiceClient,
    ctx: &ServiceContext,
    filters: &MembershipsQuery,
    url: Option<Url>,
) -> Result<MembershipsAnswer, NrpsServiceError> {
    let endpoint = ctx
        .nrps
        .as_ref()
        .and_then(|claim| endpoint_url(&claim.context_memberships_url))
        .ok_or(NrpsServiceError::NotAvailable)?;
    let url = match url {
        Some(url) if same_endpoint(&url, &endpoint) => url,
        Some(_) => return Err(NrpsServiceError::UrlNotAllowed),
        None => filters.apply(&endpoint),
    };
    let request = Request::get(url.as_str())
        .accept(MEMBERSHIP_CONTAINER_MEDIA_TYPE)
        .max_bytes(MAX_PAGE_BYTES);
    let response = client
        .send(&ctx.platform, &[SCOPE_CONTEXT_MEMBERSHIP_READONLY], request)
        .await?;
    let page = json_body(&response).map_err(NrpsServiceError::AnswerInvalid)?;
    Ok(MembershipsAnswer {
        page,
        next: page_links(&response).next,
        read_from: response.final_url,
    })
}
