//! HTML pages shown in the LMS frame: refusals, and the small scripts of the platform
//! storage flow. Pages are frameable by the LMS (no X-Frame-Options) and never cached.

use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::{codes, request_id};
use crate::code::{Code, DisplayChain};
use crate::launch::LaunchFailure;
use crate::secret::random_token;

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON string literal safe inside a `<script>` element.
pub fn js_string(text: &str) -> String {
    serde_json::to_string(text)
        .expect("a string serialises")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn page(status: StatusCode, csp: String, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;\
         margin:2rem auto;padding:0 1rem;color:#222}}code{{background:#eee;padding:.1rem .3rem}}\
         .muted{{color:#666;font-size:.9rem}}</style></head><body>{body}</body></html>",
        title = escape(title)
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (CACHE_CONTROL, "no-store".to_string()),
            (CONTENT_SECURITY_POLICY, csp),
        ],
        html,
    )
        .into_response()
}

/// A refused login or launch: the code's fixed sentences, the code and the request id.
/// The failed check and the detail go to the log under the same request id.
pub fn failure_page(failure: &LaunchFailure) -> Response {
    crate::telemetry::refused(failure.code());
    refusal_page(
        "This tool could not be opened",
        failure.code(),
        failure.check(),
        &DisplayChain(failure).to_string(),
    )
}

/// An error page for a browser route. The page says only what [`codes::public`] says about
/// `code`, with the request id; `detail` (which may quote a platform, name addresses or
/// settings) is logged once, in the request's span, and never shown.
pub fn refusal_page(title: &str, code: Code, check: &str, detail: &str) -> Response {
    let public = codes::public(code);
    let request_id = request_id::current();
    if public.status.is_server_error() {
        tracing::error!(%code, check, detail, "{title}");
    } else {
        tracing::warn!(%code, check, detail, "{title}");
    }
    let body = format!(
        "<h1>{title}</h1><p>{sentence}</p><p>{advice}</p>\
         <p class=\"muted\">Error code <code>{code}</code> · Request id: <code>{request_id}</code></p>",
        title = escape(title),
        sentence = escape(public.sentence),
        advice = escape(public.advice),
        code = escape(code.as_str()),
        request_id = escape(&request_id),
    );
    page(
        public.status,
        "default-src 'none'; style-src 'unsafe-inline'".into(),
        title,
        &body,
    )
}

/// A page that runs one inline script (and may post one form to ltigate itself).
pub fn script_page(title: &str, body_html: &str, script: &str) -> Response {
    form_script_page(title, body_html, script, &[])
}

/// As [`script_page`], for a form whose answer redirects elsewhere: browsers check every
/// redirect that follows a form submission against `form-action`, so the origins the answer
/// may redirect to (the app's) must be listed beside `'self'`.
pub fn form_script_page(
    title: &str,
    body_html: &str,
    script: &str,
    redirect_origins: &[String],
) -> Response {
    let nonce = random_token(16);
    let body = format!("{body_html}<script nonce=\"{nonce}\">{script}</script>");
    let mut form_action = String::from("'self'");
    for origin in redirect_origins {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    page(
        StatusCode::OK,
        format!(
            "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; form-action {form_action}"
        ),
        title,
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup_and_script_breakouts() {
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        assert_eq!(
            js_string("</script><b>"),
            "\"\\u003c/script\\u003e\\u003cb\\u003e\""
        );
    }
}
