//! The issuer rule: whose configuration is this?

use serde::{Deserialize, Serialize};
use url::Url;

use super::{PlatformConfiguration, RegistrationError};

/// Hosted issuers whose configuration is served from another host (issue 4 item 2).
///
/// A hosted LMS signs every school's launches with one vendor issuer while each school's
/// configuration, token and registration endpoints live on the school's own (possibly vanity)
/// host. For an issuer listed here the host rule is relaxed and the two endpoints that decide
/// who signs launches and where users log in, `jwks_uri` and `authorization_endpoint`, must
/// be on one of `endpoint_domains` instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedIssuer {
    /// Exact issuer strings.
    pub issuers: Vec<String>,
    /// Registrable domains the JWKS and authorization endpoints must be on: the host equals a
    /// domain or ends with `.` plus the domain (ASCII case ignored).
    pub endpoint_domains: Vec<String>,
}

/// The built-in table.
///
/// - Instructure-hosted Canvas signs as `https://canvas.instructure.com` (beta:
///   `https://canvas.beta.instructure.com`, test: `https://canvas.test.instructure.com`); its
///   keys and login endpoint are on `sso.canvaslms.com` and its beta/test twins (formerly
///   `canvas.instructure.com`), per Instructure's "Configuring Canvas in the Tool" docs.
/// - Blackboard's developer portal issuer `https://blackboard.com`, served from
///   `developer.blackboard.com`.
pub fn default_hosted_issuers() -> Vec<HostedIssuer> {
    vec![
        HostedIssuer {
            issuers: vec![
                "https://canvas.instructure.com".to_owned(),
                "https://canvas.beta.instructure.com".to_owned(),
                "https://canvas.test.instructure.com".to_owned(),
            ],
            endpoint_domains: vec!["instructure.com".to_owned(), "canvaslms.com".to_owned()],
        },
        HostedIssuer {
            issuers: vec!["https://blackboard.com".to_owned()],
            endpoint_domains: vec!["blackboard.com".to_owned()],
        },
    ]
}

/// Checks that the configuration fetched from `configuration_url` speaks for its issuer.
///
/// Dynamic Registration 1.0 §3.5.1 (paraphrased): the tool must check that the issuer's domain
/// is the domain of the openid_configuration URL, so a configuration served by one host cannot
/// claim another host's issuer. Here: the hosts are equal ignoring ASCII case and the ports are
/// equal (explicit or the scheme's default). A path on the issuer is fine (Moodle's issuer is
/// its site URL, `https://host/moodle`).
///
/// For an issuer in `hosted` (exact string match) the host rule is skipped; `jwks_uri` and
/// `authorization_endpoint` must then be on that entry's `endpoint_domains`, so a forged
/// configuration claiming `https://canvas.instructure.com` with its own keys, or sending users
/// to its own login page, is refused. Token and registration endpoints may stay on the school's
/// host.
///
/// Every URL involved (the configuration URL, the issuer and the four endpoints) must be https,
/// or http when `allow_http` is set (development and the simulator).
pub fn check_issuer(
    config: &PlatformConfiguration,
    configuration_url: &Url,
    hosted: &[HostedIssuer],
    allow_http: bool,
) -> Result<(), RegistrationError> {
    let issuer = Url::parse(&config.issuer)
        .map_err(|_| RegistrationError::ConfigFieldInvalid { field: "issuer" })?;
    for (field, url) in [
        ("openid_configuration", configuration_url),
        ("issuer", &issuer),
        ("authorization_endpoint", &config.authorization_endpoint),
        ("token_endpoint", &config.token_endpoint),
        ("jwks_uri", &config.jwks_uri),
        ("registration_endpoint", &config.registration_endpoint),
    ] {
        let secure = url.scheme() == "https" || (allow_http && url.scheme() == "http");
        if !secure {
            return Err(RegistrationError::UrlNotHttps { field });
        }
    }

    if let Some(entry) = hosted
        .iter()
        .find(|h| h.issuers.iter().any(|i| i == &config.issuer))
    {
        for (field, url) in [
            ("jwks_uri", &config.jwks_uri),
            ("authorization_endpoint", &config.authorization_endpoint),
        ] {
            let on_vendor_domain = url
                .host_str()
                .is_some_and(|host| entry.endpoint_domains.iter().any(|d| on_domain(host, d)));
            if !on_vendor_domain {
                return Err(RegistrationError::HostedEndpointForeign { field });
            }
        }
        return Ok(());
    }

    let same_host = match (issuer.host_str(), configuration_url.host_str()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if same_host && issuer.port_or_known_default() == configuration_url.port_or_known_default() {
        Ok(())
    } else {
        Err(RegistrationError::IssuerHostMismatch)
    }
}

/// `host` is `domain` or a subdomain of it. An IP literal never matches a name, and
/// `notinstructure.com` is not on `instructure.com`.
fn on_domain(host: &str, domain: &str) -> bool {
    let domain = domain.trim().trim_start_matches('.');
    if domain.is_empty() {
        return false;
    }
    let (host, domain) = (host.to_ascii_lowercase(), domain.to_ascii_lowercase());
    host == domain || host.ends_with(&format!(".{domain}"))
}
