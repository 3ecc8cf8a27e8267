//! Body and query extractors whose rejections are API errors in the LTIAAS shape.

use axum::extract::{FromRequest, FromRequestParts};

use super::error::ApiError;

/// A JSON body; a bad body is a 400/413/415 `ApiError`, never axum's plain-text answer.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string; a bad one is a 400 `ApiError`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The client's address, for per-client limits: the peer, or the client a trusted proxy
/// names in `X-Forwarded-For` (`registration.trusted_proxies`); `None` when the server did
/// not record the peer.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl FromRequestParts<super::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &super::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|axum::extract::ConnectInfo(addr)| addr.ip());
        let forwarded_for: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(Self(crate::registration::client_address(
            peer,
            &forwarded_for,
            &state.config.registration.trusted_proxies,
        )))
    }
}
