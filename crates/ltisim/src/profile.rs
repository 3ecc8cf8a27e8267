//! Platform profiles: which real LMS the simulator imitates. A profile decides the URL
//! structure (where the OpenID configuration and the endpoints live, whether the issuer
//! has a path), the configuration document, the launch claim set and the shape of the
//! Dynamic Registration exchange. The documents come from `fixtures/*.json` (real
//! platform documents; see `fixtures/README.md` for their provenance), with every URL of
//! the platform's own host moved onto the simulator's base URL.

use serde_json::Value;
use url::Url;

/// Which platform the simulator imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// The simulator's own platform: configuration at `/.well-known/openid-configuration`,
    /// endpoints `/auth`, `/token`, `/jwks`, `/register`, a realistic instructor launch.
    /// Dynamic Registration answers like the spec's example (no deployment_id).
    #[default]
    Default,
    /// Self-hosted Canvas: configuration at `/api/lti/security/openid-configuration`
    /// (Bearer registration token required), issuer = base URL, deployment_id at the top
    /// level of the registration response.
    Canvas,
    /// Moodle installed under `/moodle`: issuer `<base>/moodle`, endpoints
    /// `<base>/moodle/mod/lti/*.php`, plain-text registration errors, deployment_id inside
    /// the returned tool configuration.
    Moodle,
    /// The 1EdTech Dynamic Registration spec's example platform: configuration at
    /// `/.well-known/openid-configuration`, endpoints under `/connect/`, JWKS at
    /// `/jwks.json`, no deployment_id in the registration response.
    SpecExample,
}

/// Where a profile serves each endpoint: paths from the base URL, site prefix included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Endpoints {
    /// The path of the site root: the issuer is base URL + `site`.
    pub(crate) site: &'static str,
    pub(crate) configuration: &'static str,
    pub(crate) authorization: &'static str,
    pub(crate) token: &'static str,
    pub(crate) jwks: &'static str,
    pub(crate) registration: &'static str,
}

/// How a fixture's URLs move onto the simulator.
struct Rewrite {
    /// Origins of the platform in the configuration document, replaced by the site URL.
    configuration_origins: &'static [&'static str],
    /// Origins of the platform in the launch claims, replaced by the base URL.
    claim_origins: &'static [&'static str],
    /// The bare host name, where a document names it alone (Canvas's
    /// `authorization_server`, Moodle's tool_platform guid).
    host: Option<&'static str>,
}

const CANVAS: &str = include_str!("../fixtures/canvas.json");
const MOODLE: &str = include_str!("../fixtures/moodle.json");
const SPEC_EXAMPLE: &str = include_str!("../fixtures/spec-example.json");

impl Profile {
    /// Every profile, for tests that cover them all.
    pub const ALL: [Self; 4] = [Self::Default, Self::Canvas, Self::Moodle, Self::SpecExample];

    pub(crate) fn endpoints(self) -> Endpoints {
        match self {
            Self::Default => Endpoints {
                site: "",
                configuration: "/.well-known/openid-configuration",
                authorization: "/auth",
                token: "/token",
                jwks: "/jwks",
                registration: "/register",
            },
            Self::Canvas => Endpoints {
                site: "",
                configuration: "/api/lti/security/openid-configuration",
                authorization: "/api/lti/authorize_redirect",
                token: "/login/oauth2/token",
                jwks: "/api/lti/security/jwks",
                registration: "/api/lti/registrations",
            },
            Self::Moodle => Endpoints {
                site: "/moodle",
                configuration: "/moodle/mod/lti/openid-configuration.php",
                authorization: "/moodle/mod/lti/auth.php",
                token: "/moodle/mod/lti/token.php",
                jwks: "/moodle/mod/lti/certs.php",
                registration: "/moodle/mod/lti/openid-registration.php",
            },
            Self::SpecExample => Endpoints {
                site: "",
                configuration: "/.well-known/openid-configuration",
                authorization: "/connect/authorize",
                token: "/connect/token",
                jwks: "/jwks.json",
                registration: "/connect/register",
            },
        }
    }

    /// The fixture document, `None` for [`Profile::Default`].
    fn fixture(self) -> Option<Value> {
        let text = match self {
            Self::Default => return None,
            Self::Canvas => CANVAS,
            Self::Moodle => MOODLE,
            Self::SpecExample => SPEC_EXAMPLE,
        };
        // The fixtures are embedded at compile time; a unit test checks they parse.
        serde_json::from_str(text).ok()
    }

    fn rewrite(self) -> Rewrite {
        match self {
            Self::Default => Rewrite {
                configuration_origins: &[],
                claim_origins: &[],
                host: None,
            },
            Self::Canvas => Rewrite {
                configuration_origins: &["https://canvas.example.edu"],
                // The capture mixes https and http for the same host.
                claim_origins: &["https://canvas.example.edu", "http://canvas.example.edu"],
                host: Some("canvas.example.edu"),
            },
            Self::Moodle => Rewrite {
                // The configuration names the site root; the claims already carry /moodle.
                configuration_origins: &["https://moodle.example.edu"],
                claim_origins: &["https://moodle.example.edu"],
                host: Some("moodle.example.edu"),
            },
            Self::SpecExample => Rewrite {
                configuration_origins: &["https://server.example.com"],
                claim_origins: &["https://platform.example.edu"],
                host: None,
            },
        }
    }

    /// The fixture's OpenID configuration moved onto `base_url`; `None` for the default
    /// profile, whose document is generated.
    pub(crate) fn openid_configuration(self, base_url: &str) -> Option<Value> {
        let mut document = self.fixture()?.get("openid_configuration")?.clone();
        let rewrite = self.rewrite();
        let site = format!("{base_url}{}", self.endpoints().site);
        let host = authority(base_url);
        map_strings(&mut document, &|text| {
            moved(text, rewrite.configuration_origins, &site)
                .or_else(|| (Some(text) == rewrite.host).then(|| host.clone()))
        });
        Some(document)
    }

    /// The fixture's launch claims moved onto `base_url`; `None` for the default profile.
    pub(crate) fn id_token_claims(self, base_url: &str) -> Option<Value> {
        let mut claims = self.fixture()?.get("id_token_claims")?.clone();
        let rewrite = self.rewrite();
        let host = authority(base_url);
        map_strings(&mut claims, &|text| {
            moved(text, rewrite.claim_origins, base_url)
                .or_else(|| (Some(text) == rewrite.host).then(|| host.clone()))
        });
        Some(claims)
    }
}

/// `text` with a leading `origin` (followed by a path, query, fragment or nothing)
/// replaced by `to`.
fn moved(text: &str, origins: &[&str], to: &str) -> Option<String> {
    origins.iter().find_map(|origin| {
        let rest = text.strip_prefix(origin)?;
        (rest.is_empty() || rest.starts_with(['/', '?', '#'])).then(|| format!("{to}{rest}"))
    })
}

/// `host:port` of a base URL.
pub(crate) fn authority(base_url: &str) -> String {
    Url::parse(base_url)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_owned();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_default()
}

/// Applies `change` to every string value (not to member names).
fn map_strings(value: &mut Value, change: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(text) => {
            if let Some(changed) = change(text) {
                *text = changed;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| map_strings(item, change)),
        Value::Object(members) => members
            .values_mut()
            .for_each(|member| map_strings(member, change)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:4000";

    #[test]
    fn fixtures_parse_and_have_the_documents() {
        for profile in [Profile::Canvas, Profile::Moodle, Profile::SpecExample] {
            let fixture = profile.fixture().expect("fixture parses");
            for member in [
                "openid_configuration",
                "registration_request",
                "registration_response",
                "id_token_claims",
            ] {
                assert!(fixture[member].is_object(), "{profile:?} {member}");
            }
        }
    }

    #[test]
    fn rewritten_endpoints_are_the_routed_paths() {
        for profile in [Profile::Canvas, Profile::Moodle, Profile::SpecExample] {
            let document = profile.openid_configuration(BASE).expect("document");
            let paths = profile.endpoints();
            let url = |path: &str| format!("{BASE}{path}");
            assert_eq!(document["issuer"], url(paths.site), "{profile:?}");
            assert_eq!(
                document["authorization_endpoint"],
                url(paths.authorization),
                "{profile:?}"
            );
            assert_eq!(document["token_endpoint"], url(paths.token), "{profile:?}");
            assert_eq!(document["jwks_uri"], url(paths.jwks), "{profile:?}");
            assert_eq!(
                document["registration_endpoint"],
                url(paths.registration),
                "{profile:?}"
            );
            assert!(
                !document.to_string().contains(".example."),
                "{profile:?} leaves no fixture host: {document}"
            );
        }
    }

    #[test]
    fn bare_hosts_and_claim_urls_move_too() {
        let canvas = Profile::Canvas.openid_configuration(BASE).expect("canvas");
        assert_eq!(canvas["authorization_server"], "127.0.0.1:4000");
        let claims = Profile::Canvas.id_token_claims(BASE).expect("claims");
        let ags = &claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"];
        assert_eq!(
            ags["lineitems"],
            format!("{BASE}/api/lti/courses/3/line_items")
        );
        let moodle = Profile::Moodle.id_token_claims(BASE).expect("moodle");
        assert_eq!(
            moodle["https://purl.imsglobal.org/spec/lti/claim/tool_platform"]["guid"],
            "127.0.0.1:4000"
        );
        assert_eq!(moodle["iss"], format!("{BASE}/moodle"));
    }

    #[test]
    fn only_whole_origins_move() {
        let origins = ["https://a.example"];
        assert_eq!(
            moved("https://a.example/x?y", &origins, "http://b"),
            Some("http://b/x?y".into())
        );
        assert_eq!(
            moved("https://a.example", &origins, "http://b"),
            Some("http://b".into())
        );
        assert_eq!(moved("https://a.example.org/x", &origins, "http://b"), None);
    }
}
