//! What the app sees of a verified launch: the body of `GET /api/idtoken`.
//!
//! ltigate's app API is compatible with the LTIAAS API, so this module turns an id_token
//! payload into the LTIAAS "formatted" ID token (`user`, `platform`, `launch`, `services`,
//! with LTIAAS's own camelCase names), or, for `?raw=true`, returns the payload as the LMS sent
//! it. Both carry `ltiVersion: "1.3.0"`, which existing LTIAAS clients dispatch on.
//!
//! It does not verify anything: the payload must already be verified (see `lti::id_token`).
//! It does no I/O: the caller supplies ltigate's view of the platform and the service key.
//!
//! Input is read liberally, because real platforms deviate from the spec: any claim may be
//! missing, `null` or of another JSON type, and the result is still a well-formed body.
//! Missing values are *omitted*, never `null`: the official LTIAAS Node SDK validates this
//! body with schemas whose optional fields accept a missing key but reject `null`.

use serde_json::{Map, Value, json};

use lti::claims::{LTI_VERSION, uri};

/// LTI 1.1 Basic Outcomes carried in an LTI 1.3 launch (LTI 1.3 Core, appendix on migration).
pub const BASIC_OUTCOME: &str = "https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome";

const DEEP_LINKING_REQUEST: &str = "LtiDeepLinkingRequest";

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

/// The LTIAAS formatted ID token for a verified launch payload.
///
/// `service_key` becomes `services.serviceKey`; the caller passes it whenever the launch
/// carried an AGS or NRPS claim.
pub fn idtoken_json(
    claims: &Map<String, Value>,
    platform: &PlatformInfo<'_>,
    service_key: Option<&str>,
) -> Value {
    let mut services = Map::new();
    services.insert("outcomes".into(), outcomes(claims));
    services.insert("deepLinking".into(), deep_linking(claims));
    services.insert("assignmentAndGrades".into(), assignment_and_grades(claims));
    services.insert("namesAndRoles".into(), names_and_roles(claims));
    if let Some(key) = service_key {
        services.insert("serviceKey".into(), Value::from(key));
    }
    json!({
        "ltiVersion": LTI_VERSION,
        "user": user(claims),
        "platform": platform_section(claims, platform),
        "launch": launch(claims),
        "services": services,
    })
}

/// The payload as the LMS sent it, plus `ltiVersion: "1.3.0"` (LTIAAS `?raw=true`).
pub fn raw_idtoken_json(claims: &Map<String, Value>) -> Value {
    let mut raw = claims.clone();
    raw.insert("ltiVersion".into(), Value::from(LTI_VERSION));
    Value::Object(raw)
}

fn user(claims: &Map<String, Value>) -> Value {
    let mut user = Map::new();
    // Anonymous launches carry no `sub`. An empty id is not an id either: handing the app
    // `""` would let it merge every anonymous user into one account.
    let id = text(claims.get("sub")).filter(|s| !s.trim().is_empty());
    put(&mut user, "id", id.map(Value::from));
    put(&mut user, "name", text(claims.get("name")).map(Value::from));
    put(
        &mut user,
        "email",
        text(claims.get("email")).map(Value::from),
    );
    put(
        &mut user,
        "givenName",
        text(claims.get("given_name")).map(Value::from),
    );
    put(
        &mut user,
        "familyName",
        text(claims.get("family_name")).map(Value::from),
    );
    // Always present, possibly empty (LTI Core 1.3 §5.3.7 allows an empty roles claim).
    let roles = strings(claims.get(uri::ROLES)).unwrap_or_default();
    user.insert("roles".into(), Value::from(roles));
    put(
        &mut user,
        "roleScopeMentor",
        strings(claims.get(uri::ROLE_SCOPE_MENTOR)).map(Value::from),
    );
    Value::Object(user)
}

fn platform_section(claims: &Map<String, Value>, info: &PlatformInfo<'_>) -> Value {
    let mut platform = Map::new();
    platform.insert("id".into(), Value::from(info.id));
    platform.insert("url".into(), Value::from(info.issuer));
    platform.insert("clientId".into(), Value::from(info.client_id));
    put(
        &mut platform,
        "deploymentId",
        text(claims.get(uri::DEPLOYMENT_ID)).map(Value::from),
    );
    let tool_platform = object(claims, uri::TOOL_PLATFORM);
    let field = |name: &str| text(tool_platform.and_then(|tp| tp.get(name))).map(Value::from);
    put(&mut platform, "name", field("name"));
    put(&mut platform, "description", field("description"));
    put(&mut platform, "guid", field("guid"));
    // The spec's member is `contact_email`; some implementations write `contactEmail`.
    put(
        &mut platform,
        "contactEmail",
        field("contact_email").or_else(|| field("contactEmail")),
    );
    put(
        &mut platform,
        "productFamilyCode",
        field("product_family_code"),
    );
    put(&mut platform, "version", field("version"));
    // LTIAAS clients find the LIS identifiers (person_sourcedid, ...) here.
    put(
        &mut platform,
        "lis",
        object(claims, uri::LIS).map(|lis| Value::Object(lis.clone())),
    );
    Value::Object(platform)
}

fn launch(claims: &Map<String, Value>) -> Value {
    let mut launch = Map::new();
    put(
        &mut launch,
        "type",
        text(claims.get(uri::MESSAGE_TYPE)).map(Value::from),
    );
    put(
        &mut launch,
        "target",
        text(claims.get(uri::TARGET_LINK_URI)).map(Value::from),
    );
    put(&mut launch, "context", context(claims));
    put(&mut launch, "resourceLink", resource_link(claims));
    let custom = object(claims, uri::CUSTOM).cloned().unwrap_or_default();
    launch.insert("custom".into(), Value::Object(custom));
    launch.insert("presentation".into(), presentation(claims));
    Value::Object(launch)
}

/// Omitted when the launch has no context claim (it is optional in LTI Core 1.3 §5.4.1).
fn context(claims: &Map<String, Value>) -> Option<Value> {
    let claim = object(claims, uri::CONTEXT)?;
    let mut context = Map::new();
    put(&mut context, "id", text(claim.get("id")).map(Value::from));
    put(
        &mut context,
        "label",
        text(claim.get("label")).map(Value::from),
    );
    put(
        &mut context,
        "title",
        text(claim.get("title")).map(Value::from),
    );
    // Context types are kept as sent (Moodle sends the short `CourseSection`).
    let types = strings(claim.get("type")).unwrap_or_default();
    context.insert("type".into(), Value::from(types));
    Some(Value::Object(context))
}

/// Omitted when the launch has no resource link (deep linking requests have none).
fn resource_link(claims: &Map<String, Value>) -> Option<Value> {
    let claim = object(claims, uri::RESOURCE_LINK)?;
    let mut link = Map::new();
    put(&mut link, "id", text(claim.get("id")).map(Value::from));
    put(
        &mut link,
        "title",
        text(claim.get("title")).map(Value::from),
    );
    put(
        &mut link,
        "description",
        text(claim.get("description")).map(Value::from),
    );
    Some(Value::Object(link))
}

fn presentation(claims: &Map<String, Value>) -> Value {
    let mut presentation = Map::new();
    if let Some(claim) = object(claims, uri::LAUNCH_PRESENTATION) {
        put(
            &mut presentation,
            "locale",
            text(claim.get("locale")).map(Value::from),
        );
        // The LTIAAS API reference names this `document_target`, its guide and Node SDK
        // `documentTarget`: clients exist for both, so both are sent.
        if let Some(target) = text(claim.get("document_target")) {
            presentation.insert("document_target".into(), Value::from(target.clone()));
            presentation.insert("documentTarget".into(), Value::from(target));
        }
        put(
            &mut presentation,
            "returnUrl",
            text(claim.get("return_url")).map(Value::from),
        );
        // Sizes are passed through as sent (numbers per the spec); other types are dropped.
        for size in ["width", "height"] {
            let value = claim
                .get(size)
                .filter(|v| v.is_number() || v.is_string())
                .cloned();
            put(&mut presentation, size, value);
        }
    }
    Value::Object(presentation)
}

fn outcomes(claims: &Map<String, Value>) -> Value {
    json!({ "available": object(claims, BASIC_OUTCOME).is_some() })
}

/// Available on a deep linking request that says where to send the response; then it also
/// carries what the platform accepts (Deep Linking 2.0 §4.4.1, in LTIAAS names).
fn deep_linking(claims: &Map<String, Value>) -> Value {
    let is_request = text(claims.get(uri::MESSAGE_TYPE)).as_deref() == Some(DEEP_LINKING_REQUEST);
    let settings = object(claims, uri::DEEP_LINKING_SETTINGS)
        .filter(|s| text(s.get("deep_link_return_url")).is_some())
        .filter(|_| is_request);
    let mut dl = Map::new();
    dl.insert("available".into(), Value::from(settings.is_some()));
    let Some(settings) = settings else {
        return Value::Object(dl);
    };
    put(
        &mut dl,
        "acceptTypes",
        strings(settings.get("accept_types")).map(Value::from),
    );
    put(
        &mut dl,
        "acceptPresentationDocumentTargets",
        strings(settings.get("accept_presentation_document_targets")).map(Value::from),
    );
    // The spec sends media types as one comma-separated string; LTIAAS gives a list.
    let media_types = match settings.get("accept_media_types") {
        Some(Value::String(s)) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(Value::from)
                .collect::<Vec<_>>(),
        ),
        other => strings(other).map(|v| v.into_iter().map(Value::from).collect()),
    };
    put(&mut dl, "acceptMediaTypes", media_types.map(Value::from));
    put(
        &mut dl,
        "acceptMultiple",
        boolean(settings.get("accept_multiple")).map(Value::from),
    );
    put(
        &mut dl,
        "title",
        text(settings.get("title")).map(Value::from),
    );
    put(&mut dl, "text", text(settings.get("text")).map(Value::from));
    Value::Object(dl)
}

fn assignment_and_grades(claims: &Map<String, Value>) -> Value {
    let claim = object(claims, uri::AGS_ENDPOINT);
    let mut ags = Map::new();
    ags.insert("available".into(), Value::from(claim.is_some()));
    if let Some(claim) = claim {
        put(
            &mut ags,
            "scopes",
            strings(claim.get("scope")).map(Value::from),
        );
        // The launch's own line item; absent when the link has none or several.
        put(
            &mut ags,
            "lineItemId",
            text(claim.get("lineitem")).map(Value::from),
        );
    }
    Value::Object(ags)
}

fn names_and_roles(claims: &Map<String, Value>) -> Value {
    json!({ "available": object(claims, uri::NRPS).is_some() })
}

/// The claim `name` if it is a JSON object (`null` and other types count as absent).
fn object<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    claims.get(name).and_then(Value::as_object)
}

/// A string value; numbers are accepted as their decimal text (some platforms send numeric
/// ids), anything else is absent.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A list of strings: the strings of an array (other items dropped), or a lone string as a
/// one-item list; anything else is absent.
fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

/// A boolean, also from the strings `"true"` / `"false"`.
fn boolean(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Inserts `value` when there is one: missing values are omitted, never `null`.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests;
