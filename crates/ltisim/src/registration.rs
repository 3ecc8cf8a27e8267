//! The platform side of 1EdTech LTI Dynamic Registration 1.0: registration tokens,
//! validation of the tool's registration request like a strict platform, and the answer
//! in the shape each imitated platform gives it.

use crate::hints::random_bytes;
use crate::profile::Profile;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use url::Url;

pub(crate) const TOOL_CONFIGURATION: &str =
    "https://purl.imsglobal.org/spec/lti-tool-configuration";
const CANVAS_CONFIG_URL: &str = "https://canvas.instructure.com/lti/registration_config_url";

/// How long a registration token is valid unless changed.
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The registration tokens the platform handed out, and the tokenless registrations it
/// opened (a platform that gives the tool no token still opens registration once).
#[derive(Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
    /// Expiry of each tokenless registration window.
    open_windows: Vec<Instant>,
}

struct Issued {
    expires: Instant,
    used: bool,
    /// Moodle decides the client_id when it issues the token (the token's `sub`).
    client_id: Option<String>,
}

/// The credential a registration POST presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presented<'a> {
    None,
    Bearer(&'a str),
    /// An Authorization header that is not `Bearer <token>`.
    Malformed,
}

impl<'a> Presented<'a> {
    pub(crate) fn from_header(header: Option<&'a str>) -> Self {
        let Some(header) = header else {
            return Self::None;
        };
        match header.trim().split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Self::Bearer(token.trim())
            }
            _ => Self::Malformed,
        }
    }
}

/// A registration the platform granted, with what the token fixed in advance.
pub(crate) struct Grant {
    pub(crate) client_id: Option<String>,
}

impl Tokens {
    pub(crate) fn issue(&mut self, token: String, lifetime: Duration, client_id: Option<String>) {
        self.issued.insert(
            token,
            Issued {
                expires: Instant::now() + lifetime,
                used: false,
                client_id,
            },
        );
    }

    pub(crate) fn open_window(&mut self, lifetime: Duration) {
        self.open_windows.push(Instant::now() + lifetime);
    }

    /// Whether `token` was issued and has not expired (used or not): what the Canvas
    /// configuration GET checks.
    pub(crate) fn is_live(&self, token: &str) -> bool {
        self.issued
            .get(token)
            .is_some_and(|issued| Instant::now() < issued.expires)
    }

    /// Checks the credential of a registration POST; with `consume`, uses it up.
    pub(crate) fn check(
        &mut self,
        presented: Presented<'_>,
        token_optional: bool,
        consume: bool,
    ) -> Result<Grant, Refused> {
        let now = Instant::now();
        match presented {
            Presented::None => {
                self.open_windows.retain(|expires| now < *expires);
                if !token_optional || self.open_windows.is_empty() {
                    return Err(Refused::unauthorized(
                        "missing_registration_token",
                        "the registration needs Authorization: Bearer <registration_token>",
                    ));
                }
                if consume {
                    self.open_windows.remove(0);
                }
                Ok(Grant { client_id: None })
            }
            Presented::Malformed => Err(Refused::unauthorized(
                "invalid_registration_token",
                "the Authorization header is not Bearer <registration_token>",
            )),
            Presented::Bearer(token) => {
                let Some(issued) = self.issued.get_mut(token) else {
                    return Err(Refused::unauthorized(
                        "invalid_registration_token",
                        "the registration token was not issued by this platform",
                    ));
                };
                if issued.used {
                    return Err(Refused::unauthorized(
                        "token_already_used",
                        "the registration token was already used",
                    ));
                }
                if now >= issued.expires {
                    return Err(Refused::unauthorized(
                        "invalid_registration_token",
                        "the registration token has expired",
                    ));
                }
                if consume {
                    issued.used = true;
                }
                Ok(Grant {
                    client_id: issued.client_id.clone(),
                })
            }
        }
    }
}

/// Why the platform refused a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) kind: RefusalKind,
    /// Moodle's literal error text (e.g. `missing_registration_token`,
    /// `missing required attribute jwks_uri`, `domain_targetlinkuri_mismatch`).
    pub(crate) code: String,
    /// A human explanation.
    pub(crate) description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefusalKind {
    Unauthorized,
    MediaType,
    /// RFC 7591 `invalid_redirect_uri`.
    RedirectUri,
    /// RFC 7591 `invalid_client_metadata`.
    Metadata,
}

impl Refused {
    fn unauthorized(code: &str, description: &str) -> Self {
        Self::new(RefusalKind::Unauthorized, code, description)
    }

    fn metadata(code: &str, description: impl Into<String>) -> Self {
        Self::new(RefusalKind::Metadata, code, description)
    }

    fn missing(name: &str) -> Self {
        Self::metadata(
            &format!("missing required attribute {name}"),
            format!("{name} is required"),
        )
    }

    pub(crate) fn new(kind: RefusalKind, code: &str, description: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.to_owned(),
            description: description.into(),
        }
    }

    /// The HTTP status this platform answers with.
    pub(crate) fn status(&self, profile: Profile) -> u16 {
        match (self.kind, profile) {
            (RefusalKind::Unauthorized, _) => 401,
            (RefusalKind::MediaType, _) => 415,
            // Canvas answers invalid registrations 422 Unprocessable Entity.
            (RefusalKind::RedirectUri | RefusalKind::Metadata, Profile::Canvas) => 422,
            (RefusalKind::RedirectUri | RefusalKind::Metadata, _) => 400,
        }
    }

    /// The body and Content-Type this platform answers with: Moodle plain text, Canvas
    /// its API error JSON, the others RFC 7591 / RFC 6750 error JSON.
    pub(crate) fn body(&self, profile: Profile) -> (String, &'static str) {
        match profile {
            Profile::Moodle => (self.code.clone(), "text/plain; charset=utf-8"),
            Profile::Canvas => (
                json!({ "errors": [{ "message": self.description }] }).to_string(),
                "application/json",
            ),
            Profile::Default | Profile::SpecExample => {
                let error = match self.kind {
                    RefusalKind::Unauthorized => "invalid_token",
                    RefusalKind::MediaType | RefusalKind::Metadata => "invalid_client_metadata",
                    RefusalKind::RedirectUri => "invalid_redirect_uri",
                };
                let body = json!({ "error": error, "error_description": self.description });
                (body.to_string(), "application/json")
            }
        }
    }
}

/// What the platform keeps from a valid registration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Valid {
    pub(crate) initiate_login_uri: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) target_link_uri: String,
    /// The target of the LtiDeepLinkingRequest message, if the tool declared one.
    pub(crate) deep_linking_uri: Option<String>,
    /// The tool's key set.
    pub(crate) jwks_uri: String,
}

/// Validates a registration request (LTI Dynamic Registration 1.0 §3.5, RFC 7591) as a
/// strict platform: Moodle's checks and error texts, plus the spec's grant types.
pub(crate) fn validate(request: &Value) -> Result<Valid, Refused> {
    let Some(request) = request.as_object() else {
        return Err(Refused::metadata(
            "invalid_json",
            "the registration request is not a JSON object",
        ));
    };
    for name in [
        "response_types",
        "initiate_login_uri",
        "redirect_uris",
        "client_name",
        "jwks_uri",
        "token_endpoint_auth_method",
        "grant_types",
        "application_type",
        TOOL_CONFIGURATION,
    ] {
        if request.get(name).is_none_or(Value::is_null) {
            return Err(Refused::missing(name));
        }
    }
    let tool = request
        .get(TOOL_CONFIGURATION)
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Refused::metadata(
                "invalid_tool_configuration",
                format!("{TOOL_CONFIGURATION} must be an object"),
            )
        })?;
    let domain = string(tool, "domain").unwrap_or_default();
    if domain.is_empty() {
        return Err(Refused::metadata(
            "missing_domain",
            "the tool configuration has no domain",
        ));
    }
    let target_link_uri = string(tool, "target_link_uri")
        .filter(|uri| !uri.is_empty())
        .ok_or_else(|| Refused::missing("target_link_uri"))?;
    if moodle_domain(domain) != moodle_domain(target_link_uri) {
        return Err(Refused::metadata(
            "domain_targetlinkuri_mismatch",
            format!("target_link_uri {target_link_uri:?} is not on the domain {domain:?}"),
        ));
    }
    web_url(target_link_uri, "target_link_uri")?;
    let has = |name: &str, wanted: &[&str]| {
        request
            .get(name)
            .and_then(Value::as_array)
            .is_some_and(|values| {
                values
                    .iter()
                    .any(|value| value.as_str().is_some_and(|value| wanted.contains(&value)))
            })
    };
    if !has("response_types", &["id_token"]) {
        return Err(Refused::metadata(
            "invalid_response_types",
            "response_types must contain id_token",
        ));
    }
    let redirect_uris: Vec<String> = request
        .get("redirect_uris")
        .and_then(Value::as_array)
        .map(|uris| {
            uris.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let all_strings = request
        .get("redirect_uris")
        .and_then(Value::as_array)
        .is_some_and(|uris| uris.len() == redirect_uris.len());
    if redirect_uris.is_empty() || !all_strings {
        return Err(Refused::new(
            RefusalKind::RedirectUri,
            "invalid_redirect_uris",
            "redirect_uris must be a non-empty array of URLs",
        ));
    }
    for uri in &redirect_uris {
        web_url(uri, "redirect_uris").map_err(|mut refused| {
            refused.kind = RefusalKind::RedirectUri;
            refused
        })?;
    }
    if string(request, "token_endpoint_auth_method") != Some("private_key_jwt") {
        return Err(Refused::metadata(
            "invalid_token_endpoint_auth_method",
            "token_endpoint_auth_method must be private_key_jwt",
        ));
    }
    if string(request, "application_type") != Some("web") {
        return Err(Refused::metadata(
            "invalid_application_type",
            "application_type must be web",
        ));
    }
    // The spec's own examples misspell implicit; platforms accept both.
    if !has("grant_types", &["implicit", "implict"]) || !has("grant_types", &["client_credentials"])
    {
        return Err(Refused::metadata(
            "invalid_grant_types",
            "grant_types must contain implicit and client_credentials",
        ));
    }
    let initiate_login_uri = string(request, "initiate_login_uri").unwrap_or_default();
    web_url(initiate_login_uri, "initiate_login_uri")?;
    let jwks_uri = string(request, "jwks_uri").unwrap_or_default();
    web_url(jwks_uri, "jwks_uri")?;
    if request
        .get("client_name")
        .is_some_and(|name| !name.is_string())
    {
        return Err(Refused::metadata(
            "invalid_client_name",
            "client_name must be a string",
        ));
    }
    let deep_linking_uri = tool
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|message| message["type"] == "LtiDeepLinkingRequest")
        .find_map(|message| message["target_link_uri"].as_str())
        .map(str::to_owned);
    if let Some(uri) = &deep_linking_uri {
        web_url(uri, "messages[].target_link_uri")?;
    }
    Ok(Valid {
        initiate_login_uri: initiate_login_uri.to_owned(),
        redirect_uris,
        target_link_uri: target_link_uri.to_owned(),
        deep_linking_uri,
        jwks_uri: jwks_uri.to_owned(),
    })
}

fn string<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}

fn web_url(text: &str, name: &str) -> Result<(), Refused> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
        _ => Err(Refused::metadata(
            &format!("invalid_{name}"),
            format!("{name} must be an absolute http(s) URL, not {text:?}"),
        )),
    }
}

/// Moodle's domain of a URL or domain (mod/lti `LTI_URL_DOMAIN_REGEX`): after an optional
/// scheme and `www.`, everything up to the first `/`, port included.
fn moodle_domain(text: &str) -> &str {
    let lower = text.to_ascii_lowercase();
    let mut rest = text;
    for prefix in ["https://", "http://"] {
        if lower.starts_with(prefix) {
            rest = &text[prefix.len()..];
            break;
        }
    }
    if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case("www.") {
        rest = &rest[4..];
    }
    rest.split('/').next().unwrap_or(rest)
}

/// The identifiers the platform gave a new registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ids {
    /// A per-platform sequence number (Canvas developer key, Moodle tool type).
    pub(crate) number: u64,
    pub(crate) client_id: String,
    /// The deployment the simulator launches with (the response may not carry it).
    pub(crate) deployment_id: String,
}

impl Ids {
    /// Identifiers in the platform's own formats.
    pub(crate) fn new(profile: Profile, number: u64, grant: Grant) -> Self {
        match profile {
            Profile::Canvas => Self {
                number,
                client_id: (10_000_000_000_000 + number).to_string(),
                deployment_id: format!("{number}:{}", hex(&random_bytes::<20>())),
            },
            Profile::Moodle => Self {
                number,
                client_id: grant.client_id.unwrap_or_else(|| alphanumeric(15)),
                // The tool type id.
                deployment_id: (number + 1).to_string(),
            },
            Profile::Default | Profile::SpecExample => Self {
                number,
                client_id: alphanumeric(16),
                deployment_id: uuid_like(),
            },
        }
    }
}

/// The registration response in the imitated platform's shape. `registration_url` is the
/// registration endpoint.
pub(crate) fn response(
    profile: Profile,
    request: &Value,
    ids: &Ids,
    registration_url: &str,
) -> Value {
    let empty = Map::new();
    let request = request.as_object().unwrap_or(&empty);
    let tool = request
        .get(TOOL_CONFIGURATION)
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    match profile {
        Profile::Canvas => {
            // Canvas keeps what its developer keys store: no contacts, normalized grants.
            let mut answer = pick(
                request,
                &[
                    "application_type",
                    "initiate_login_uri",
                    "redirect_uris",
                    "response_types",
                    "client_name",
                    "jwks_uri",
                    "logo_uri",
                    "token_endpoint_auth_method",
                ],
            );
            answer.insert("client_id".into(), json!(ids.client_id));
            answer.insert(
                "grant_types".into(),
                json!(["client_credentials", "implicit"]),
            );
            answer.insert(
                "scope".into(),
                request.get("scope").cloned().unwrap_or(json!("")),
            );
            let mut tool = tool.clone();
            tool.insert(
                CANVAS_CONFIG_URL.into(),
                json!(format!(
                    "{registration_url}/{}/view",
                    10_000_000_000_000 + ids.number
                )),
            );
            answer.insert(TOOL_CONFIGURATION.into(), Value::Object(tool));
            // Not where the spec puts it: at the top level.
            answer.insert("deployment_id".into(), json!(ids.deployment_id));
            Value::Object(answer)
        }
        Profile::Moodle => {
            let mut answer = pick(
                request,
                &[
                    "response_types",
                    "jwks_uri",
                    "initiate_login_uri",
                    "redirect_uris",
                    "client_name",
                ],
            );
            answer.insert("client_id".into(), json!(ids.client_id));
            answer.insert(
                "grant_types".into(),
                json!(["client_credentials", "implicit"]),
            );
            answer.insert("application_type".into(), json!("web"));
            answer.insert(
                "token_endpoint_auth_method".into(),
                json!("private_key_jwt"),
            );
            answer.insert(
                "logo_uri".into(),
                request.get("logo_uri").cloned().unwrap_or(json!("")),
            );
            answer.insert("scope".into(), json!(moodle_scope(request)));
            let mut config = pick(
                tool,
                &[
                    "target_link_uri",
                    "domain",
                    "description",
                    "custom_parameters",
                ],
            );
            config.insert("version".into(), json!("1.3.0"));
            config.insert("deployment_id".into(), json!(ids.deployment_id));
            config.insert("messages".into(), moodle_messages(tool));
            config.insert("claims".into(), moodle_claims(tool));
            answer.insert(TOOL_CONFIGURATION.into(), Value::Object(config));
            Value::Object(answer)
        }
        Profile::Default | Profile::SpecExample => {
            // The spec's example: the request echoed, client_id and
            // registration_client_uri added, no deployment_id (deployed later).
            let mut answer = request.clone();
            answer.insert("client_id".into(), json!(ids.client_id));
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &ids.client_id)
                .finish();
            answer.insert(
                "registration_client_uri".into(),
                json!(format!("{registration_url}?{query}")),
            );
            Value::Object(answer)
        }
    }
}

fn pick(object: &Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), object.get(*name)?.clone())))
        .collect()
}

/// Moodle turns the requested scopes into service settings, then lists the scopes those
/// services grant: all of grade sync when any AGS scope was asked (lineitem only with
/// full sync), memberships, tool settings. Often the empty string.
fn moodle_scope(request: &Map<String, Value>) -> String {
    const AGS: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/";
    let requested: Vec<&str> = request
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let asked = |scope: &str| requested.contains(&scope);
    let mut granted: Vec<String> = Vec::new();
    let full = asked(&format!("{AGS}lineitem"));
    let partial = ["lineitem.readonly", "result.readonly", "score"]
        .iter()
        .any(|name| asked(&format!("{AGS}{name}")));
    if full || partial {
        for name in ["lineitem.readonly", "result.readonly", "score"] {
            granted.push(format!("{AGS}{name}"));
        }
        if full {
            granted.push(format!("{AGS}lineitem"));
        }
    }
    for scope in [
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
    ] {
        if asked(scope) {
            granted.push(scope.to_owned());
        }
    }
    granted.join(" ")
}

/// Moodle keeps only the deep linking message, without its label.
fn moodle_messages(tool: &Map<String, Value>) -> Value {
    let messages: Vec<Value> = tool
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|message| message["type"] == "LtiDeepLinkingRequest")
        .map(|message| {
            let mut kept = json!({ "type": "LtiDeepLinkingRequest" });
            if let Some(target) = message.get("target_link_uri") {
                kept["target_link_uri"] = target.clone();
            }
            kept
        })
        .collect();
    Value::Array(messages)
}

/// Moodle stores "send name" and "send email" switches and recomputes the claims.
fn moodle_claims(tool: &Map<String, Value>) -> Value {
    let requested: Vec<&str> = tool
        .get("claims")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut claims = vec!["sub", "iss"];
    if ["name", "given_name", "family_name"]
        .iter()
        .any(|claim| requested.contains(claim))
    {
        claims.extend(["name", "family_name", "given_name"]);
    }
    if requested.contains(&"email") {
        claims.push("email");
    }
    json!(claims)
}

/// Random letters and digits.
pub(crate) fn alphanumeric(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut text = String::with_capacity(length);
    while text.len() < length {
        for byte in random_bytes::<32>() {
            // Rejection sampling keeps the letters uniform.
            if usize::from(byte) < 248 && text.len() < length {
                text.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn uuid_like() -> String {
    let hex = hex(&random_bytes::<16>());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let text = match name {
            "canvas" => include_str!("../fixtures/canvas.json"),
            "moodle" => include_str!("../fixtures/moodle.json"),
            _ => include_str!("../fixtures/spec-example.json"),
        };
        serde_json::from_str(text).expect("fixture parses")
    }

    #[test]
    fn the_fixture_requests_are_valid() {
        for name in ["canvas", "moodle", "spec-example"] {
            let request = &fixture(name)["registration_request"];
            assert!(validate(request).is_ok(), "{name}: {:?}", validate(request));
        }
    }

    #[test]
    fn moodle_domain_follows_the_moodle_regex() {
        assert_eq!(moodle_domain("https://www.Tool.example/x"), "Tool.example");
        assert_eq!(moodle_domain("tool.example"), "tool.example");
        assert_eq!(moodle_domain("http://127.0.0.1:3000/lti"), "127.0.0.1:3000");
        assert_eq!(moodle_domain("www.tool.example"), "tool.example");
    }

    #[test]
    fn each_rule_has_its_moodle_code() {
        let base = fixture("canvas")["registration_request"].clone();
        let case = |patch: Value| {
            let mut request = base.clone();
            crate::tamper::merge_patch(&mut request, &patch);
            validate(&request)
                .map(|_| ())
                .map_err(|refused| refused.code)
        };
        let tool = TOOL_CONFIGURATION;
        assert_eq!(
            case(json!({ "jwks_uri": null })),
            Err("missing required attribute jwks_uri".into())
        );
        assert_eq!(
            case(json!({ tool: { "domain": null } })),
            Err("missing_domain".into())
        );
        assert_eq!(
            case(json!({ tool: { "domain": "www.tool.example.com" } })),
            Ok(())
        );
        assert_eq!(
            case(json!({ tool: { "domain": "other.example.com" } })),
            Err("domain_targetlinkuri_mismatch".into())
        );
        assert_eq!(
            case(json!({ "response_types": ["code"] })),
            Err("invalid_response_types".into())
        );
        assert_eq!(
            case(json!({ "redirect_uris": [] })),
            Err("invalid_redirect_uris".into())
        );
        assert_eq!(
            case(json!({ "token_endpoint_auth_method": "client_secret_basic" })),
            Err("invalid_token_endpoint_auth_method".into())
        );
        assert_eq!(
            case(json!({ "application_type": "native" })),
            Err("invalid_application_type".into())
        );
        assert_eq!(
            case(json!({ "grant_types": ["implict", "client_credentials"] })),
            Ok(())
        );
        assert_eq!(
            case(json!({ "grant_types": ["client_credentials"] })),
            Err("invalid_grant_types".into())
        );
    }

    #[test]
    fn tokens_are_single_use_and_expire() {
        let mut tokens = Tokens::default();
        tokens.issue("t1".into(), Duration::from_secs(60), None);
        tokens.issue("t0".into(), Duration::ZERO, None);
        let bearer = Presented::Bearer;
        assert!(tokens.check(bearer("t1"), false, false).is_ok());
        assert!(tokens.check(bearer("t1"), false, true).is_ok());
        let reused = tokens.check(bearer("t1"), false, true).err().expect("used");
        assert_eq!(reused.code, "token_already_used");
        let expired = tokens
            .check(bearer("t0"), false, true)
            .err()
            .expect("expired");
        assert_eq!(expired.code, "invalid_registration_token");
        assert!(!tokens.is_live("t0"));
        assert!(tokens.is_live("t1"));
        let missing = tokens
            .check(Presented::None, true, true)
            .err()
            .expect("closed");
        assert_eq!(missing.code, "missing_registration_token");
        tokens.open_window(Duration::from_secs(60));
        assert!(tokens.check(Presented::None, true, true).is_ok());
        assert!(
            tokens.check(Presented::None, true, true).is_err(),
            "one use"
        );
    }

    #[test]
    fn moodle_recomputes_scope_and_claims() {
        let request = json!({
            "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
        });
        let scope = moodle_scope(request.as_object().expect("object"));
        assert!(scope.contains("lti-ags/scope/result.readonly"));
        assert!(!scope.contains("lti-ags/scope/lineitem "));
        assert!(scope.ends_with("contextmembership.readonly"));
        assert_eq!(moodle_scope(&Map::new()), "");
        let tool = json!({ "claims": ["iss", "sub", "email"] });
        assert_eq!(
            moodle_claims(tool.as_object().expect("object")),
            json!(["sub", "iss", "email"])
        );
    }

    #[test]
    fn generated_ids_have_the_platform_formats() {
        let canvas = Ids::new(Profile::Canvas, 5, Grant { client_id: None });
        assert_eq!(canvas.client_id, "10000000000005");
        assert!(canvas.deployment_id.starts_with("5:"));
        assert_eq!(canvas.deployment_id.len(), 42);
        let moodle = Ids::new(
            Profile::Moodle,
            1,
            Grant {
                client_id: Some("abc".into()),
            },
        );
        assert_eq!(
            (moodle.client_id.as_str(), moodle.deployment_id.as_str()),
            ("abc", "2")
        );
        assert_eq!(alphanumeric(15).len(), 15);
    }
}
