//! The claims of a launch: a template (what the LMS knows about the user, course and link)
//! plus what the platform must set per launch (issuer, audience, nonce, times, message).

use crate::tool::{MessageType, Tool};
use serde_json::{Value, json};

const LTI: &str = "https://purl.imsglobal.org/spec/lti/claim/";
pub(crate) const DEEP_LINKING_SETTINGS: &str =
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";
/// How long an id_token is valid, in seconds.
const LIFETIME: u64 = 300;

/// The identifiers of the simulated course, shared by the claims and the service URLs.
pub(crate) const COURSE_ID: &str = "ltisim-course-1";

/// A complete, realistic resource link launch by an instructor, with AGS and NRPS.
/// Service URLs point at this simulator (`base_url`).
pub(crate) fn default_template(base_url: &str) -> Value {
    let course = format!("{base_url}/courses/{COURSE_ID}");
    let ags = format!("{base_url}/ags/contexts/{COURSE_ID}/lineitems");
    json!({
        "sub": "ltisim-user-1001",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada.lovelace@ltisim.example",
        "locale": "en-US",
        (lti("version")): "1.3.0",
        (lti("message_type")): "LtiResourceLinkRequest",
        (lti("resource_link")): {
            "id": "ltisim-link-1",
            "title": "Week 1: Analytical Engines",
            "description": "Read the notes, then submit your first program."
        },
        (lti("roles")): [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"
        ],
        (lti("context")): {
            "id": COURSE_ID,
            "label": "SIM 101",
            "title": "Introduction to Simulated Computing",
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]
        },
        (lti("tool_platform")): {
            "guid": "ltisim.localhost",
            "name": "ltisim",
            "description": "LTI 1.3 platform simulator",
            "version": env!("CARGO_PKG_VERSION"),
            "product_family_code": "ltisim"
        },
        (lti("launch_presentation")): {
            "document_target": "iframe",
            "return_url": format!("{course}/return"),
            "locale": "en-US"
        },
        (lti("custom")): {
            "course_start": "2026-09-01",
            "greeting": "hello from ltisim"
        },
        (lti("lis")): {
            "person_sourcedid": "ltisim:ada",
            "course_offering_sourcedid": "ltisim:sim101",
            "course_section_sourcedid": "ltisim:sim101:a"
        },
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score"
            ],
            "lineitems": ags,
            "lineitem": format!("{ags}/1")
        },
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url":
                format!("{base_url}/nrps/contexts/{COURSE_ID}/memberships"),
            "service_versions": ["2.0"]
        }
    })
}

/// The full name of an LTI core claim.
fn lti(name: &str) -> String {
    format!("{LTI}{name}")
}

/// What the platform sets on every launch, whatever the template says.
pub(crate) struct Launch<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) tool: &'a Tool,
    pub(crate) message_type: MessageType,
    /// `None` for an anonymous launch: no `sub`.
    pub(crate) user: Option<&'a str>,
    pub(crate) nonce: &'a str,
    /// Seconds since the Unix epoch.
    pub(crate) now: u64,
    pub(crate) deep_link_return_url: &'a str,
    /// Opaque value the tool must return in its deep linking response.
    pub(crate) deep_link_data: &'a str,
}

/// The template with the per-launch claims set.
pub(crate) fn launch_claims(template: &Value, launch: &Launch<'_>) -> Value {
    let mut claims = match template {
        Value::Object(_) => template.clone(),
        _ => json!({}),
    };
    let client_id = launch.tool.client_id.as_str();
    claims["iss"] = json!(launch.issuer);
    // Keep the template's shape: the core spec's example sends aud as an array,
    // Canvas and Moodle send a string.
    claims["aud"] = match claims.get("aud") {
        Some(Value::Array(_)) => json!([client_id]),
        _ => json!(client_id),
    };
    if claims.get("azp").is_some() {
        claims["azp"] = json!(client_id);
    }
    claims["nonce"] = json!(launch.nonce);
    claims["iat"] = json!(launch.now);
    claims["exp"] = json!(launch.now + LIFETIME);
    match launch.user {
        Some(user) => claims["sub"] = json!(user),
        None => remove(&mut claims, "sub"),
    }
    claims[lti("deployment_id")] = json!(launch.tool.deployment_id);
    claims[lti("target_link_uri")] = json!(launch.tool.target_for(launch.message_type));
    claims[lti("message_type")] = json!(launch.message_type.claim_value());
    if launch.message_type == MessageType::DeepLinking {
        // A deep linking request is about no existing link.
        remove(&mut claims, &lti("resource_link"));
        claims[DEEP_LINKING_SETTINGS] = json!({
            "deep_link_return_url": launch.deep_link_return_url,
            "accept_types": ["ltiResourceLink", "link", "html", "file", "image"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": true,
            "accept_lineitem": true,
            "auto_create": true,
            "title": "Add an activity",
            "data": launch.deep_link_data,
        });
    }
    claims
}

fn remove(claims: &mut Value, name: &str) {
    if let Value::Object(members) = claims {
        members.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool() -> Tool {
        Tool {
            client_id: "client-1".into(),
            deployment_id: "dep-1".into(),
            login_url: "http://tool.test/login".into(),
            redirect_uris: vec!["http://tool.test/launch".into()],
            target_link_uri: "http://tool.test/launch".into(),
            deep_linking_url: Some("http://tool.test/deep".into()),
            jwks_uri: None,
        }
    }

    fn launch<'a>(tool: &'a Tool, message_type: MessageType, user: Option<&'a str>) -> Launch<'a> {
        Launch {
            issuer: "http://lms.test",
            tool,
            message_type,
            user,
            nonce: "n-1",
            now: 1_000,
            deep_link_return_url: "http://lms.test/deep_link_return",
            deep_link_data: "d-1",
        }
    }

    #[test]
    fn resource_link_launch_overrides_the_per_launch_claims() {
        let tool = tool();
        let template = default_template("http://lms.test");
        let claims = launch_claims(
            &template,
            &launch(&tool, MessageType::ResourceLink, Some("u-9")),
        );
        assert_eq!(claims["iss"], "http://lms.test");
        assert_eq!(claims["aud"], "client-1");
        assert!(claims.get("azp").is_none());
        assert_eq!(claims["sub"], "u-9");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["exp"], 1_300);
        assert_eq!(claims[lti("deployment_id")], "dep-1");
        assert_eq!(claims[lti("target_link_uri")], "http://tool.test/launch");
        assert_eq!(claims[lti("resource_link")]["id"], "ltisim-link-1");
        assert!(claims.get(DEEP_LINKING_SETTINGS).is_none());
    }

    #[test]
    fn deep_linking_launch_has_settings_and_no_resource_link() {
        let tool = tool();
        let template = default_template("http://lms.test");
        let claims = launch_claims(&template, &launch(&tool, MessageType::DeepLinking, None));
        assert_eq!(claims[lti("message_type")], "LtiDeepLinkingRequest");
        assert_eq!(claims[lti("target_link_uri")], "http://tool.test/deep");
        assert!(claims.get(lti("resource_link")).is_none());
        assert!(claims.get("sub").is_none());
        let settings = &claims[DEEP_LINKING_SETTINGS];
        assert_eq!(
            settings["deep_link_return_url"],
            "http://lms.test/deep_link_return"
        );
        assert_eq!(settings["data"], "d-1");
    }

    #[test]
    fn template_shape_of_aud_and_presence_of_azp_are_kept() {
        let tool = tool();
        let template = json!({ "aud": ["someone-else"], "azp": "someone-else" });
        let claims = launch_claims(
            &template,
            &launch(&tool, MessageType::ResourceLink, Some("u")),
        );
        assert_eq!(claims["aud"], json!(["client-1"]));
        assert_eq!(claims["azp"], "client-1");
    }
}
