//! Property tests of the `Link` header parser: any text parses without panicking, and headers
//! written from generated links (targets and quoted values holding commas and semicolons,
//! several relation types, several fields) read back as written.

use lti::paging::{Link, Links, parse};
use proptest::prelude::*;

/// A target as platforms write them: a query with commas, semicolons and `=`.
fn target() -> impl Strategy<Value = String> {
    ("[a-z]{1,8}", "[a-z0-9/]{0,12}", "[a-z0-9=&,;%]{0,16}")
        .prop_map(|(host, path, query)| format!("https://{host}.example/{path}?{query}"))
}

fn rel() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("next".to_owned()),
        Just("prev".to_owned()),
        Just("first".to_owned()),
        Just("last".to_owned()),
        "[a-z]{1,6}",
    ]
}

/// A parameter value: any printable ASCII (written quoted, with escapes).
fn param_value() -> impl Strategy<Value = String> {
    "[ -~]{0,12}"
}

#[derive(Debug, Clone)]
struct Generated {
    target: String,
    rels: Vec<String>,
    /// Extra parameters, besides `rel`.
    params: Vec<(String, String)>,
    rel_case_upper: bool,
    rel_quoted: bool,
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        target(),
        prop::collection::vec(rel(), 1..3),
        prop::collection::vec(("[a-z]{1,6}", param_value()), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(target, rels, params, rel_case_upper, rel_quoted)| Generated {
                target,
                rels,
                params: params.into_iter().filter(|(n, _)| n != "rel").collect(),
                rel_case_upper,
                rel_quoted,
            },
        )
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn write(link: &Generated) -> String {
    let mut out = format!("<{}>", link.target);
    for (name, value) in &link.params {
        out.push_str(&format!("; {name}={}", quote(value)));
    }
    let rels = link.rels.join(" ");
    let rels = if link.rel_case_upper {
        rels.to_ascii_uppercase()
    } else {
        rels
    };
    // A bare token can hold one relation type only.
    if link.rel_quoted || link.rels.len() > 1 {
        out.push_str(&format!(";rel={}", quote(&rels)));
    } else {
        out.push_str(&format!(" ; rel={rels}"));
    }
    out
}

proptest! {
    #[test]
    fn any_text_parses_without_panicking(header in "\\PC{0,80}") {
        let _ = parse(&header);
        let _ = Links::from_headers([header.as_str()], None);
    }

    #[test]
    fn link_shaped_text_parses_without_panicking(header in "[<>\";,= a-z\\\\]{0,60}") {
        let _ = parse(&header);
    }

    #[test]
    fn generated_headers_round_trip(
        fields in prop::collection::vec(prop::collection::vec(generated(), 1..4), 1..3)
    ) {
        let values: Vec<String> = fields
            .iter()
            .map(|links| links.iter().map(write).collect::<Vec<_>>().join(", "))
            .collect();
        let parsed: Vec<Link> = values.iter().flat_map(|v| parse(v)).collect();
        let expected: Vec<&Generated> = fields.iter().flatten().collect();
        prop_assert_eq!(parsed.len(), expected.len());
        for (got, want) in parsed.iter().zip(&expected) {
            prop_assert_eq!(&got.target, &want.target);
            prop_assert_eq!(&got.rels, &want.rels);
            let extra: Vec<(String, String)> =
                got.params.iter().filter(|(n, _)| n != "rel").cloned().collect();
            prop_assert_eq!(&extra, &want.params);
        }
        // The paging view takes the first link of each relation.
        let links = Links::from_headers(values.iter().map(String::as_str), None);
        let first_of = |rel: &str| {
            expected
                .iter()
                .find(|g| g.rels.iter().any(|r| r == rel))
                .map(|g| url::Url::parse(&g.target).unwrap().to_string())
        };
        prop_assert_eq!(links.next, first_of("next"));
        prop_assert_eq!(links.last, first_of("last"));
    }
}
