use super::*;

fn base() -> Url {
    Url::parse("https://lms.example.edu/api/lti/courses/1/names_and_roles?page=1").unwrap()
}

#[test]
fn one_header_with_several_links() {
    let header = r#"<https://lms.example.edu/m?page=2>; rel="next", <https://lms.example.edu/m?page=1>; rel="first", <https://lms.example.edu/m?page=9>; rel="last""#;
    let links = Links::from_headers([header], None);
    assert_eq!(
        links,
        Links {
            next: Some("https://lms.example.edu/m?page=2".into()),
            prev: None,
            first: Some("https://lms.example.edu/m?page=1".into()),
            last: Some("https://lms.example.edu/m?page=9".into()),
        }
    );
}

#[test]
fn several_header_fields_and_first_link_of_a_relation_wins() {
    let links = Links::from_headers(
        [
            "<https://a.example/1>; rel=prev",
            "<https://a.example/2>; rel=next",
            "<https://a.example/3>; rel=next",
        ],
        None,
    );
    assert_eq!(links.prev.as_deref(), Some("https://a.example/1"));
    assert_eq!(links.next.as_deref(), Some("https://a.example/2"));
}

#[test]
fn rel_with_several_types_in_any_case() {
    let links = Links::from_headers([r#"<https://a.example/p>; REL="Next  LAST""#], None);
    assert_eq!(links.next.as_deref(), Some("https://a.example/p"));
    assert_eq!(links.last.as_deref(), Some("https://a.example/p"));
    assert_eq!(links.first, None);
}

#[test]
fn commas_and_semicolons_inside_the_target_and_quotes() {
    let header = r#"<https://a.example/li?ids=1,2;3&x=<>; title="a, b; c"; rel="next", <https://a.example/first,1>; rel=first"#;
    let parsed = parse(header);
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].target, "https://a.example/li?ids=1,2;3&x=<");
    assert_eq!(
        parsed[0].params,
        vec![
            ("title".to_owned(), "a, b; c".to_owned()),
            ("rel".to_owned(), "next".to_owned())
        ]
    );
    assert_eq!(parsed[1].target, "https://a.example/first,1");
    assert_eq!(parsed[1].rels, vec!["first"]);
}

#[test]
fn quoted_string_escapes() {
    let parsed = parse(r#"<x>; title="say \"hi\" \\ now"; rel=next"#);
    assert_eq!(parsed[0].params[0].1, r#"say "hi" \ now"#);
    assert_eq!(parsed[0].rels, vec!["next"]);
}

#[test]
fn relative_targets_resolve_against_the_request_url() {
    let links = Links::from_headers(
        [r#"</api/lti/courses/1/names_and_roles?page=2>; rel="next", <?page=3>; rel=last"#],
        Some(&base()),
    );
    assert_eq!(
        links.next.as_deref(),
        Some("https://lms.example.edu/api/lti/courses/1/names_and_roles?page=2")
    );
    assert_eq!(
        links.last.as_deref(),
        Some("https://lms.example.edu/api/lti/courses/1/names_and_roles?page=3")
    );
}

#[test]
fn relative_target_without_base_is_ignored() {
    assert_eq!(
        Links::from_headers(["</x?page=2>; rel=next"], None),
        Links::default()
    );
}

#[test]
fn malformed_values_are_skipped_and_the_rest_read() {
    let header = r#"garbage; rel=next, <https://a.example/ok>; rel=next, <https://a.example/bad> junk; rel=first, <unterminated"#;
    let parsed = parse(header);
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].target, "https://a.example/ok");
}

#[test]
fn first_rel_parameter_counts_and_bare_names_are_kept() {
    let parsed = parse("<https://a.example/>; rel=next; rel=last; anchor; ;");
    assert_eq!(parsed[0].rels, vec!["next"]);
    assert_eq!(
        parsed[0].params,
        vec![
            ("rel".to_owned(), "next".to_owned()),
            ("rel".to_owned(), "last".to_owned()),
            ("anchor".to_owned(), String::new()),
        ]
    );
}

#[test]
fn canvas_and_moodle_style_headers() {
    // Canvas sends its relations in one field, with no space after the commas.
    let canvas = r#"<https://canvas.example.edu/api/lti/courses/7/line_items?page=2&per_page=10>; rel="next",<https://canvas.example.edu/api/lti/courses/7/line_items?page=1&per_page=10>; rel="first",<https://canvas.example.edu/api/lti/courses/7/line_items?page=3&per_page=10>; rel="last""#;
    let links = Links::from_headers([canvas], None);
    assert!(links.next.unwrap().ends_with("page=2&per_page=10"));
    assert!(links.last.unwrap().ends_with("page=3&per_page=10"));
    // Moodle's container URLs carry a query of their own.
    let moodle = "<https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=1&limit=2&from=2>; rel=\"next\"";
    let links = Links::from_headers([moodle], None);
    assert_eq!(
        links.next.as_deref(),
        Some(
            "https://moodle.example.edu/mod/lti/services.php/2/lineitems?type_id=1&limit=2&from=2"
        )
    );
}

#[test]
fn empty_and_whitespace_headers() {
    assert!(parse("").is_empty());
    assert!(parse(" , ,\t").is_empty());
}
