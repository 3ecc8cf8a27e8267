//! LTI claim names and typed claim structs, and the LTI-level rules a launch payload must meet.
//!
//! [`LaunchClaims`] is the typed view of a launch payload. It is built by
//! [`crate::id_token::verify`] after the signature and the OIDC claims (`iss`, `aud`, `exp`,
//! `nonce`, ...) are checked, or by [`LaunchClaims::from_json`] / [`LaunchClaims::from_raw`] when
//! a server re-reads a payload it stored after verifying it. Either way the LTI rules below
//! (version, message type, deployment id, the claims each message type requires) are applied, and
//! a claim of the wrong JSON shape is a [`LaunchError::ClaimInvalid`] naming the claim, never a
//! panic. On the launch path the payload text is scanned once and only the claims listed in
//! [`uri`] (plus the OIDC ones) are parsed, each straight into its typed shape.
//!
//! Parsing is liberal where real platforms deviate from the specs: unknown claims are ignored
//! here (they stay in the raw payload), `null` counts as absent, context types are free strings
//! (Moodle sends `CourseSection`), custom values are kept as sent (Canvas leaves unsubstituted
//! `$Canvas.x` variables), and launch presentation sizes that are not numbers are dropped.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use url::Url;

use crate::error::LaunchError;
use crate::ids::{DeploymentId, Subject};

/// One claim of a payload, borrowed: from a parsed map, or as unparsed JSON text (the launch
/// path, where only the claims this crate reads are ever parsed). `null` never reaches here.
#[derive(Clone, Copy)]
pub(crate) enum Claim<'a> {
    Value(&'a Value),
    Raw(&'a RawValue),
}

impl<'de: 'a, 'a> Deserialize<'de> for Claim<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(deserializer).map(Claim::Raw)
    }
}

impl Claim<'_> {
    /// Reads the claim into its typed shape; a wrong shape is `CLAIM_INVALID` naming it.
    pub(crate) fn parse<T: DeserializeOwned>(self, name: &'static str) -> Result<T, LaunchError> {
        match self {
            Claim::Value(value) => T::deserialize(value),
            Claim::Raw(raw) => serde_json::from_str(raw.get()),
        }
        .map_err(|_| LaunchError::ClaimInvalid { claim: name })
    }
}

/// Reads an optional claim.
pub(crate) fn optional<T: DeserializeOwned>(
    claim: Option<Claim<'_>>,
    name: &'static str,
) -> Result<Option<T>, LaunchError> {
    claim.map(|c| c.parse(name)).transpose()
}

/// Declares, from one list, the claim name constants and the table of claims this crate reads.
macro_rules! claim_table {
    (
        oidc { $($oidc:ident),* $(,)? }
        lti { $( #[doc = $doc:literal] $field:ident: $konst:ident = $name:literal, )* }
    ) => {
        /// Claim names (JSON member names of the id_token payload).
        pub mod uri {
            $( #[doc = $doc] pub const $konst: &str = $name; )*
        }

        /// The claims this crate reads, each borrowed from the payload. Deserializing it from
        /// the payload text skips every other claim without allocating.
        #[derive(Deserialize)]
        pub(crate) struct ClaimRefs<'a> {
            $( #[serde(borrow)] pub(crate) $oidc: Option<Claim<'a>>, )*
            $( #[serde(borrow, rename = $name)] pub(crate) $field: Option<Claim<'a>>, )*
        }

        impl<'a> ClaimRefs<'a> {
            pub(crate) fn from_map(map: &'a Map<String, Value>) -> Self {
                let get = |key: &str| map.get(key).filter(|v| !v.is_null()).map(Claim::Value);
                Self {
                    $( $oidc: get(stringify!($oidc)), )*
                    $( $field: get($name), )*
                }
            }
        }
    };
}

claim_table! {
    oidc { iss, aud, azp, exp, iat, nbf, nonce, sub, name, given_name, family_name, middle_name,
           email, picture, locale }
    lti {
        /// LTI message type.
        message_type: MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type",
        /// LTI version.
        version: VERSION = "https://purl.imsglobal.org/spec/lti/claim/version",
        /// Deployment id.
        deployment_id: DEPLOYMENT_ID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id",
        /// Target link URI.
        target_link_uri: TARGET_LINK_URI =
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri",
        /// Resource link.
        resource_link: RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link",
        /// Roles.
        roles: ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles",
        /// Role scope mentor.
        role_scope_mentor: ROLE_SCOPE_MENTOR =
            "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor",
        /// Context.
        context: CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context",
        /// Tool platform.
        tool_platform: TOOL_PLATFORM = "https://purl.imsglobal.org/spec/lti/claim/tool_platform",
        /// Launch presentation.
        launch_presentation: LAUNCH_PRESENTATION =
            "https://purl.imsglobal.org/spec/lti/claim/launch_presentation",
        /// Custom parameters.
        custom: CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom",
        /// LIS (learning information services) identifiers.
        lis: LIS = "https://purl.imsglobal.org/spec/lti/claim/lis",
        /// Assignment and Grade Services endpoint.
        ags: AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
        /// Names and Role Provisioning Services endpoint.
        nrps: NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
        /// Deep linking settings.
        deep_linking_settings: DEEP_LINKING_SETTINGS =
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
        /// LTI 1.1 Basic Outcomes carried in an LTI 1.3 launch (LTI 1.3 Core, migration).
        basic_outcome: BASIC_OUTCOME =
            "https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome",
    }
}

impl<'a> ClaimRefs<'a> {
    /// Reads the table from payload text, which must be a JSON object.
    pub(crate) fn from_json(json: &'a str) -> Result<Self, LaunchError> {
        // A derived struct also accepts a JSON array (fields by position): refuse it first.
        if !json.trim_start().starts_with('{') {
            return Err(not_an_object());
        }
        serde_json::from_str(json).map_err(|_| not_an_object())
    }
}

fn not_an_object() -> LaunchError {
    LaunchError::Malformed {
        part: "payload is not a JSON object",
    }
}

/// The only LTI version accepted.
pub const LTI_VERSION: &str = "1.3.0";

/// Longest accepted deployment id. LTI Core 1.3 §5.3.3: "It MUST NOT exceed 255 ASCII
/// characters in length".
pub const MAX_DEPLOYMENT_ID_LEN: usize = 255;

/// The LTI messages this crate accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageType {
    /// `LtiResourceLinkRequest`: a user opens a resource link.
    #[serde(rename = "LtiResourceLinkRequest")]
    ResourceLink,
    /// `LtiDeepLinkingRequest`: a user picks content to place in the platform.
    #[serde(rename = "LtiDeepLinkingRequest")]
    DeepLinking,
}

impl MessageType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResourceLink => "LtiResourceLinkRequest",
            Self::DeepLinking => "LtiDeepLinkingRequest",
        }
    }

    /// The message type with this wire name, if it is one this crate accepts.
    pub fn from_wire(name: &str) -> Option<Self> {
        match name {
            "LtiResourceLinkRequest" => Some(Self::ResourceLink),
            "LtiDeepLinkingRequest" => Some(Self::DeepLinking),
            _ => None,
        }
    }
}

/// The resource link claim (LTI Core 1.3 §5.3.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLink {
    /// Stable id of the link placement.
    pub id: String,
    /// Link title.
    pub title: Option<String>,
    /// Link description.
    pub description: Option<String>,
}

/// The context claim (LTI Core 1.3 §5.4.1): usually a course.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// Stable context id.
    pub id: String,
    /// Short label, such as a course code.
    pub label: Option<String>,
    /// Full title.
    pub title: Option<String>,
    /// Context types: full vocabulary URIs or short names, as the platform sent them.
    #[serde(rename = "type", default, deserialize_with = "null_as_empty")]
    pub types: Vec<String>,
}

/// The tool platform claim (LTI Core 1.3 §5.4.2): the LMS instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolPlatform {
    /// Stable id of the platform instance.
    pub guid: Option<String>,
    /// Administrative contact.
    pub contact_email: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Home page.
    pub url: Option<String>,
    /// Product family, e.g. `canvas`, `moodle`.
    pub product_family_code: Option<String>,
    /// Product version.
    pub version: Option<String>,
    /// `contactEmail`: how some platforms spell `contact_email`. Read only as a string and
    /// never refused, as it is not the spec's member.
    #[serde(rename = "contactEmail", default, deserialize_with = "lenient_string")]
    pub contact_email_camel: Option<String>,
}

impl ToolPlatform {
    /// The contact email under either spelling, the spec's first.
    pub fn any_contact_email(&self) -> Option<&str> {
        self.contact_email
            .as_deref()
            .or(self.contact_email_camel.as_deref())
    }
}

/// The launch presentation claim (LTI Core 1.3 §5.4.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchPresentation {
    /// `frame`, `iframe` or `window`.
    pub document_target: Option<String>,
    /// Height in pixels, when it was sent as a number.
    #[serde(default, deserialize_with = "lenient_dimension")]
    pub height: Option<u32>,
    /// Width in pixels, when it was sent as a number.
    #[serde(default, deserialize_with = "lenient_dimension")]
    pub width: Option<u32>,
    /// Where to send the user when done.
    pub return_url: Option<String>,
    /// Preferred locale.
    pub locale: Option<String>,
}

/// The LIS claim (LTI Core 1.3 §5.4.5). Moodle sends empty strings, kept as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lis {
    /// The person's SIS id.
    pub person_sourcedid: Option<String>,
    /// The course offering's SIS id.
    pub course_offering_sourcedid: Option<String>,
    /// The course section's SIS id.
    pub course_section_sourcedid: Option<String>,
}

/// The Assignment and Grade Services endpoint claim (AGS 2.0 §3.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgsEndpoint {
    /// Scopes the tool may request.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub scope: Vec<String>,
    /// Line items container URL.
    pub lineitems: Option<String>,
    /// The line item bound to this resource link.
    pub lineitem: Option<String>,
}

/// The Names and Role Provisioning Services claim (NRPS 2.0 §3.6.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NrpsService {
    /// Membership container URL of the context.
    pub context_memberships_url: String,
    /// Supported service versions.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub service_versions: Vec<String>,
}

/// The deep linking settings claim (Deep Linking 2.0 §4.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeepLinkingSettings {
    /// Where the tool posts its LtiDeepLinkingResponse.
    pub deep_link_return_url: Url,
    /// Content item types the platform accepts.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub accept_types: Vec<String>,
    /// Document targets the platform accepts.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub accept_presentation_document_targets: Vec<String>,
    /// Accepted media types (comma-separated).
    pub accept_media_types: Option<String>,
    /// Whether several items may be returned.
    pub accept_multiple: Option<bool>,
    /// Whether line items may be created.
    pub accept_lineitem: Option<bool>,
    /// Whether the platform creates the resource without asking.
    pub auto_create: Option<bool>,
    /// Default title.
    pub title: Option<String>,
    /// Default text.
    pub text: Option<String>,
    /// Opaque value the tool must return unchanged. The spec says a string; some platforms
    /// send an object, so any JSON value is kept as sent and echoed back.
    pub data: Option<Value>,
}

/// The LTI 1.1 Basic Outcomes claim of a migrated link (LTI 1.3 Core, migration appendix).
///
/// Not an LTI 1.3 claim, so it never fails a launch: a value that is not an object counts as
/// absent, and members that are not strings as missing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicOutcome {
    /// The LTI 1.1 result id (Moodle sends a JSON document as this string).
    pub lis_result_sourcedid: Option<String>,
    /// The LTI 1.1 outcome service URL.
    pub lis_outcome_service_url: Option<String>,
}

impl BasicOutcome {
    fn lenient(value: &Value) -> Option<Self> {
        let object = value.as_object()?;
        let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            lis_result_sourcedid: text("lis_result_sourcedid"),
            lis_outcome_service_url: text("lis_outcome_service_url"),
        })
    }
}

/// The typed view of a launch payload that met the LTI rules.
///
/// Build it with [`crate::id_token::verify`] (through [`crate::id_token::VerifiedLaunch`]) or,
/// for a payload stored after verification, with [`LaunchClaims::from_raw`].
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchClaims {
    message_type: MessageType,
    deployment_id: DeploymentId,
    target_link_uri: Option<Url>,
    sub: Option<Subject>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    middle_name: Option<String>,
    email: Option<String>,
    picture: Option<String>,
    locale: Option<String>,
    roles: Vec<String>,
    role_scope_mentor: Vec<String>,
    context: Option<Context>,
    resource_link: Option<ResourceLink>,
    tool_platform: Option<ToolPlatform>,
    launch_presentation: Option<LaunchPresentation>,
    custom: Map<String, Value>,
    lis: Option<Lis>,
    ags: Option<AgsEndpoint>,
    nrps: Option<NrpsService>,
    deep_linking_settings: Option<DeepLinkingSettings>,
    basic_outcome: Option<BasicOutcome>,
}

impl LaunchClaims {
    /// Applies the LTI rules to a payload and reads its claims.
    ///
    /// This does not check the signature or the OIDC claims (`iss`, `aud`, `exp`, `nonce`):
    /// only call it on a payload that [`crate::id_token::verify`] accepted.
    pub fn from_raw(raw: &Map<String, Value>) -> Result<Self, LaunchError> {
        Self::from_refs(&ClaimRefs::from_map(raw))
    }

    /// Like [`LaunchClaims::from_raw`], from payload JSON text such as
    /// [`crate::id_token::VerifiedLaunch::raw_json`] (faster: unknown claims are not parsed).
    pub fn from_json(json: &str) -> Result<Self, LaunchError> {
        Self::from_refs(&ClaimRefs::from_json(json)?)
    }

    pub(crate) fn from_refs(c: &ClaimRefs<'_>) -> Result<Self, LaunchError> {
        // 6. "The https://purl.imsglobal.org/spec/lti/claim/version claim ... MUST be 1.3.0"
        //    (LTI Core 1.3 §5.3.2).
        match optional::<String>(c.version, "version")?.as_deref() {
            None => return Err(LaunchError::VersionMissing),
            Some(LTI_VERSION) => {}
            Some(_) => return Err(LaunchError::VersionInvalid),
        }

        // 7. "The message_type claim is REQUIRED" (LTI Core 1.3 §5.3.1); only resource link
        //    and deep linking requests are handled for now.
        let message_type = match optional::<String>(c.message_type, "message_type")? {
            None => return Err(LaunchError::MessageTypeMissing),
            Some(name) => {
                MessageType::from_wire(&name).ok_or(LaunchError::MessageTypeUnsupported)?
            }
        };

        // 8. "The required https://purl.imsglobal.org/spec/lti/claim/deployment_id claim ...
        //    MUST NOT exceed 255 ASCII characters in length" (LTI Core 1.3 §5.3.3). Whether it
        //    is a known deployment is the server's decision.
        let deployment_id = match optional::<String>(c.deployment_id, "deployment_id")? {
            None => return Err(LaunchError::DeploymentIdMissing),
            Some(id) if id.is_empty() => return Err(LaunchError::DeploymentIdMissing),
            Some(id) if id.len() > MAX_DEPLOYMENT_ID_LEN => {
                return Err(LaunchError::ClaimInvalid {
                    claim: "deployment_id",
                });
            }
            Some(id) => DeploymentId::new(id),
        };

        // `sub` is optional in an anonymous launch, "but if present, MUST NOT be empty"
        // (LTI Core 1.3 §5.3.6).
        let sub = match optional::<String>(c.sub, "sub")? {
            Some(sub) if sub.is_empty() => return Err(LaunchError::ClaimInvalid { claim: "sub" }),
            sub => sub.map(Subject::new),
        };
        let target_link_uri = optional::<String>(c.target_link_uri, "target_link_uri")?
            .map(|uri| {
                Url::parse(&uri).map_err(|_| LaunchError::ClaimInvalid {
                    claim: "target_link_uri",
                })
            })
            .transpose()?;
        let roles: Option<Vec<String>> = optional(c.roles, "roles")?;
        // Read untyped first, so a missing member and a wrong shape get different codes.
        let resource_link: Option<Value> = optional(c.resource_link, "resource_link")?;
        let deep_linking_settings: Option<Value> =
            optional(c.deep_linking_settings, "deep_linking_settings")?;

        // 9. The claims each message type requires.
        match message_type {
            MessageType::ResourceLink => {
                // LTI Core 1.3 §5.3.5: "id (REQUIRED)" in the resource_link claim;
                // §5.3.4 target_link_uri and §5.3.7 roles are REQUIRED ("may be an empty array").
                if !has_non_empty_member(resource_link.as_ref(), "id") {
                    return Err(LaunchError::ResourceLinkMissing);
                }
                if target_link_uri.is_none() {
                    return Err(LaunchError::TargetLinkUriMissing);
                }
                if roles.is_none() {
                    return Err(LaunchError::RolesMissing);
                }
            }
            MessageType::DeepLinking => {
                // Deep Linking 2.0 §4.4: the request carries the user (`sub`) and
                // "deep_link_return_url (REQUIRED)" in the deep_linking_settings claim.
                if sub.is_none() {
                    return Err(LaunchError::SubMissing);
                }
                if !has_non_empty_member(deep_linking_settings.as_ref(), "deep_link_return_url") {
                    return Err(LaunchError::DeepLinkingSettingsMissing);
                }
            }
        }

        Ok(Self {
            message_type,
            deployment_id,
            target_link_uri,
            sub,
            name: optional(c.name, "name")?,
            given_name: optional(c.given_name, "given_name")?,
            family_name: optional(c.family_name, "family_name")?,
            middle_name: optional(c.middle_name, "middle_name")?,
            email: optional(c.email, "email")?,
            picture: optional(c.picture, "picture")?,
            locale: optional(c.locale, "locale")?,
            roles: roles.unwrap_or_default(),
            role_scope_mentor: optional(c.role_scope_mentor, "role_scope_mentor")?
                .unwrap_or_default(),
            context: optional(c.context, "context")?,
            resource_link: typed(resource_link.as_ref(), "resource_link")?,
            tool_platform: optional(c.tool_platform, "tool_platform")?,
            launch_presentation: optional(c.launch_presentation, "launch_presentation")?,
            custom: optional(c.custom, "custom")?.unwrap_or_default(),
            lis: optional(c.lis, "lis")?,
            ags: optional(c.ags, "ags_endpoint")?,
            nrps: optional(c.nrps, "namesroleservice")?,
            deep_linking_settings: typed(deep_linking_settings.as_ref(), "deep_linking_settings")?,
            basic_outcome: optional::<Value>(c.basic_outcome, "basicoutcome")?
                .as_ref()
                .and_then(BasicOutcome::lenient),
        })
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// The deployment id (not yet checked against the platform's known deployments).
    pub fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }

    /// The URL the platform asked to launch; always present for resource links.
    pub fn target_link_uri(&self) -> Option<&Url> {
        self.target_link_uri.as_ref()
    }

    /// The user; absent in an anonymous launch.
    pub fn sub(&self) -> Option<&Subject> {
        self.sub.as_ref()
    }

    /// Full name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Given name.
    pub fn given_name(&self) -> Option<&str> {
        self.given_name.as_deref()
    }

    /// Family name.
    pub fn family_name(&self) -> Option<&str> {
        self.family_name.as_deref()
    }

    /// Middle name.
    pub fn middle_name(&self) -> Option<&str> {
        self.middle_name.as_deref()
    }

    /// Email address, as the platform sent it (not verified by anyone).
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// Picture URL.
    pub fn picture(&self) -> Option<&str> {
        self.picture.as_deref()
    }

    /// The user's locale.
    pub fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }

    /// Role URIs (possibly empty).
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Users this mentor may see (possibly empty).
    pub fn role_scope_mentor(&self) -> &[String] {
        &self.role_scope_mentor
    }

    /// The context (course).
    pub fn context(&self) -> Option<&Context> {
        self.context.as_ref()
    }

    /// The resource link; always present for resource link launches.
    pub fn resource_link(&self) -> Option<&ResourceLink> {
        self.resource_link.as_ref()
    }

    /// The platform instance.
    pub fn tool_platform(&self) -> Option<&ToolPlatform> {
        self.tool_platform.as_ref()
    }

    /// How the tool is displayed.
    pub fn launch_presentation(&self) -> Option<&LaunchPresentation> {
        self.launch_presentation.as_ref()
    }

    /// Custom parameters as sent (values are normally strings, possibly unsubstituted
    /// variables like `$Canvas.user.id`).
    pub fn custom(&self) -> &Map<String, Value> {
        &self.custom
    }

    /// LIS identifiers.
    pub fn lis(&self) -> Option<&Lis> {
        self.lis.as_ref()
    }

    /// The AGS endpoint.
    pub fn ags(&self) -> Option<&AgsEndpoint> {
        self.ags.as_ref()
    }

    /// The NRPS endpoint.
    pub fn nrps(&self) -> Option<&NrpsService> {
        self.nrps.as_ref()
    }

    /// Deep linking settings; always present for deep linking requests.
    pub fn deep_linking_settings(&self) -> Option<&DeepLinkingSettings> {
        self.deep_linking_settings.as_ref()
    }

    /// The LTI 1.1 Basic Outcomes claim, when it is an object.
    pub fn basic_outcome(&self) -> Option<&BasicOutcome> {
        self.basic_outcome.as_ref()
    }
}

/// Reads an already-parsed claim into its typed shape.
fn typed<T: DeserializeOwned>(
    value: Option<&Value>,
    name: &'static str,
) -> Result<Option<T>, LaunchError> {
    optional(value.map(Claim::Value), name)
}

/// Whether an object claim has a non-empty string member. Other shapes count as present, so
/// the typed read reports them as invalid rather than missing.
fn has_non_empty_member(claim: Option<&Value>, member: &str) -> bool {
    match claim {
        Some(Value::Object(object)) => match object.get(member) {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        },
        Some(_) => true,
        None => false,
    }
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string, or absent for any other JSON value.
fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// Sizes are meant to be pixel counts; anything else (strings like "100%", negatives) is
/// dropped rather than failing the launch.
fn lenient_dimension<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
