//! Assignment and Grade Services for the app: line items, scores and results of the context
//! a call may reach, sent to the platform with an access token.
//!
//! Each call checks, before anything leaves ltigate: that the launch (or service key) carries
//! the AGS endpoint claim, that the claim grants a scope the operation needs, and that every
//! URL the app named is on that claim's endpoints (a line item under the context's line item
//! container or the launch's own line item; a `url` page on the same origin and path as the
//! endpoint it pages). Requests use the IMS media types exactly (Open edX answers 406/415 to
//! anything else); paging comes from the platform's `Link` headers.
//!
//! It does not shape answers for the app (`api_shape`) nor know HTTP routes (`http::ags`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use url::Url;

use lti::ags::{
    self, AgsResult, LINEITEM_CONTAINER_MEDIA_TYPE, LINEITEM_MEDIA_TYPE, LineItem, LineItemsQuery,
    RESULT_CONTAINER_MEDIA_TYPE, ResultsQuery, SCORE_MEDIA_TYPE, scope,
};
use lti::claims::AgsEndpoint;
use lti::paging::Links;

use super::ServiceContext;
use super::endpoint::{
    MAX_PAGE_BYTES, endpoint_url, json_body, page_links, same_endpoint, under_container,
};
use super::tokens::{ServiceCallError, ServiceClient};
use crate::api_shape::lineitems::{LineItemBodyError, app_line_item};
use crate::api_shape::scores::{ScoreBodyError, app_score};
use crate::api_shape::service_url::LineItemRef;
use crate::code::Code;
use crate::outbound::{Body, Request, Response};

/// The AGS scopes ltigate knows; a token is asked for those of them the launch grants, so
/// every AGS call of a context shares one cached token.
const AGS_SCOPES: [&str; 4] = [
    scope::LINEITEM,
    scope::LINEITEM_READONLY,
    scope::SCORE,
    scope::RESULT_READONLY,
];

/// Why an AGS call was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgsServiceError {
    #[error("the launch carries no Assignment and Grade Services claim")]
    NotAvailable,
    #[error("the launch's Assignment and Grade Services claim has no {0} URL")]
    EndpointMissing(&'static str),
    #[error("the launch does not grant the scope {0}")]
    ScopeNotGranted(&'static str),
    #[error("the URL is not on this context's Assignment and Grade Services endpoint")]
    UrlNotAllowed,
    #[error(transparent)]
    LineItemBody(#[from] LineItemBodyError),
    #[error(transparent)]
    ScoreBody(#[from] ScoreBodyError),
    #[error("the platform's answer is not a valid {what}")]
    AnswerInvalid {
        what: &'static str,
        #[source]
        cause: serde_json::Error,
    },
    #[error("the request body could not be encoded")]
    Encode(#[source] crate::outbound::FetchError),
    #[error(transparent)]
    Call(#[from] ServiceCallError),
}

impl AgsServiceError {
    /// The stable code.
    pub fn code(&self) -> Code {
        match self {
            Self::NotAvailable | Self::EndpointMissing(_) => Code::ServiceNotAvailable,
            Self::ScopeNotGranted(_) => Code::ScopeNotGranted,
            Self::UrlNotAllowed => Code::UrlNotAllowed,
            Self::LineItemBody(LineItemBodyError::Shape(_)) => Code::InvalidBody,
            Self::LineItemBody(LineItemBodyError::Rule(e)) => rule_code(e),
            Self::ScoreBody(e) if e.is_missing() => Code::MissingField,
            Self::ScoreBody(ScoreBodyError::NotAnObject) => Code::InvalidBody,
            Self::ScoreBody(_) => Code::InvalidField,
            Self::AnswerInvalid { .. } => Code::ServiceAnswerInvalid,
            Self::Encode(_) => Code::InternalError,
            Self::Call(e) => e.code(),
        }
    }
}

fn rule_code(e: &ags::AgsError) -> Code {
    match e {
        ags::AgsError::MissingField { .. } => Code::MissingField,
        _ => Code::InvalidField,
    }
}

/// One page of a container, with the platform's paging links.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub links: Links,
}

/// The AGS of one context: built only when the call's context carries the AGS claim.
#[derive(Debug)]
pub struct Ags<'a> {
    client: &'a ServiceClient,
    ctx: &'a ServiceContext,
    claim: &'a AgsEndpoint,
}

impl<'a> Ags<'a> {
    /// The AGS of `ctx`, or `NotAvailable` when its launch carried no AGS claim.
    pub fn of(client: &'a ServiceClient, ctx: &'a ServiceContext) -> Result<Self, AgsServiceError> {
        let claim = ctx.ags.as_ref().ok_or(AgsServiceError::NotAvailable)?;
        Ok(Self { client, ctx, claim })
    }

    /// One page of the context's line items: the filtered container, or the `url` page.
    pub async fn line_items(
        &self,
        filters: &LineItemsQuery,
        url: Option<Url>,
    ) -> Result<Page<LineItem>, AgsServiceError> {
        self.require(&[scope::LINEITEM_READONLY, scope::LINEITEM])?;
        let container = self.container()?;
        let url = match url {
            Some(url) if same_endpoint(&url, &container) => url,
            Some(_) => return Err(AgsServiceError::UrlNotAllowed),
            None => filters.apply(&container),
        };
        let request = Request::get(url.as_str())
            .accept(LINEITEM_CONTAINER_MEDIA_TYPE)
            .max_bytes(MAX_PAGE_BYTES);
        let response = self.send(request).await?;
        Ok(Page {
            items: read(&response, "line item container")?,
            links: page_links(&response),
        })
    }

    /// Creates a line item in the context's container from the app's body.
    pub async fn create_line_item(&self, body: Value) -> Result<LineItem, AgsServiceError> {
        self.require(&[scope::LINEITEM])?;
        let item = app_line_item(body)?;
        let container = self.container()?;
        let request = Request::post(container.as_str())
            .accept(LINEITEM_MEDIA_TYPE)
            .content_type(LINEITEM_MEDIA_TYPE)
            .body(Body::json(&item).map_err(AgsServiceError::Encode)?);
        read(&self.send(request).await?, "line item")
    }

    /// One line item.
    pub async fn line_item(&self, item: &LineItemRef) -> Result<LineItem, AgsServiceError> {
        self.require(&[scope::LINEITEM_READONLY, scope::LINEITEM])?;
        let url = self.line_item_url(item)?;
        let request = Request::get(url.as_str()).accept(LINEITEM_MEDIA_TYPE);
        read(&self.send(request).await?, "line item")
    }

    /// Replaces a line item with the app's body (its `id` is the URL it is sent to).
    pub async fn replace_line_item(
        &self,
        item: &LineItemRef,
        body: Value,
    ) -> Result<LineItem, AgsServiceError> {
        self.require(&[scope::LINEITEM])?;
        let mut replacement = app_line_item(body)?;
        let url = self.line_item_url(item)?;
        replacement.id = Some(url.to_string());
        let request = Request::put(url.as_str())
            .accept(LINEITEM_MEDIA_TYPE)
            .content_type(LINEITEM_MEDIA_TYPE)
            .body(Body::json(&replacement).map_err(AgsServiceError::Encode)?);
        read(&self.send(request).await?, "line item")
    }

    /// Deletes a line item.
    pub async fn delete_line_item(&self, item: &LineItemRef) -> Result<(), AgsServiceError> {
        self.require(&[scope::LINEITEM])?;
        let url = self.line_item_url(item)?;
        self.send(Request::delete(url.as_str())).await?;
        Ok(())
    }

    /// Posts the app's score to a line item, stamped `now_millis` unless the app stamped it.
    pub async fn post_score(
        &self,
        item: &LineItemRef,
        body: Value,
        now_millis: u64,
    ) -> Result<(), AgsServiceError> {
        self.require(&[scope::SCORE])?;
        let score = app_score(body, ags::rfc3339_millis(unique_millis(now_millis)))?;
        let url = ags::scores_url(&self.line_item_url(item)?);
        let request = Request::post(url.as_str())
            .content_type(SCORE_MEDIA_TYPE)
            .body(Body::json(&score).map_err(AgsServiceError::Encode)?);
        self.send(request).await?;
        Ok(())
    }

    /// One page of a line item's results: the filtered results, or the `url` page.
    pub async fn results(
        &self,
        item: &LineItemRef,
        filters: &ResultsQuery,
        url: Option<Url>,
    ) -> Result<Page<AgsResult>, AgsServiceError> {
        self.require(&[scope::RESULT_READONLY])?;
        let lineitem = self.line_item_url(item)?;
        let url = match url {
            Some(url) if same_endpoint(&url, &ags::results_url(&lineitem)) => url,
            Some(_) => return Err(AgsServiceError::UrlNotAllowed),
            None => filters.apply(&lineitem),
        };
        let request = Request::get(url.as_str())
            .accept(RESULT_CONTAINER_MEDIA_TYPE)
            .max_bytes(MAX_PAGE_BYTES);
        let response = self.send(request).await?;
        Ok(Page {
            items: read(&response, "result container")?,
            links: page_links(&response),
        })
    }

    /// `Ok` when the claim grants any of `scopes` (the first is the one named otherwise).
    fn require(&self, scopes: &[&'static str]) -> Result<(), AgsServiceError> {
        if scopes.iter().any(|s| self.grants(s)) {
            return Ok(());
        }
        Err(AgsServiceError::ScopeNotGranted(
            scopes.first().copied().unwrap_or(scope::LINEITEM),
        ))
    }

    fn grants(&self, scope: &str) -> bool {
        self.claim.scope.iter().any(|g| g == scope)
    }

    fn container(&self) -> Result<Url, AgsServiceError> {
        self.claim
            .lineitems
            .as_deref()
            .and_then(endpoint_url)
            .ok_or(AgsServiceError::EndpointMissing("lineitems"))
    }

    fn own_line_item(&self) -> Option<Url> {
        self.claim.lineitem.as_deref().and_then(endpoint_url)
    }

    /// The URL of a line item the app named: `default` is the launch's own; any other must
    /// be the launch's own or lie under the context's container.
    fn line_item_url(&self, item: &LineItemRef) -> Result<Url, AgsServiceError> {
        match item {
            LineItemRef::Default => self
                .own_line_item()
                .ok_or(AgsServiceError::EndpointMissing("lineitem")),
            LineItemRef::Url(url) => {
                let own = self
                    .own_line_item()
                    .is_some_and(|own| same_endpoint(url, &own) && url.query() == own.query());
                let in_container = self
                    .claim
                    .lineitems
                    .as_deref()
                    .and_then(endpoint_url)
                    .is_some_and(|c| under_container(url, &c));
                if own || in_container {
                    Ok(url.clone())
                } else {
                    Err(AgsServiceError::UrlNotAllowed)
                }
            }
        }
    }

    async fn send(&self, request: Request) -> Result<Response, AgsServiceError> {
        let scopes: Vec<&str> = AGS_SCOPES.into_iter().filter(|s| self.grants(s)).collect();
        Ok(self
            .client
            .send(&self.ctx.platform, &scopes, request)
            .await?)
    }
}

fn read<T: serde::de::DeserializeOwned>(
    response: &Response,
    what: &'static str,
) -> Result<T, AgsServiceError> {
    json_body(response).map_err(|cause| AgsServiceError::AnswerInvalid { what, cause })
}

/// The last millisecond handed out by this process.
static LAST_MILLIS: AtomicU64 = AtomicU64::new(0);

/// `now_millis`, or one past the last stamp this process gave: two scores posted in the same
/// millisecond still get distinct timestamps (Open edX refuses a repeated one).
fn unique_millis(now_millis: u64) -> u64 {
    let mut last = LAST_MILLIS.load(Ordering::Relaxed);
    loop {
        let next = now_millis.max(last.saturating_add(1));
        match LAST_MILLIS.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_unique_and_never_go_back() {
        let a = unique_millis(1_000);
        let b = unique_millis(1_000);
        assert!(b > a);
        assert!(unique_millis(5) > b);
    }
}
