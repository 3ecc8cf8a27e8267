//! The HTML the platform sends to browsers (auto-posting forms, error pages) and the
//! parser tests use to read such forms back (from the simulator or from a tool).

use std::collections::BTreeMap;

/// The form field [`form_fields`] reports the form's `action` under.
const ACTION_KEY: &str = "__action";

/// Escapes text for an HTML text node or a double-quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Hidden inputs for form fields.
pub(crate) fn hidden_inputs(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(name),
                escape(value)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A page that POSTs `fields` (form-urlencoded) to `action` as soon as it loads, as the
/// OIDC `form_post` response mode asks; a button covers browsers without script.
pub(crate) fn auto_post_page(action: &str, fields: &[(String, String)]) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Launching…</title></head>
<body>
<form method="post" action="{action}" enctype="application/x-www-form-urlencoded">
{inputs}
<noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.forms[0].submit();</script>
</body>
</html>
"#,
        action = escape(action),
        inputs = hidden_inputs(fields),
    )
}

/// A readable error page.
pub(crate) fn error_page(title: &str, detail: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{detail}</p></body>
</html>
"#,
        title = escape(title),
        detail = escape(detail),
    )
}

/// Reads an auto-post form: every `<input>`'s name and (HTML-unescaped) value, plus
/// `"__action"` = the `action` of the first `<form>`. Later inputs with the same name win.
pub fn form_fields(html: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let tag = rest[..name_len].to_ascii_lowercase();
        rest = &rest[name_len..];
        if tag != "form" && tag != "input" {
            continue;
        }
        let (attributes, after) = parse_attributes(rest);
        rest = after;
        if tag == "form" {
            if let Some(action) = attributes.get("action") {
                fields
                    .entry(ACTION_KEY.to_owned())
                    .or_insert_with(|| action.clone());
            }
        } else if let Some(name) = attributes.get("name") {
            let value = attributes.get("value").cloned().unwrap_or_default();
            fields.insert(name.clone(), value);
        }
    }
    fields
}

/// Parses attributes up to the end of the tag; names are lowercased, values unescaped.
/// Returns them with the text after the tag.
fn parse_attributes(mut rest: &str) -> (BTreeMap<String, String>, &str) {
    let mut attributes = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return (attributes, rest);
        }
        if let Some(after) = rest.strip_prefix('>') {
            return (attributes, after);
        }
        let name_len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '=' | '>' | '/'))
            .unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        rest = rest[name_len..].trim_start();
        let mut value = String::new();
        if let Some(after_equals) = rest.strip_prefix('=') {
            let after_equals = after_equals.trim_start();
            let (raw, after) = match after_equals.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let body = &after_equals[1..];
                    let end = body.find(quote).unwrap_or(body.len());
                    (&body[..end], body.get(end + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after_equals
                        .find(|c: char| c.is_whitespace() || c == '>')
                        .unwrap_or(after_equals.len());
                    after_equals.split_at(end)
                }
            };
            value = unescape(raw);
            rest = after;
        }
        attributes.entry(name).or_insert(value);
    }
}

/// Decodes the character references tools and platforms actually emit: the five XML
/// entities, `&nbsp;`, and decimal and hexadecimal numeric references.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').and_then(|semi| {
            let reference = &rest[1..semi];
            let c = match reference {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => numeric_reference(reference),
            }?;
            Some((c, semi + 1))
        });
        match decoded {
            Some((c, consumed)) => {
                out.push(c);
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn numeric_reference(reference: &str) -> Option<char> {
    let digits = reference.strip_prefix('#')?;
    let code = match digits.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_post_page_round_trips_through_form_fields() {
        let fields = vec![
            ("id_token".to_owned(), "a.b.c".to_owned()),
            ("state".to_owned(), r#"<"quoted" & 'odd'>"#.to_owned()),
        ];
        let page = auto_post_page("https://tool.test/launch?a=1&b=2", &fields);
        let parsed = form_fields(&page);
        assert_eq!(parsed["__action"], "https://tool.test/launch?a=1&b=2");
        assert_eq!(parsed["id_token"], "a.b.c");
        assert_eq!(parsed["state"], r#"<"quoted" & 'odd'>"#);
    }

    #[test]
    fn form_fields_reads_other_writers_html() {
        let page = "<FORM Action='https://lms.test/return' method=POST>\
            <input type=hidden name=JWT value=abc>\
            <input name=\"x\" value=\"&#x41;&#66;&amp;&unknown;\"/>\
            <input type=submit></form>";
        let parsed = form_fields(page);
        assert_eq!(parsed["__action"], "https://lms.test/return");
        assert_eq!(parsed["JWT"], "abc");
        assert_eq!(parsed["x"], "AB&&unknown;");
        assert_eq!(parsed.len(), 3);
    }
}
