//! The launch route's header parsing: the state cookie and the origin of a form post.

use axum::http::HeaderValue;
use axum::http::header::COOKIE;
use proptest::prelude::*;

use super::*;
use crate::http::cookie::read as read_cookie;

fn headers(name: axum::http::HeaderName, values: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for value in values {
        map.append(
            &name,
            HeaderValue::from_str(value).expect("valid header value"),
        );
    }
    map
}

#[test]
fn read_cookie_finds_the_exact_name_only() {
    let name = "ltigate_state_abc";
    let cookies = headers(
        COOKIE,
        &[
            "a=1; ltigate_state_ab=x;ltigate_state_abcd=y",
            " ltigate_state_abc=v=w ; b=2",
        ],
    );
    assert_eq!(read_cookie(&cookies, name).as_deref(), Some("v=w"));
    for other in ["ltigate_state_a", "LTIGATE_STATE_ABC", "b=2", "", "=", "1"] {
        assert_ne!(
            read_cookie(&cookies, other).as_deref(),
            Some("v=w"),
            "{other}"
        );
    }
    assert_eq!(
        read_cookie(&headers(COOKIE, &["x=ltigate_state_abc=v"]), name),
        None
    );
}

#[test]
fn only_the_public_origin_or_same_origin_fetch_counts_as_own() {
    let public: url::Url = "https://tool.example.edu/base/".parse().expect("url");
    let own = |pairs: &[(&str, &str)]| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        posted_from_own_origin(&map, &public)
    };
    assert!(own(&[("origin", "https://tool.example.edu")]));
    assert!(own(&[("sec-fetch-site", "same-origin")]));
    assert!(own(&[
        ("origin", "null"),
        ("sec-fetch-site", "same-origin")
    ]));
    let foreign: [&[(&str, &str)]; 10] = [
        &[],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[("origin", "http://tool.example.edu")],
        &[("origin", "https://tool.example.edu:8443")],
        &[("origin", "https://tool.example.edu.evil.example")],
        &[("sec-fetch-site", "same-site")],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "none")],
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    ];
    for pairs in foreign {
        assert!(!own(pairs), "{pairs:?}");
    }
}

/// Cookie names near the one looked up: each must never be taken for it.
fn name_for(kind: u8, target: &str, random: &str) -> String {
    match kind {
        0 => target.to_owned(),
        1 => format!("{target}{random}"),
        2 => format!("{random}{target}"),
        3 => target[..target.len() - 1].to_owned(),
        4 => target.to_ascii_uppercase(),
        5 => format!("{target} "),
        _ => random.to_owned(),
    }
}

/// Arbitrary bytes, mixed with pieces of cookie syntax so that some headers parse.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..4),
        "ltigate_state_|[a-c]|[=; \t]".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    /// Any header bytes at all: no panic, and a value only for a pair whose name is exactly
    /// the one asked for.
    #[test]
    fn read_cookie_never_panics_and_never_invents_a_name(
        raw in prop::collection::vec(header_bytes(), 0..4),
        name in "[a-c_=; ]{0,3}|ltigate_state_[a-c]{0,2}",
    ) {
        let mut map = HeaderMap::new();
        for bytes in &raw {
            if let Ok(value) = HeaderValue::from_bytes(bytes) {
                map.append(COOKIE, value);
            }
        }
        if let Some(value) = read_cookie(&map, &name) {
            let pair = format!("{name}={value}");
            let present = map
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .any(|p| p.trim() == pair);
            prop_assert!(present, "{name:?} -> {value:?} from {map:?}");
        }
    }

    /// Headers built from pairs with near-miss names: the value is the first exact pair's,
    /// and absent when no pair has the exact name.
    #[test]
    fn read_cookie_returns_the_first_exact_pair(
        state_id in "[A-Za-z0-9_-]{1,22}",
        pairs in prop::collection::vec(
            (0u8..7, "[A-Za-z0-9_]{1,6}", "[A-Za-z0-9_=-]{0,24}"),
            0..8,
        ),
        separators in prop::collection::vec(prop::sample::select(vec![";", "; ", " ;  ", ";\t"]), 8),
        split_at in 0usize..8,
    ) {
        let target = crate::launch::state::cookie_name(&state_id);
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(kind, random, value)| (name_for(kind, &target, &random), value))
            .collect();
        // Split over two Cookie headers, as HTTP/2 clients may send them.
        let split_at = split_at.min(pairs.len());
        let join = |part: &[(String, String)]| {
            part.iter()
                .zip(&separators)
                .map(|((k, v), sep)| format!("{k}={v}{sep}"))
                .collect::<String>()
        };
        let mut map = HeaderMap::new();
        for part in [&pairs[..split_at], &pairs[split_at..]] {
            let value = join(part);
            if !value.is_empty() {
                map.append(COOKIE, HeaderValue::from_str(&value).expect("visible ASCII"));
            }
        }
        let expected = pairs.iter().find(|(k, _)| *k == target).map(|(_, v)| v.clone());
        prop_assert_eq!(read_cookie(&map, &target), expected);
    }
}
