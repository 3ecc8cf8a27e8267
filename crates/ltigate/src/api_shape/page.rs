//! The paging members of the LTIAAS list answers: `next`, `first`, `last`, `prev`.
//!
//! Each is the platform's own URL for that page (from its `Link` header), which the app sends
//! back as `?url=`; absent links are omitted.

use serde::Serialize;
use utoipa::ToSchema;

use lti::paging::Links;

/// The paging links of one answer, flattened into it.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct PageLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

impl From<Links> for PageLinks {
    fn from(links: Links) -> Self {
        let Links {
            next,
            prev,
            first,
            last,
        } = links;
        Self {
            next,
            first,
            last,
            prev,
        }
    }
}
