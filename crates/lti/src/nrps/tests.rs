use serde_json::json;

use super::*;

/// The example of NRPS 2.0 §2.2, with an extension member.
#[test]
fn reads_the_spec_example() {
    let page: MembershipContainer = serde_json::from_value(json!({
        "id": "https://lms.example.com/sections/2923/memberships",
        "context": {"id": "2923-abc", "label": "CPS 435", "title": "CPS 435 Learning Analytics"},
        "members": [
            {
                "status": "Active",
                "name": "Jane Q. Public",
                "picture": "https://platform.example.edu/jane.jpg",
                "given_name": "Jane",
                "family_name": "Doe",
                "middle_name": "Marie",
                "email": "jane@platform.example.edu",
                "user_id": "0ae836b9-7fc9-4060-006f-27b2066ac545",
                "lis_person_sourcedid": "59254-6782-12ab",
                "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
                "message": [{"https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest"}]
            },
            {"user_id": "u2", "roles": null}
        ]
    }))
    .unwrap();
    let context = page.context.as_ref().unwrap();
    assert_eq!(context.label.as_deref(), Some("CPS 435"));
    let jane = &page.members[0];
    assert_eq!(jane.given_name.as_deref(), Some("Jane"));
    assert_eq!(
        jane.lis_person_sourcedid.as_deref(),
        Some("59254-6782-12ab")
    );
    assert!(jane.extensions.contains_key("message"));
    assert_eq!(page.members[1].roles, Vec::<String>::new());
    assert_eq!(page.members[1].status_or_active(), "Active");
}

#[test]
fn a_member_without_user_id_is_refused() {
    let page = serde_json::from_value::<MembershipContainer>(json!({"members": [{"roles": []}]}));
    assert!(page.is_err());
}

#[test]
fn filters_use_the_spec_names() {
    let url = Url::parse("https://lms.example.edu/api/lti/courses/1/names_and_roles?x=1").unwrap();
    let filtered = MembershipsQuery {
        role: Some("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner".into()),
        limit: Some(5),
        rlid: Some("rl-1".into()),
    }
    .apply(&url);
    assert_eq!(
        filtered.as_str(),
        "https://lms.example.edu/api/lti/courses/1/names_and_roles?x=1&role=http%3A%2F%2Fpurl.imsglobal.org%2Fvocab%2Flis%2Fv2%2Fmembership%23Learner&limit=5&rlid=rl-1"
    );
}
