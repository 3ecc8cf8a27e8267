//! What the app sees of a verified launch: the body of `GET /api/idtoken`.
//!
//! ltigate's app API is compatible with the LTIAAS API, so this module maps the typed claims of
//! a verified launch ([`LaunchClaims`]) to the LTIAAS "formatted" ID token (`user`, `platform`,
//! `launch`, `services`, with LTIAAS's own camelCase names), or, for `?raw=true`, returns the
//! payload as the LMS sent it. Both carry `ltiVersion: "1.3.0"`, which existing LTIAAS clients
//! dispatch on.
//!
//! It does not verify anything: the claims were verified at the launch, and the stored payload
//! is re-read with the same rules ([`LaunchClaims::from_json`]), so what a launch accepted
//! reads. It does no I/O: the caller supplies ltigate's view of the platform and the service key.
//!
//! The body borrows from the claims and is serialized straight from these structs. Missing
//! values are *omitted*, never `null`: the official LTIAAS Node SDK validates this body with
//! schemas whose optional fields accept a missing key but reject `null`.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use lti::claims::{
    AgsEndpoint, Context, DeepLinkingSettings, LTI_VERSION, LaunchClaims, LaunchPresentation, Lis,
    MessageType, ResourceLink, ToolPlatform,
};

pub mod lineitems;
pub mod memberships;
mod page;
pub mod scores;
pub mod service_url;

/// ltigate's own view of the platform a launch came from (not taken from the token).
#[derive(Debug, Clone, Copy)]
pub struct PlatformInfo<'a> {
    /// ltigate's platform id (the admin API id).
    pub id: &'a str,
    /// The registered issuer, which the verified `iss` equals.
    pub issuer: &'a str,
    /// The client id the platform issued to ltigate.
    pub client_id: &'a str,
}

/// The LTIAAS formatted ID token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdToken<'a> {
    lti_version: &'static str,
    user: User<'a>,
    platform: PlatformSection<'a>,
    launch: Launch<'a>,
    services: Services<'a>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdTokenUser)]
struct User<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<&'a str>,
    /// Always present, possibly empty (LTI Core 1.3 §5.3.7 allows an empty roles claim).
    roles: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    role_scope_mentor: &'a [String],
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdTokenPlatform)]
struct PlatformSection<'a> {
    id: &'a str,
    url: &'a str,
    client_id: &'a str,
    deployment_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_family_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    /// LTIAAS clients find the LIS identifiers (person_sourcedid, ...) here, by claim names.
    #[serde(skip_serializing_if = "Option::is_none")]
    lis: Option<LisSection<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IdTokenLis)]
struct LisSection<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    person_sourcedid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    course_offering_sourcedid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    course_section_sourcedid: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdTokenLaunch)]
struct Launch<'a> {
    #[serde(rename = "type")]
    message_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    /// Omitted when the launch has no context claim (optional in LTI Core 1.3 §5.4.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<ContextSection<'a>>,
    /// Omitted when the launch has no resource link (deep linking requests have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_link: Option<ResourceLinkSection<'a>>,
    custom: &'a Map<String, Value>,
    presentation: Presentation<'a>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IdTokenContext)]
struct ContextSection<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    /// Kept as sent (Moodle sends the short `CourseSection`).
    #[serde(rename = "type")]
    types: &'a [String],
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IdTokenResourceLink)]
struct ResourceLinkSection<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdTokenPresentation)]
struct Presentation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'a str>,
    /// The LTIAAS API reference names this `document_target`, its guide and Node SDK
    /// `documentTarget`: clients exist for both, so both are sent.
    #[serde(rename = "document_target", skip_serializing_if = "Option::is_none")]
    document_target_snake: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document_target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdTokenServices)]
struct Services<'a> {
    outcomes: Available,
    deep_linking: DeepLinking<'a>,
    assignment_and_grades: AssignmentAndGrades<'a>,
    names_and_roles: Available,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_key: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ServiceAvailable)]
struct Available {
    available: bool,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdTokenDeepLinking)]
struct DeepLinking<'a> {
    available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    accept_types: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accept_media_types: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accept_presentation_document_targets: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accept_multiple: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdTokenAssignmentAndGrades)]
struct AssignmentAndGrades<'a> {
    available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<&'a [String]>,
    /// The launch's own line item; absent when the link has none or several.
    #[serde(skip_serializing_if = "Option::is_none")]
    line_item_id: Option<&'a str>,
}

/// The LTIAAS formatted ID token for the claims of a verified launch.
///
/// `service_key` becomes `services.serviceKey`; the caller passes it whenever the launch
/// carried an AGS or NRPS claim.
pub fn idtoken<'a>(
    claims: &'a LaunchClaims,
    platform: &PlatformInfo<'a>,
    service_key: Option<&'a str>,
) -> IdToken<'a> {
    IdToken {
        lti_version: LTI_VERSION,
        user: User {
            id: claims.sub().map(|s| s.as_str()),
            name: claims.name(),
            email: claims.email(),
            given_name: claims.given_name(),
            family_name: claims.family_name(),
            roles: claims.roles(),
            role_scope_mentor: claims.role_scope_mentor(),
        },
        platform: platform_section(claims, platform),
        launch: Launch {
            message_type: claims.message_type().as_str(),
            target: claims.target_link_uri().map(url::Url::as_str),
            context: claims.context().map(context),
            resource_link: claims.resource_link().map(resource_link),
            custom: claims.custom(),
            presentation: claims
                .launch_presentation()
                .map(presentation)
                .unwrap_or_default(),
        },
        services: Services {
            outcomes: Available {
                available: claims.basic_outcome().is_some(),
            },
            deep_linking: deep_linking(claims),
            assignment_and_grades: assignment_and_grades(claims.ags()),
            names_and_roles: Available {
                available: claims.nrps().is_some(),
            },
            service_key,
        },
    }
}

/// The payload as the LMS sent it, plus `ltiVersion: "1.3.0"` (LTIAAS `?raw=true`).
pub fn raw_idtoken_json(claims: &Map<String, Value>) -> Value {
    let mut raw = claims.clone();
    raw.insert("ltiVersion".into(), Value::from(LTI_VERSION));
    Value::Object(raw)
}

fn platform_section<'a>(claims: &'a LaunchClaims, info: &PlatformInfo<'a>) -> PlatformSection<'a> {
    let tool_platform = claims.tool_platform();
    let field =
        |get: fn(&ToolPlatform) -> &Option<String>| tool_platform.and_then(|tp| get(tp).as_deref());
    PlatformSection {
        id: info.id,
        url: info.issuer,
        client_id: info.client_id,
        deployment_id: claims.deployment_id().as_str(),
        name: field(|tp| &tp.name),
        description: field(|tp| &tp.description),
        guid: field(|tp| &tp.guid),
        // The spec's member is `contact_email`; some implementations write `contactEmail`.
        contact_email: tool_platform.and_then(ToolPlatform::any_contact_email),
        product_family_code: field(|tp| &tp.product_family_code),
        version: field(|tp| &tp.version),
        lis: claims.lis().map(|lis: &Lis| LisSection {
            person_sourcedid: lis.person_sourcedid.as_deref(),
            course_offering_sourcedid: lis.course_offering_sourcedid.as_deref(),
            course_section_sourcedid: lis.course_section_sourcedid.as_deref(),
        }),
    }
}

fn context(claim: &Context) -> ContextSection<'_> {
    ContextSection {
        id: &claim.id,
        label: claim.label.as_deref(),
        title: claim.title.as_deref(),
        types: &claim.types,
    }
}

fn resource_link(claim: &ResourceLink) -> ResourceLinkSection<'_> {
    ResourceLinkSection {
        id: &claim.id,
        title: claim.title.as_deref(),
        description: claim.description.as_deref(),
    }
}

fn presentation(claim: &LaunchPresentation) -> Presentation<'_> {
    let document_target = claim.document_target.as_deref();
    Presentation {
        locale: claim.locale.as_deref(),
        document_target_snake: document_target,
        document_target,
        return_url: claim.return_url.as_deref(),
        width: claim.width,
        height: claim.height,
    }
}

/// Available on a deep linking request (which always says where to send the response); then
/// it also carries what the platform accepts (Deep Linking 2.0 §4.4.1, in LTIAAS names).
fn deep_linking(claims: &LaunchClaims) -> DeepLinking<'_> {
    let settings = claims
        .deep_linking_settings()
        .filter(|_| claims.message_type() == MessageType::DeepLinking);
    let Some(settings) = settings else {
        return DeepLinking::default();
    };
    let DeepLinkingSettings {
        accept_types,
        accept_presentation_document_targets,
        accept_media_types,
        accept_multiple,
        title,
        text,
        ..
    } = settings;
    DeepLinking {
        available: true,
        accept_types: non_empty(accept_types),
        // The spec sends media types as one comma-separated string; LTIAAS gives a list.
        accept_media_types: accept_media_types.as_deref().map(|types| {
            types
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect()
        }),
        accept_presentation_document_targets: non_empty(accept_presentation_document_targets),
        accept_multiple: *accept_multiple,
        title: title.as_deref(),
        text: text.as_deref(),
    }
}

fn assignment_and_grades(claim: Option<&AgsEndpoint>) -> AssignmentAndGrades<'_> {
    AssignmentAndGrades {
        available: claim.is_some(),
        scopes: claim.and_then(|c| non_empty(&c.scope)),
        line_item_id: claim.and_then(|c| c.lineitem.as_deref()),
    }
}

/// A list that was sent empty or not at all is omitted.
fn non_empty(list: &[String]) -> Option<&[String]> {
    (!list.is_empty()).then_some(list)
}

#[cfg(test)]
mod tests;
