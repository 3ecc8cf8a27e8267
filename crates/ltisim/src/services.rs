//! The LTI Advantage service endpoints over HTTP: the token endpoint, AGS 2.0, NRPS 2.0,
//! the gradebook page and the member pictures. Handlers check what a strict platform
//! checks (bearer token and its scope, IMS media types) and leave the rules to
//! [`crate::oauth`], [`crate::ags`] and [`crate::nrps`]. Every AGS / NRPS call is recorded
//! ([`ServiceRequestRecord`]) before anything else, and misbehaves on request
//! ([`Failure`]).

use crate::ags::{Ags, AgsError};
use crate::failure::{Failure, misbehave};
use crate::oauth::{
    Denied, OAuth, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_MEMBERSHIPS,
    SCOPE_RESULT_READONLY, SCOPE_SCORE,
};
use crate::paging::{Page, Paging};
use crate::platform::Platform;
use crate::{gradebook, nrps};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Json, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

const LINE_ITEM: &str = "application/vnd.ims.lis.v2.lineitem+json";
const LINE_ITEM_CONTAINER: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";
const SCORE: &str = "application/vnd.ims.lis.v1.score+json";
const RESULT_CONTAINER: &str = "application/vnd.ims.lis.v2.resultcontainer+json";
const MEMBERSHIP_CONTAINER: &str = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";
/// The largest service request body read.
const MAX_BODY: usize = 1024 * 1024;

/// One AGS or NRPS request as the simulator received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRequestRecord {
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub method: String,
    /// Path and query, e.g. `/ags/contexts/ltisim-course-1/lineitems?limit=2`.
    pub path: String,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    /// The token of `Authorization: Bearer <token>`, if the header had that form.
    pub bearer: Option<String>,
    /// The request body as text (lossy UTF-8).
    pub body: String,
}

/// Service state shared by the handlers and the Rust API.
pub(crate) struct Services {
    pub(crate) oauth: OAuth,
    pub(crate) ags: Ags,
    requests: Mutex<Vec<ServiceRequestRecord>>,
    failure: RwLock<Option<Failure>>,
    token_failure: RwLock<Option<Failure>>,
}

impl Services {
    pub(crate) fn new(base_url: &str) -> Self {
        Self {
            oauth: OAuth::new(),
            ags: Ags::new(base_url),
            requests: Mutex::new(Vec::new()),
            failure: RwLock::new(None),
            token_failure: RwLock::new(None),
        }
    }

    pub(crate) fn requests(&self) -> Vec<ServiceRequestRecord> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_failure(&self, failure: Option<Failure>) {
        *self.failure.write().unwrap_or_else(PoisonError::into_inner) = failure;
    }

    pub(crate) fn set_token_failure(&self, failure: Option<Failure>) {
        *self
            .token_failure
            .write()
            .unwrap_or_else(PoisonError::into_inner) = failure;
    }

    fn failure(&self) -> Option<Failure> {
        self.failure
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn token_failure(&self) -> Option<Failure> {
        self.token_failure
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The token endpoint (POST, form-encoded).
pub(crate) async fn token(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let failure = platform.services.token_failure();
    if let Some(response) = misbehave(failure, StatusCode::TEMPORARY_REDIRECT).await {
        return response;
    }
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    if !is_media(
        headers.get(header::CONTENT_TYPE),
        "application/x-www-form-urlencoded",
    ) {
        let body = json!({
            "error": "invalid_request",
            "error_description": "the token request must be application/x-www-form-urlencoded",
        });
        return (StatusCode::BAD_REQUEST, no_store, Json(body)).into_response();
    }
    match platform
        .services
        .oauth
        .token_request(&platform, &body)
        .await
    {
        Ok(answer) => (no_store, Json(answer)).into_response(),
        Err(error) => (error.status(), no_store, Json(error.body())).into_response(),
    }
}

/// A service request, read once.
struct Call {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    query: Vec<(String, String)>,
}

impl Call {
    /// The query parameters among `names` that were sent, in that order.
    fn filters<'a>(&'a self, names: &[&'static str]) -> Vec<(&'static str, &'a str)> {
        names
            .iter()
            .filter_map(|name| {
                let (_, value) = self.query.iter().find(|(key, _)| key == name)?;
                Some((*name, value.as_str()))
            })
            .collect()
    }

    /// The page of `items` the query asks for, linking to the others with `filters`.
    fn page<T: Clone>(
        &self,
        platform: &Platform,
        items: &[T],
        filters: &[(&str, &str)],
        default_limit: Option<usize>,
    ) -> Result<Page<T>, Early> {
        let paging = Paging::from_query(&self.query, default_limit)
            .map_err(|why| refusal(StatusCode::BAD_REQUEST, "invalid_request", &why))?;
        Ok(paging.apply(items, &platform.url(self.uri.path()), filters))
    }

    fn accepts(&self, media: &str) -> bool {
        self.headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|offered| is_media(HeaderValue::from_str(offered).ok().as_ref(), media))
    }

    fn sends(&self, media: &str) -> bool {
        is_media(self.headers.get(header::CONTENT_TYPE), media)
    }

    fn json(&self) -> Result<Value, Early> {
        serde_json::from_slice(&self.body).map_err(|_| {
            refusal(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body is not JSON",
            )
        })
    }
}

/// Whether a header value names `media` (parameters and case ignored).
fn is_media(value: Option<&HeaderValue>, media: &str) -> bool {
    value
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|named| named.trim().eq_ignore_ascii_case(media))
}

/// Reads and records the request, applies the failure knob, then checks the bearer token
/// has one of `scopes`.
async fn admit(platform: &Platform, request: Request, scopes: &[&str]) -> Result<Call, Early> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the body is too large",
        )
    })?;
    let query = url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let call = Call {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
        query,
    };
    let header = |name: header::HeaderName| {
        call.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header(header::AUTHORIZATION);
    let bearer = authorization
        .as_deref()
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    platform
        .services
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(ServiceRequestRecord {
            method: call.method.to_string(),
            path: call
                .uri
                .path_and_query()
                .map_or_else(|| call.uri.path().to_owned(), ToString::to_string),
            accept: header(header::ACCEPT),
            content_type: header(header::CONTENT_TYPE),
            bearer,
            body: String::from_utf8_lossy(&call.body).into_owned(),
        });
    if let Some(response) =
        misbehave(platform.services.failure(), StatusCode::TEMPORARY_REDIRECT).await
    {
        return Err(Early(Box::new(response)));
    }
    match platform
        .services
        .oauth
        .authorize(authorization.as_deref(), scopes)
    {
        Ok(()) => Ok(call),
        Err(Denied::InvalidToken(status)) => {
            let mut response = refusal(
                status,
                "invalid_token",
                "the access token is missing, unknown, expired or revoked",
            );
            response.0.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            Err(response)
        }
        Err(Denied::InsufficientScope) => {
            let mut response = refusal(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                &format!("this call needs one of the scopes {}", scopes.join(" ")),
            );
            let challenge = format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                scopes.join(" ")
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .0
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            Err(response)
        }
    }
}

/// An answer decided before the handler's work is done (boxed: a `Response` is large).
struct Early(Box<Response>);

impl IntoResponse for Early {
    fn into_response(self) -> Response {
        *self.0
    }
}

fn refusal(status: StatusCode, error: &str, description: &str) -> Early {
    let body = json!({ "error": error, "error_description": description });
    Early(Box::new((status, Json(body)).into_response()))
}

fn not_acceptable(media: &str) -> Early {
    refusal(
        StatusCode::NOT_ACCEPTABLE,
        "not_acceptable",
        &format!("Accept must include {media}"),
    )
}

fn unsupported(media: &str) -> Early {
    refusal(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        &format!("Content-Type must be {media}"),
    )
}

fn ags_refusal(error: AgsError) -> Early {
    match error {
        AgsError::NotFound(why) => refusal(StatusCode::NOT_FOUND, "not_found", &why),
        AgsError::Invalid(why) => refusal(StatusCode::BAD_REQUEST, "invalid_request", &why),
    }
}

/// `body` as `media`, with `status` and, when paged, a `Link` header.
fn typed(status: StatusCode, media: &'static str, body: &Value, link: Option<String>) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response();
    if let Some(value) = link.and_then(|link| HeaderValue::from_str(&link).ok()) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// Context ids the simulator puts in URLs as they are.
fn known_context(context: &str) -> Result<(), Early> {
    let plain = !context.is_empty()
        && context
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if plain {
        Ok(())
    } else {
        Err(refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such context",
        ))
    }
}

/// Unwraps a step's early answer.
macro_rules! step {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(early) => return early.into_response(),
        }
    };
}

/// `GET /ags/contexts/{context}/lineitems` (AGS 2.0 §3.2.5), filtered and paged.
pub(crate) async fn list_line_items(
    State(platform): State<Arc<Platform>>,
    Path(context): Path<String>,
    request: Request,
) -> Response {
    let scopes = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY];
    let call = step!(admit(&platform, request, &scopes).await);
    step!(known_context(&context));
    if !call.accepts(LINE_ITEM_CONTAINER) {
        return not_acceptable(LINE_ITEM_CONTAINER).into_response();
    }
    let filters = call.filters(&["resource_link_id", "resource_id", "tag"]);
    let items = platform.services.ags.list(&context, &filters);
    let page = step!(call.page(&platform, &items, &filters, None));
    typed(
        StatusCode::OK,
        LINE_ITEM_CONTAINER,
        &json!(page.items),
        page.link,
    )
}

/// `POST /ags/contexts/{context}/lineitems` (AGS 2.0 §3.2.6).
pub(crate) async fn create_line_item(
    State(platform): State<Arc<Platform>>,
    Path(context): Path<String>,
    request: Request,
) -> Response {
    let call = step!(admit(&platform, request, &[SCOPE_LINEITEM]).await);
    step!(known_context(&context));
    if !call.sends(LINE_ITEM) {
        return unsupported(LINE_ITEM).into_response();
    }
    let body = step!(call.json());
    let created = step!(
        platform
            .services
            .ags
            .create(&context, body)
            .map_err(ags_refusal)
    );
    let mut response = typed(StatusCode::CREATED, LINE_ITEM, &created, None);
    if let Some(location) = created["id"]
        .as_str()
        .and_then(|id| HeaderValue::from_str(id).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `GET /ags/contexts/{context}/lineitems/{item}`
pub(crate) async fn get_line_item(
    State(platform): State<Arc<Platform>>,
    Path((context, item)): Path<(String, String)>,
    request: Request,
) -> Response {
    let scopes = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY];
    let call = step!(admit(&platform, request, &scopes).await);
    if !call.accepts(LINE_ITEM) {
        return not_acceptable(LINE_ITEM).into_response();
    }
    let found = step!(
        platform
            .services
            .ags
            .get(&context, &item)
            .map_err(ags_refusal)
    );
    typed(StatusCode::OK, LINE_ITEM, &found, None)
}

/// `PUT /ags/contexts/{context}/lineitems/{item}` (AGS 2.0 §3.2.8).
pub(crate) async fn put_line_item(
    State(platform): State<Arc<Platform>>,
    Path((context, item)): Path<(String, String)>,
    request: Request,
) -> Response {
    let call = step!(admit(&platform, request, &[SCOPE_LINEITEM]).await);
    if !call.sends(LINE_ITEM) {
        return unsupported(LINE_ITEM).into_response();
    }
    let body = step!(call.json());
    let replaced = step!(
        platform
            .services
            .ags
            .replace(&context, &item, body)
            .map_err(ags_refusal)
    );
    typed(StatusCode::OK, LINE_ITEM, &replaced, None)
}

/// `DELETE /ags/contexts/{context}/lineitems/{item}`
pub(crate) async fn delete_line_item(
    State(platform): State<Arc<Platform>>,
    Path((context, item)): Path<(String, String)>,
    request: Request,
) -> Response {
    step!(admit(&platform, request, &[SCOPE_LINEITEM]).await);
    step!(
        platform
            .services
            .ags
            .delete(&context, &item)
            .map_err(ags_refusal)
    );
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /ags/contexts/{context}/lineitems/{item}/scores` (AGS 2.0 §3.4).
pub(crate) async fn post_score(
    State(platform): State<Arc<Platform>>,
    Path((context, item)): Path<(String, String)>,
    request: Request,
) -> Response {
    let call = step!(admit(&platform, request, &[SCOPE_SCORE]).await);
    if !call.sends(SCORE) {
        return unsupported(SCORE).into_response();
    }
    let body = step!(call.json());
    step!(
        platform
            .services
            .ags
            .post_score(&context, &item, body)
            .map_err(ags_refusal)
    );
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /ags/contexts/{context}/lineitems/{item}/results` (AGS 2.0 §3.3), paged.
pub(crate) async fn results(
    State(platform): State<Arc<Platform>>,
    Path((context, item)): Path<(String, String)>,
    request: Request,
) -> Response {
    let call = step!(admit(&platform, request, &[SCOPE_RESULT_READONLY]).await);
    if !call.accepts(RESULT_CONTAINER) {
        return not_acceptable(RESULT_CONTAINER).into_response();
    }
    let filters = call.filters(&["user_id"]);
    let user = filters.first().map(|(_, user)| *user);
    let found = step!(
        platform
            .services
            .ags
            .results(&context, &item, user)
            .map_err(ags_refusal)
    );
    let page = step!(call.page(&platform, &found, &filters, None));
    typed(
        StatusCode::OK,
        RESULT_CONTAINER,
        &json!(page.items),
        page.link,
    )
}

/// `GET /nrps/contexts/{context}/memberships` (NRPS 2.0 §2.2-2.4), filtered and paged
/// (10 members a page unless `limit` says otherwise).
pub(crate) async fn memberships(
    State(platform): State<Arc<Platform>>,
    Path(context): Path<String>,
    request: Request,
) -> Response {
    let call = step!(admit(&platform, request, &[SCOPE_MEMBERSHIPS]).await);
    if !call.accepts(MEMBERSHIP_CONTAINER) {
        return not_acceptable(MEMBERSHIP_CONTAINER).into_response();
    }
    let Some(roster) = nrps::roster(platform.base_url(), &context) else {
        return refusal(StatusCode::NOT_FOUND, "not_found", "no such context").into_response();
    };
    let filters = call.filters(&["role", "rlid"]);
    let value = |name: &str| {
        filters
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, v)| *v)
    };
    let (role, rlid) = (value("role"), value("rlid"));
    let members: Vec<Value> = roster
        .into_iter()
        .filter(|member| role.is_none_or(|role| nrps::has_role(member, role)))
        .filter(|member| rlid.is_none_or(|rlid| nrps::reaches(member, rlid)))
        .collect();
    let page = step!(call.page(&platform, &members, &filters, Some(nrps::DEFAULT_PAGE_SIZE)));
    let request_url = platform.url(&call.uri.to_string());
    let body = nrps::container(&request_url, &context, page.items);
    typed(StatusCode::OK, MEMBERSHIP_CONTAINER, &body, page.link)
}

/// `GET /gradebook`: every line item's latest scores, for people.
pub(crate) async fn gradebook_page(State(platform): State<Arc<Platform>>) -> Response {
    let roster = nrps::roster(platform.base_url(), crate::claims::COURSE_ID).unwrap_or_default();
    let names = |user: &str| {
        roster
            .iter()
            .find(|member| member["user_id"] == user)
            .and_then(|member| member["name"].as_str())
            .map(str::to_owned)
    };
    Html(gradebook::page(&platform.services.ags.columns(), &names)).into_response()
}

/// `GET /avatars/{user_id}.svg`: the roster's pictures.
pub(crate) async fn avatar(
    State(platform): State<Arc<Platform>>,
    Path(file): Path<String>,
) -> Response {
    let picture = file
        .strip_suffix(".svg")
        .and_then(|user| nrps::avatar(platform.base_url(), user));
    match picture {
        Some(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
