//! The sample app's pages (templates under `templates/demo/`), built from the JSON ltigate
//! answered. Everything the LMS sent is printed through the templates' HTML escaping.

use askama::Template;
use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::http::pages::html_response;

/// The sample app's policy: styles only, no script.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// `page` as the sample app answers it: never cached, no referrer, no script.
pub(super) fn respond(status: StatusCode, page: &impl Template) -> Response {
    let mut response = html_response(status, CSP.into(), page);
    response
        .headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The app's short pages: its index and why a request could not be served.
#[derive(Debug)]
pub(super) enum Notice {
    Index,
    NoLaunch,
    NoSuchItem,
    /// ltigate did not answer: the client's error.
    Unreachable(String),
    /// ltigate refused a call: `METHOD /path`, the status and the JSON answer.
    Refused(String, String, String),
}

#[derive(Template)]
#[template(path = "demo/notice.html")]
struct NoticePage<'a> {
    title: &'static str,
    notice: &'a Notice,
}

impl Notice {
    fn title_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            Self::Index => ("Sample app", StatusCode::OK),
            Self::NoLaunch => ("No launch", StatusCode::BAD_REQUEST),
            Self::NoSuchItem => ("No such item", StatusCode::BAD_REQUEST),
            Self::Unreachable(_) => ("ltigate unreachable", StatusCode::BAD_GATEWAY),
            Self::Refused(..) => ("Call refused", StatusCode::BAD_GATEWAY),
        }
    }

    pub(super) fn page(&self) -> Response {
        let (title, status) = self.title_and_status();
        respond(
            status,
            &NoticePage {
                title,
                notice: self,
            },
        )
    }
}

#[derive(Template)]
#[template(path = "demo/grade_sent.html")]
pub(super) struct GradeSentPage<'a> {
    pub title: &'static str,
    pub score: f64,
    pub user: &'a str,
    pub gradebook: &'a str,
}

/// The deep linking response ltigate built, which posts itself to the LMS. Its script is
/// ltigate's and has no nonce, so this one page allows inline script.
#[derive(Template)]
#[template(path = "demo/returning.html")]
struct ReturningPage<'a> {
    title: &'static str,
    form: &'a str,
}

pub(super) fn returning_page(form: &str) -> Response {
    let mut response = respond(
        StatusCode::OK,
        &ReturningPage {
            title: "Returning to the LMS",
            form,
        },
    );
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
        ),
    );
    response
}

/// The roster section of a launch page.
#[derive(Debug)]
pub(super) enum Roster<'a> {
    /// No roster: a deep linking launch, or no NRPS.
    Hidden,
    Unreadable,
    /// The members of the first page, and whether the LMS has more.
    Shown(Vec<Member<'a>>, bool),
}

#[derive(Debug)]
pub(super) struct Member<'a> {
    user_id: &'a str,
    name: &'a str,
    email: &'a str,
    roles: String,
    status: &'a str,
}

/// A role URI's readable end: `...membership#Instructor` is `Instructor`.
fn short_role(role: &str) -> &str {
    role.rsplit(['#', '/']).next().unwrap_or(role)
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

impl<'a> Roster<'a> {
    /// The first page of `GET /api/memberships`.
    pub(super) fn from_answer(roster: &'a Value) -> Self {
        let text = |value: &'a Value| value.as_str().unwrap_or("");
        let members = roster["members"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|member| Member {
                user_id: text(&member["userId"]),
                name: text(&member["name"]),
                email: text(&member["email"]),
                roles: strings(&member["roles"])
                    .map(short_role)
                    .collect::<Vec<_>>()
                    .join(", "),
                status: text(&member["status"]),
            })
            .collect();
        Self::Shown(members, roster["next"].is_string())
    }
}

/// The summary of a launch (who, from where, in which course, with which roles and
/// services), the content picker of a deep linking launch or the course roster, and the
/// JSON of `GET /api/idtoken`.
#[derive(Template)]
#[template(path = "demo/launch.html")]
pub(super) struct LaunchPage<'a> {
    title: &'static str,
    deep_linking: bool,
    ltik: &'a str,
    name: &'a str,
    kind: &'a str,
    platform_name: &'a str,
    email: &'a str,
    user_id: &'a str,
    issuer: &'a str,
    client_id: &'a str,
    deployment: &'a str,
    platform_id: &'a str,
    context_title: &'a str,
    context_label: &'a str,
    context_id: &'a str,
    link_title: &'a str,
    /// (readable name, URI)
    roles: Vec<(&'a str, &'a str)>,
    /// (service, "available" or "not available")
    services: Vec<(&'static str, &'static str)>,
    /// What the picker offers: (title, text).
    content: &'static [(&'static str, &'static str)],
    roster: Roster<'a>,
    /// Whether the roster has a grade form per member (the launch offers AGS).
    grades: bool,
    json: String,
}

impl<'a> LaunchPage<'a> {
    /// `body` is the answer of `GET /api/idtoken`; `content` is shown on a deep linking
    /// launch.
    pub(super) fn new(
        body: &'a Value,
        ltik: &'a str,
        deep_linking: bool,
        content: &'static [(&'static str, &'static str)],
        roster: Roster<'a>,
    ) -> Self {
        let field = |value: &'a Value| value.as_str().unwrap_or("—");
        let (user, platform, launch) = (&body["user"], &body["platform"], &body["launch"]);
        let context = &launch["context"];
        let available = |key: &str| body["services"][key]["available"].as_bool() == Some(true);
        let services = [
            ("outcomes", "Basic outcomes"),
            ("assignmentAndGrades", "Assignment and Grade Services"),
            ("namesAndRoles", "Names and Role Provisioning"),
            ("deepLinking", "Deep linking"),
        ]
        .into_iter()
        .map(|(key, label)| {
            let mark = if available(key) {
                "available"
            } else {
                "not available"
            };
            (label, mark)
        })
        .collect();
        Self {
            title: "Launched",
            deep_linking,
            ltik,
            name: user["name"]
                .as_str()
                .or_else(|| user["id"].as_str())
                .unwrap_or("anonymous user"),
            kind: field(&launch["type"]),
            platform_name: field(&platform["name"]),
            email: field(&user["email"]),
            user_id: field(&user["id"]),
            issuer: field(&platform["url"]),
            client_id: field(&platform["clientId"]),
            deployment: field(&platform["deploymentId"]),
            platform_id: field(&platform["id"]),
            context_title: field(&context["title"]),
            context_label: field(&context["label"]),
            context_id: field(&context["id"]),
            link_title: field(&launch["resourceLink"]["title"]),
            roles: strings(&user["roles"])
                .map(|role| (short_role(role), role))
                .collect(),
            services,
            content: if deep_linking { content } else { &[] },
            roster,
            grades: available("assignmentAndGrades"),
            json: serde_json::to_string_pretty(body).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests;
