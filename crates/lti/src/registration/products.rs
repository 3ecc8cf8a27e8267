//! Per-product behaviour, in one table keyed by `product_family_code`.
//!
//! Everything ltigate does differently for one LMS is a row here, so the rest of the module
//! has no product conditionals. A platform whose code is not listed gets the plain spec.

use serde_json::{Map, Value};
use url::Url;

use super::platform::web_url;

/// What one product needs beyond the spec.
#[derive(Debug)]
pub(super) struct Product {
    /// `product_family_code`, compared ignoring ASCII case.
    pub family_code: &'static str,
    /// Path appended to the issuer when the configuration omits `authorization_endpoint`.
    ///
    /// Moodle 3.10.0's openid-configuration.php had no `authorization_endpoint` (added by
    /// MDL-70074); Moodle's issuer is its wwwroot and its login endpoint is always
    /// `wwwroot/mod/lti/auth.php`.
    pub authorization_endpoint_path: Option<&'static str>,
    /// Tool-configuration member carrying the privacy level inferred from the claims sent.
    ///
    /// Canvas (doc/api/registration.md, "LTI Tool Configuration schema"):
    /// `https://canvas.instructure.com/lti/privacy_level`, one of `public`, `name_only`,
    /// `email_only`, `anonymous`; it "determines the PII fields the tool is sent" and defaults
    /// to `anonymous` in that documentation (Canvas's model infers it from `claims`, by the
    /// rule copied in [`privacy_level`]; sending it says the same thing explicitly).
    pub privacy_level_key: Option<&'static str>,
    /// Tool-configuration member carrying the tool's `domain` as a stable tool id.
    ///
    /// Canvas: `https://canvas.instructure.com/lti/tool_id`, "a tool-provided value that can
    /// be anything, and tools often use it to correlate themselves across deployments".
    pub tool_id_key: Option<&'static str>,
    /// Placement given to a deep linking message left without one.
    ///
    /// Moodle offers deep linking in its activity chooser, declared as `ContentArea` (4.1+).
    pub default_deep_linking_placement: Option<&'static str>,
}

/// The table.
pub(super) static PRODUCTS: &[Product] = &[
    Product {
        family_code: "canvas",
        authorization_endpoint_path: None,
        privacy_level_key: Some("https://canvas.instructure.com/lti/privacy_level"),
        tool_id_key: Some("https://canvas.instructure.com/lti/tool_id"),
        default_deep_linking_placement: None,
    },
    Product {
        family_code: "moodle",
        authorization_endpoint_path: Some("/mod/lti/auth.php"),
        privacy_level_key: None,
        tool_id_key: None,
        default_deep_linking_placement: Some("ContentArea"),
    },
];

/// The row for `family_code`, if there is one.
pub(super) fn product(family_code: &str) -> Option<&'static Product> {
    PRODUCTS
        .iter()
        .find(|p| p.family_code.eq_ignore_ascii_case(family_code.trim()))
}

/// The authorization endpoint a product serves at a fixed path under its issuer, for a
/// configuration that omits it.
pub(super) fn derived_authorization_endpoint(family_code: &str, issuer: &str) -> Option<Url> {
    let path = product(family_code)?.authorization_endpoint_path?;
    web_url(&format!("{}{path}", issuer.trim_end_matches('/')))
}

/// The per-product members added to the tool configuration object.
pub(super) fn tool_configuration_additions(
    product: &Product,
    domain: &str,
    claims: &[String],
    tool_configuration: &mut Map<String, Value>,
) {
    if let Some(key) = product.privacy_level_key {
        tool_configuration.insert(key.to_owned(), privacy_level(claims).into());
    }
    if let Some(key) = product.tool_id_key
        && !domain.is_empty()
    {
        tool_configuration.insert(key.to_owned(), domain.into());
    }
}

/// Canvas's privacy level for a claim list, by Canvas's own inference rule
/// (`Lti::IMS::Registration#infer_privacy_level_from`): a picture, or a name with an email, is
/// `public`; a name alone `name_only`; an email alone `email_only`; otherwise `anonymous`.
pub(super) fn privacy_level(claims: &[String]) -> &'static str {
    let has = |claim: &str| claims.iter().any(|c| c == claim);
    let picture = has("picture");
    let name = has("name")
        || has("given_name")
        || has("family_name")
        || has("https://purl.imsglobal.org/spec/lti/claim/lis");
    let email = has("email");
    if picture || (name && email) {
        "public"
    } else if name {
        "name_only"
    } else if email {
        "email_only"
    } else {
        "anonymous"
    }
}
