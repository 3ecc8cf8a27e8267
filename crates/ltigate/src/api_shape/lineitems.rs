//! Line items in LTIAAS's shape: `GET /api/lineitems` answers `{lineItems[...], next, first,
//! last, prev}`, and the app's body for `POST /api/lineitems` and `PUT /api/lineitems/{id}`
//! becomes the spec's [`LineItem`].
//!
//! LTIAAS names the members of a line item as AGS 2.0 does (`id`, `label`, `scoreMaximum`,
//! `resourceLinkId`, `resourceId`, `tag`, `startDateTime`, `endDateTime`, `gradesReleased`),
//! so a line item is passed through as the platform sent it, platform extensions included,
//! with absent values omitted rather than `null`.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use lti::ags::{AgsError, LineItem};
use lti::paging::Links;

use super::page::PageLinks;

/// One page of line items.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineItemsPage {
    #[schema(value_type = Vec<crate::http::openapi::schemas::LineItem>)]
    line_items: Vec<LineItem>,
    #[serde(flatten)]
    links: PageLinks,
}

/// The answer of `GET /api/lineitems` for one platform page.
pub fn line_items_page(line_items: Vec<LineItem>, links: Links) -> LineItemsPage {
    LineItemsPage {
        line_items,
        links: links.into(),
    }
}

/// Why the app's body is not a line item.
#[derive(Debug, thiserror::Error)]
pub enum LineItemBodyError {
    #[error("the body is not a line item object: {0}")]
    Shape(#[source] serde_json::Error),
    #[error(transparent)]
    Rule(#[from] AgsError),
}

/// The app's line item body as the spec's line item: explicit `null`s dropped (Open edX
/// refuses them), the `id` left to the caller (the platform assigns it on create; a
/// replacement carries the URL it is sent to), checked against the spec's rules.
pub fn app_line_item(body: Value) -> Result<LineItem, LineItemBodyError> {
    let mut item: LineItem = serde_json::from_value(body).map_err(LineItemBodyError::Shape)?;
    item.drop_nulls();
    item.id = None;
    item.validate()?;
    Ok(item)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The example of the LTIAAS "Get Line Items" page, as a platform page with links.
    #[test]
    fn page_in_ltiaas_shape() {
        let item = json!({
            "id": "https://lms.example.com/course/1/lineitems/1",
            "label": "Activity",
            "scoreMaximum": 100,
            "resourceLinkId": "1g3k4dlk49fk",
            "resourceId": "a-9334df-33",
            "tag": "grade",
            "startDateTime": "2025-01-09T04:06:33.928Z",
            "endDateTime": "2018-04-06T22:05:03Z",
            "gradesReleased": true
        });
        let items: Vec<LineItem> = serde_json::from_value(json!([item, {
            "id": "https://lms.example.com/course/1/lineitems/2",
            "label": "Other", "scoreMaximum": 7.5, "tag": null,
            "https://canvas.instructure.com/lti/submission_type": {"type": "none"}
        }]))
        .unwrap();
        let links = Links {
            next: Some("https://lms.example.com/course/1/lineitems?pages=2".into()),
            first: Some("https://lms.example.com/course/1/lineitems?pages=1".into()),
            last: Some("https://lms.example.com/course/1/lineitems?pages=3".into()),
            prev: None,
        };
        let body = serde_json::to_value(line_items_page(items, links)).unwrap();
        assert_eq!(
            body,
            json!({
                "lineItems": [item, {
                    "id": "https://lms.example.com/course/1/lineitems/2",
                    "label": "Other", "scoreMaximum": 7.5,
                    "https://canvas.instructure.com/lti/submission_type": {"type": "none"}
                }],
                "next": "https://lms.example.com/course/1/lineitems?pages=2",
                "first": "https://lms.example.com/course/1/lineitems?pages=1",
                "last": "https://lms.example.com/course/1/lineitems?pages=3"
            })
        );
    }

    #[test]
    fn app_body_drops_nulls_and_id() {
        let item = app_line_item(json!({
            "id": "https://elsewhere.example/li/1",
            "label": "Activity 1",
            "scoreMaximum": 100,
            "resourceId": null,
            "tag": "grade",
            "x-extension": null
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({"label": "Activity 1", "scoreMaximum": 100, "tag": "grade"})
        );
    }

    #[test]
    fn app_body_rules() {
        let err = |v: Value| app_line_item(v).unwrap_err().to_string();
        assert!(err(json!({"label": "a"})).contains("scoreMaximum"));
        assert!(err(json!({"scoreMaximum": 3})).contains("label"));
        assert!(err(json!({"label": "a", "scoreMaximum": -1})).contains("greater than 0"));
        assert!(err(json!({"label": 5, "scoreMaximum": 1})).contains("not a line item"));
        assert!(err(json!([1])).contains("not a line item"));
    }
}
