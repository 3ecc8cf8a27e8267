//! The admin page in headless Chromium: a Dynamic Registration from the LMS simulator waits
//! for approval; the admin signs in at `/admin/`, clicks "Approve", sees the platform active,
//! and a launch from the simulator's course page then reaches the app.
//!
//! Skips with a line on stderr without Chromium and chromedriver, or fails when
//! `LTITEST_REQUIRE_BROWSER=1` (see `tests/browser.rs`).

#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use std::time::Duration;

use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use common::lms::loopback_lms;
use common::{ADMIN_KEY, TestGate};
use ltisim::{MessageType, Simulator, Storage};
use reqwest::Method;
use serde_json::Value;
use tokio::net::TcpListener;

use webdriver::{BrowserTools, Chromedriver, Session};

const LIMIT: Duration = Duration::from_secs(15);
const APP_PAGE: &str = "The app has the launch";

/// An app that shows it received a launch (an ltik).
async fn start_app() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/launch",
        get(|Query(q): Query<Vec<(String, String)>>| async move {
            let has_ltik = q.iter().any(|(k, v)| k == "ltik" && !v.is_empty());
            Html(if has_ltik {
                format!("<p id=\"app\">{APP_PAGE}</p>")
            } else {
                "<p>no ltik</p>".to_owned()
            })
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn platform(gate: &TestGate, id: &str) -> Value {
    gate.admin_json(Method::GET, &format!("/admin/platforms/{id}"), None)
        .await
}

/// Waits until the top-level page's source satisfies `done`; the source.
async fn wait_for_source(browser: &Session, done: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let source = browser.source().await;
        if done(&source) || std::time::Instant::now() >= deadline {
            return source;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_approves_a_registration_in_the_browser_and_the_lms_launches() {
    let Some(tools) = BrowserTools::find_or_skip() else {
        return;
    };
    let driver = Chromedriver::start(&tools.chromedriver).await;
    let app = start_app().await;
    // Dynamically registered platforms wait for approval (registration.auto_activate off).
    let gate = TestGate::start(|c| {
        loopback_lms(c);
        c.app.launch_url = Some(format!("{app}/launch").parse().unwrap());
    })
    .await;
    let sim = Simulator::start().await.unwrap();
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let registered = gate.client.get(url).send().await.unwrap().text().await;
    assert!(registered.unwrap().contains("pending"));
    let listed = gate.admin_json(Method::GET, "/admin/platforms", None).await;
    let id = listed["platforms"][0]["id"].as_str().unwrap().to_owned();
    let client_id = listed["platforms"][0]["clientId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(platform(&gate, &id).await["status"], "pending");

    let browser = driver.session(&tools.chromium, &[]).await;
    browser.goto(&gate.url("/admin/")).await;
    let key = browser.find("#admin_key").await;
    browser.type_text(&key, ADMIN_KEY).await;
    browser.click(&browser.find("#sign-in").await).await;
    let overview = wait_for_source(&browser, |s| s.contains("id=\"pending\"")).await;
    assert!(
        overview.contains(&format!("data-id=\"{id}\"")),
        "the pending registration is listed:\n{overview}"
    );

    let approve = format!("#pending tr[data-id=\"{id}\"] button.approve");
    browser.click(&browser.find(&approve).await).await;
    let after = wait_for_source(&browser, |s| s.contains("id=\"notice\"")).await;
    assert!(after.contains("The registration is approved"), "{after}");
    let platforms = after
        .split("<section id=\"platforms\">")
        .nth(1)
        .unwrap_or_default();
    assert!(
        platforms.contains(&format!("data-id=\"{id}\"")),
        "{platforms}"
    );
    assert!(
        platforms.contains("<span class=\"status active\">active</span>"),
        "{platforms}"
    );
    assert_eq!(platform(&gate, &id).await["status"], "active");

    browser
        .goto(&sim.launch_page_url(&client_id, MessageType::ResourceLink, Storage::Cookie))
        .await;
    browser.click(&browser.find("#launch").await).await;
    let (frame, reached) = browser
        .wait_for_frame_source("iframe[name=tool_frame]", LIMIT, |s| s.contains(APP_PAGE))
        .await;
    assert!(reached, "the launch did not reach the app:\n{frame}");
    browser.close().await;
}
