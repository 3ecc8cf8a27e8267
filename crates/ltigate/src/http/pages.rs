//! HTML pages shown in the LMS frame: refusals, and the small scripts of the platform
//! storage flow. Pages are frameable by the LMS (no X-Frame-Options) and never cached.
//!
//! Every page is an askama template (`crates/ltigate/templates/`), which HTML-escapes each
//! value it prints; values printed inside a `<script>` are [`JsString`]s instead.

use std::fmt;

use askama::Template;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::{codes, request_id};
use crate::code::{Code, DisplayChain};
use crate::launch::{LaunchFailure, Refusals};
use crate::secret::random_token;

/// A JSON string literal that is safe inside a `<script>` element: `<`, `>` and `&` are
/// `\u` escapes, so a value cannot close the script or open a comment. Templates print it
/// with `|safe`, because HTML escaping would change the JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsString(String);

impl fmt::Display for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` as a [`JsString`].
pub fn js_string(text: &str) -> JsString {
    // `Value`'s Display is its JSON text and cannot fail for a string.
    let json = serde_json::Value::String(text.to_owned()).to_string();
    JsString(
        json.replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026"),
    )
}

/// The nonce of one response: its CSP runs only the scripts that carry it.
#[derive(Debug)]
pub struct Nonce(String);

impl Nonce {
    pub fn new() -> Self {
        Self(random_token(16))
    }
}

impl Default for Nonce {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `page` rendered as a never-cached HTML response under `csp`.
pub fn html_response(status: StatusCode, csp: String, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [
                (CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (CACHE_CONTROL, "no-store".to_string()),
                (CONTENT_SECURITY_POLICY, csp),
            ],
            html,
        )
            .into_response(),
        // Only a failing Display of a value gets here; the page cannot be shown half-built.
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(CACHE_CONTROL, "no-store")],
                "Internal error",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "refusal.html")]
struct RefusalPage<'a> {
    title: &'a str,
    sentence: &'a str,
    advice: &'a str,
    code: &'a str,
    request_id: &'a str,
}

/// A refused login or launch: the code's fixed sentences, the code and the request id.
/// The failed check and the detail go to the log under the same request id; the code is
/// counted in the metrics and in this node's tally (the admin page).
pub fn failure_page(refusals: &Refusals, failure: &LaunchFailure) -> Response {
    crate::telemetry::refused(failure.code());
    refusals.record(failure.code());
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
    let page = RefusalPage {
        title,
        sentence: public.sentence,
        advice: public.advice,
        code: code.as_str(),
        request_id: &request_id,
    };
    html_response(
        public.status,
        "default-src 'none'; style-src 'unsafe-inline'".into(),
        &page,
    )
}

/// A page whose scripts carry `nonce` (and which may post one form to ltigate itself).
/// Browsers check every redirect that follows a form submission against `form-action`, so
/// the origins the answer may redirect to (the app's) are listed beside `'self'`.
pub fn script_page(page: &impl Template, nonce: &Nonce, redirect_origins: &[String]) -> Response {
    let mut form_action = String::from("'self'");
    for (i, origin) in redirect_origins.iter().enumerate() {
        // The launch and deep linking apps often share one origin: list it once.
        if !redirect_origins[..i].contains(origin) {
            form_action.push(' ');
            form_action.push_str(origin);
        }
    }
    html_response(
        StatusCode::OK,
        format!(
            "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; form-action {form_action}"
        ),
        page,
    )
}

#[cfg(test)]
mod tests;
