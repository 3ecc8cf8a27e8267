//! The default profile's OpenID configuration, in the shape LTI Dynamic Registration 1.0
//! §3.4 gives it (OpenID Connect Discovery plus the LTI platform configuration claim).
//! The other profiles serve their fixture's document (see [`crate::profile`]).

use crate::platform::Platform;
use serde_json::{Value, json};

pub(crate) fn openid_configuration(platform: &Platform) -> Value {
    let endpoints = platform.endpoints();
    json!({
        "issuer": platform.issuer(),
        "authorization_endpoint": platform.url(endpoints.authorization),
        "token_endpoint": platform.url(endpoints.token),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": platform.url(endpoints.jwks),
        "registration_endpoint": platform.url(endpoints.registration),
        "scopes_supported": [
            "openid",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
        ],
        "response_types_supported": ["id_token"],
        "response_modes_supported": ["form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": [
            "iss", "aud", "sub", "name", "given_name", "family_name", "email", "locale"
        ],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "ltisim",
            "version": env!("CARGO_PKG_VERSION"),
            "messages_supported": [
                { "type": "LtiResourceLinkRequest", "placements": ["ContentArea"] },
                {
                    "type": "LtiDeepLinkingRequest",
                    "placements": ["ContentArea", "RichTextEditor"]
                }
            ]
        }
    })
}
