//! The URLs an app names on the AGS and NRPS routes: a line item id in the path and the
//! `url` paging parameter.
//!
//! A line item id is the platform's line item URL. The LTIAAS docs have clients
//! percent-encode it (`encodeURIComponent`), the official SDK leaves its `/` unencoded
//! (`/api/lineitems/https%3A//lms/.../lineitems/7/scores`), and some clients encode it twice.
//! The router collapses repeated slashes before routing (for `//api/...`), so
//! `https%3A//lms` arrives as `https%3A/lms`: the `//` after the scheme is restored here. The
//! `url` parameter (a `next` link sent back) may be encoded twice as well.
//!
//! This only reads what the app wrote. Whether ltigate may send its access token to the URL is
//! the services' decision (same origin and path as the launch's own endpoint).

use url::Url;

/// Decoding rounds tried before giving up (an id encoded twice needs two).
const MAX_DECODES: usize = 3;

/// Which line item a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineItemRef {
    /// `default`: the launch's own line item (the endpoint claim's `lineitem`).
    Default,
    /// A line item URL.
    Url(Url),
}

/// The part of `/api/lineitems/{*id}` after `/api/lineitems/`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItemPath {
    pub item: LineItemRef,
    /// The path ended in `/scores` (the scores and results route).
    pub scores: bool,
}

/// The app named no usable URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceUrlError {
    #[error("the line item id is not a percent-encoded http(s) URL (or default)")]
    LineItemId,
    #[error("the url parameter is not an http(s) URL")]
    PagingUrl,
}

/// Reads the raw (still percent-encoded) remainder of a `/api/lineitems/...` path.
pub fn parse_lineitem_path(raw: &str) -> Result<LineItemPath, ServiceUrlError> {
    let raw = raw.trim_start_matches('/');
    let (id, scores) = match raw.strip_suffix("/scores") {
        Some(id) => (id, true),
        None => (raw.trim_end_matches('/'), false),
    };
    if id == "default" {
        return Ok(LineItemPath {
            item: LineItemRef::Default,
            scores,
        });
    }
    let url = decode_http_url(id).ok_or(ServiceUrlError::LineItemId)?;
    Ok(LineItemPath {
        item: LineItemRef::Url(url),
        scores,
    })
}

/// Reads a `url` query value (already decoded once by the query parser).
pub fn parse_paging_url(value: &str) -> Result<Url, ServiceUrlError> {
    decode_http_url(value.trim()).ok_or(ServiceUrlError::PagingUrl)
}

/// Percent-decodes `text` until it reads as an http(s) URL, at most [`MAX_DECODES`] times, so
/// a URL whose own query holds `%2F` is not decoded further than it was encoded.
fn decode_http_url(text: &str) -> Option<Url> {
    let mut text = text.to_owned();
    for _ in 0..MAX_DECODES {
        if let Some(url) = as_http_url(&text) {
            return Some(url);
        }
        if !text.contains('%') {
            return None;
        }
        text = percent_decode(&text)?;
    }
    as_http_url(&text)
}

/// `text` as an absolute http(s) URL, with a `//` after the scheme that slash collapsing
/// turned into `/` restored.
fn as_http_url(text: &str) -> Option<Url> {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    let scheme_len = if lower.starts_with("https:") {
        6
    } else if lower.starts_with("http:") {
        5
    } else {
        return None;
    };
    let rest = text.get(scheme_len..)?;
    let rest = rest.strip_prefix("//").or_else(|| rest.strip_prefix('/'))?;
    let scheme = text.get(..scheme_len)?;
    let url = Url::parse(&format!("{scheme}//{rest}")).ok()?;
    url.host_str().is_some_and(|h| !h.is_empty()).then_some(url)
}

/// `%XX` sequences decoded (others left as they are); `None` when the bytes are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "https://lms.example.com/course/1/lineitems/1";

    fn item(raw: &str) -> (String, bool) {
        let path = parse_lineitem_path(raw).unwrap();
        match path.item {
            LineItemRef::Url(url) => (url.to_string(), path.scores),
            LineItemRef::Default => ("default".into(), path.scores),
        }
    }

    #[test]
    fn every_encoding_clients_send() {
        let cases = [
            // encodeURIComponent, as the LTIAAS guides do.
            "https%3A%2F%2Flms.example.com%2Fcourse%2F1%2Flineitems%2F1",
            // The official SDK: slashes unencoded, and then collapsed by the router.
            "https%3A//lms.example.com/course/1/lineitems/1",
            "https%3A/lms.example.com/course/1/lineitems/1",
            // Encoded twice.
            "https%253A%252F%252Flms.example.com%252Fcourse%252F1%252Flineitems%252F1",
            "https%253A/lms.example.com/course/1/lineitems/1",
            // Not encoded at all, collapsed.
            "https:/lms.example.com/course/1/lineitems/1",
        ];
        for raw in cases {
            assert_eq!(item(raw), (ID.to_owned(), false), "{raw}");
            assert_eq!(
                item(&format!("{raw}/scores")),
                (ID.to_owned(), true),
                "{raw}"
            );
        }
    }

    #[test]
    fn default_and_trailing_slash() {
        assert_eq!(item("default"), ("default".into(), false));
        assert_eq!(item("default/scores"), ("default".into(), true));
        assert_eq!(
            item("https%3A%2F%2Flms.example.com%2Fli/"),
            ("https://lms.example.com/li".to_owned(), false)
        );
    }

    #[test]
    fn an_ids_own_encoded_query_is_not_decoded_twice() {
        // Moodle's line item URL carries a query; its own `%2F` stays.
        let id = "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1&x=a%2Fb";
        let encoded = "https%3A%2F%2Fmoodle.example.edu%2Fmod%2Flti%2Fservices.php%2F2%2Flineitems%2F5%2Flineitem%3Ftype_id%3D1%26x%3Da%252Fb";
        assert_eq!(item(encoded).0, id);
        assert_eq!(item(&format!("{encoded}/scores")), (id.to_owned(), true));
    }

    #[test]
    fn what_is_not_a_url_is_refused() {
        for raw in [
            "",
            "7",
            "ftp%3A%2F%2Flms%2F1",
            "javascript%3Aalert(1)",
            "https%3A%2F%2F",
            "%ff%fe",
            "https%",
            "%%%%",
            "https%25252525253A%25252525252F%25252525252Flms",
        ] {
            assert_eq!(
                parse_lineitem_path(raw),
                Err(ServiceUrlError::LineItemId),
                "{raw}"
            );
        }
    }

    fn encode_component(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    }

    proptest::proptest! {
        #[test]
        fn any_path_reads_without_panicking(raw in "\\PC{0,60}") {
            let _ = parse_lineitem_path(&raw);
            let _ = parse_paging_url(&raw);
        }

        /// Every form a client sends of a generated line item URL reads back as that URL.
        #[test]
        fn every_client_form_reads_back(
            host in "[a-z]{1,10}",
            segments in proptest::collection::vec("[a-zA-Z0-9_.~-]{1,8}", 1..5),
            query in proptest::option::of("[a-z]{1,5}=[a-z0-9%]{0,6}"),
        ) {
            let mut id = format!("https://{host}.example/{}", segments.join("/"));
            if let Some(query) = &query {
                id = format!("{id}?{query}");
            }
            let Ok(expected) = Url::parse(&id) else { return Ok(()) };
            let encoded = encode_component(expected.as_str());
            // The SDK's form: encoded, but with its slashes left as they are.
            let sdk = encoded.replace("%2F", "/");
            let collapsed = sdk.replacen("%3A//", "%3A/", 1);
            for form in [encoded.clone(), sdk, collapsed, encode_component(&encoded)] {
                let path = parse_lineitem_path(&format!("{form}/scores")).unwrap();
                proptest::prop_assert_eq!(path.item, LineItemRef::Url(expected.clone()), "{}", form);
                proptest::prop_assert!(path.scores);
            }
        }
    }

    #[test]
    fn paging_url_once_or_twice_encoded() {
        let next = "https://lms.example.com/course/1/memberships?page=2&role=a%23b";
        assert_eq!(parse_paging_url(next).unwrap().as_str(), next);
        // Encoded twice by the app: the query parser undid one round.
        let once =
            "https%3A%2F%2Flms.example.com%2Fcourse%2F1%2Fmemberships%3Fpage%3D2%26role%3Da%2523b";
        assert_eq!(parse_paging_url(once).unwrap().as_str(), next);
        assert_eq!(
            parse_paging_url("/relative?page=2"),
            Err(ServiceUrlError::PagingUrl)
        );
    }
}
