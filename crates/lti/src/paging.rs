//! Paging of the LTI Advantage services: the `Link` response header (RFC 8288).
//!
//! AGS 2.0 (§3.2.5, §3.3.6) and NRPS 2.0 (§2.4) page their containers with `Link` headers
//! carrying `rel="next"`, `"prev"`, `"first"` and `"last"`. Platforms write them in every way
//! the RFC allows: several header fields, several links per field, quoted or bare parameter
//! values, `rel` with several space-separated relation types in any case, and URLs whose query
//! holds commas and semicolons. [`parse`] reads all of that; [`Links::from_headers`] picks the
//! four paging relations and resolves relative targets against the request URL.
//!
//! It does not judge the targets: whether a `next` URL may be followed with an access token is
//! the caller's decision. Malformed parts are skipped, never a panic.

use url::Url;

/// One link-value of a `Link` header: `<target>; name=value; ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The target as written between `<` and `>` (maybe relative).
    pub target: String,
    /// The relation types of the first `rel` parameter, lowercased (RFC 8288 §2.1.1: relation
    /// type names compare case-insensitively).
    pub rels: Vec<String>,
    /// Every parameter in order, names lowercased, values unquoted (a name without value has
    /// an empty value).
    pub params: Vec<(String, String)>,
}

/// The paging links of one answer, as absolute URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    pub next: Option<String>,
    pub prev: Option<String>,
    pub first: Option<String>,
    pub last: Option<String>,
}

impl Links {
    /// The paging links of all `values` (each one `Link` header field), relative targets
    /// resolved against `base` (the URL that answered). The first link of a relation wins; a
    /// target that is not a URL (or is relative without a base) is ignored.
    pub fn from_headers<'a>(values: impl IntoIterator<Item = &'a str>, base: Option<&Url>) -> Self {
        let mut links = Self::default();
        for value in values {
            for link in parse(value) {
                let Some(url) = resolve(&link.target, base) else {
                    continue;
                };
                for rel in &link.rels {
                    let slot = match rel.as_str() {
                        "next" => &mut links.next,
                        "prev" | "previous" => &mut links.prev,
                        "first" => &mut links.first,
                        "last" => &mut links.last,
                        _ => continue,
                    };
                    if slot.is_none() {
                        *slot = Some(url.clone());
                    }
                }
            }
        }
        links
    }
}

fn resolve(target: &str, base: Option<&Url>) -> Option<String> {
    let url = match base {
        Some(base) => base.join(target).ok()?,
        None => Url::parse(target).ok()?,
    };
    Some(url.into())
}

/// Every well-formed link-value of one `Link` header field, in order. A link-value that does
/// not start with `<...>` is skipped up to the next top-level comma.
pub fn parse(header: &str) -> Vec<Link> {
    let mut cursor = Cursor {
        rest: header.as_bytes(),
        text: header,
        pos: 0,
    };
    let mut links = Vec::new();
    loop {
        cursor.skip_while(|b| b == b',' || is_ows(b));
        if cursor.at_end() {
            return links;
        }
        match cursor.link_value() {
            Some(link) => links.push(link),
            None => cursor.skip_to_next_value(),
        }
    }
}

/// A position in the header text. Only ASCII bytes are ever matched, so every cut falls on a
/// character boundary.
struct Cursor<'a> {
    rest: &'a [u8],
    text: &'a str,
    pos: usize,
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.rest.len()
    }

    fn peek(&self) -> Option<u8> {
        self.rest.get(self.pos).copied()
    }

    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &str {
        let start = self.pos;
        self.skip_while(keep);
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// `"<" URI-Reference ">" *( OWS ";" OWS link-param )`, up to (not past) the comma that
    /// ends it.
    fn link_value(&mut self) -> Option<Link> {
        if self.peek() != Some(b'<') {
            return None;
        }
        self.pos += 1;
        // The target ends at the first `>`: commas and semicolons inside it are its own.
        let target = self.take_while(|b| b != b'>').trim().to_owned();
        if self.peek() != Some(b'>') {
            return None;
        }
        self.pos += 1;
        let mut params = Vec::new();
        loop {
            self.skip_while(is_ows);
            match self.peek() {
                None | Some(b',') => break,
                Some(b';') => {
                    self.pos += 1;
                    if let Some(param) = self.link_param() {
                        params.push(param);
                    }
                }
                Some(_) => return None,
            }
        }
        let rels = params
            .iter()
            .find(|(name, _)| name == "rel")
            .map(|(_, value)| {
                value
                    .split_ascii_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        Some(Link {
            target,
            rels,
            params,
        })
    }

    /// `token BWS [ "=" BWS ( token / quoted-string ) ]`; `None` for an empty name (`;;`).
    fn link_param(&mut self) -> Option<(String, String)> {
        self.skip_while(is_ows);
        let name = self.take_while(is_tchar).to_ascii_lowercase();
        self.skip_while(is_ows);
        let mut value = String::new();
        if self.peek() == Some(b'=') {
            self.pos += 1;
            self.skip_while(is_ows);
            if self.peek() == Some(b'"') {
                value = self.quoted_string();
            } else {
                value = self
                    .take_while(|b| b != b';' && b != b',' && !is_ows(b))
                    .to_owned();
            }
        }
        // Anything else before the next separator is not part of a well-formed parameter.
        self.skip_while(|b| b != b';' && b != b',');
        (!name.is_empty()).then_some((name, value))
    }

    /// A quoted-string with its backslash escapes undone; an unterminated one runs to the end.
    fn quoted_string(&mut self) -> String {
        self.pos += 1;
        let mut value = String::new();
        let mut start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    value.push_str(self.text.get(start..self.pos).unwrap_or_default());
                    self.pos += 1;
                    return value;
                }
                b'\\' => {
                    value.push_str(self.text.get(start..self.pos).unwrap_or_default());
                    self.pos += 1;
                    // The escaped character may be multi-byte: copy it whole.
                    let escaped_len = self
                        .text
                        .get(self.pos..)
                        .and_then(|s| s.chars().next())
                        .map_or(0, char::len_utf8);
                    value.push_str(
                        self.text
                            .get(self.pos..self.pos + escaped_len)
                            .unwrap_or_default(),
                    );
                    self.pos += escaped_len;
                    start = self.pos;
                }
                _ => self.pos += 1,
            }
        }
        value.push_str(self.text.get(start..).unwrap_or_default());
        value
    }

    /// Past the next comma that is outside `<...>` and quotes.
    fn skip_to_next_value(&mut self) {
        let mut in_target = false;
        let mut in_quotes = false;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' if in_quotes => self.pos += 1,
                b'"' if !in_target => in_quotes = !in_quotes,
                b'<' if !in_quotes => in_target = true,
                b'>' if !in_quotes => in_target = false,
                b',' if !in_quotes && !in_target => return,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
