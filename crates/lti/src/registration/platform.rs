//! The platform's OpenID configuration (DR §3.5 and §3.6).

use serde_json::{Map, Value};
use url::Url;

use super::products;
use super::{
    MAX_DOCUMENT_LEN, PLATFORM_CONFIGURATION_KEY, RESOURCE_LINK_REQUEST, RegistrationError, member,
    string_list,
};

/// The platform's OpenID configuration, validated (Dynamic Registration §3.5/§3.6).
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformConfiguration {
    /// The issuer exactly as the platform wrote it: launches compare `iss` with it as a string.
    pub issuer: String,
    /// Where the tool sends the browser for the OIDC login (`authorization_endpoint`).
    pub authorization_endpoint: Url,
    /// Where the tool asks for service access tokens (`token_endpoint`).
    pub token_endpoint: Url,
    /// The platform's key set (`jwks_uri`).
    pub jwks_uri: Url,
    /// The `aud` of service token requests, when it is not the token endpoint
    /// (`authorization_server`; Canvas sends a host name, Brightspace needs it).
    pub authorization_server: Option<String>,
    /// Where the registration request is POSTed (`registration_endpoint`).
    pub registration_endpoint: Url,
    /// `scopes_supported`, or empty when absent.
    pub scopes_supported: Vec<String>,
    /// `claims_supported`, or empty when absent.
    pub claims_supported: Vec<String>,
    /// `product_family_code` of the platform configuration (`canvas`, `moodle`, ...).
    pub product_family_code: String,
    /// `version` of the platform configuration, when present (a number is turned into text).
    pub version: Option<String>,
    /// The message types the platform supports, normalised (see [`PlatformConfiguration::parse`]).
    pub messages_supported: Vec<SupportedMessage>,
    /// `variables` of the platform configuration, or empty when absent.
    pub variables: Vec<String>,
    /// The whole document as received, for storage and for vendor extensions.
    pub raw: Value,
}

/// One message type the platform supports, with the placements it declares for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportedMessage {
    /// The message type (`LtiResourceLinkRequest`, `LtiDeepLinkingRequest`, ...).
    pub message_type: String,
    /// The placements exactly as the platform spells them (URIs or short names); empty when
    /// the platform declares none.
    pub placements: Vec<String>,
}

impl SupportedMessage {
    /// The platform's spelling of `wanted` among this message type's placements, compared as
    /// [`placements_match`] does: a tool's `course_navigation` finds Canvas's
    /// `https://canvas.instructure.com/lti/course_navigation`.
    pub fn find_placement(&self, wanted: &str) -> Option<&str> {
        self.placements
            .iter()
            .find(|p| placements_match(p, wanted))
            .map(String::as_str)
    }
}

/// Whether two placement names denote the same placement: equal after dropping a URI prefix
/// (everything up to the last `/` of a value containing `://`), ignoring ASCII case and
/// surrounding whitespace. Canvas lists `https://canvas.instructure.com/lti/course_navigation`
/// where its docs and tools say `course_navigation`; the standard names (`ContentArea`,
/// `RichTextEditor`) have no prefix.
pub fn placements_match(a: &str, b: &str) -> bool {
    let (a, b) = (placement_name(a), placement_name(b));
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

fn placement_name(placement: &str) -> &str {
    let placement = placement.trim();
    if placement.contains("://") {
        placement.rsplit('/').next().unwrap_or(placement)
    } else {
        placement
    }
}

/// The message type as the spec spells it. Moodle 3.10.0 listed `LtiResourceLink` (fixed in
/// MDL-70074).
pub(super) fn normalise_message_type(message_type: &str) -> &str {
    match message_type.trim() {
        "LtiResourceLink" => RESOURCE_LINK_REQUEST,
        other => other,
    }
}

const NESTED_PRODUCT_FAMILY_CODE: &str = "lti-platform-configuration.product_family_code";
const NESTED_MESSAGES_SUPPORTED: &str = "lti-platform-configuration.messages_supported";
const NESTED_VERSION: &str = "lti-platform-configuration.version";
const NESTED_VARIABLES: &str = "lti-platform-configuration.variables";
const LTI_PLATFORM_CONFIGURATION: &str = "lti-platform-configuration";

impl PlatformConfiguration {
    /// Reads and validates the platform's OpenID configuration.
    ///
    /// Required (DR §3.6, "REQUIRED" members the tool cannot work without): `issuer` (an
    /// http(s) URL without query or fragment, kept as written), `authorization_endpoint`,
    /// `token_endpoint`, `jwks_uri`, `registration_endpoint` (absolute http(s) URLs; whether
    /// http is acceptable is [`check_issuer`](super::check_issuer)'s decision),
    /// `id_token_signing_alg_values_supported` listing RS256 (DR §3.6: "REQUIRED ... The
    /// platform MUST support RS256"; an absent list is refused as missing, not assumed), and
    /// the `https://purl.imsglobal.org/spec/lti-platform-configuration` object with
    /// `product_family_code` and `messages_supported`.
    ///
    /// Liberal where platforms are known to deviate:
    /// - the platform-configuration key is also found with stray surrounding whitespace
    ///   (Moodle 3.10.0);
    /// - `messages_supported` items may be plain strings (Moodle 3.x); such items take the
    ///   placements of the platform configuration's top-level `placements` array (Moodle 3.x
    ///   declared `["AddContentMenu"]` there, for no message type in particular);
    /// - `LtiResourceLink` is read as `LtiResourceLinkRequest` (Moodle 3.10.0);
    /// - placements may be absent, null or empty; items that are neither strings nor objects
    ///   with a string `type` are skipped; one type listed twice has its placements merged;
    /// - Moodle 3.10.0 has no `authorization_endpoint`: for product `moodle` only it is
    ///   derived as the issuer plus `/mod/lti/auth.php`, where every Moodle since 3.7 serves it
    ///   (the per-product table in `products`);
    /// - unknown members are ignored; `scopes_supported`, `claims_supported` and `variables`
    ///   default to empty; `raw` keeps the whole document.
    pub fn parse(json: &[u8]) -> Result<Self, RegistrationError> {
        if json.len() > MAX_DOCUMENT_LEN {
            return Err(RegistrationError::DocumentTooLarge {
                max: MAX_DOCUMENT_LEN,
            });
        }
        let raw: Value =
            serde_json::from_slice(json).map_err(|_| RegistrationError::ConfigInvalid)?;
        let document = raw.as_object().ok_or(RegistrationError::ConfigInvalid)?;

        let issuer = parse_issuer(document)?;
        let token_endpoint = endpoint(document, "token_endpoint")?;
        let jwks_uri = endpoint(document, "jwks_uri")?;
        let registration_endpoint = endpoint(document, "registration_endpoint")?;
        check_rs256(document)?;

        let platform = match member(document, PLATFORM_CONFIGURATION_KEY) {
            None => {
                return Err(RegistrationError::ConfigFieldMissing {
                    field: LTI_PLATFORM_CONFIGURATION,
                });
            }
            Some(value) => value
                .as_object()
                .ok_or(RegistrationError::ConfigFieldInvalid {
                    field: LTI_PLATFORM_CONFIGURATION,
                })?,
        };
        let product_family_code = match platform.get("product_family_code") {
            None | Some(Value::Null) => {
                return Err(RegistrationError::ConfigFieldMissing {
                    field: NESTED_PRODUCT_FAMILY_CODE,
                });
            }
            Some(value) => value
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or(RegistrationError::ConfigFieldInvalid {
                    field: NESTED_PRODUCT_FAMILY_CODE,
                })?
                .to_owned(),
        };
        let version = match platform.get("version") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                return Err(RegistrationError::ConfigFieldInvalid {
                    field: NESTED_VERSION,
                });
            }
        };
        let messages_supported = parse_messages(platform)?;
        let variables = optional_list(platform, "variables", NESTED_VARIABLES)?;

        let authorization_endpoint = match document.get("authorization_endpoint") {
            None | Some(Value::Null) => {
                match products::derived_authorization_endpoint(&product_family_code, &issuer) {
                    Some(derived) => derived,
                    None => {
                        return Err(RegistrationError::ConfigFieldMissing {
                            field: "authorization_endpoint",
                        });
                    }
                }
            }
            Some(_) => endpoint(document, "authorization_endpoint")?,
        };

        Ok(Self {
            scopes_supported: optional_list(document, "scopes_supported", "scopes_supported")?,
            claims_supported: optional_list(document, "claims_supported", "claims_supported")?,
            issuer,
            authorization_endpoint,
            token_endpoint,
            jwks_uri,
            authorization_server: document
                .get("authorization_server")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            registration_endpoint,
            product_family_code,
            version,
            messages_supported,
            variables,
            raw,
        })
    }

    /// The platform's entry for `message_type` (compared after normalising the spelling), if
    /// the platform supports it.
    pub fn message(&self, message_type: &str) -> Option<&SupportedMessage> {
        let wanted = normalise_message_type(message_type);
        self.messages_supported
            .iter()
            .find(|m| m.message_type == wanted)
    }

    /// Whether the platform lists `scope` in `scopes_supported`.
    pub fn supports_scope(&self, scope: &str) -> bool {
        self.scopes_supported.iter().any(|s| s == scope)
    }
}

/// OpenID Connect Discovery 1.0 §3: the issuer is a "URL using the https scheme with no query
/// or fragment component". http is let through here (dev Moodle sites use it) and judged by
/// `check_issuer`. The string is kept exactly, so one with surrounding whitespace is refused
/// rather than silently trimmed (launches compare `iss` byte for byte).
fn parse_issuer(document: &Map<String, Value>) -> Result<String, RegistrationError> {
    const FIELD: &str = "issuer";
    let value = match document.get(FIELD) {
        None | Some(Value::Null) => {
            return Err(RegistrationError::ConfigFieldMissing { field: FIELD });
        }
        Some(value) => value,
    };
    let invalid = RegistrationError::ConfigFieldInvalid { field: FIELD };
    let issuer = value.as_str().ok_or(invalid.clone())?;
    if issuer.is_empty() || issuer.trim() != issuer {
        return Err(invalid);
    }
    let url = web_url(issuer).ok_or(invalid.clone())?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid);
    }
    Ok(issuer.to_owned())
}

/// A required endpoint member: an absolute http(s) URL with a host.
fn endpoint(document: &Map<String, Value>, field: &'static str) -> Result<Url, RegistrationError> {
    match document.get(field) {
        None | Some(Value::Null) => Err(RegistrationError::ConfigFieldMissing { field }),
        Some(value) => value
            .as_str()
            .and_then(web_url)
            .ok_or(RegistrationError::ConfigFieldInvalid { field }),
    }
}

pub(super) fn web_url(text: &str) -> Option<Url> {
    let url = Url::parse(text.trim()).ok()?;
    let web =
        matches!(url.scheme(), "https" | "http") && url.host_str().is_some_and(|h| !h.is_empty());
    web.then_some(url)
}

/// DR §3.6 lists `id_token_signing_alg_values_supported` as REQUIRED and requires RS256.
fn check_rs256(document: &Map<String, Value>) -> Result<(), RegistrationError> {
    const FIELD: &str = "id_token_signing_alg_values_supported";
    let algs = match document.get(FIELD) {
        None | Some(Value::Null) => {
            return Err(RegistrationError::ConfigFieldMissing { field: FIELD });
        }
        Some(value) => {
            string_list(value).ok_or(RegistrationError::ConfigFieldInvalid { field: FIELD })?
        }
    };
    if algs.iter().any(|a| a == "RS256") {
        Ok(())
    } else {
        Err(RegistrationError::AlgRs256Unsupported)
    }
}

/// An optional array of strings: absent or null is empty, anything but an array is refused.
fn optional_list(
    object: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Vec<String>, RegistrationError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => string_list(value).ok_or(RegistrationError::ConfigFieldInvalid { field }),
    }
}

/// `messages_supported` (DR §3.6.1: "An array of messages supported by the platform", each
/// `{type, placements?}`), read liberally as described on [`PlatformConfiguration::parse`].
fn parse_messages(
    platform: &Map<String, Value>,
) -> Result<Vec<SupportedMessage>, RegistrationError> {
    let items = match platform.get("messages_supported") {
        None | Some(Value::Null) => {
            return Err(RegistrationError::ConfigFieldMissing {
                field: NESTED_MESSAGES_SUPPORTED,
            });
        }
        Some(value) => value
            .as_array()
            .ok_or(RegistrationError::ConfigFieldInvalid {
                field: NESTED_MESSAGES_SUPPORTED,
            })?,
    };
    // Moodle 3.x: a top-level `placements` beside string-form message types.
    let legacy_placements = platform
        .get("placements")
        .and_then(string_list)
        .unwrap_or_default();

    let mut messages: Vec<SupportedMessage> = Vec::with_capacity(items.len());
    for item in items {
        let (message_type, placements) = match item {
            Value::String(message_type) => (message_type.as_str(), legacy_placements.clone()),
            Value::Object(object) => {
                let Some(message_type) = object.get("type").and_then(Value::as_str) else {
                    continue;
                };
                let placements = object
                    .get("placements")
                    .and_then(string_list)
                    .unwrap_or_default();
                (message_type, placements)
            }
            _ => continue,
        };
        let message_type = normalise_message_type(message_type);
        if message_type.is_empty() {
            continue;
        }
        match messages.iter_mut().find(|m| m.message_type == message_type) {
            Some(existing) => {
                for placement in placements {
                    if !existing.placements.contains(&placement) {
                        existing.placements.push(placement);
                    }
                }
            }
            None => messages.push(SupportedMessage {
                message_type: message_type.to_owned(),
                placements,
            }),
        }
    }
    Ok(messages)
}
