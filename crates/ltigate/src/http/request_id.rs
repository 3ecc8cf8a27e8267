//! Request ids: every request gets one, the answer carries it in `X-Request-Id`, the request's
//! tracing span carries it (so every log line of the request does), and error pages and
//! JSON errors show it, so a person can hand it to an administrator who finds the detail.
//!
//! A well-formed `X-Request-Id` from a proxy in front (1 to 64 of `A-Z a-z 0-9 - _ .`) is
//! kept, so one id follows the request through both logs; anything else is replaced.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;

use crate::secret::random_token;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const MAX_LEN: usize = 64;

/// The id of the request being served (also a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request this task serves; outside a request (tests calling a renderer
/// directly), a fresh one.
pub fn current() -> String {
    CURRENT
        .try_with(|id| id.0.clone())
        .unwrap_or_else(|_| random_token(9))
}

/// Middleware: picks the id, makes it current for the handler, sets `X-Request-Id`.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| well_formed(v))
        .map_or_else(|| random_token(9), str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = CURRENT
        .scope(RequestId(id.clone()), next.run(request))
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}

/// The span of one request (for tower-http's `TraceLayer`): its id, method and path (never
/// the query, which may carry a registration token).
pub fn span(request: &Request) -> Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .map_or("", |id| id.0.as_str());
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

fn well_formed(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_a_proxy() {
        assert!(well_formed("3f2a-9c.b_1"));
        assert!(well_formed(&"a".repeat(64)));
        assert!(!well_formed(""));
        assert!(!well_formed(&"a".repeat(65)));
        assert!(!well_formed("a b"));
        assert!(!well_formed("<script>"));
        assert!(!well_formed("id\nforged log line"));
    }

    #[tokio::test]
    async fn the_current_id_is_the_scoped_one() {
        let inside = CURRENT
            .scope(RequestId("abc".into()), async { current() })
            .await;
        assert_eq!(inside, "abc");
        assert_ne!(
            current(),
            current(),
            "outside a request, a fresh id each time"
        );
    }
}
