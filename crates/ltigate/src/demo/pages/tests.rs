use serde_json::json;

use super::*;

const HOSTILE: &str = "\"><script>alert(1)</script>'";

fn render(page: &impl Template) -> String {
    page.render().unwrap()
}

/// A launch page for an `/api/idtoken` answer without services.
fn bare_launch(
    deep_linking: bool,
    content: &'static [(&'static str, &'static str)],
    roster: Roster<'_>,
) -> String {
    render(&LaunchPage::new(
        &json!({}),
        "ltik",
        deep_linking,
        content,
        roster,
    ))
}

#[test]
fn the_summary_escapes_what_the_lms_sent() {
    let body = json!({
        "user": {"id": "u<1>", "name": HOSTILE, "roles": [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
        ]},
        "platform": {"id": "p1", "name": "LMS & co"},
        "launch": {"type": "LtiResourceLinkRequest", "context": {"title": HOSTILE}},
        "services": {"namesAndRoles": {"available": true}},
    });
    let html = render(&LaunchPage::new(&body, "ltik", false, &[], Roster::Hidden));
    assert!(
        html.contains("Hello, &#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;!"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("'<"), "{html}");
    assert!(html.contains("LMS &#38; co"));
    assert!(html.contains("id <code>u&#60;1&#62;</code>"));
    assert!(html.contains("<li>Instructor <code"));
    assert!(html.contains("Names and Role Provisioning: available"));
    assert!(html.contains("Basic outcomes: not available"));
    // The JSON block is escaped too.
    assert!(html.contains("&#34;name&#34;: &#34;\\&#34;&#62;&#60;script&#62;"));
    assert!(!html.contains("id=\"picker\"") && !html.contains("id=\"roster\""));
}

#[test]
fn the_roster_escapes_members_and_offers_a_grade_form_only_with_ags() {
    let roster = json!({"members": [
        {"userId": "u\"1", "name": "<b>Bob</b>", "email": HOSTILE,
         "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"], "status": "Active"},
    ], "next": "https://lms.example/next"});
    let with_ags = json!({"services": {"assignmentAndGrades": {"available": true}}});
    let html = render(&LaunchPage::new(
        &with_ags,
        "lt<ik",
        false,
        &[],
        Roster::from_answer(&roster),
    ));
    assert!(
        html.contains("<td>&#60;b&#62;Bob&#60;/b&#62;</td>"),
        "{html}"
    );
    assert!(
        !html.contains("<b>Bob") && !html.contains("<script>"),
        "{html}"
    );
    assert!(html.contains("value=\"u&#34;1\""));
    assert!(html.contains("value=\"lt&#60;ik\""));
    assert!(html.contains("<td>Learner</td>"));
    assert!(html.contains("Post grade"));
    assert!(html.contains("more members"));

    let without = bare_launch(false, &[], Roster::from_answer(&roster));
    assert!(without.contains("id=\"roster\"") && !without.contains("Post grade"));
    let unreadable = bare_launch(false, &[], Roster::Unreadable);
    assert!(unreadable.contains("The roster could not be read."));
}

#[test]
fn the_picker_offers_each_item_with_the_escaped_ltik() {
    let content = &[("Quiz <1>", "ten questions"), ("Reading", "notes")];
    let html = render(&LaunchPage::new(
        &json!({}),
        "lt\"ik",
        true,
        content,
        Roster::Hidden,
    ));
    assert!(html.contains("id=\"picker\""));
    assert!(html.contains("<b>Quiz &#60;1&#62;</b> · ten questions"));
    assert!(html.contains("name=\"item\" value=\"1\"><b>Reading</b>"));
    assert_eq!(html.matches("value=\"lt&#34;ik\"").count(), 2);
    assert!(!html.contains("id=\"roster\""));
    // Not on a resource link launch.
    let plain = bare_launch(false, content, Roster::Hidden);
    assert!(!plain.contains("id=\"picker\""));
}

#[test]
fn notices_escape_what_ltigate_answered() {
    let notice = Notice::Refused("GET /api/idtoken".into(), "401".into(), HOSTILE.into());
    let html = render(&NoticePage {
        title: "Call refused",
        notice: &notice,
    });
    assert!(
        html.contains("<title>Call refused · sample app</title>"),
        "{html}"
    );
    assert!(html.contains("<code>GET /api/idtoken</code> answered 401:"));
    assert!(html.contains("<pre>&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;</pre>"));
    let unreachable = Notice::Unreachable(HOSTILE.into());
    let html = render(&NoticePage {
        title: "ltigate unreachable",
        notice: &unreachable,
    });
    assert!(!html.contains("<script>"), "{html}");
}

#[test]
fn the_grade_page_escapes_the_user_and_the_gradebook_link() {
    let html = render(&GradeSentPage {
        title: "Grade sent",
        score: 85.0,
        user: HOSTILE,
        gradebook: "http://127.0.0.1:1/gradebook?a=1&b=\"x\"",
    });
    assert!(
        html.contains("posted 85 / 100 for <code>&#34;&#62;&#60;script"),
        "{html}"
    );
    assert!(html.contains("href=\"http://127.0.0.1:1/gradebook?a=1&#38;b=&#34;x&#34;\""));
    assert!(!html.contains("<script>"));
}
