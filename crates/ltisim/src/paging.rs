//! Paging of the service containers (line items, results, memberships) the way the AGS
//! and NRPS specs describe it: `limit` asks for a page size, and the platform answers one
//! page with an RFC 8288 `Link` header whose `next` (and `first`, `last`, `prev`) URLs
//! fetch the others. The page number is the simulator's own `page` query parameter.

/// The requested page: `limit` (or the service's default) and the 1-based `page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paging {
    limit: Option<usize>,
    page: usize,
}

/// One page of a list and the `Link` header value that reaches the others (`None` when
/// the whole list fits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) link: Option<String>,
}

impl Paging {
    /// Reads `limit` and `page` from the query; `default_limit` applies without `limit`.
    pub(crate) fn from_query(
        query: &[(String, String)],
        default_limit: Option<usize>,
    ) -> Result<Self, String> {
        let positive = |name: &str| -> Result<Option<usize>, String> {
            match query.iter().find(|(key, _)| key == name) {
                None => Ok(None),
                Some((_, value)) => match value.parse::<usize>() {
                    Ok(number) if number > 0 => Ok(Some(number)),
                    _ => Err(format!("{name} must be a positive integer, not {value:?}")),
                },
            }
        };
        Ok(Self {
            limit: positive("limit")?.or(default_limit),
            page: positive("page")?.unwrap_or(1),
        })
    }

    /// The page of `items`, with links built on `url` and the `filters` to repeat.
    pub(crate) fn apply<T: Clone>(
        self,
        items: &[T],
        url: &str,
        filters: &[(&str, &str)],
    ) -> Page<T> {
        let Some(limit) = self.limit else {
            return Page {
                items: items.to_vec(),
                link: None,
            };
        };
        let pages = items.len().div_ceil(limit).max(1);
        let start = (self.page - 1).saturating_mul(limit);
        let page_items = items.iter().skip(start).take(limit).cloned().collect();
        if pages == 1 && self.page == 1 {
            return Page {
                items: page_items,
                link: None,
            };
        }
        let link_to = |page: usize, rel: &str| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in filters {
                query.append_pair(name, value);
            }
            query.append_pair("limit", &limit.to_string());
            query.append_pair("page", &page.to_string());
            format!("<{url}?{}>; rel=\"{rel}\"", query.finish())
        };
        let mut links = Vec::new();
        if self.page < pages {
            links.push(link_to(self.page + 1, "next"));
        }
        if self.page > 1 {
            links.push(link_to((self.page - 1).min(pages), "prev"));
        }
        links.push(link_to(1, "first"));
        links.push(link_to(pages, "last"));
        Page {
            items: page_items,
            link: Some(links.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn pages_link_to_each_other() {
        let items: Vec<u32> = (1..=25).collect();
        let paging = Paging::from_query(&query(&[]), Some(10)).expect("valid");
        let first = paging.apply(&items, "http://lms/m", &[("role", "Learner")]);
        assert_eq!(first.items, (1..=10).collect::<Vec<_>>());
        let link = first.link.expect("link");
        assert!(link.starts_with("<http://lms/m?role=Learner&limit=10&page=2>; rel=\"next\""));
        assert!(link.contains("page=3>; rel=\"last\""));

        let third = Paging::from_query(&query(&[("page", "3")]), Some(10))
            .expect("valid")
            .apply(&items, "http://lms/m", &[]);
        assert_eq!(third.items, (21..=25).collect::<Vec<_>>());
        assert!(!third.link.expect("link").contains("next"));
    }

    #[test]
    fn no_limit_is_one_page_without_links() {
        let items = [1, 2, 3];
        let page = Paging::from_query(&[], None)
            .expect("valid")
            .apply(&items, "u", &[]);
        assert_eq!((page.items.len(), page.link), (3, None));
        let fits = Paging::from_query(&query(&[("limit", "5")]), None)
            .expect("valid")
            .apply(&items, "u", &[]);
        assert_eq!(fits.link, None);
    }

    #[test]
    fn bad_numbers_are_refused() {
        for bad in ["0", "-1", "x", ""] {
            assert!(Paging::from_query(&query(&[("limit", bad)]), None).is_err());
            assert!(Paging::from_query(&query(&[("page", bad)]), None).is_err());
        }
    }
}
