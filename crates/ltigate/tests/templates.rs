//! Hostile values from a platform or a browser, through the real flows, come out of every
//! page escaped: in HTML as entities, inside a `<script>` as JSON that cannot close it. And
//! each page keeps its policy: never cached, frameable by the LMS, scripts only with the
//! response's nonce.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::TestGate;
use common::lms::{Lms, loopback_lms};
use ltisim::{MessageType, Simulator};
use serde_json::json;

/// Breaks out of an attribute, an element and a quoted JavaScript string at once.
const HOSTILE: &str = "\"><script>alert(1)</script>'";
/// `HOSTILE` as the templates print it in HTML.
const HOSTILE_HTML: &str = "&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;";
/// `HOSTILE` as a JSON literal inside a script.
const HOSTILE_JS: &str = "\"\\\"\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e'\"";

struct Page {
    headers: reqwest::header::HeaderMap,
    html: String,
}

impl Page {
    async fn read(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        Self {
            headers,
            html: response.text().await.unwrap(),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
    }

    /// A page the LMS frames, whose one script runs by the response's nonce; returns the
    /// script's text.
    fn assert_framed_script_page(&self) -> &str {
        assert_eq!(self.header("content-type"), "text/html; charset=utf-8");
        assert_eq!(self.header("cache-control"), "no-store");
        assert!(self.headers.get("x-frame-options").is_none());
        let csp = self.header("content-security-policy");
        let nonce = csp
            .split("script-src 'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("no script nonce in {csp}"));
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(nonce.len() >= 16, "{csp}");
        // One script element, opened with the nonce and closed once: no value closed it.
        assert_eq!(self.html.matches("<script").count(), 1, "{}", self.html);
        assert_eq!(self.html.matches("</script>").count(), 1, "{}", self.html);
        let open = format!("<script nonce=\"{nonce}\">");
        self.html
            .split_once(open.as_str())
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map(|(script, _)| script)
            .unwrap_or_else(|| panic!("no script with the nonce: {}", self.html))
    }
}

#[tokio::test]
async fn a_hostile_platform_name_is_escaped_on_the_registration_page() {
    let sim = Simulator::start().await.unwrap();
    sim.set_openid_configuration_patch(json!({
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": HOSTILE,
        }
    }));
    let gate = TestGate::start(loopback_lms).await;
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let page = Page::read(gate.client.get(url).send().await.unwrap()).await;

    let script = page.assert_framed_script_page();
    assert!(script.contains("org.imsglobal.lti.close"), "{script}");
    assert!(
        page.header("content-security-policy")
            .ends_with("form-action 'self'")
    );
    // The name is the platform's product family code and host.
    assert!(
        page.html.contains(&format!(
            "<p>{HOSTILE_HTML} (127.0.0.1) is registered with this tool.</p>"
        )),
        "{}",
        page.html
    );
    assert!(!page.html.contains("alert(1)</script>"), "{}", page.html);
}

#[tokio::test]
async fn hostile_storage_targets_and_launch_fields_stay_inside_their_script_and_attributes() {
    let lms = Lms::start().await;
    let mut params = lms
        .sim
        .login_initiation_params(&lms.client_id, MessageType::ResourceLink);
    params.push(("lti_storage_target".into(), HOSTILE.into()));

    // Login: the page that stores the binding in the (hostile-named) frame.
    let put = Page::read(lms.login_response_with(params).await).await;
    let script = put.assert_framed_script_page();
    assert!(
        script.contains(&format!("target: {HOSTILE_JS}")),
        "{script}"
    );
    assert!(
        put.header("content-security-policy")
            .ends_with("form-action 'self'")
    );
    let auth_url = put
        .html
        .split_once("<a href=\"")
        .and_then(|(_, rest)| rest.split('"').next())
        .unwrap()
        .replace("&#38;", "&");
    // The script goes to the same authorization URL as the link.
    assert!(script.contains(&format!(
        "window.location.replace({})",
        serde_json::to_string(&auth_url).unwrap().replace('&', "\\u0026")
    )));

    // The platform answers; the launch comes back without the cookie (another site's
    // frame), with a hostile id_token: the page that reads the binding back from storage.
    let form = lms
        .authorize(&common::lms::Login {
            auth_url,
            cookie: None,
        })
        .await;
    let fields: Vec<(String, String)> = form
        .fields
        .iter()
        .map(|(name, value)| match name.as_str() {
            "id_token" => (name.clone(), HOSTILE.to_owned()),
            _ => (name.clone(), value.clone()),
        })
        .collect();
    let response = lms
        .gate
        .client
        .post(&form.action)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let get = Page::read(response).await;
    let script = get.assert_framed_script_page();
    assert!(
        script.contains(&format!("target: {HOSTILE_JS}")),
        "{script}"
    );
    assert!(
        get.html.contains(&format!(
            "<input type=\"hidden\" name=\"id_token\" value=\"{HOSTILE_HTML}\">"
        )),
        "{}",
        get.html
    );
    // What the browser will post back is exactly what it was given.
    let posted = ltisim::form_fields(&get.html);
    assert_eq!(posted["id_token"], HOSTILE);
    assert_eq!(posted["__action"], lms.gate.url("/lti/launch"));
    // The relaunch may be answered by a redirect to the app.
    assert!(
        get.header("content-security-policy")
            .ends_with("form-action 'self' http://app.test"),
        "{}",
        get.header("content-security-policy")
    );
}
