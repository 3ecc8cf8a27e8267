use serde_json::json;

use super::*;

fn score(body: Value) -> Score {
    serde_json::from_value(body).unwrap()
}

fn base_score() -> Value {
    json!({
        "userId": "u1",
        "timestamp": "2026-12-01T14:00:00.123Z",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

#[test]
fn timestamps_have_millisecond_precision() {
    assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        rfc3339_millis(1_796_133_600_123),
        "2026-12-01T14:00:00.123Z"
    );
    // A leap day and the end of a century year.
    assert_eq!(rfc3339_millis(951_782_400_007), "2000-02-29T00:00:00.007Z");
    assert_eq!(
        rfc3339_millis(4_107_542_399_999),
        "2100-02-28T23:59:59.999Z"
    );
    let _ = rfc3339_millis(u64::MAX);
}

#[test]
fn score_round_trips_with_extensions_untouched() {
    let canvas = json!({"submission_type": "online_url", "submission_data": "https://x", "new_submission": true});
    let body = with(
        with(
            base_score(),
            "https://canvas.instructure.com/lti/submission",
            canvas.clone(),
        ),
        "scoreGiven",
        json!(83),
    );
    let body = with(body, "scoreMaximum", json!(100));
    let parsed = score(body.clone());
    assert_eq!(parsed.activity_progress, ActivityProgress::Completed);
    assert_eq!(
        parsed.extensions["https://canvas.instructure.com/lti/submission"],
        canvas
    );
    parsed.validate().unwrap();
    // Numbers are kept as sent (83 stays an integer).
    assert_eq!(serde_json::to_value(&parsed).unwrap(), body);
}

#[test]
fn score_rules_name_the_rule() {
    let cases = [
        (
            with(base_score(), "scoreGiven", json!(5)),
            "scoreGiven",
            "scoreMaximum is required",
        ),
        (
            with(
                with(base_score(), "scoreGiven", json!(-1)),
                "scoreMaximum",
                json!(10),
            ),
            "scoreGiven",
            "at least 0",
        ),
        (
            with(base_score(), "scoreMaximum", json!(0)),
            "scoreMaximum",
            "greater than 0",
        ),
        (
            with(base_score(), "scoreMaximum", json!(-3.5)),
            "scoreMaximum",
            "greater than 0",
        ),
        (
            with(base_score(), "userId", json!("")),
            "userId",
            "required",
        ),
    ];
    for (body, field, rule) in cases {
        let err = score(body.clone()).validate().unwrap_err();
        assert_eq!(err.field(), field, "{body}");
        assert!(err.to_string().contains(rule), "{err} for {body}");
    }
    // 0 given is a grade; a given above the maximum is allowed (§3.4.4: extra credit).
    score(with(
        with(base_score(), "scoreGiven", json!(0)),
        "scoreMaximum",
        json!(1),
    ))
    .validate()
    .unwrap();
    score(with(
        with(base_score(), "scoreGiven", json!(1.1)),
        "scoreMaximum",
        json!(1),
    ))
    .validate()
    .unwrap();
}

#[test]
fn progress_values_are_the_specs_exactly() {
    for v in [
        "Initialized",
        "Started",
        "InProgress",
        "Submitted",
        "Completed",
    ] {
        let p = ActivityProgress::from_wire(v).unwrap();
        assert_eq!(serde_json::to_value(p).unwrap(), json!(v));
    }
    for v in [
        "FullyGraded",
        "Pending",
        "PendingManual",
        "Failed",
        "NotReady",
    ] {
        let p = GradingProgress::from_wire(v).unwrap();
        assert_eq!(serde_json::to_value(p).unwrap(), json!(v));
    }
    assert_eq!(ActivityProgress::from_wire("completed"), None);
    assert_eq!(GradingProgress::from_wire("Graded"), None);
}

#[test]
fn line_item_keeps_extensions_and_drops_nulls() {
    let mut item: LineItem = serde_json::from_value(json!({
        "label": "Quiz 1",
        "scoreMaximum": 10,
        "tag": null,
        "https://canvas.instructure.com/lti/submission_type": {"type": "external_tool"},
        "x-null": null,
    }))
    .unwrap();
    item.validate().unwrap();
    item.drop_nulls();
    assert_eq!(
        serde_json::to_value(&item).unwrap(),
        json!({
            "label": "Quiz 1",
            "scoreMaximum": 10,
            "https://canvas.instructure.com/lti/submission_type": {"type": "external_tool"},
        })
    );
}

#[test]
fn line_item_rules() {
    let item = |v: Value| serde_json::from_value::<LineItem>(v).unwrap().validate();
    assert_eq!(
        item(json!({"scoreMaximum": 1})).unwrap_err().field(),
        "label"
    );
    assert_eq!(
        item(json!({"label": "  ", "scoreMaximum": 1}))
            .unwrap_err()
            .field(),
        "label"
    );
    assert_eq!(
        item(json!({"label": "a"})).unwrap_err().field(),
        "scoreMaximum"
    );
    assert_eq!(
        item(json!({"label": "a", "scoreMaximum": 0}))
            .unwrap_err()
            .field(),
        "scoreMaximum"
    );
}

#[test]
fn scores_and_results_urls_keep_the_query() {
    let moodle = Url::parse(
        "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1",
    )
    .unwrap();
    assert_eq!(
        scores_url(&moodle).as_str(),
        "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1"
    );
    let canvas = Url::parse("https://canvas.example.edu/api/lti/courses/1/line_items/7/").unwrap();
    assert_eq!(
        results_url(&canvas).as_str(),
        "https://canvas.example.edu/api/lti/courses/1/line_items/7/results"
    );
    let filtered = ResultsQuery {
        user_id: Some("u 1".into()),
        limit: Some(2),
    }
    .apply(&moodle);
    assert_eq!(
        filtered.as_str(),
        "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem/results?type_id=1&user_id=u+1&limit=2"
    );
}

#[test]
fn line_items_filters_are_added_to_the_containers_query() {
    let container = Url::parse("https://lms.example.edu/c/1/lineitems?type_id=1").unwrap();
    let url = LineItemsQuery {
        resource_link_id: Some("rl-1".into()),
        resource_id: Some("quiz&1".into()),
        tag: None,
        limit: Some(10),
    }
    .apply(&container);
    assert_eq!(
        url.as_str(),
        "https://lms.example.edu/c/1/lineitems?type_id=1&resource_link_id=rl-1&resource_id=quiz%261&limit=10"
    );
    assert_eq!(LineItemsQuery::default().apply(&container), container);
}

#[test]
fn results_read_nulls_and_missing_members() {
    let results: Vec<AgsResult> = serde_json::from_value(json!([
        {"id": "https://lms/r/1", "scoreOf": "https://lms/li/1", "userId": "u1", "resultScore": 9.5, "resultMaximum": 10, "comment": null},
        {"id": "https://lms/r/2", "userId": "u2", "resultScore": null}
    ]))
    .unwrap();
    assert_eq!(
        results[0].result_score.as_ref().unwrap().as_f64(),
        Some(9.5)
    );
    assert_eq!(results[0].comment, None);
    assert_eq!(results[1].result_score, None);
}
