//! `/healthz` and `/readyz`.

use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;

use super::{Fixture, get};

#[tokio::test]
async fn liveness_and_readiness_answer_plain_text() {
    let fixture = Fixture::new().await;
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let answer = fixture.send(get(path)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        answer.assert_common_headers();
        assert_eq!(answer.text(), body, "{path}");
        assert_eq!(
            answer.header(CACHE_CONTROL),
            "",
            "{path} is not an API answer"
        );
    }
}

#[tokio::test]
async fn an_unknown_path_is_404() {
    let fixture = Fixture::new().await;
    let answer = fixture.send(get("/nowhere")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    answer.assert_common_headers();
}
