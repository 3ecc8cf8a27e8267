use super::*;

const HOSTILE: &str = "\"><script>alert(1)</script>'";

#[test]
fn js_strings_cannot_close_a_script_or_open_a_comment() {
    let js = js_string("</script><!--&\"'\u{2028}");
    assert_eq!(
        js.to_string(),
        "\"\\u003c/script\\u003e\\u003c!--\\u0026\\\"'\u{2028}\""
    );
    // Still the same string to a JSON (and so a JavaScript) parser.
    let back: String = serde_json::from_str(&js.to_string()).unwrap();
    assert_eq!(back, "</script><!--&\"'\u{2028}");
}

#[test]
fn the_refusal_page_escapes_every_value() {
    let html = RefusalPage {
        title: HOSTILE,
        sentence: "a < b & c",
        advice: "'quoted'",
        code: "LAUNCH_REFUSED",
        request_id: HOSTILE,
    }
    .render()
    .unwrap();
    let escaped = "&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;";
    assert!(
        html.contains(&format!("<title>{escaped}</title>")),
        "{html}"
    );
    assert!(html.contains(&format!("<h1>{escaped}</h1>")), "{html}");
    assert!(
        html.contains("<p>a &#60; b &#38; c</p>\n<p>&#39;quoted&#39;</p>"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "Error code <code>LAUNCH_REFUSED</code> · Request id: <code>{escaped}</code>"
        )),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
}

#[derive(Template)]
#[template(
    source = "{% extends \"shell.html\" %}{% block body %}<p>{{ text }}</p>{% endblock %}\
              {% block script %}<script nonce=\"{{ nonce }}\">go({{ value|safe }});</script>{% endblock %}",
    ext = "html"
)]
struct ScriptProbe<'a> {
    title: &'a str,
    text: &'a str,
    nonce: &'a Nonce,
    value: JsString,
}

#[tokio::test]
async fn a_script_page_has_its_nonce_in_the_policy_and_keeps_values_inside_the_script() {
    let nonce = Nonce::new();
    let page = ScriptProbe {
        title: "probe",
        text: HOSTILE,
        nonce: &nonce,
        value: js_string(HOSTILE),
    };
    let response = script_page(
        &page,
        &nonce,
        &["https://app.example".into(), "https://app.example".into()],
    );
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    assert!(
        headers.get("x-frame-options").is_none(),
        "the LMS frames it"
    );
    assert_eq!(
        headers[CONTENT_SECURITY_POLICY],
        format!(
            "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; \
             form-action 'self' https://app.example"
        )
        .as_str()
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(html.contains(&format!("<script nonce=\"{nonce}\">go(\"\\\"\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e'\");</script>")), "{html}");
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert_eq!(html.matches("</script>").count(), 1, "{html}");
    assert!(html.contains("<p>&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;</p>"));
}

#[test]
fn two_nonces_differ() {
    assert_ne!(Nonce::new().to_string(), Nonce::new().to_string());
}
