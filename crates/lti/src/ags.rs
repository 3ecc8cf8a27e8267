//! Assignment and Grade Services 2.0: media types, scopes and the bodies a tool sends and reads.
//!
//! [`LineItem`], [`Score`] and [`AgsResult`] are the spec's JSON documents (AGS 2.0 §3.2, §3.4,
//! §3.5), with every member the spec names typed and every other member (platform extensions
//! such as `https://canvas.instructure.com/lti/submission`) kept in an `extensions` map, so a
//! tool can pass them through untouched. [`Score::validate`] and [`LineItem::validate`] check
//! the rules the spec puts on what a tool sends, each refusal naming its rule.
//!
//! It does no I/O and reads no clock: the caller stamps scores ([`rfc3339_millis`] formats its
//! time) and sends the requests; [`scores_url`], [`results_url`] and the query builders give
//! the URLs the spec derives from a line item.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use url::Url;

/// A single line item (AGS 2.0 §3.2.2).
pub const LINEITEM_MEDIA_TYPE: &str = "application/vnd.ims.lis.v2.lineitem+json";
/// A line item container: a JSON array of line items (§3.2.3).
pub const LINEITEM_CONTAINER_MEDIA_TYPE: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";
/// A score posted to a line item's `/scores` (§3.4.1).
pub const SCORE_MEDIA_TYPE: &str = "application/vnd.ims.lis.v1.score+json";
/// A result container: a JSON array of results (§3.5.1).
pub const RESULT_CONTAINER_MEDIA_TYPE: &str = "application/vnd.ims.lis.v2.resultcontainer+json";

/// The OAuth 2 scopes of AGS (§3.1), as the endpoint claim lists them.
pub mod scope {
    /// Read and write line items.
    pub const LINEITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
    /// Read line items.
    pub const LINEITEM_READONLY: &str =
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly";
    /// Post scores.
    pub const SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
    /// Read results.
    pub const RESULT_READONLY: &str =
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly";
}

/// A score or line item the spec's rules refuse. `Display` names the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgsError {
    /// A required member is absent (or null).
    #[error("{field} is required")]
    MissingField {
        /// The member's JSON name.
        field: &'static str,
    },
    /// A member breaks a rule of the spec.
    #[error("{field}: {rule}")]
    InvalidField {
        /// The member's JSON name.
        field: &'static str,
        /// The rule, in this crate's words.
        rule: &'static str,
    },
}

impl AgsError {
    /// The JSON name of the member the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::MissingField { field } | Self::InvalidField { field, .. } => field,
        }
    }
}

/// A line item (AGS 2.0 §3.2.7). Absent members are omitted when serialized, never `null`
/// (Open edX refuses `null`s).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// The line item's URL; set by the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_maximum: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_link_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grades_released: Option<bool>,
    /// Every other member (platform extensions), as sent.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl LineItem {
    /// The rules on a line item a tool creates or replaces (§3.2.7): a non-blank `label` and
    /// a `scoreMaximum` greater than 0.
    pub fn validate(&self) -> Result<(), AgsError> {
        match self.label.as_deref() {
            None => return Err(AgsError::MissingField { field: "label" }),
            Some(label) if label.trim().is_empty() => {
                return Err(AgsError::InvalidField {
                    field: "label",
                    rule: "must not be blank",
                });
            }
            Some(_) => {}
        }
        let max = self.score_maximum.as_ref().ok_or(AgsError::MissingField {
            field: "scoreMaximum",
        })?;
        check_positive(max, "scoreMaximum")
    }

    /// Drops the extension members whose value is `null` (typed members are never sent as
    /// `null`): a tool may send them, Open edX refuses them.
    pub fn drop_nulls(&mut self) {
        self.extensions.retain(|_, v| !v.is_null());
    }
}

/// Progress of the user towards completing the activity (§3.4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityProgress {
    Initialized,
    Started,
    InProgress,
    Submitted,
    Completed,
}

impl ActivityProgress {
    /// The value named `name` on the wire, exactly (the spec's values are case-sensitive).
    pub fn from_wire(name: &str) -> Option<Self> {
        Some(match name {
            "Initialized" => Self::Initialized,
            "Started" => Self::Started,
            "InProgress" => Self::InProgress,
            "Submitted" => Self::Submitted,
            "Completed" => Self::Completed,
            _ => return None,
        })
    }
}

/// Status of the grading process (§3.4.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GradingProgress {
    FullyGraded,
    Pending,
    PendingManual,
    Failed,
    NotReady,
}

impl GradingProgress {
    /// The value named `name` on the wire, exactly.
    pub fn from_wire(name: &str) -> Option<Self> {
        Some(match name {
            "FullyGraded" => Self::FullyGraded,
            "Pending" => Self::Pending,
            "PendingManual" => Self::PendingManual,
            "Failed" => Self::Failed,
            "NotReady" => Self::NotReady,
            _ => return None,
        })
    }
}

/// A score (AGS 2.0 §3.4), as posted to a line item's `/scores`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_given: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_maximum: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When the score changed, RFC 3339 (platforms order updates by it; Open edX refuses two
    /// scores with the same one, so give milliseconds: [`rfc3339_millis`]).
    pub timestamp: String,
    pub activity_progress: ActivityProgress,
    pub grading_progress: GradingProgress,
    /// `{startedAt, submittedAt}` (§3.4.9), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<Value>,
    /// Every other member (e.g. `https://canvas.instructure.com/lti/submission`), untouched.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl Score {
    /// The rules of §3.4 on a score a tool posts: a non-empty `userId`; `scoreGiven` at least
    /// 0 and only with `scoreMaximum`; `scoreMaximum` greater than 0.
    pub fn validate(&self) -> Result<(), AgsError> {
        if self.user_id.is_empty() {
            return Err(AgsError::MissingField { field: "userId" });
        }
        if self.timestamp.is_empty() {
            return Err(AgsError::MissingField { field: "timestamp" });
        }
        if let Some(max) = &self.score_maximum {
            check_positive(max, "scoreMaximum")?;
        }
        if let Some(given) = &self.score_given {
            if self.score_maximum.is_none() {
                return Err(AgsError::InvalidField {
                    field: "scoreGiven",
                    rule: "scoreMaximum is required with scoreGiven",
                });
            }
            match given.as_f64() {
                Some(v) if v.is_finite() && v >= 0.0 => {}
                _ => {
                    return Err(AgsError::InvalidField {
                        field: "scoreGiven",
                        rule: "must be a number of at least 0",
                    });
                }
            }
        }
        Ok(())
    }
}

fn check_positive(number: &Number, field: &'static str) -> Result<(), AgsError> {
    match number.as_f64() {
        Some(v) if v.is_finite() && v > 0.0 => Ok(()),
        _ => Err(AgsError::InvalidField {
            field,
            rule: "must be a number greater than 0",
        }),
    }
}

/// A result (AGS 2.0 §3.5.3): the platform's current grade of one user on one line item.
/// Absent (or `null`) members are omitted when serialized.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgsResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_score: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_maximum: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Every other member, as sent.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

/// The URL a line item's scores are posted to: its path plus `/scores`, its query kept
/// (§3.4: `.../lineitem?type_id=1` becomes `.../lineitem/scores?type_id=1`).
pub fn scores_url(lineitem: &Url) -> Url {
    with_path_suffix(lineitem, "scores")
}

/// The URL a line item's results are read from: its path plus `/results`, its query kept.
pub fn results_url(lineitem: &Url) -> Url {
    with_path_suffix(lineitem, "results")
}

fn with_path_suffix(url: &Url, suffix: &str) -> Url {
    let mut out = url.clone();
    let path = url.path().trim_end_matches('/');
    out.set_path(&format!("{path}/{suffix}"));
    out.set_fragment(None);
    out
}

/// The filters of a line item container GET (§3.2.4), in the spec's parameter names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineItemsQuery {
    pub resource_link_id: Option<String>,
    pub resource_id: Option<String>,
    pub tag: Option<String>,
    pub limit: Option<u32>,
}

impl LineItemsQuery {
    /// The container URL with these filters added to its own query.
    pub fn apply(&self, container: &Url) -> Url {
        let limit = self.limit.map(|l| l.to_string());
        with_params(
            container,
            [
                ("resource_link_id", self.resource_link_id.as_deref()),
                ("resource_id", self.resource_id.as_deref()),
                ("tag", self.tag.as_deref()),
                ("limit", limit.as_deref()),
            ],
        )
    }
}

/// The filters of a result container GET (§3.5.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultsQuery {
    pub user_id: Option<String>,
    pub limit: Option<u32>,
}

impl ResultsQuery {
    /// The line item's results URL with these filters added.
    pub fn apply(&self, lineitem: &Url) -> Url {
        let limit = self.limit.map(|l| l.to_string());
        with_params(
            &results_url(lineitem),
            [
                ("user_id", self.user_id.as_deref()),
                ("limit", limit.as_deref()),
            ],
        )
    }
}

/// `url` with the present `params` appended to its query (existing parameters kept).
pub(crate) fn with_params<'a>(
    url: &Url,
    params: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Url {
    let mut out = url.clone();
    let present: Vec<(&str, &str)> = params
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    if !present.is_empty() {
        out.query_pairs_mut().extend_pairs(present);
    }
    out
}

/// `unix_millis` (milliseconds since 1970-01-01T00:00:00Z) as RFC 3339 in UTC with exactly
/// three fraction digits: `2026-12-01T14:00:00.123Z`.
pub fn rfc3339_millis(unix_millis: u64) -> String {
    let millis = unix_millis % 1000;
    let secs = unix_millis / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`,
/// for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
