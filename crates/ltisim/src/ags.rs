//! Assignment and Grade Services 2.0 storage and rules: line items per context, the
//! scores posted to them (kept exactly as posted) and the results derived from the
//! latest score of each user. In memory; the HTTP side (media types, tokens, paging) is in
//! [`crate::services`].
//!
//! Like Open edX, a score whose timestamp is not newer than the user's previous score for
//! the same line item is refused, which is what makes sub-second timestamps matter.

use crate::claims::COURSE_ID;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

const ACTIVITY_PROGRESS: [&str; 5] = [
    "Initialized",
    "Started",
    "InProgress",
    "Submitted",
    "Completed",
];
const GRADING_PROGRESS: [&str; 5] = [
    "FullyGraded",
    "Pending",
    "PendingManual",
    "Failed",
    "NotReady",
];

/// Why an AGS request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AgsError {
    NotFound(String),
    Invalid(String),
}

/// Every context's line items.
pub(crate) struct Ags {
    base_url: String,
    contexts: Mutex<HashMap<String, Context>>,
}

#[derive(Default)]
struct Context {
    next_number: u64,
    items: BTreeMap<u64, LineItem>,
}

struct LineItem {
    /// As created or last replaced, with its `id`.
    body: Value,
    /// Every accepted score, in the order received, exactly as posted.
    scores: Vec<Value>,
    /// Each user's latest score: its timestamp (ns) and index in `scores` (so a long
    /// benchmark never rescans `scores`).
    latest: HashMap<String, (i128, usize)>,
}

impl LineItem {
    /// Each user's latest score, in the order they were received.
    fn latest_scores(&self) -> impl Iterator<Item = &Value> {
        let mut indexes: Vec<usize> = self.latest.values().map(|(_, index)| *index).collect();
        indexes.sort_unstable();
        indexes
            .into_iter()
            .filter_map(|index| self.scores.get(index))
    }
}

/// A line item and each user's latest score, for the gradebook page.
pub(crate) struct Column {
    pub(crate) context: String,
    pub(crate) item: Value,
    pub(crate) latest: Vec<Value>,
}

impl Ags {
    /// Storage with the course's first line item, the one launches name in their
    /// `lineitem` claim.
    pub(crate) fn new(base_url: &str) -> Self {
        let ags = Self {
            base_url: base_url.to_owned(),
            contexts: Mutex::new(HashMap::new()),
        };
        let first = json!({
            "label": "Week 1: Analytical Engines",
            "scoreMaximum": 100,
            "resourceLinkId": "ltisim-link-1",
            "tag": "week-1",
        });
        // The seed is valid by construction.
        let _ = ags.create(COURSE_ID, first);
        ags
    }

    fn contexts(&self) -> MutexGuard<'_, HashMap<String, Context>> {
        self.contexts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `{base}/ags/contexts/{context}/lineitems`
    pub(crate) fn container_url(&self, context: &str) -> String {
        format!("{}/ags/contexts/{context}/lineitems", self.base_url)
    }

    fn item_url(&self, context: &str, number: u64) -> String {
        format!("{}/{number}", self.container_url(context))
    }

    /// The line items of `context` matching the container filters, in creation order.
    pub(crate) fn list(&self, context: &str, filters: &[(&str, &str)]) -> Vec<Value> {
        let member = |name: &str| match name {
            "resource_link_id" => "resourceLinkId",
            "resource_id" => "resourceId",
            _ => "tag",
        };
        self.contexts()
            .get(context)
            .map(|ctx| {
                ctx.items
                    .values()
                    .map(|item| &item.body)
                    .filter(|body| {
                        filters
                            .iter()
                            .all(|(name, value)| body[member(name)].as_str() == Some(*value))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn create(&self, context: &str, body: Value) -> Result<Value, AgsError> {
        let mut body = valid_line_item(body)?;
        let mut contexts = self.contexts();
        let ctx = contexts.entry(context.to_owned()).or_default();
        ctx.next_number += 1;
        let number = ctx.next_number;
        body.insert("id".into(), json!(self.item_url(context, number)));
        let body = Value::Object(body);
        ctx.items.insert(
            number,
            LineItem {
                body: body.clone(),
                scores: Vec::new(),
                latest: HashMap::new(),
            },
        );
        Ok(body)
    }

    fn with_item<T>(
        &self,
        context: &str,
        number: &str,
        f: impl FnOnce(&mut LineItem) -> Result<T, AgsError>,
    ) -> Result<T, AgsError> {
        let not_found = || AgsError::NotFound(format!("no line item {number} in {context}"));
        let number: u64 = number.parse().map_err(|_| not_found())?;
        let mut contexts = self.contexts();
        let item = contexts
            .get_mut(context)
            .and_then(|ctx| ctx.items.get_mut(&number))
            .ok_or_else(not_found)?;
        f(item)
    }

    pub(crate) fn get(&self, context: &str, number: &str) -> Result<Value, AgsError> {
        self.with_item(context, number, |item| Ok(item.body.clone()))
    }

    /// Replaces a line item (AGS 2.0 §3.2.8): the id cannot change.
    pub(crate) fn replace(
        &self,
        context: &str,
        number: &str,
        body: Value,
    ) -> Result<Value, AgsError> {
        let mut body = valid_line_item(body)?;
        self.with_item(context, number, |item| {
            let id = item.body["id"].clone();
            if body.get("id").is_some_and(|sent| *sent != id) {
                return Err(AgsError::Invalid("a line item's id cannot change".into()));
            }
            body.insert("id".into(), id);
            item.body = Value::Object(body);
            Ok(item.body.clone())
        })
    }

    pub(crate) fn delete(&self, context: &str, number: &str) -> Result<(), AgsError> {
        let not_found = || AgsError::NotFound(format!("no line item {number} in {context}"));
        let number: u64 = number.parse().map_err(|_| not_found())?;
        self.contexts()
            .get_mut(context)
            .and_then(|ctx| ctx.items.remove(&number))
            .map(|_| ())
            .ok_or_else(not_found)
    }

    /// Accepts a score (AGS 2.0 §3.4) after checking it, keeping the body as posted.
    pub(crate) fn post_score(
        &self,
        context: &str,
        number: &str,
        score: Value,
    ) -> Result<(), AgsError> {
        let (user, timestamp) = valid_score(&score)?;
        self.with_item(context, number, |item| {
            let index = item.scores.len();
            let previous = item.latest.get(&user).map(|(time, _)| *time);
            if previous.is_some_and(|previous| timestamp <= previous) {
                return Err(AgsError::Invalid(format!(
                    "the score's timestamp is not after the previous score's for user {user:?}"
                )));
            }
            item.latest.insert(user, (timestamp, index));
            item.scores.push(score);
            Ok(())
        })
    }

    /// The results of a line item (AGS 2.0 §3.3): one per user who has a score,
    /// optionally only `user_id`'s.
    pub(crate) fn results(
        &self,
        context: &str,
        number: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<Value>, AgsError> {
        self.with_item(context, number, |item| {
            let id = item.body["id"].as_str().unwrap_or_default().to_owned();
            Ok(item
                .latest_scores()
                .filter(|score| user_id.is_none_or(|user| score["userId"] == user))
                .map(|score| result_of(&id, score))
                .collect())
        })
    }

    /// The line items of `context` as stored.
    pub(crate) fn line_items(&self, context: &str) -> Vec<Value> {
        self.list(context, &[])
    }

    /// Every score accepted for the line item whose id is `url`.
    pub(crate) fn scores_received(&self, url: &str) -> Vec<Value> {
        self.contexts()
            .values()
            .flat_map(|ctx| ctx.items.values())
            .find(|item| item.body["id"] == url)
            .map(|item| item.scores.clone())
            .unwrap_or_default()
    }

    /// Every line item with each user's latest score, contexts sorted by name.
    pub(crate) fn columns(&self) -> Vec<Column> {
        let contexts = self.contexts();
        let mut names: Vec<&String> = contexts.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|name| {
                contexts[name].items.values().map(|item| Column {
                    context: name.clone(),
                    item: item.body.clone(),
                    latest: item.latest_scores().cloned().collect(),
                })
            })
            .collect()
    }
}

fn result_of(line_item: &str, score: &Value) -> Value {
    let user = score["userId"].as_str().unwrap_or_default();
    let encoded: String = url::form_urlencoded::byte_serialize(user.as_bytes()).collect();
    let mut result = json!({
        "id": format!("{line_item}/results/{encoded}"),
        "scoreOf": line_item,
        "userId": user,
    });
    if let Some(given) = score.get("scoreGiven").filter(|v| v.is_number()) {
        result["resultScore"] = given.clone();
        result["resultMaximum"] = score["scoreMaximum"].clone();
    }
    if let Some(comment) = score.get("comment").filter(|v| v.is_string()) {
        result["comment"] = comment.clone();
    }
    result
}

fn valid_line_item(body: Value) -> Result<Map<String, Value>, AgsError> {
    let invalid = |why: &str| AgsError::Invalid(why.to_owned());
    let Value::Object(body) = body else {
        return Err(invalid("a line item must be a JSON object"));
    };
    if body
        .get("label")
        .and_then(Value::as_str)
        .is_none_or(|label| label.trim().is_empty())
    {
        return Err(invalid("label is required"));
    }
    if body
        .get("scoreMaximum")
        .and_then(Value::as_f64)
        .is_none_or(|maximum| maximum <= 0.0)
    {
        return Err(invalid(
            "scoreMaximum is required and must be a number above 0",
        ));
    }
    for name in ["resourceLinkId", "resourceId", "tag"] {
        if body.get(name).is_some_and(|value| !value.is_string()) {
            return Err(AgsError::Invalid(format!("{name} must be a string")));
        }
    }
    for name in ["startDateTime", "endDateTime"] {
        let value = body.get(name);
        if value.is_some_and(|value| value.as_str().and_then(rfc3339_nanos).is_none()) {
            return Err(AgsError::Invalid(format!(
                "{name} must be an RFC 3339 date-time"
            )));
        }
    }
    if body
        .get("gradesReleased")
        .is_some_and(|value| !value.is_boolean())
    {
        return Err(invalid("gradesReleased must be a boolean"));
    }
    Ok(body)
}

/// Checks a score and returns its user and timestamp (ns since the epoch).
fn valid_score(score: &Value) -> Result<(String, i128), AgsError> {
    let invalid = |why: String| AgsError::Invalid(why);
    if !score.is_object() {
        return Err(invalid("a score must be a JSON object".into()));
    }
    let user = score
        .get("userId")
        .and_then(Value::as_str)
        .filter(|user| !user.is_empty())
        .ok_or_else(|| invalid("userId is required".into()))?;
    for (name, allowed) in [
        ("activityProgress", &ACTIVITY_PROGRESS),
        ("gradingProgress", &GRADING_PROGRESS),
    ] {
        let value = score.get(name).and_then(Value::as_str);
        if !value.is_some_and(|value| allowed.contains(&value)) {
            return Err(invalid(format!(
                "{name} is required and must be one of {}",
                allowed.join(", ")
            )));
        }
    }
    let timestamp = score
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(rfc3339_nanos)
        .ok_or_else(|| invalid("timestamp is required and must be an RFC 3339 date-time".into()))?;
    let number = |name: &str| score.get(name).filter(|value| !value.is_null());
    if let Some(given) = number("scoreGiven") {
        if given.as_f64().is_none_or(|given| given < 0.0) {
            return Err(invalid("scoreGiven must be a number, 0 or more".into()));
        }
        if number("scoreMaximum").is_none() {
            return Err(invalid("scoreGiven needs scoreMaximum".into()));
        }
    }
    if number("scoreMaximum").is_some_and(|max| max.as_f64().is_none_or(|max| max <= 0.0)) {
        return Err(invalid("scoreMaximum must be a number above 0".into()));
    }
    if score
        .get("comment")
        .is_some_and(|c| !c.is_string() && !c.is_null())
    {
        return Err(invalid("comment must be a string".into()));
    }
    Ok((user.to_owned(), timestamp))
}

/// Nanoseconds since the Unix epoch of an RFC 3339 date-time
/// (`2026-12-01T14:03:07.123456Z`, `…+02:00`); `None` when it is not one.
pub(crate) fn rfc3339_nanos(text: &str) -> Option<i128> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let separator = |at: usize, allowed: &[u8]| bytes.get(at).is_some_and(|b| allowed.contains(b));
    if !(separator(4, b"-")
        && separator(7, b"-")
        && separator(10, b"Tt")
        && separator(13, b":")
        && separator(16, b":"))
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut nanos: i128 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        for (i, b) in fraction.bytes().take(len).enumerate() {
            if i < 9 {
                nanos += i128::from(b - b'0') * 10i128.pow(8 - u32::try_from(i).ok()?);
            }
        }
        rest = &fraction[len..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let zone = rest.get(1..)?;
            if zone.len() != 5 || zone.as_bytes()[2] != b':' {
                return None;
            }
            let (h, m) = (
                zone.get(0..2)?.parse::<i64>().ok()?,
                zone.get(3..5)?.parse::<i64>().ok()?,
            );
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_seconds;
    Some(i128::from(seconds) * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_timestamps_parse_with_fractions_and_offsets() {
        assert_eq!(rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_nanos("2026-12-01T14:03:07.123Z"),
            Some(1_796_133_787_123_000_000)
        );
        assert_eq!(
            rfc3339_nanos("2026-12-01T16:03:07.123+02:00"),
            rfc3339_nanos("2026-12-01T14:03:07.123Z")
        );
        assert!(
            rfc3339_nanos("2026-12-01T14:03:07.124Z") > rfc3339_nanos("2026-12-01T14:03:07.123Z")
        );
        for bad in [
            "2026-12-01",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-12-01T14:03:07",
            "2026-12-01T14:03:07.Z",
            "x",
        ] {
            assert_eq!(rfc3339_nanos(bad), None, "{bad}");
        }
    }

    fn score(user: &str, timestamp: &str) -> Value {
        json!({
            "userId": user, "activityProgress": "Completed", "gradingProgress": "FullyGraded",
            "scoreGiven": 7, "scoreMaximum": 10, "timestamp": timestamp,
        })
    }

    #[test]
    fn scores_must_move_forward_per_user() {
        let ags = Ags::new("http://lms");
        let at = "2026-12-01T14:03:07.123Z";
        assert_eq!(ags.post_score(COURSE_ID, "1", score("u1", at)), Ok(()));
        assert!(ags.post_score(COURSE_ID, "1", score("u1", at)).is_err());
        assert_eq!(ags.post_score(COURSE_ID, "1", score("u2", at)), Ok(()));
        assert_eq!(
            ags.post_score(COURSE_ID, "1", score("u1", "2026-12-01T14:03:07.124Z")),
            Ok(())
        );
        let results = ags.results(COURSE_ID, "1", None).expect("results");
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["resultScore"], 7);
        assert!(matches!(
            ags.post_score(COURSE_ID, "9", score("u1", at)),
            Err(AgsError::NotFound(_))
        ));
    }

    #[test]
    fn score_rules() {
        let mut bad = score("u", "2026-12-01T14:03:07Z");
        bad["scoreMaximum"] = Value::Null;
        assert!(valid_score(&bad).is_err());
        let mut bad = score("u", "2026-12-01T14:03:07Z");
        bad["gradingProgress"] = json!("Done");
        assert!(valid_score(&bad).is_err());
        assert!(valid_score(&score("", "2026-12-01T14:03:07Z")).is_err());
        assert!(valid_score(&score("u", "yesterday")).is_err());
    }
}
