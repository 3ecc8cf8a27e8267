//! Scores and results in LTIAAS's shape.
//!
//! The app posts `{userId, activityProgress, gradingProgress, scoreGiven, scoreMaximum,
//! comment, ...}` to `POST /api/lineitems/{id}/scores`; [`app_score`] turns it into the spec's
//! [`Score`]: `user_id` is accepted for `userId`, explicit `null`s mean "absent", members the
//! spec does not name (platform extensions such as
//! `https://canvas.instructure.com/lti/submission`) pass through untouched, and the timestamp
//! is added. `GET /api/lineitems/{id}/scores` answers the platform's results as `{scores[...],
//! next, first, last, prev}` ([`scores_page`]).

use serde::Serialize;
use serde_json::{Map, Number, Value};

use lti::ags::{ActivityProgress, AgsError, AgsResult, GradingProgress, Score};
use lti::paging::Links;

use super::page::PageLinks;

/// Why the app's body is not a score.
#[derive(Debug, thiserror::Error)]
pub enum ScoreBodyError {
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("{field} must be a {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("{field} must be one of {allowed}")]
    NotAllowed {
        field: &'static str,
        allowed: &'static str,
    },
    #[error(transparent)]
    Rule(#[from] AgsError),
}

impl ScoreBodyError {
    /// The JSON name of the member the refusal is about (`None` for the whole body).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::NotAnObject => None,
            Self::WrongType { field, .. } | Self::NotAllowed { field, .. } => Some(field),
            Self::Rule(e) => Some(e.field()),
        }
    }

    /// Whether the refusal is a required member that is absent.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Rule(AgsError::MissingField { .. }))
    }
}

const ACTIVITY: &str = "Initialized, Started, InProgress, Submitted, Completed";
const GRADING: &str = "FullyGraded, Pending, PendingManual, Failed, NotReady";

/// The app's score body as the spec's score, checked against AGS 2.0 §3.4.
///
/// `timestamp` is used unless the app sent a timestamp of its own (a sync replaying history
/// keeps its order that way).
pub fn app_score(body: Value, timestamp: String) -> Result<Score, ScoreBodyError> {
    let Value::Object(mut body) = body else {
        return Err(ScoreBodyError::NotAnObject);
    };
    // An explicit null is an absent member, for the spec's members and extensions alike.
    body.retain(|_, v| !v.is_null());
    let user_id = match (take(&mut body, "userId"), take(&mut body, "user_id")) {
        (Some(v), _) | (None, Some(v)) => Some(string(v, "userId")?),
        (None, None) => None,
    }
    .ok_or(AgsError::MissingField { field: "userId" })?;
    let activity = required_string(&mut body, "activityProgress")?;
    let activity_progress =
        ActivityProgress::from_wire(&activity).ok_or(ScoreBodyError::NotAllowed {
            field: "activityProgress",
            allowed: ACTIVITY,
        })?;
    let grading = required_string(&mut body, "gradingProgress")?;
    let grading_progress =
        GradingProgress::from_wire(&grading).ok_or(ScoreBodyError::NotAllowed {
            field: "gradingProgress",
            allowed: GRADING,
        })?;
    let score = Score {
        user_id,
        score_given: take(&mut body, "scoreGiven")
            .map(|v| number(v, "scoreGiven"))
            .transpose()?,
        score_maximum: take(&mut body, "scoreMaximum")
            .map(|v| number(v, "scoreMaximum"))
            .transpose()?,
        comment: take(&mut body, "comment")
            .map(|v| string(v, "comment"))
            .transpose()?,
        timestamp: match take(&mut body, "timestamp") {
            Some(v) => string(v, "timestamp")?,
            None => timestamp,
        },
        activity_progress,
        grading_progress,
        submission: take(&mut body, "submission"),
        extensions: body,
    };
    score.validate()?;
    Ok(score)
}

fn take(body: &mut Map<String, Value>, key: &str) -> Option<Value> {
    body.remove(key)
}

fn required_string(
    body: &mut Map<String, Value>,
    field: &'static str,
) -> Result<String, ScoreBodyError> {
    let value = take(body, field).ok_or(AgsError::MissingField { field })?;
    string(value, field)
}

fn string(value: Value, field: &'static str) -> Result<String, ScoreBodyError> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(ScoreBodyError::WrongType {
            field,
            expected: "string",
        }),
    }
}

fn number(value: Value, field: &'static str) -> Result<Number, ScoreBodyError> {
    match value {
        Value::Number(n) => Ok(n),
        _ => Err(ScoreBodyError::WrongType {
            field,
            expected: "number",
        }),
    }
}

/// One page of results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScoresPage {
    #[schema(value_type = Vec<crate::http::openapi::schemas::ScoreResult>)]
    scores: Vec<ResultEntry>,
    #[serde(flatten)]
    links: PageLinks,
}

/// A result as LTIAAS gives it: the spec's result, with `resultMaximum` 1 when the platform
/// left it out (AGS 2.0 §3.5.3.5).
#[derive(Debug, Serialize)]
struct ResultEntry(AgsResult);

/// The answer of `GET /api/lineitems/{id}/scores` for one platform page.
pub fn scores_page(results: Vec<AgsResult>, links: Links) -> ScoresPage {
    ScoresPage {
        scores: results
            .into_iter()
            .map(|mut r| {
                if r.result_maximum.is_none() {
                    r.result_maximum = Some(Number::from(1));
                }
                ResultEntry(r)
            })
            .collect(),
        links: links.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: &str = "2026-12-01T14:00:00.123Z";

    #[test]
    fn ltiaas_guide_score_becomes_a_spec_score() {
        let score = app_score(
            json!({"userId": "1", "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                   "scoreGiven": 95, "scoreMaximum": 100}),
            NOW.into(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&score).unwrap(),
            json!({"userId": "1", "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                   "scoreGiven": 95, "scoreMaximum": 100, "timestamp": NOW})
        );
    }

    #[test]
    fn user_id_nulls_and_extensions() {
        let submission = json!({"new_submission": true, "submission_type": "online_text_entry",
                                "submission_data": "essay", "submitted_at": "2026-11-30T10:00:00Z"});
        let score = app_score(
            json!({"user_id": "u9", "activityProgress": "Submitted", "gradingProgress": "PendingManual",
                   "scoreGiven": null, "scoreMaximum": null, "comment": null,
                   "https://canvas.instructure.com/lti/submission": submission}),
            NOW.into(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&score).unwrap(),
            json!({"userId": "u9", "activityProgress": "Submitted", "gradingProgress": "PendingManual",
                   "timestamp": NOW, "https://canvas.instructure.com/lti/submission": submission})
        );
    }

    #[test]
    fn an_apps_own_timestamp_is_kept() {
        let score = app_score(
            json!({"userId": "1", "activityProgress": "Started", "gradingProgress": "NotReady",
                   "timestamp": "2026-01-01T00:00:00.001Z"}),
            NOW.into(),
        )
        .unwrap();
        assert_eq!(score.timestamp, "2026-01-01T00:00:00.001Z");
    }

    #[test]
    fn refusals_name_the_member() {
        let base = || json!({"userId": "1", "activityProgress": "Completed", "gradingProgress": "FullyGraded"});
        let with = |k: &str, v: Value| {
            let mut b = base();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = base();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        let cases: Vec<(Value, Option<&str>, bool)> = vec![
            (without("userId"), Some("userId"), true),
            (without("activityProgress"), Some("activityProgress"), true),
            (without("gradingProgress"), Some("gradingProgress"), true),
            (
                with("activityProgress", json!("Initiated")),
                Some("activityProgress"),
                false,
            ),
            (
                with("gradingProgress", json!("fullygraded")),
                Some("gradingProgress"),
                false,
            ),
            (with("scoreGiven", json!(3)), Some("scoreGiven"), false),
            (with("scoreGiven", json!("3")), Some("scoreGiven"), false),
            (with("scoreMaximum", json!(0)), Some("scoreMaximum"), false),
            (with("userId", json!(7)), Some("userId"), false),
            (with("comment", json!(["x"])), Some("comment"), false),
            (json!("score"), None, false),
        ];
        for (body, field, missing) in cases {
            let err = app_score(body.clone(), NOW.into()).unwrap_err();
            assert_eq!(err.field(), field, "{body}: {err}");
            assert_eq!(err.is_missing(), missing, "{body}: {err}");
        }
    }

    /// The example of the LTIAAS "Get Scores from Line Item" page.
    #[test]
    fn results_page_in_ltiaas_shape() {
        let results: Vec<AgsResult> = serde_json::from_value(json!([
            {"id": "https://lms.example.com/course/1/lineitems/1/scores/2", "userId": "2",
             "scoreOf": "https://lms.example.com/course/1/lineitems/1",
             "timestamp": "2020-06-02T10:51:08-03:00", "resultScore": 95, "resultMaximum": 100,
             "comment": "string"},
            {"id": "https://lms.example.com/course/1/lineitems/1/results/3", "userId": "3",
             "scoreOf": "https://lms.example.com/course/1/lineitems/1", "resultScore": null,
             "comment": null}
        ]))
        .unwrap();
        let links = Links {
            next: Some("https://lms.example.com/course/1/lineitems/1/scores?page=3".into()),
            prev: Some("https://lms.example.com/course/1/lineitems/1/scores?page=1".into()),
            first: None,
            last: None,
        };
        assert_eq!(
            serde_json::to_value(scores_page(results, links)).unwrap(),
            json!({
                "scores": [
                    {"id": "https://lms.example.com/course/1/lineitems/1/scores/2", "userId": "2",
                     "scoreOf": "https://lms.example.com/course/1/lineitems/1",
                     "timestamp": "2020-06-02T10:51:08-03:00", "resultScore": 95,
                     "resultMaximum": 100, "comment": "string"},
                    {"id": "https://lms.example.com/course/1/lineitems/1/results/3", "userId": "3",
                     "scoreOf": "https://lms.example.com/course/1/lineitems/1", "resultMaximum": 1}
                ],
                "next": "https://lms.example.com/course/1/lineitems/1/scores?page=3",
                "prev": "https://lms.example.com/course/1/lineitems/1/scores?page=1"
            })
        );
    }
}
