//! Memberships in LTIAAS's shape: `GET /api/memberships` answers `{id, context{id, label,
//! title}, members[...], next}` with each member's NRPS (snake_case) names turned into
//! LTIAAS's camelCase ones (`user_id` -> `userId`, `lis_person_sourcedid` ->
//! `lisPersonSourcedId`, ...). Absent values are omitted, never `null`.

use serde::Serialize;
use utoipa::ToSchema;

use lti::claims::Context;
use lti::nrps::{Member, MembershipContainer, MembershipContext};

/// One page of memberships.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipsPage {
    id: String,
    context: ContextSection,
    members: Vec<MemberEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MembershipsContext)]
struct ContextSection {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Member)]
struct MemberEntry {
    user_id: String,
    roles: Vec<String>,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<String>,
    #[serde(rename = "lisPersonSourcedId", skip_serializing_if = "Option::is_none")]
    lis_person_sourcedid: Option<String>,
}

/// The answer of `GET /api/memberships` for one platform page.
///
/// `read_from` is the URL the page was read from, for a platform that leaves out the
/// container's `id`; `launch_context` is the launch's context claim, for one that leaves out
/// `context`. `next` is the platform's next page (its `Link` header).
pub fn memberships_page(
    page: MembershipContainer,
    read_from: &str,
    launch_context: Option<&Context>,
    next: Option<String>,
) -> MembershipsPage {
    let context = match (page.context, launch_context) {
        (Some(MembershipContext { id, label, title }), _) => ContextSection { id, label, title },
        (None, Some(c)) => ContextSection {
            id: c.id.clone(),
            label: c.label.clone(),
            title: c.title.clone(),
        },
        (None, None) => ContextSection {
            id: String::new(),
            label: None,
            title: None,
        },
    };
    MembershipsPage {
        id: page.id.unwrap_or_else(|| read_from.to_owned()),
        context,
        members: page.members.into_iter().map(member).collect(),
        next,
    }
}

fn member(m: Member) -> MemberEntry {
    let status = m.status_or_active().to_owned();
    MemberEntry {
        user_id: m.user_id,
        roles: m.roles,
        status,
        email: m.email,
        name: m.name,
        given_name: m.given_name,
        family_name: m.family_name,
        middle_name: m.middle_name,
        picture: m.picture,
        lis_person_sourcedid: m.lis_person_sourcedid,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn page(v: Value) -> MembershipContainer {
        serde_json::from_value(v).unwrap()
    }

    /// The example of the LTIAAS "Get Memberships" page, from the NRPS document the platform
    /// sends for it.
    #[test]
    fn ltiaas_example() {
        let nrps = page(json!({
            "id": "https://lms.example.com/course/1/memberships?page=1",
            "context": {"id": "1", "label": "course", "title": "Course"},
            "members": [{
                "user_id": "2",
                "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
                "status": "Active",
                "email": "john@lms.example.com",
                "name": "John Doe",
                "given_name": "John",
                "family_name": "Doe",
                "picture": "https://lms.example.com/john.jpg",
                "message": [{"x": 1}]
            }, {
                "user_id": "3", "roles": ["Learner"], "middle_name": "Q", "email": null,
                "lis_person_sourcedid": "sis-3"
            }]
        }));
        let body = memberships_page(
            nrps,
            "https://lms.example.com/course/1/memberships",
            None,
            Some("https://lms.example.com/course/1/memberships?page=2".into()),
        );
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({
                "id": "https://lms.example.com/course/1/memberships?page=1",
                "context": {"id": "1", "label": "course", "title": "Course"},
                "members": [{
                    "userId": "2",
                    "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
                    "status": "Active",
                    "email": "john@lms.example.com",
                    "name": "John Doe",
                    "givenName": "John",
                    "familyName": "Doe",
                    "picture": "https://lms.example.com/john.jpg"
                }, {
                    "userId": "3", "roles": ["Learner"], "status": "Active", "middleName": "Q",
                    "lisPersonSourcedId": "sis-3"
                }],
                "next": "https://lms.example.com/course/1/memberships?page=2"
            })
        );
    }

    #[test]
    fn missing_id_and_context_come_from_the_request_and_the_launch() {
        let launch = Context {
            id: "ctx-1".into(),
            label: Some("L".into()),
            title: None,
            types: vec![],
        };
        let body = memberships_page(
            page(json!({"members": []})),
            "https://lms.example.com/m",
            Some(&launch),
            None,
        );
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"id": "https://lms.example.com/m", "context": {"id": "ctx-1", "label": "L"}, "members": []})
        );
    }
}
