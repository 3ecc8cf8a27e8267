//! Names and Role Provisioning Services 2.0: the simulated course's roster and the
//! membership container (NRPS 2.0 §2-3). The HTTP side (media type, token, paging) is in
//! [`crate::services`].

use crate::claims::COURSE_ID;
use serde_json::{Value, json};

/// How many members a page has when the tool sends no `limit`.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 10;

const MEMBERSHIP: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership";
/// The resource link every member of the course can reach.
const RESOURCE_LINK: &str = "ltisim-link-1";

/// (given, middle, family, role) of each member, in roster order: the launch's
/// instructor, a teaching assistant, then the students.
const PEOPLE: [(&str, &str, &str, &str); 25] = [
    ("Ada", "", "Lovelace", "Instructor"),
    ("Charles", "", "Babbage", "TeachingAssistant"),
    ("Grace", "Brewster", "Hopper", "Learner"),
    ("Alan", "Mathison", "Turing", "Learner"),
    ("Katherine", "", "Johnson", "Learner"),
    ("John", "", "von Neumann", "Learner"),
    ("Dorothy", "", "Vaughan", "Learner"),
    ("Edsger", "Wybe", "Dijkstra", "Learner"),
    ("Margaret", "", "Hamilton", "Learner"),
    ("Donald", "Ervin", "Knuth", "Learner"),
    ("Barbara", "", "Liskov", "Learner"),
    ("Claude", "Elwood", "Shannon", "Learner"),
    ("Frances", "", "Allen", "Learner"),
    ("Tim", "", "Berners-Lee", "Learner"),
    ("Radia", "", "Perlman", "Learner"),
    ("Ken", "", "Thompson", "Learner"),
    ("Adele", "", "Goldberg", "Learner"),
    ("Niklaus", "", "Wirth", "Learner"),
    ("Shafi", "", "Goldwasser", "Learner"),
    ("Tony", "", "Hoare", "Learner"),
    ("Sophie", "", "Wilson", "Learner"),
    ("Leslie", "", "Lamport", "Learner"),
    ("Mary", "Kenneth", "Keller", "Learner"),
    ("Seymour", "", "Cray", "Learner"),
    // Dropped the course: still listed, as Inactive.
    ("Hedy", "", "Lamarr", "Learner"),
];

/// The roster of `context`: `None` for a context the simulator has no course for.
pub(crate) fn roster(base_url: &str, context: &str) -> Option<Vec<Value>> {
    (context == COURSE_ID).then(|| {
        PEOPLE
            .iter()
            .enumerate()
            .map(|(index, person)| member(base_url, index, *person))
            .collect()
    })
}

fn member(
    base_url: &str,
    index: usize,
    (given, middle, family, role): (&str, &str, &str, &str),
) -> Value {
    let user_id = format!("ltisim-user-{}", 1001 + index);
    let roles = match role {
        // A TA is a sub-role of Instructor; NRPS lists the principal role too.
        "TeachingAssistant" => vec![
            format!("{MEMBERSHIP}/Instructor#TeachingAssistant"),
            format!("{MEMBERSHIP}#Mentor"),
        ],
        other => vec![format!("{MEMBERSHIP}#{other}")],
    };
    let login = given.to_lowercase();
    let name = [given, middle, family]
        .iter()
        .filter(|part| !part.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let email_name = format!("{given}.{family}").to_lowercase().replace(' ', "");
    let mut member = json!({
        "status": if index == PEOPLE.len() - 1 { "Inactive" } else { "Active" },
        "name": name,
        "picture": format!("{base_url}/avatars/{user_id}.svg"),
        "given_name": given,
        "family_name": family,
        "email": format!("{email_name}@ltisim.example"),
        "user_id": user_id,
        "lis_person_sourcedid": format!("ltisim:{login}"),
        "roles": roles,
    });
    if !middle.is_empty() {
        member["middle_name"] = json!(middle);
    }
    member
}

/// Whether `member` has `role`: a full role URI, or the short name of a context role
/// (`Learner`, `Instructor`, `Mentor`, `TeachingAssistant`).
pub(crate) fn has_role(member: &Value, role: &str) -> bool {
    member["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|uri| {
            uri == role || (uri.starts_with(MEMBERSHIP) && uri.rsplit('#').next() == Some(role))
        })
}

/// Whether `member` can reach the resource link `rlid`: everyone active in the course can
/// reach its one link; no one reaches a link the course does not have.
pub(crate) fn reaches(member: &Value, rlid: &str) -> bool {
    rlid == RESOURCE_LINK && member["status"] == "Active"
}

/// The membership container around one page of members.
pub(crate) fn container(request_url: &str, context: &str, members: Vec<Value>) -> Value {
    json!({
        "id": request_url,
        "context": {
            "id": context,
            "label": "SIM 101",
            "title": "Introduction to Simulated Computing",
        },
        "members": members,
    })
}

/// A small SVG avatar with the member's initials, for the `picture` URLs.
pub(crate) fn avatar(base_url: &str, user_id: &str) -> Option<String> {
    let member = roster(base_url, COURSE_ID)?
        .into_iter()
        .find(|member| member["user_id"] == user_id)?;
    let initials: String = [&member["given_name"], &member["family_name"]]
        .iter()
        .filter_map(|name| name.as_str()?.chars().next())
        .collect();
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="32" fill="#3b6ea5"/><text x="32" y="40" font-family="sans-serif" font-size="24" fill="#fff" text-anchor="middle">{}</text></svg>"##,
        crate::html::escape(&initials)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_has_the_launch_user_a_mentor_and_an_inactive_student() {
        let members = roster("http://lms", COURSE_ID).expect("course");
        assert_eq!(members.len(), 25);
        assert_eq!(members[0]["user_id"], "ltisim-user-1001");
        assert_eq!(members[0]["name"], "Ada Lovelace");
        assert!(has_role(&members[0], "Instructor"));
        assert!(has_role(&members[1], "Mentor"));
        assert!(has_role(&members[2], &format!("{MEMBERSHIP}#Learner")));
        assert_eq!(
            members.iter().filter(|m| m["status"] == "Inactive").count(),
            1
        );
        assert_eq!(
            members.iter().filter(|m| has_role(m, "Learner")).count(),
            23
        );
        assert!(roster("http://lms", "other").is_none());
        assert!(avatar("http://lms", "ltisim-user-1001").is_some_and(|svg| svg.contains(">AL<")));
    }
}
