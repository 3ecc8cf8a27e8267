//! The gradebook page (`GET /gradebook`): what an instructor sees in the LMS after a tool
//! posted scores. One table per line item, one row per user with a score.

use crate::ags::Column;
use crate::html::escape;
use serde_json::Value;

/// The page for `columns`; `names` turns a user id into a display name.
pub(crate) fn page(columns: &[Column], names: &dyn Fn(&str) -> Option<String>) -> String {
    let mut sections = String::new();
    for column in columns {
        let text = |value: &Value| match value {
            Value::String(text) => escape(text),
            Value::Null => String::new(),
            other => escape(&other.to_string()),
        };
        let item = &column.item;
        sections.push_str(&format!(
            "<section>\n<h2>{label}</h2>\n<p>Course <code>{context}</code>, line item <code>{id}</code>, out of {maximum}</p>\n",
            label = text(&item["label"]),
            context = escape(&column.context),
            id = text(&item["id"]),
            maximum = text(&item["scoreMaximum"]),
        ));
        if column.latest.is_empty() {
            sections.push_str("<p class=\"empty\">No scores yet.</p>\n</section>\n");
            continue;
        }
        sections.push_str(
            "<table>\n<thead><tr><th>User</th><th>Score</th><th>Activity</th><th>Grading</th><th>Comment</th><th>Timestamp</th></tr></thead>\n<tbody>\n",
        );
        for score in &column.latest {
            let user = score["userId"].as_str().unwrap_or_default();
            let who = match names(user) {
                Some(name) => format!("{} <small>({})</small>", escape(&name), escape(user)),
                None => escape(user),
            };
            let points = if score["scoreGiven"].is_null() {
                "–".to_owned()
            } else {
                format!(
                    "{} / {}",
                    text(&score["scoreGiven"]),
                    text(&score["scoreMaximum"])
                )
            };
            sections.push_str(&format!(
                "<tr class=\"score\" data-user=\"{user}\"><td>{who}</td><td class=\"points\">{points}</td><td>{activity}</td><td>{grading}</td><td class=\"comment\">{comment}</td><td>{timestamp}</td></tr>\n",
                user = escape(user),
                activity = text(&score["activityProgress"]),
                grading = text(&score["gradingProgress"]),
                comment = text(&score["comment"]),
                timestamp = text(&score["timestamp"]),
            ));
        }
        sections.push_str("</tbody>\n</table>\n</section>\n");
    }
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Gradebook · ltisim</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:.3em .6em;text-align:left}}</style></head>
<body>
<h1>Gradebook</h1>
{sections}</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_escaped_and_names_shown() {
        let columns = [Column {
            context: "c1".into(),
            item: json!({ "id": "http://lms/1", "label": "<b>Quiz</b>", "scoreMaximum": 10 }),
            latest: vec![json!({
                "userId": "u1", "scoreGiven": 7, "scoreMaximum": 10,
                "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                "comment": "<script>x</script>", "timestamp": "2026-12-01T14:03:07.123Z",
            })],
        }];
        let html = page(&columns, &|user| {
            (user == "u1").then(|| "Ada & co".to_owned())
        });
        assert!(html.contains("&lt;b&gt;Quiz&lt;/b&gt;"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("Ada &amp; co"));
        assert!(html.contains("7 / 10"));
    }
}
