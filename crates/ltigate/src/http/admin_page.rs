//! The admin web page at `/admin/`: sign in with the admin key, then see platforms, pending
//! registrations and changes, the tool keys and this node's launch refusals, and act on them
//! through the same services as the admin API (`Platforms`, the key ring).
//!
//! Server-rendered (askama templates under `templates/admin/`, escaped by default), no
//! script. Every POST checks the `Origin` (when sent), the session cookie and the session's
//! CSRF token before it changes anything, then redirects back to the overview with a flash
//! message (POST-redirect-GET). The page is off (404) when no admin key is configured.

pub mod session;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, ORIGIN, REFERRER_POLICY,
    RETRY_AFTER, SET_COOKIE, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub use session::AdminSessions;
use session::{COOKIE as SESSION_COOKIE, KeyRefused, LIFETIME_SECS, Session};

use super::extract::ClientIp;
use super::{AppState, codes, cookie};
use crate::code::Code;
use crate::platforms::PlatformRecord;
use crate::secret::KeyHash;
use crate::store::{PlatformFilter, PlatformStatus};

/// The page never loads anything but its own stylesheet, posts only to itself and is never
/// framed (clickjacking of its buttons).
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";
const HOME: &str = "/admin/";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { see_other(HOME) }))
        .route(HOME, get(overview).post(sign_in))
        .route("/admin/ui/admin.css", get(stylesheet))
        .route("/admin/ui/signout", post(sign_out))
        .route("/admin/ui/keys/rotate", post(rotate_key))
        .route("/admin/ui/platforms/{id}/{action}", post(platform_action))
        .layer(from_fn(page_headers))
}

/// Headers of every answer of the page, refusals included.
async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    // Not `no-referrer`: with it Chromium posts the page's own forms with `Origin: null`.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Why a page request is answered with something other than the page.
#[derive(Debug)]
enum Refusal {
    /// No admin key is configured: the page does not exist.
    Off,
    Code(Code),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Off => StatusCode::NOT_FOUND.into_response(),
            Self::Code(code) => {
                let public = codes::public(code);
                let page = RefusalPage {
                    code: code.as_str(),
                    sentence: public.sentence,
                    advice: public.advice,
                };
                (public.status, html(&page)).into_response()
            }
        }
    }
}

/// The configured admin key: the page is on.
#[derive(Debug)]
struct AdminOn(KeyHash);

impl FromRequestParts<AppState> for AdminOn {
    type Rejection = Refusal;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        state.admin_key.clone().map(AdminOn).ok_or(Refusal::Off)
    }
}

/// The admin's session, when the request carries a valid one.
fn session_of(headers: &HeaderMap, state: &AppState, admin_key: &KeyHash) -> Option<Session> {
    let value = cookie::read(headers, SESSION_COOKIE)?;
    state
        .admin_sessions
        .open(&value, admin_key, state.clock.now())
}

/// A form POST that may change something: from this site (when the browser says), by a
/// signed-in admin, with the session's CSRF token.
#[derive(Debug)]
struct Checked;

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

impl FromRequest<AppState> for Checked {
    type Rejection = Refusal;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Refusal> {
        let (mut parts, body) = request.into_parts();
        let AdminOn(admin_key) = AdminOn::from_request_parts(&mut parts, state).await?;
        check_origin(&parts.headers, state)?;
        let session = session_of(&parts.headers, state, &admin_key)
            .ok_or(Refusal::Code(Code::AdminSignInRequired))?;
        let request = Request::from_parts(parts, body);
        let presented = match Form::<CsrfForm>::from_request(request, state).await {
            Ok(Form(form)) => form.csrf.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if !state.admin_sessions.check_csrf(&session, &presented) {
            return Err(Refusal::Code(Code::CsrfTokenInvalid));
        }
        Ok(Self)
    }
}

/// A browser says where a form was posted from; it must be this tool's own origin.
fn check_origin(headers: &HeaderMap, state: &AppState) -> Result<(), Refusal> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let own = state.config.public_url().origin().ascii_serialization();
    if origin.as_bytes() == own.as_bytes() {
        Ok(())
    } else {
        Err(Refusal::Code(Code::OriginNotAllowed))
    }
}

/// The session cookie carrying `value` for `max_age` seconds (0 clears it).
fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.config.public_url().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={value}; Path=/admin; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    )
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

fn html(page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => ([(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "admin page template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn stylesheet(_: AdminOn) -> Response {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/admin/admin.css"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage {
    error: Option<&'static str>,
    /// "You are signed out." after signing out.
    signed_out: bool,
}

#[derive(Template)]
#[template(path = "admin/refusal.html")]
struct RefusalPage {
    code: &'static str,
    sentence: &'static str,
    advice: &'static str,
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    admin_key: Option<String>,
}

/// Checks the admin key exactly as the admin API does (against its stored hash, within the
/// same per-client limit of wrong keys); a wrong key gets the form again with one fixed
/// sentence, an address over the limit the refusal page with `Retry-After`.
async fn sign_in(
    AdminOn(admin_key): AdminOn,
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Result<Response, Refusal> {
    check_origin(&headers, &state)?;
    let presented = form
        .ok()
        .and_then(|Form(f)| f.admin_key)
        .unwrap_or_default();
    match state
        .admin_sessions
        .check_key(&admin_key, &presented, client)
    {
        Ok(()) => {}
        Err(KeyRefused::Invalid) => {
            tracing::warn!(code = %Code::InvalidAdminKey, "admin page sign-in refused");
            let page = SignInPage {
                error: Some(codes::public(Code::InvalidAdminKey).sentence),
                signed_out: false,
            };
            return Ok((StatusCode::UNAUTHORIZED, html(&page)).into_response());
        }
        Err(KeyRefused::RateLimited(limited)) => {
            let code = Code::AdminSignInRateLimited;
            tracing::warn!(%code, client = ?client, "admin page sign-in over the rate limit");
            let mut page = Refusal::Code(code).into_response();
            page.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(limited.retry_after_secs()));
            return Ok(page);
        }
    }
    let value = state.admin_sessions.issue(&admin_key, state.clock.now());
    let cookie = session_cookie(&state, &value, LIFETIME_SECS);
    let mut response = see_other(HOME);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    Ok(response)
}

/// Ends the session in this browser (the cookie is cleared; see [`session`]).
async fn sign_out(State(state): State<AppState>, _: Checked) -> Response {
    let mut response = see_other(&flash_url(Flash::SignedOut));
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&state, "", 0)) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

/// A message shown once after an action (fixed texts: nothing from the request is echoed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flash {
    Activated,
    Deactivated,
    Approved,
    Rejected,
    ChangeApproved,
    ChangeRejected,
    KeyRotated,
    NotPending,
    SignedOut,
}

impl Flash {
    const ALL: [Flash; 9] = [
        Self::Activated,
        Self::Deactivated,
        Self::Approved,
        Self::Rejected,
        Self::ChangeApproved,
        Self::ChangeRejected,
        Self::KeyRotated,
        Self::NotPending,
        Self::SignedOut,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::Activated => "activated",
            Self::Deactivated => "deactivated",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::ChangeApproved => "change-approved",
            Self::ChangeRejected => "change-rejected",
            Self::KeyRotated => "key-rotated",
            Self::NotPending => "not-pending",
            Self::SignedOut => "signed-out",
        }
    }

    fn sentence(self) -> &'static str {
        match self {
            Self::Activated => "The platform is active: it can launch the tool.",
            Self::Deactivated => "The platform is inactive: its launches are refused.",
            Self::Approved => "The registration is approved: the platform is active.",
            Self::Rejected => "The registration is rejected: the platform is deleted.",
            Self::ChangeApproved => "The new settings of the re-registration are applied.",
            Self::ChangeRejected => "The re-registration is dropped: the platform is unchanged.",
            Self::KeyRotated => {
                "A new tool key is published; it signs once the rotation delay has passed."
            }
            Self::NotPending => "Only a pending registration can be rejected.",
            Self::SignedOut => "You are signed out.",
        }
    }

    fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }
}

fn flash_url(flash: Flash) -> String {
    format!("{HOME}?flash={}", flash.key())
}

fn error_url(code: Code) -> String {
    format!("{HOME}?error={}", code.as_str())
}

/// The overview's query: the flash of the action that redirected here.
#[derive(Debug, Deserialize)]
struct OverviewQuery {
    flash: Option<String>,
    error: Option<String>,
}

/// A message on the overview: a fixed sentence, good news or a refusal.
#[derive(Debug)]
struct Notice {
    text: &'static str,
    code: Option<&'static str>,
}

impl OverviewQuery {
    fn notice(&self) -> Option<Notice> {
        if let Some(code) = self.error.as_deref().and_then(parse_code) {
            return Some(Notice {
                text: codes::public(code).sentence,
                code: Some(code.as_str()),
            });
        }
        let flash = Flash::parse(self.flash.as_deref()?)?;
        Some(Notice {
            text: flash.sentence(),
            code: None,
        })
    }
}

fn parse_code(text: &str) -> Option<Code> {
    Code::ALL.iter().copied().find(|c| c.as_str() == text)
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    csrf: String,
    notice: Option<Notice>,
    signed_in_until: String,
    register_url: String,
    pending: Vec<PlatformRow>,
    changes: Vec<ChangeRow>,
    platforms: Vec<PlatformRow>,
    keys: Vec<KeyRow>,
    refusals: Vec<RefusalRow>,
}

#[derive(Debug)]
struct PlatformRow {
    id: String,
    name: String,
    issuer: String,
    client_id: String,
    status: &'static str,
    deployments: Vec<String>,
    registered: String,
    /// When it first and last launched, or "never": a registration is proven by a launch.
    first_launch: String,
    last_launch: String,
}

#[derive(Debug)]
struct ChangeRow {
    id: String,
    name: String,
    issuer: String,
    auth_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    proposed: String,
}

#[derive(Debug)]
struct KeyRow {
    kid: String,
    state: &'static str,
    created: String,
    activates: String,
    retires: String,
}

#[derive(Debug)]
struct RefusalRow {
    code: &'static str,
    count: u64,
    last: String,
}

/// `unix` as `2026-12-01 14:00:00 UTC`.
fn time(unix: i64) -> String {
    let stamp = lti::ags::rfc3339_millis(u64::try_from(unix).unwrap_or(0) * 1000);
    format!(
        "{} UTC",
        stamp.replacen('T', " ", 1).trim_end_matches(".000Z")
    )
}

impl PlatformRow {
    fn of(r: &PlatformRecord) -> Self {
        let p = &r.platform;
        Self {
            id: p.id.clone(),
            name: p.settings.name.clone(),
            issuer: p.settings.issuer.as_str().to_owned(),
            client_id: p.settings.client_id.as_str().to_owned(),
            status: p.settings.status.as_str(),
            deployments: p.settings.deployment_ids.clone(),
            registered: time(p.created_at),
            first_launch: p.activity.first_at.map_or_else(|| "never".to_owned(), time),
            last_launch: p.activity.last_at.map_or_else(|| "never".to_owned(), time),
        }
    }
}

/// `GET /admin/`: the sign-in form, or the overview for a signed-in admin.
async fn overview(
    AdminOn(admin_key): AdminOn,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let Some(session) = session_of(&headers, &state, &admin_key) else {
        let signed_out = query.flash.as_deref().and_then(Flash::parse) == Some(Flash::SignedOut);
        return html(&SignInPage {
            error: None,
            signed_out,
        });
    };
    match overview_page(&state, &session, query.notice()).await {
        Ok(page) => html(&page),
        Err(code) => Refusal::Code(code).into_response(),
    }
}

async fn overview_page(
    state: &AppState,
    session: &Session,
    notice: Option<Notice>,
) -> Result<OverviewPage, Code> {
    let records = state
        .platforms
        .list(&PlatformFilter::default())
        .await
        .map_err(|e| logged(e.code(), &e))?;
    let keys = state
        .keys
        .infos()
        .await
        .map_err(|e| logged(Code::InternalError, &e))?;
    let (pending, live): (Vec<&PlatformRecord>, Vec<&PlatformRecord>) = records
        .iter()
        .partition(|r| r.platform.settings.status == PlatformStatus::Pending);
    let changes = records
        .iter()
        .filter_map(|r| {
            let c = r.change.as_ref()?;
            Some(ChangeRow {
                id: r.platform.id.clone(),
                name: r.platform.settings.name.clone(),
                issuer: r.platform.settings.issuer.as_str().to_owned(),
                auth_endpoint: c.auth_endpoint.clone(),
                token_endpoint: c.token_endpoint.clone(),
                jwks_uri: c.jwks_uri.clone(),
                proposed: time(c.created_at),
            })
        })
        .collect();
    Ok(OverviewPage {
        csrf: state.admin_sessions.csrf(session),
        notice,
        signed_in_until: time(session.expires_at),
        register_url: state.config.public_endpoint("/lti/register"),
        pending: pending.into_iter().map(PlatformRow::of).collect(),
        changes,
        platforms: live.into_iter().map(PlatformRow::of).collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                kid: k.kid,
                state: k.state.as_str(),
                created: time(k.created_at),
                activates: time(k.activate_at),
                retires: k.retire_at.map_or_else(String::new, time),
            })
            .collect(),
        refusals: state
            .refusals
            .snapshot()
            .into_iter()
            .map(|(code, tally)| RefusalRow {
                code: code.as_str(),
                count: tally.count,
                last: time(tally.last_at),
            })
            .collect(),
    })
}

fn logged(code: Code, error: &dyn std::error::Error) -> Code {
    tracing::error!(%code, error = %crate::code::DisplayChain(error), "admin page failed");
    code
}

/// What a button does to a platform.
#[derive(Debug, Clone, Copy)]
enum PlatformAction {
    Activate,
    Deactivate,
    /// Activates a pending registration.
    Approve,
    /// Deletes a pending registration (it never launched; the LMS can register again).
    Reject,
    ApproveChange,
    RejectChange,
}

impl PlatformAction {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "activate" => Self::Activate,
            "deactivate" => Self::Deactivate,
            "approve" => Self::Approve,
            "reject" => Self::Reject,
            "approve-change" => Self::ApproveChange,
            "reject-change" => Self::RejectChange,
            _ => return None,
        })
    }
}

/// `POST /admin/ui/platforms/{id}/{action}`, through the `Platforms` service.
async fn platform_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    _: Checked,
) -> Response {
    let Some(action) = PlatformAction::parse(&action) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let platforms = &state.platforms;
    let done = match action {
        PlatformAction::Activate | PlatformAction::Approve => platforms
            .set_status(&id, PlatformStatus::Active)
            .await
            .map(|_| match action {
                PlatformAction::Approve => Flash::Approved,
                _ => Flash::Activated,
            }),
        PlatformAction::Deactivate => platforms
            .set_status(&id, PlatformStatus::Inactive)
            .await
            .map(|_| Flash::Deactivated),
        PlatformAction::Reject => match platforms.get(&id).await {
            Ok(r) if r.platform.settings.status == PlatformStatus::Pending => {
                platforms.delete(&id).await.map(|()| Flash::Rejected)
            }
            Ok(_) => Ok(Flash::NotPending),
            Err(e) => Err(e),
        },
        PlatformAction::ApproveChange => platforms
            .approve_change(&id)
            .await
            .map(|_| Flash::ChangeApproved),
        PlatformAction::RejectChange => platforms
            .reject_change(&id)
            .await
            .map(|_| Flash::ChangeRejected),
    };
    match done {
        Ok(flash) => {
            tracing::info!(platform = %id, action = flash.key(), "admin page action");
            see_other(&flash_url(flash))
        }
        Err(e) => see_other(&error_url(logged(e.code(), &e))),
    }
}

/// `POST /admin/ui/keys/rotate`: the rotation `ltigate keys rotate` starts, with the
/// configured delay.
async fn rotate_key(State(state): State<AppState>, _: Checked) -> Response {
    let keys = &state.config.keys;
    match state
        .keys
        .rotate(keys.rotation_delay, keys.max_token_lifetime)
        .await
    {
        Ok(kid) => {
            tracing::info!(kid, "tool key rotation started from the admin page");
            see_other(&flash_url(Flash::KeyRotated))
        }
        Err(crate::keys::KeyError::RotationInProgress { .. }) => {
            see_other(&error_url(Code::KeyRotationInProgress))
        }
        Err(e) => see_other(&error_url(logged(Code::InternalError, &e))),
    }
}
