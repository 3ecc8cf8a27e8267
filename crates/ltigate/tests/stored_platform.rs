//! A platform row edited outside ltigate so that it no longer parses: its logins are refused
//! with a code, never answered from a half-read registration.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::time::Duration;

use common::TestGate;
use common::lms::{Lms, loopback_lms};
use ltigate::clock::Clock;
use ltisim::Simulator;
use serde_json::json;

#[tokio::test]
async fn a_stored_key_that_no_longer_parses_refuses_the_login_as_misconfigured() {
    let sim = Simulator::start().await.unwrap();
    // No platform cache: the next login reads the edited row.
    let gate = TestGate::start_at(Clock::System, |c| {
        loopback_lms(c);
        c.launch.platform_cache_ttl = Duration::ZERO;
    })
    .await;
    let lms = Lms::register(gate, sim, json!({})).await;
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&lms.gate.database_url)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE platforms SET auth_method = 'RSA_KEY', auth_key = 'not a PEM' WHERE id = $1",
    )
    .bind(&lms.platform_id)
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(lms.login_refusal().await, "PLATFORM_MISCONFIGURED");
}
