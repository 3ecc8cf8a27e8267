//! Misbehaviour on demand for the Dynamic Registration endpoints, so a tool's refusal
//! paths (error statuses, non-JSON answers, huge bodies, slow platforms, redirects) can be
//! tested against a real HTTP server.
//! The same knobs serve the token endpoint and AGS / NRPS
//! ([`crate::Simulator::set_token_failure`], [`crate::Simulator::set_service_failure`]).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// How the configuration GET or the registration POST misbehaves, set with
/// [`crate::Simulator::set_configuration_failure`] and
/// [`crate::Simulator::set_registration_failure`]. A failure stays until replaced or
/// cleared (set `None`). The request is still recorded, and a failing registration
/// registers nothing (except [`Failure::Slow`], which answers normally once the delay is
/// over, as a slow platform does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Answer with this status, body and Content-Type instead (e.g. `Status(422,
    /// r#"{"errors":[…]}"#.into(), "application/json".into())`). An invalid status code
    /// becomes 500.
    Status(u16, String, String),
    /// `200 OK` with an HTML page (what a login wall or a proxy error page looks like).
    NotJson,
    /// `200 OK` with a syntactically valid JSON document of exactly this many bytes
    /// (at least 14).
    Oversized(usize),
    /// Wait this long before answering normally.
    Slow(Duration),
    /// Redirect to this URL (302 for the configuration GET, 307 for the registration
    /// POST, so a client following it repeats the POST).
    Redirect(String),
}

/// The knob as it affects the registration POST.
pub type RegistrationFailure = Failure;
/// The knob as it affects the configuration GET.
pub type ConfigurationFailure = Failure;

/// What to do with a request given the current failure: answer it with the returned
/// response, or (`None`) handle it normally, after any delay.
pub(crate) async fn misbehave(failure: Option<Failure>, redirect: StatusCode) -> Option<Response> {
    match failure? {
        Failure::Status(status, body, content_type) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let content_type = HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            Some((status, [(header::CONTENT_TYPE, content_type)], body).into_response())
        }
        Failure::NotJson => {
            let page = "<!DOCTYPE html><html><head><title>Log in</title></head>\
                        <body><h1>Please log in</h1><form method=\"post\"></form></body></html>";
            Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    page,
                )
                    .into_response(),
            )
        }
        Failure::Oversized(size) => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                padded_json(size),
            )
                .into_response(),
        ),
        Failure::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Failure::Redirect(location) => {
            let location = HeaderValue::from_str(&location).ok()?;
            Some((redirect, [(header::LOCATION, location)]).into_response())
        }
    }
}

/// `{"padding":"xxxx…"}` of exactly `size` bytes (14 at least).
fn padded_json(size: usize) -> String {
    const FRAME: &str = r#"{"padding":""}"#;
    let padding = size.saturating_sub(FRAME.len());
    format!(r#"{{"padding":"{}"}}"#, "x".repeat(padding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_json_has_the_size_and_parses() {
        for size in [0, 14, 15, 1000] {
            let text = padded_json(size);
            assert_eq!(text.len(), size.max(14));
            assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
        }
    }
}
