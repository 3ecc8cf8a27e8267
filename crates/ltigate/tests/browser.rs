//! `ltigate demo` in a real browser: headless Chromium, driven through chromedriver, opens the
//! simulator's course page, clicks "Launch" and waits for the sample app to show the launch
//! inside the LMS frame. Once with the state cookie, once with platform storage. Then LTI
//! Advantage: the roster (NRPS) in the app, a grade (AGS) that reaches the simulator's
//! gradebook, and a deep linking pick that reaches the simulator's course page.
//!
//! Needs Debian's `chromium` and `chromium-driver` (CI installs them). Without them the test
//! is skipped with a line on stderr, or fails when `LTITEST_REQUIRE_BROWSER=1` (as in CI).

#![allow(clippy::unwrap_used)]

#[path = "common/webdriver.rs"]
mod webdriver;

use std::process::Command;
use std::time::{Duration, Instant};

use ltigate::demo::{Demo, DemoOptions};
use ltisim::Storage;

use webdriver::{BrowserTools, Chromedriver, REQUIRE_BROWSER, SKIPPED, Session};

/// How long one launch may take in the browser, from the click to the app's page.
const LAUNCH_LIMIT: Duration = Duration::from_secs(15);
/// The default launch of the simulator's claim template.
const USER_NAME: &str = "Ada Lovelace";
const COURSE_TITLE: &str = "Introduction to Simulated Computing";

/// The browser test, run again below in a child process.
const BROWSER_TEST: &str =
    "the_demo_launches_in_a_real_browser_with_cookie_and_with_platform_storage";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_launches_in_a_real_browser_with_cookie_and_with_platform_storage() {
    let Some(tools) = BrowserTools::find_or_skip() else {
        return;
    };
    let started = Instant::now();
    let driver = Chromedriver::start(&tools.chromedriver).await;
    // ltigate on the LMS's site (127.0.0.1): its Lax state cookie comes back on the form post.
    let same_site = Demo::start(DemoOptions::default()).await.unwrap();
    // ltigate on another site (localhost): the browser keeps its cookie out of the LMS frame.
    let cross_site = Demo::start(DemoOptions {
        cross_site: true,
        ..DemoOptions::default()
    })
    .await
    .unwrap();
    eprintln!("chromedriver and two demos up in {:?}", started.elapsed());

    let step = Instant::now();
    let browser = driver.session(&tools.chromium, &[]).await;
    eprintln!("browser started in {:?}", step.elapsed());
    let page = launch(&browser, &same_site.course_page_url(Storage::Cookie)).await;
    expect_launch(&page, "state cookie");
    eprintln!("launch with the state cookie: {:?}", step.elapsed());

    let step = Instant::now();
    post_a_grade(&browser, &same_site, &page).await;
    eprintln!("roster, grade and gradebook: {:?}", step.elapsed());
    let step = Instant::now();
    pick_deep_linked_content(&browser, &same_site).await;
    browser.close().await;
    eprintln!(
        "deep linking pick placed on the course page: {:?}",
        step.elapsed()
    );

    // Platform storage with no usable cookie: the binding goes through lti.put_data at login
    // and comes back through lti.get_data at launch.
    let step = Instant::now();
    let browser = driver.session(&tools.chromium, &[]).await;
    let page = launch(&browser, &cross_site.course_page_url(Storage::Platform)).await;
    expect_launch(&page, "platform storage (cross-site)");
    eprintln!("launch with platform storage: {:?}", step.elapsed());

    // The control: the same cross-site set-up without platform storage is refused, so the
    // launch above really did without the cookie.
    let step = Instant::now();
    let page = launch_until(
        &browser,
        &cross_site.course_page_url(Storage::Cookie),
        |source| source.contains("could not be opened"),
    )
    .await;
    assert!(
        page.contains("STATE_NOT_BOUND"),
        "cross-site launch without platform storage should be refused for the missing \
         cookie:\n{page}"
    );
    browser.close().await;
    eprintln!(
        "cross-site launch without storage refused: {:?}",
        step.elapsed()
    );

    same_site.stop().await;
    cross_site.stop().await;
    drop(driver);
    eprintln!("browser test done in {:?}", started.elapsed());
}

/// Opens a course page, clicks "Launch" and returns the tool frame's page once it shows a
/// launch (or an error page).
async fn launch(browser: &Session, course_page: &str) -> String {
    launch_until(browser, course_page, |source| {
        source.contains(USER_NAME)
            || source.contains("could not be opened")
            // The platform storage page's own message when storage failed (its script holds
            // the same words, so match the rendered element).
            || source.contains("id=\"msg\">Your browser blocked")
    })
    .await
}

async fn launch_until(browser: &Session, course_page: &str, done: impl Fn(&str) -> bool) -> String {
    browser.goto(course_page).await;
    let button = browser.find("#launch").await;
    browser.click(&button).await;
    let (source, finished) = browser
        .wait_for_frame_source("iframe[name=tool_frame]", LAUNCH_LIMIT, done)
        .await;
    assert!(
        finished,
        "the tool frame did not finish within {LAUNCH_LIMIT:?}; it shows:\n{source}"
    );
    source
}

/// In the launched app: the roster (NRPS) lists the course's members; "Post grade" for the
/// first student sends 85 / 100 through ltigate (AGS), and the simulator's gradebook shows it.
async fn post_a_grade(browser: &Session, demo: &Demo, page: &str) {
    assert!(
        page.contains("id=\"roster\""),
        "no roster in the app:\n{page}"
    );
    let members = page.matches("class=\"member\"").count();
    assert!(members >= 2, "roster lists {members} members:\n{page}");
    // The second row: the first is the instructor who launched.
    let button = "#roster tr.member:nth-of-type(3) button";
    click_in_tool_frame(browser, button, "id=\"grade-sent\"").await;
    browser.goto(&demo.simulator().gradebook_url()).await;
    let gradebook = browser.source().await;
    assert!(
        gradebook.contains("class=\"points\">85"),
        "the gradebook lacks the grade:\n{gradebook}"
    );
}

/// A deep linking launch: the app's picker, "Add to the course" on the first item, the
/// simulator accepts the signed response and its course page lists the item.
async fn pick_deep_linked_content(browser: &Session, demo: &Demo) {
    let course_page = demo.deep_linking_page_url();
    let picker = launch_until(browser, &course_page, |source| {
        source.contains("id=\"picker\"") || source.contains("could not be opened")
    })
    .await;
    assert!(picker.contains("LtiDeepLinkingRequest"), "{picker}");
    click_in_tool_frame(browser, "#picker li:first-child button", "Content added").await;
    browser.goto(&course_page).await;
    let course = browser.source().await;
    assert!(
        course.contains("Quiz: Analytical Engines"),
        "the course page lacks the picked item:\n{course}"
    );
}

/// Clicks `button_css` in the tool frame and waits until the frame shows `expected`; leaves
/// the session at the top-level document.
async fn click_in_tool_frame(browser: &Session, button_css: &str, expected: &str) {
    // Waiting for the page left the session inside the frame; enter it afresh.
    browser.leave_frames().await;
    let frame = browser.find("iframe[name=tool_frame]").await;
    browser.enter_frame(&frame).await;
    let button = browser.find(button_css).await;
    browser.click(&button).await;
    let (source, finished) = browser
        .wait_for_frame_source("iframe[name=tool_frame]", LAUNCH_LIMIT, |source| {
            source.contains(expected) || source.contains("refused")
        })
        .await;
    assert!(
        finished && source.contains(expected),
        "after clicking {button_css}, the tool frame does not show {expected:?}:\n{source}"
    );
    browser.leave_frames().await;
}

/// The sample app's page for the simulator's default resource link launch.
fn expect_launch(page: &str, how: &str) {
    for expected in [
        USER_NAME,
        "LtiResourceLinkRequest",
        COURSE_TITLE,
        "Instructor",
        "GET /api/idtoken",
    ] {
        assert!(
            page.contains(expected),
            "launch with {how}: the app page lacks {expected:?}:\n{page}"
        );
    }
}

/// `cargo test --workspace` on a machine without Chromium: the browser test passes with a
/// visible "skipped" line, unless the suite is told the browser must be there. Runs the test
/// above in a child process of this test binary, pointed at a browser that does not exist.
#[test]
fn a_missing_browser_skips_the_test_visibly_unless_required() {
    let run = |require: bool| {
        let mut child = Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", BROWSER_TEST, "--test-threads=1"])
            .env("LTITEST_CHROMIUM", "/nonexistent/chromium")
            .env_remove(REQUIRE_BROWSER);
        if require {
            child.env(REQUIRE_BROWSER, "1");
        }
        let out = child.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stderr)
    };

    let (passed, stderr) = run(false);
    assert!(passed, "a missing browser is a skip:\n{stderr}");
    let line = stderr.lines().find(|l| l.starts_with(SKIPPED));
    let line = line.unwrap_or_else(|| panic!("no skip line on stderr:\n{stderr}"));
    assert!(
        line.contains("chromium not found at /nonexistent/chromium"),
        "{line}"
    );

    let (passed, stderr) = run(true);
    assert!(!passed, "{REQUIRE_BROWSER}=1 makes it a failure:\n{stderr}");
    assert!(!stderr.contains(SKIPPED), "{stderr}");
}
