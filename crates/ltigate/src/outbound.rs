//! Outbound HTTP: one client whose every request is bounded in time and size.
//!
//! Bodies are streamed and cut off at a maximum, redirects are not followed (a redirect's
//! target would escape the checks on the URL), and only http(s) URLs are fetched.

use url::Url;

use crate::config::TimeoutsConfig;

/// Why a fetch failed; `Display` is safe to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("refused URL: {0}")]
    Refused(&'static str),
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
}

/// The bounded client.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
}

impl Outbound {
    pub fn new(timeouts: &TimeoutsConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.http_connect)
            .timeout(timeouts.http_total)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ltigate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    /// GETs `url` expecting JSON; returns at most `max_bytes` of body.
    pub async fn get_json(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        let parsed = Url::parse(url).map_err(|_| FetchError::Refused("not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(FetchError::Refused("not http(s)"));
        }
        let mut response = self
            .client
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(FetchError::Transport)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > max_bytes as u64)
        {
            return Err(FetchError::TooLarge(max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::Transport)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchError::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
