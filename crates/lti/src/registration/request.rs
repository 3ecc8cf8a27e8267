//! The registration request the tool POSTs (DR §3.3 and §3.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::platform::normalise_message_type;
use super::products::{self, Product};
use super::{DEEP_LINKING_REQUEST, PlatformConfiguration, TOOL_CONFIGURATION_KEY};

/// What the tool says about itself (from ltigate's config), already resolved to absolute URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDescription {
    /// `client_name`: the tool's name as administrators see it.
    pub client_name: String,
    /// Tool configuration `description`.
    pub description: Option<String>,
    /// `logo_uri`.
    pub logo_uri: Option<String>,
    /// `client_uri`: the tool's home page.
    pub client_uri: Option<String>,
    /// `tos_uri`: terms of service.
    pub tos_uri: Option<String>,
    /// `policy_uri`: privacy policy.
    pub policy_uri: Option<String>,
    /// `contacts`: e-mail addresses.
    pub contacts: Vec<String>,
    /// `initiate_login_uri`: `<public_url>/lti/login`.
    pub initiate_login_uri: String,
    /// `redirect_uris`: `[<public_url>/lti/launch]`.
    pub redirect_uris: Vec<String>,
    /// Tool configuration `target_link_uri`: `<public_url>/lti/launch`.
    pub target_link_uri: String,
    /// `jwks_uri`: `<public_url>/lti/keys`.
    pub jwks_uri: String,
    /// Tool configuration `domain`: the host of the public URL (Moodle 4 refuses a
    /// `target_link_uri` on another host).
    pub domain: String,
    /// Service scopes the tool wants (AGS, NRPS); only those the platform supports are sent.
    pub scopes: Vec<String>,
    /// Identity claims the tool wants (`name`, `email`, ...); only those the platform supports
    /// are sent, plus `iss` and `sub` always.
    pub claims: Vec<String>,
    /// The messages the tool accepts.
    pub messages: Vec<ToolMessage>,
    /// Tool configuration `custom_parameters`.
    pub custom_parameters: BTreeMap<String, String>,
}

/// One message type the tool accepts, with where it wants to appear.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolMessage {
    /// `LtiResourceLinkRequest` or `LtiDeepLinkingRequest`.
    pub message_type: String,
    /// Wanted placements, as short names (`course_navigation`, `ContentArea`) or URIs.
    pub placements: Vec<String>,
    /// Link text in the platform.
    pub label: Option<String>,
    /// Launch URL for this message, when not the tool's `target_link_uri`.
    pub target_link_uri: Option<String>,
}

/// Claims the platform sends in every launch whatever it lists (LTI Core 1.3 §5.1: an
/// id_token always carries `iss` and `sub` for a user launch), so always requested.
const ALWAYS_CLAIMS: [&str; 2] = ["iss", "sub"];

/// Builds the registration request body for `platform`.
///
/// Strict in what it sends:
/// - `application_type` `web`, `response_types` `["id_token"]`, `grant_types`
///   `["implicit", "client_credentials"]` (spelled correctly, unlike the spec example's
///   `implict`), `token_endpoint_auth_method` `private_key_jwt` (DR §3.3);
/// - `scope`: the tool's scopes the platform lists in `scopes_supported`, space-separated, in
///   the tool's order; `openid` is never sent (it is the login's scope, not a service scope,
///   and Canvas refuses scopes outside its service list). Always present, `""` when nothing is
///   left: Canvas documents `scope` as required, Moodle itself answers `""`;
/// - `logo_uri`, `client_uri`, `tos_uri`, `policy_uri` and `contacts` only when set;
/// - tool configuration: `domain`, `target_link_uri`, `claims` (`iss`, `sub`, then the tool's
///   claims the platform lists in `claims_supported`), `messages` (always present, possibly
///   empty: Canvas requires it), `description` and `custom_parameters` only when set;
/// - `messages`: only the types the platform supports; each message's placements are those
///   the platform declares for that type ([`placements_match`](super::placements_match)),
///   sent in the platform's own spelling; a message left with none carries no `placements`
///   (when the platform declares no placements for a type, none are sent: the platform
///   chooses);
/// - per-product additions from the `products` table (Canvas privacy level and tool id,
///   Moodle's `ContentArea` placement for deep linking).
pub fn registration_request(tool: &ToolDescription, platform: &PlatformConfiguration) -> Value {
    let product = products::product(&platform.product_family_code);

    let scope = tool
        .scopes
        .iter()
        .map(|s| s.trim())
        .filter(|s| *s != "openid" && platform.supports_scope(s))
        .fold(Vec::<&str>::new(), |mut kept, s| {
            if !kept.contains(&s) {
                kept.push(s);
            }
            kept
        })
        .join(" ");

    let mut claims: Vec<String> = ALWAYS_CLAIMS.iter().map(|c| (*c).to_owned()).collect();
    for claim in &tool.claims {
        let claim = claim.trim();
        if platform.claims_supported.iter().any(|c| c == claim)
            && !claims.iter().any(|c| c == claim)
        {
            claims.push(claim.to_owned());
        }
    }

    let messages: Vec<Value> = tool
        .messages
        .iter()
        .filter_map(|m| message(m, platform, product))
        .collect();

    let mut tool_configuration = Map::new();
    tool_configuration.insert("domain".into(), tool.domain.clone().into());
    tool_configuration.insert(
        "target_link_uri".into(),
        tool.target_link_uri.clone().into(),
    );
    if let Some(description) = set(&tool.description) {
        tool_configuration.insert("description".into(), description.into());
    }
    if !tool.custom_parameters.is_empty() {
        tool_configuration.insert("custom_parameters".into(), json!(tool.custom_parameters));
    }
    if let Some(product) = product {
        products::tool_configuration_additions(
            product,
            &tool.domain,
            &claims,
            &mut tool_configuration,
        );
    }
    tool_configuration.insert("claims".into(), json!(claims));
    tool_configuration.insert("messages".into(), Value::Array(messages));

    let mut body = Map::new();
    body.insert("application_type".into(), "web".into());
    body.insert("response_types".into(), json!(["id_token"]));
    body.insert(
        "grant_types".into(),
        json!(["implicit", "client_credentials"]),
    );
    body.insert(
        "initiate_login_uri".into(),
        tool.initiate_login_uri.clone().into(),
    );
    body.insert("redirect_uris".into(), json!(tool.redirect_uris));
    body.insert("client_name".into(), tool.client_name.clone().into());
    body.insert("jwks_uri".into(), tool.jwks_uri.clone().into());
    body.insert(
        "token_endpoint_auth_method".into(),
        "private_key_jwt".into(),
    );
    body.insert("scope".into(), scope.into());
    for (key, value) in [
        ("logo_uri", &tool.logo_uri),
        ("client_uri", &tool.client_uri),
        ("tos_uri", &tool.tos_uri),
        ("policy_uri", &tool.policy_uri),
    ] {
        if let Some(value) = set(value) {
            body.insert(key.into(), value.into());
        }
    }
    let contacts: Vec<&str> = tool
        .contacts
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    if !contacts.is_empty() {
        body.insert("contacts".into(), json!(contacts));
    }
    body.insert(
        TOOL_CONFIGURATION_KEY.into(),
        Value::Object(tool_configuration),
    );
    Value::Object(body)
}

/// One entry of the tool configuration's `messages`, or `None` when the platform does not
/// support the type.
fn message(
    tool_message: &ToolMessage,
    platform: &PlatformConfiguration,
    product: Option<&Product>,
) -> Option<Value> {
    let supported = platform.message(&tool_message.message_type)?;
    let message_type = normalise_message_type(&tool_message.message_type);

    let mut placements: Vec<&str> = Vec::new();
    for wanted in &tool_message.placements {
        if let Some(offered) = supported.find_placement(wanted)
            && !placements.contains(&offered)
        {
            placements.push(offered);
        }
    }
    if placements.is_empty()
        && message_type == DEEP_LINKING_REQUEST
        && let Some(default) = product.and_then(|p| p.default_deep_linking_placement)
    {
        placements.push(default);
    }

    let mut entry = Map::new();
    entry.insert("type".into(), message_type.into());
    if let Some(target) = set(&tool_message.target_link_uri) {
        entry.insert("target_link_uri".into(), target.into());
    }
    if let Some(label) = set(&tool_message.label) {
        entry.insert("label".into(), label.into());
    }
    if !placements.is_empty() {
        entry.insert("placements".into(), json!(placements));
    }
    Some(Value::Object(entry))
}

/// An optional text that is present and not blank.
fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
