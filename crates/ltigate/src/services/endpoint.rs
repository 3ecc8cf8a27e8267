//! What AGS and NRPS share: which URLs ltigate may send a context's access token to, and
//! reading a service's JSON answer and its paging links.
//!
//! The app names URLs (a line item id, a `url` paging value); the launch's claims name the
//! service endpoints. A URL the app names is followed only when it is on the endpoint of that
//! launch's context (same origin and path, or below a container), so an app can never point
//! ltigate's access token at another host or another course.

use serde::de::DeserializeOwned;
use url::Url;

use lti::paging::Links;

use crate::outbound::Response;

/// Most bytes of a container page accepted (rosters are the largest answers).
pub const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Whether `url` is the endpoint `endpoint` itself (same origin and path; the query may
/// differ: it carries the page).
pub fn same_endpoint(url: &Url, endpoint: &Url) -> bool {
    url.origin() == endpoint.origin() && url.path() == endpoint.path()
}

/// Whether `url` is below `container` (same origin, path under the container's at a
/// segment boundary): a line item of the context's line item container.
pub fn under_container(url: &Url, container: &Url) -> bool {
    let base = container.path().trim_end_matches('/');
    url.origin() == container.origin()
        && url
            .path()
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| !rest.is_empty())
}

/// A claim's endpoint URL; `None` when the platform sent something that is not one.
pub fn endpoint_url(claim: &str) -> Option<Url> {
    Url::parse(claim)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The JSON body of a successful answer; an answer without body reads as `null`.
pub fn json_body<T: DeserializeOwned>(response: &Response) -> Result<T, serde_json::Error> {
    match &response.body {
        Some(body) => serde_json::from_slice(body),
        None => serde_json::from_slice(b"null"),
    }
}

/// The paging links of an answer, relative ones resolved against the URL that answered.
pub fn page_links(response: &Response) -> Links {
    Links::from_headers(response.header_values("link"), Some(&response.final_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn same_endpoint_ignores_only_the_query() {
        let nrps = url("https://lms.example.edu/api/lti/courses/1/names_and_roles");
        assert!(same_endpoint(
            &url("https://lms.example.edu/api/lti/courses/1/names_and_roles?page=2"),
            &nrps
        ));
        for other in [
            "https://lms.example.edu/api/lti/courses/2/names_and_roles?page=2",
            "https://lms.example.edu:8443/api/lti/courses/1/names_and_roles",
            "http://lms.example.edu/api/lti/courses/1/names_and_roles",
            "https://evil.example/api/lti/courses/1/names_and_roles",
            "https://lms.example.edu/api/lti/courses/1/names_and_roles/x",
        ] {
            assert!(!same_endpoint(&url(other), &nrps), "{other}");
        }
    }

    #[test]
    fn under_container_stops_at_segment_boundaries() {
        let container = url("https://lms.example.edu/api/lti/courses/1/line_items?x=1");
        assert!(under_container(
            &url("https://lms.example.edu/api/lti/courses/1/line_items/7"),
            &container
        ));
        for other in [
            "https://lms.example.edu/api/lti/courses/1/line_items",
            "https://lms.example.edu/api/lti/courses/1/line_items/",
            "https://lms.example.edu/api/lti/courses/1/line_items_other/7",
            "https://lms.example.edu/api/lti/courses/12/line_items/7",
            "https://lms.example.edu.evil.example/api/lti/courses/1/line_items/7",
        ] {
            assert!(!under_container(&url(other), &container), "{other}");
        }
    }

    #[test]
    fn endpoint_urls_are_http() {
        assert!(endpoint_url("https://lms/x").is_some());
        assert!(endpoint_url("javascript:alert(1)").is_none());
        assert!(endpoint_url("/relative").is_none());
    }
}
