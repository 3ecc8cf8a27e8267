//! Helpers for the AGS and NRPS tests: a launch whose claims carry the services, and app API
//! calls with its ltik.

use ltisim::{MessageType, Tamper};
use reqwest::Method;
use serde_json::Value;

use super::API_KEY;
use super::lms::Lms;

pub const AGS_CLAIM: &str = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint";
pub const NRPS_CLAIM: &str = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice";

/// A launch's ltik and the service claims it carried.
pub struct Launched {
    pub ltik: String,
    pub claims: Value,
}

impl Launched {
    /// The AGS line item container URL of the launch.
    pub fn lineitems(&self) -> &str {
        self.claims[AGS_CLAIM]["lineitems"]
            .as_str()
            .expect("lineitems")
    }

    /// The launch's own line item URL.
    pub fn lineitem(&self) -> &str {
        self.claims[AGS_CLAIM]["lineitem"]
            .as_str()
            .expect("lineitem")
    }

    /// The NRPS membership URL of the launch.
    pub fn memberships(&self) -> &str {
        self.claims[NRPS_CLAIM]["context_memberships_url"]
            .as_str()
            .expect("context_memberships_url")
    }
}

impl Lms {
    /// A resource link launch (with the simulator's claims patched by `claims`, if any).
    pub async fn launch_with(&self, claims: Option<Value>) -> Launched {
        if let Some(patch) = claims {
            self.sim.set_tamper(Tamper::claims(patch));
        }
        let outcome = self.do_launch(MessageType::ResourceLink).await;
        self.sim.reset_tamper();
        let ltik = outcome.ltik().to_owned();
        let claims: Value = self
            .idtoken(&ltik, "?raw=true")
            .await
            .json()
            .await
            .expect("raw claims");
        Launched { ltik, claims }
    }

    /// An app API request with `LTIK-AUTH-V2`.
    pub fn api(&self, method: Method, path: &str, ltik: &str) -> reqwest::RequestBuilder {
        self.gate
            .client
            .request(method, self.gate.url(path))
            .header("Authorization", format!("LTIK-AUTH-V2 {API_KEY}:{ltik}"))
    }
}

/// `s` percent-encoded as `encodeURIComponent` does.
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Lms {
    /// An app API call without body, sent.
    pub async fn api_send(&self, method: Method, path: &str, ltik: &str) -> reqwest::Response {
        self.api(method, path, ltik)
            .send()
            .await
            .expect("API answers")
    }

    /// A GET of the app API that must answer 200: its JSON.
    pub async fn api_json(&self, path: &str, ltik: &str) -> Value {
        let response = self.api_send(Method::GET, path, ltik).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("JSON answer")
    }

    /// Every page from `first` on, following each page's `next` with the path
    /// `next_path(next, pages_read_so_far)` returns.
    pub async fn all_pages(
        &self,
        first: &str,
        ltik: &str,
        next_path: impl Fn(&str, usize) -> String,
    ) -> Vec<Value> {
        let mut pages = vec![self.api_json(first, ltik).await];
        while let Some(next) = pages.last().and_then(|p| p["next"].as_str()) {
            let path = next_path(next, pages.len());
            pages.push(self.api_json(&path, ltik).await);
            assert!(pages.len() < 100, "paging does not end");
        }
        pages
    }
}

/// `next` as the `url` parameter of `route`: encoded once for the second page, twice after
/// (clients of both kinds exist).
pub fn next_as_url(route: &str, next: &str, pages_read: usize) -> String {
    let encoded = if pages_read == 1 {
        encode(next)
    } else {
        encode(&encode(next))
    };
    format!("{route}?url={encoded}")
}
