//! Outbound HTTP: the one client for every request whose URL came from outside (a platform's
//! openid configuration and registration endpoint, its JWKS, token and service endpoints).
//!
//! A caller describes a [`Request`] (method, URL, `Accept`, a JSON or form body with the
//! `Content-Type` it needs, a bearer token, a size cap) and gets a [`Response`] (status,
//! headers, the body when there is one). [`Outbound::get_json`] and [`Outbound::post_json`]
//! are the short forms for plain JSON documents.
//!
//! One policy, enforced here on every request, whatever its method, and on every redirect hop:
//! - only `https` URLs (plus `http` when `allow_http`), never with credentials in the URL;
//! - a connect timeout, and a total deadline over the whole exchange: every redirect hop and
//!   the streaming of the body, so a server that drips its answer is cut off in bounded time;
//! - a body cap, checked against `Content-Length` first and then while streaming (never more
//!   than the cap is buffered);
//! - redirects followed by hand, at most `max_redirects`, each target re-checked in full; the
//!   `Authorization` header is dropped for good as soon as the chain leaves the first origin.
//!   Only GET follows redirects by default: a POST, PUT or DELETE answered with a redirect
//!   fails with that answer ([`FetchError::Status`]). Following would either turn the write
//!   into a GET (301/302/303), whose success then looks like a write that never happened, or
//!   replay its body (307/308), which for the token endpoint carries a signed client
//!   assertion, to wherever the redirect points. Service endpoints come from the platform's
//!   own documents and claims, so a redirect there is a misconfiguration to report, not to
//!   work around. [`Request::follow_redirects`] opts a write in (the registration POST does);
//! - a successful answer with a body must be JSON (`application/json` or
//!   `application/*+json`); a 2xx without a body (204, or an empty 200) comes back with no
//!   body; error answers (non-2xx) come back as [`HttpStatusError`] with their (capped) body,
//!   so callers can quote the platform's own message;
//! - unless `allow_private_networks`, loopback, private, link-local, CGNAT, unique-local,
//!   multicast and other non-global addresses are refused before any connection: literal IPs
//!   are checked here, names by a resolver wrapped around the real one (or an injected one),
//!   which refuses a name when ANY of its addresses is not global. Refusing on any (rather than
//!   dropping the bad ones or requiring all to be bad) is the stricter choice: a name that mixes
//!   public and internal answers is a DNS-rebinding setup or a misconfiguration, and the addresses
//!   checked are exactly the ones the connector then uses, so there is no check/use gap;
//! - every request carries `User-Agent: ltigate/<version>` (Canvas refuses API calls without
//!   one).
//!
//! System proxies are not used (`no_proxy`): a proxy would resolve names itself and so defeat
//! the address check.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use url::{Host, Url};

use crate::code::Code;
use crate::config::Config;

/// Longest URL accepted.
const MAX_URL_LEN: usize = 4096;
/// Most of an error answer's body kept (further bytes are dropped, not an error).
const MAX_ERROR_BODY: usize = 16 * 1024;
/// Longest platform message quoted in an error's `Display`.
const MAX_QUOTED_CHARS: usize = 300;
/// Sent on every request.
pub const USER_AGENT: &str = concat!("ltigate/", env!("CARGO_PKG_VERSION"));
/// `Accept` and JSON `Content-Type` unless the request names an IMS media type.
const JSON: &str = "application/json";
/// The body cap of a request that sets none.
pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024;

/// The rules every outbound request obeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Also fetch plain `http://` URLs (local development only).
    pub allow_http: bool,
    /// Also connect to loopback, private, link-local and other non-global addresses.
    pub allow_private_networks: bool,
    /// Bound on establishing one connection (name resolution, TCP and TLS).
    pub connect_timeout: Duration,
    /// Bound on the whole exchange: all redirect hops and the body.
    pub total_timeout: Duration,
    /// Most redirects followed.
    pub max_redirects: usize,
    /// Hosts exempt from the address check even when private networks are refused: exact URL
    /// hosts, names (`lms.test`) or literal IPs (`127.0.0.1`). For tests that need one reachable
    /// loopback host while every other internal address stays refused, and for an operator with
    /// a single LMS on the internal network. A trusted name is still resolved normally.
    pub trusted_hosts: Vec<String>,
}

/// Default number of redirects followed.
pub const DEFAULT_MAX_REDIRECTS: usize = 3;

impl OutboundPolicy {
    pub fn from_config(config: &Config) -> Self {
        Self {
            allow_http: config.allow_insecure_http,
            allow_private_networks: config.registration.allow_private_networks,
            connect_timeout: config.timeouts.http_connect,
            total_timeout: config.timeouts.http_total,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            trusted_hosts: Vec::new(),
        }
    }

    fn trusts(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        self.trusted_hosts.iter().any(|t| {
            let t = t.trim_start_matches('[').trim_end_matches(']');
            match (ip, t.parse::<IpAddr>().ok()) {
                (Some(a), Some(b)) => a == b,
                _ => t.eq_ignore_ascii_case(host.trim_end_matches('.')),
            }
        })
    }
}

/// A successful (2xx) JSON answer.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    /// The body, at most the `max_bytes` the caller asked for.
    pub body: Vec<u8>,
    /// The URL that answered (after redirects).
    pub final_url: Url,
}

/// A non-2xx answer, with its body so the platform's message can be quoted.
#[derive(Debug, Clone)]
pub struct HttpStatusError {
    pub status: u16,
    /// The body as text (lossy UTF-8), capped; `truncated` says whether bytes were dropped.
    pub body: String,
    pub truncated: bool,
    /// The answer was labelled JSON.
    pub is_json: bool,
    is_html: bool,
}

impl HttpStatusError {
    /// The platform's message, short and on one line: `error_description` / `error` /
    /// `message` of a JSON body, or the text itself; empty for an HTML page.
    pub fn message(&self) -> String {
        let text = if self.is_html {
            String::new()
        } else {
            json_message(&self.body).unwrap_or_else(|| self.body.clone())
        };
        one_line(&text, MAX_QUOTED_CHARS)
    }
}

impl fmt::Display for HttpStatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message();
        if message.is_empty() {
            write!(f, "answered HTTP {}", self.status)
        } else {
            write!(f, "answered HTTP {}: {message}", self.status)
        }
    }
}

/// Why a fetch failed; `Display` is safe to show an admin (no URL query, no tokens).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL (or a redirect's target) breaks the policy: not a URL, not http(s), plain http
    /// without `allow_http`, credentials in the URL.
    #[error("refused URL: {0}")]
    Refused(String),
    /// The host is, or resolves to, an address that is not on the public internet.
    #[error(
        "refused to connect to {host}: {ip} is a loopback, private, link-local or other \
         non-public address (allowed only with registration.allow_private_networks)"
    )]
    PrivateAddress { host: String, ip: IpAddr },
    #[error("no answer in time")]
    Timeout,
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("answer is not JSON (content type {})", .0.as_deref().unwrap_or("missing"))]
    NotJson(Option<String>),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("{0}")]
    Status(HttpStatusError),
    #[error("request failed: {0}")]
    Transport(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// A stable code for pages, logs and tests.
    pub fn code(&self) -> Code {
        match self {
            Self::Refused(_) => Code::UrlRefused,
            Self::PrivateAddress { .. } => Code::PrivateAddress,
            Self::Timeout => Code::FetchTimeout,
            Self::TooLarge(_) => Code::ResponseTooLarge,
            Self::NotJson(_) => Code::NotJson,
            Self::TooManyRedirects(_) => Code::TooManyRedirects,
            Self::Status(_) => Code::HttpStatus,
            Self::Transport(_) => Code::FetchFailed,
            Self::Client(_) => Code::HttpClient,
        }
    }

    /// The platform's error answer, when that is what this is.
    pub fn http_status(&self) -> Option<&HttpStatusError> {
        match self {
            Self::Status(s) => Some(s),
            _ => None,
        }
    }
}

/// The bounded, policy-checked client. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbound")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The methods the LTI Advantage services use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    fn as_reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Delete => reqwest::Method::DELETE,
        }
    }
}

/// A request body, already encoded, with its default `Content-Type`.
#[derive(Clone, Default)]
pub enum Body {
    #[default]
    None,
    /// Sent as `application/json` unless the request names another type.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded` (the OAuth 2 token endpoint).
    Form(String),
}

impl Body {
    /// `value` serialized as JSON.
    pub fn json(value: &impl serde::Serialize) -> Result<Self, FetchError> {
        serde_json::to_vec(value)
            .map(Self::Json)
            .map_err(|e| FetchError::Transport(format!("cannot encode the request body: {e}")))
    }

    /// `pairs` form-encoded, in order (`a=1&b=x+y`).
    pub fn form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(pairs);
        Self::Form(form.finish())
    }

    fn content_type(&self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Json(_) => Some(JSON),
            Self::Form(_) => Some("application/x-www-form-urlencoded"),
        }
    }

    fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Self::None => None,
            Self::Json(bytes) => Some(bytes.clone()),
            Self::Form(text) => Some(text.clone().into_bytes()),
        }
    }
}

/// Bodies carry client assertions and personal data: their length only.
impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Json(bytes) => write!(f, "Json({} bytes)", bytes.len()),
            Self::Form(text) => write!(f, "Form({} bytes)", text.len()),
        }
    }
}

/// One outbound request. Built with [`Request::get`] (or `post`, `put`, `delete`) and the
/// setters; sent with [`Outbound::send`].
#[derive(Clone)]
pub struct Request {
    method: Method,
    url: String,
    accept: String,
    content_type: Option<String>,
    body: Body,
    bearer: Option<String>,
    max_bytes: usize,
    follow_redirects: bool,
}

impl Request {
    /// A `method` request to `url` (exactly as given, query included), accepting
    /// `application/json` of at most [`DEFAULT_MAX_BYTES`], without body or bearer. GET
    /// follows redirects, other methods do not (see the module docs).
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            accept: JSON.to_owned(),
            content_type: None,
            body: Body::None,
            bearer: None,
            max_bytes: DEFAULT_MAX_BYTES,
            follow_redirects: method == Method::Get,
        }
    }

    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// The `Accept` header, e.g. `application/vnd.ims.lis.v2.lineitemcontainer+json`.
    pub fn accept(mut self, media_type: impl Into<String>) -> Self {
        self.accept = media_type.into();
        self
    }

    /// The body, sent with its default `Content-Type` unless [`Request::content_type`] names
    /// another.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// The `Content-Type` of the body, e.g. `application/vnd.ims.lis.v1.score+json`; not sent
    /// without a body.
    pub fn content_type(mut self, media_type: impl Into<String>) -> Self {
        self.content_type = Some(media_type.into());
        self
    }

    /// Sent as `Authorization: Bearer <token>`, to the URL's origin only.
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// Most bytes of the answer's body accepted.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Also follow redirects for a POST, PUT or DELETE: 307/308 repeat it with its body,
    /// 303 (and 301/302 after a POST) continue as a GET without body, as browsers do.
    pub fn follow_redirects(mut self) -> Self {
        self.follow_redirects = true;
        self
    }
}

/// The URL may carry a query token and the bearer is a secret: neither is printed.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("accept", &self.accept)
            .field("content_type", &self.content_type)
            .field("body", &self.body)
            .field("bearer", &self.bearer.as_ref().map(|_| "[redacted]"))
            .field("max_bytes", &self.max_bytes)
            .field("follow_redirects", &self.follow_redirects)
            .finish_non_exhaustive()
    }
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// All response headers, e.g. `Link` for paging.
    pub headers: HeaderMap,
    /// The JSON body, at most the request's `max_bytes`; `None` when the answer had no body
    /// (204, or an empty 200).
    pub body: Option<Vec<u8>>,
    /// The URL that answered (after redirects).
    pub final_url: Url,
}

impl Response {
    /// The first value of header `name`, when it is readable text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of header `name` that is readable text, in order (a platform may send
    /// several `Link` headers).
    pub fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .get_all(name)
            .into_iter()
            .filter_map(|v| v.to_str().ok())
    }

    /// The answer as the JSON document `get_json` and `post_json` promise: an empty body is
    /// accepted only when it was labelled JSON (as before those were wrappers).
    fn into_fetched(self) -> Result<Fetched, FetchError> {
        let body = match self.body {
            Some(body) => body,
            None => {
                let content_type = self
                    .headers
                    .get(CONTENT_TYPE)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                if !content_type.as_deref().is_some_and(is_json_content_type) {
                    return Err(FetchError::NotJson(content_type.map(|t| one_line(&t, 100))));
                }
                Vec::new()
            }
        };
        Ok(Fetched {
            status: self.status,
            body,
            final_url: self.final_url,
        })
    }
}

impl Outbound {
    /// A client resolving names with the system resolver.
    pub fn new(policy: OutboundPolicy) -> Result<Self, FetchError> {
        Self::with_resolver(policy, Arc::new(SystemResolver))
    }

    /// A client resolving names with `resolver` (tests map names to chosen addresses); the
    /// policy's address check applies to whatever it answers.
    pub fn with_resolver(
        policy: OutboundPolicy,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Self, FetchError> {
        let policy = Arc::new(policy);
        let guarded = GuardedResolver {
            inner: resolver,
            policy: policy.clone(),
        };
        let client = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.total_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!policy.allow_http)
            .dns_resolver(guarded)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| FetchError::Client(error_chain(&e.without_url())))?;
        Ok(Self { client, policy })
    }

    /// GETs `url` (exactly as given, query included), expecting JSON of at most `max_bytes`.
    /// `bearer` is sent as `Authorization: Bearer` to the URL's origin only.
    pub async fn get_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        max_bytes: usize,
    ) -> Result<Fetched, FetchError> {
        let request = with_bearer(Request::get(url), bearer).max_bytes(max_bytes);
        self.send(request).await?.into_fetched()
    }

    /// POSTs `body` as JSON to `url`, expecting JSON of at most `max_bytes` back. Follows
    /// redirects as browsers do (see [`Request::follow_redirects`]).
    pub async fn post_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        body: &serde_json::Value,
        max_bytes: usize,
    ) -> Result<Fetched, FetchError> {
        let request = with_bearer(Request::post(url), bearer)
            .body(Body::json(body)?)
            .max_bytes(max_bytes)
            .follow_redirects();
        self.send(request).await?.into_fetched()
    }

    /// Sends `request` under the policy; a non-2xx answer is [`FetchError::Status`].
    pub async fn send(&self, request: Request) -> Result<Response, FetchError> {
        let exchange = self.exchange(request);
        tokio::time::timeout(self.policy.total_timeout, exchange)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    async fn exchange(&self, request: Request) -> Result<Response, FetchError> {
        let Request {
            mut method,
            url,
            accept,
            content_type,
            mut body,
            bearer,
            max_bytes,
            follow_redirects,
        } = request;
        if url.len() > MAX_URL_LEN {
            return Err(FetchError::Refused(format!(
                "longer than {MAX_URL_LEN} characters"
            )));
        }
        let mut current =
            Url::parse(&url).map_err(|e| FetchError::Refused(format!("not a URL ({e})")))?;
        self.check_url(&current)?;
        let origin = current.origin();
        let accept = header_value(&accept, "the Accept media type")?;
        let content_type = match content_type {
            Some(media_type) => Some(header_value(&media_type, "the Content-Type media type")?),
            None => None,
        };
        let mut bearer = match bearer {
            Some(token) => Some(header_value(
                &format!("Bearer {token}"),
                "the bearer token",
            )?),
            None => None,
        };
        let mut redirects = 0;
        loop {
            let mut outgoing = self
                .client
                .request(method.as_reqwest(), current.clone())
                .header(ACCEPT, accept.clone());
            if let Some(auth) = &bearer {
                outgoing = outgoing.header(AUTHORIZATION, auth.clone());
            }
            if let (Some(bytes), Some(default_type)) = (body.bytes(), body.content_type()) {
                let media_type = content_type
                    .clone()
                    .unwrap_or(HeaderValue::from_static(default_type));
                outgoing = outgoing.header(CONTENT_TYPE, media_type).body(bytes);
            }
            let mut response = outgoing.send().await.map_err(transport_error)?;
            let status = response.status();

            if follow_redirects
                && status.is_redirection()
                && let Some(location) = response.headers().get(LOCATION)
                && matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
            {
                if redirects >= self.policy.max_redirects {
                    return Err(FetchError::TooManyRedirects(self.policy.max_redirects));
                }
                redirects += 1;
                let location = location.to_str().map_err(|_| {
                    FetchError::Refused("redirect with an unreadable Location".into())
                })?;
                let next = current.join(location).map_err(|e| {
                    FetchError::Refused(format!("redirect to something not a URL ({e})"))
                })?;
                self.check_url(&next).map_err(|e| match e {
                    FetchError::Refused(why) => FetchError::Refused(format!("redirect: {why}")),
                    other => other,
                })?;
                // 307/308 repeat the request as it was; 303 always, and 301/302 after a POST,
                // become a GET without body (what browsers do, and what RFC 9110 allows).
                if status.as_u16() == 303 || (method == Method::Post && status.as_u16() <= 302) {
                    method = Method::Get;
                    body = Body::None;
                }
                if next.origin() != origin {
                    bearer = None;
                }
                current = next;
                continue;
            }

            if !status.is_success() {
                let content_type = content_type_of(&response);
                let (bytes, truncated) =
                    read_body(&mut response, max_bytes.min(MAX_ERROR_BODY), true).await?;
                return Err(FetchError::Status(HttpStatusError {
                    status: status.as_u16(),
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                    truncated,
                    is_json: content_type.as_deref().is_some_and(is_json_content_type),
                    is_html: content_type
                        .as_deref()
                        .is_some_and(|t| t.to_ascii_lowercase().contains("html")),
                }));
            }

            let received = content_type_of(&response);
            let body = if received.as_deref().is_some_and(is_json_content_type) {
                let (bytes, _) = read_body(&mut response, max_bytes, false).await?;
                (!bytes.is_empty()).then_some(bytes)
            } else if has_no_body(&mut response).await? {
                None
            } else {
                return Err(FetchError::NotJson(received.map(|t| one_line(&t, 100))));
            };
            return Ok(Response {
                status: status.as_u16(),
                headers: std::mem::take(response.headers_mut()),
                body,
                final_url: current,
            });
        }
    }

    /// Scheme, credentials and literal IP of one URL (names are checked when resolved).
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        match url.scheme() {
            "https" => {}
            "http" if self.policy.allow_http => {}
            "http" => {
                return Err(FetchError::Refused(
                    "plain http is not allowed (https only)".into(),
                ));
            }
            other => {
                return Err(FetchError::Refused(format!(
                    "scheme `{}` is not allowed (https only)",
                    one_line(other, 20)
                )));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Refused("the URL carries credentials".into()));
        }
        let ip = match url.host() {
            None => return Err(FetchError::Refused("the URL has no host".into())),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        };
        let host = url.host_str().unwrap_or_default();
        if self.policy.allow_private_networks || self.policy.trusts(host) || is_public_ip(ip) {
            Ok(())
        } else {
            Err(FetchError::PrivateAddress {
                host: host.to_owned(),
                ip,
            })
        }
    }
}

/// Whether `ip` is a global unicast address, the only kind fetched without
/// `allow_private_networks`. IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged by the IPv4
/// address they carry.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network", 0.0.0.0/8
        || ip.is_loopback() // 127/8
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local() // 169.254/16 (cloud metadata)
        || (a == 100 && (b & 0xc0) == 64) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0/24
        || ip.is_documentation() // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (b & 0xfe) == 18) // benchmarking 198.18/15
        || ip.is_multicast() // 224/4
        || a >= 240; // reserved 240/4 and broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 well-known prefix 64:ff9b::/96 carries an IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    // 6to4 2002::/16 carries an IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        return is_public_v4(embedded_v4(s[1], s[2]));
    }
    // Only global unicast 2000::/3: this leaves out ::, ::1, IPv4-compatible ::/96, 100::/64,
    // 64:ff9b:1::/48, unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10 and
    // multicast ff00::/8.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 2001::/23 IETF assignments (Teredo, ORCHID, ...), 2001:db8::/32 and 3fff::/20
    // documentation.
    let special =
        (s[0] == 0x2001 && (s[1] < 0x200 || s[1] == 0xdb8)) || (s[0] == 0x3fff && s[1] < 0x1000);
    !special
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// Whether a Content-Type names JSON: `application/json` or `application/<anything>+json`,
/// any case, any parameters.
pub fn is_json_content_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.trim().eq_ignore_ascii_case("application") && {
        let subtype = subtype.trim().to_ascii_lowercase();
        subtype == "json" || (subtype.len() > "+json".len() && subtype.ends_with("+json"))
    }
}

fn content_type_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn with_bearer(request: Request, bearer: Option<&str>) -> Request {
    match bearer {
        Some(token) => request.bearer(token),
        None => request,
    }
}

/// `value` as a header value; `what` names it in the refusal (the value itself may be secret).
fn header_value(value: &str, what: &str) -> Result<HeaderValue, FetchError> {
    HeaderValue::from_str(value).map_err(|_| FetchError::Refused(format!("{what} is not a header")))
}

/// Whether a success that is not labelled JSON carries nothing (204, an empty 200): decided
/// from `Content-Length`, or from the first chunk, so a non-JSON body is never read whole.
async fn has_no_body(response: &mut reqwest::Response) -> Result<bool, FetchError> {
    if let Some(length) = response.content_length() {
        return Ok(length == 0);
    }
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if !chunk.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Streams the body, keeping at most `cap` bytes. Over the cap: an error, or with `truncate`
/// the first `cap` bytes and `true`.
async fn read_body(
    response: &mut reqwest::Response,
    cap: usize,
    truncate: bool,
) -> Result<(Vec<u8>, bool), FetchError> {
    if !truncate
        && response
            .content_length()
            .is_some_and(|len| len > cap as u64)
    {
        return Err(FetchError::TooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > cap {
            if truncate {
                let room = cap - body.len();
                body.extend_from_slice(&chunk[..room]);
                return Ok((body, true));
            }
            return Err(FetchError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn transport_error(e: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<AddressRefused>() {
            return FetchError::PrivateAddress {
                host: refused.host.clone(),
                ip: refused.ip,
            };
        }
        source = err.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    FetchError::Transport(error_chain(&e.without_url()))
}

/// An error and its causes on one line (`a: b: c`), repeated messages dropped.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(e);
    while let Some(err) = source {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    one_line(&parts.join(": "), MAX_QUOTED_CHARS)
}

/// `error_description`, `error` or `message` of a JSON object body.
fn json_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    match (field("error"), field("error_description")) {
        (Some(error), Some(description)) => Some(format!("{error}: {description}")),
        (error, description) => description.or(error).or_else(|| field("message")),
    }
}

/// `text` with control characters and runs of whitespace collapsed to single spaces, trimmed,
/// at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > max {
        out = out.chars().take(max).collect();
        out.push('…');
    }
    out
}

/// The resolver's refusal; found again in the transport error's causes.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {ip}, which is not a public address")]
struct AddressRefused {
    host: String,
    ip: IpAddr,
}

/// Resolves through `inner`, then applies the policy to the answer.
struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    policy: Arc<OutboundPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let check = !self.policy.allow_private_networks && !self.policy.trusts(&host);
        let resolving = self.inner.resolve(name);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = resolving.await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if check && let Some(bad) = addrs.iter().find(|a| !is_public_ip(a.ip())) {
                return Err(Box::new(AddressRefused { host, ip: bad.ip() }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The operating system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A fixed name → addresses table, for tests: names it does not know fail to resolve, so
/// nothing outside the table is ever contacted.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    names: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `name` (any case) to `addrs`.
    pub fn with(mut self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        self.names
            .insert(name.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let found = self.names.get(&name.as_str().to_ascii_lowercase()).cloned();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = found.ok_or_else(|| format!("{host} is not in the test resolver"))?;
            let addrs: Vec<SocketAddr> = addrs.into_iter().map(|ip| (ip, 0).into()).collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests;
