//! The admin web page over real HTTP on loopback: sign-in, the session cookie and its CSRF
//! token, each action changing the store (read back through the admin API), refusals of
//! forged, expired and cross-site requests, and escaping.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::lms::{Lms, loopback_lms};
use common::{ADMIN_KEY, TestGate, manual_clock_at_now};
use ltigate::clock::Clock;
use ltisim::{MessageType, Profile, Simulator};
use reqwest::Method;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

const SESSION_COOKIE: &str = "ltigate_admin";

/// A browser on the admin page: the session cookie it holds.
struct Browser<'a> {
    gate: &'a TestGate,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(gate: &'a TestGate) -> Self {
        Self { gate, cookie: None }
    }

    /// Posts the sign-in form with `key`; keeps the cookie it sets.
    async fn sign_in_with(&mut self, key: &str) -> reqwest::Response {
        let response = self
            .gate
            .client
            .post(self.gate.url("/admin/"))
            .form(&[("admin_key", key)])
            .send()
            .await
            .unwrap();
        if let Some(set) = session_set_cookie(&response) {
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        response
    }

    async fn signed_in(gate: &'a TestGate) -> Self {
        let mut browser = Self::new(gate);
        let response = browser.sign_in_with(ADMIN_KEY).await;
        assert_eq!(response.status(), 303);
        browser
    }

    /// Another browser (or node) holding the same cookie.
    fn with_cookie(gate: &'a TestGate, cookie: &Option<String>) -> Self {
        Self {
            gate,
            cookie: cookie.clone(),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.gate.client.request(method, self.gate.url(path));
        match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    /// The overview's HTML (200 expected).
    async fn overview(&self) -> String {
        let response = self.get("/admin/").await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    async fn csrf(&self) -> String {
        let page = self.overview().await;
        between(&page, "name=\"csrf\" value=\"", "\"")
            .unwrap_or_else(|| panic!("no CSRF token on the page: {page}"))
            .to_owned()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.request(Method::POST, path)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Clicks a button: posts with the page's CSRF token, follows the redirect back and
    /// returns the notice shown there.
    async fn click(&self, path: &str) -> String {
        let csrf = self.csrf().await;
        let response = self.post(path, &[("csrf", &csrf)]).await;
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(location.starts_with("/admin/?"), "{location}");
        let page = self.get(&location).await.text().await.unwrap();
        between(&page, "<p id=\"notice\"", "</p>")
            .unwrap_or_else(|| panic!("no notice after {path}: {page}"))
            .to_owned()
    }
}

fn session_set_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(str::to_owned)
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The code of an admin refusal page, after checking its status.
async fn refused(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    let page = response.text().await.unwrap();
    between(&page, "Error code <code>", "</code>")
        .unwrap_or_else(|| panic!("not a refusal page: {page}"))
        .to_owned()
}

fn manual_platform(name: &str, client_id: &str) -> Value {
    json!({
        "url": "https://lms.example.edu",
        "clientId": client_id,
        "name": name,
        "authenticationEndpoint": "https://lms.example.edu/auth",
        "accesstokenEndpoint": "https://lms.example.edu/token",
        "authConfig": {"method": "JWK_SET", "key": "https://lms.example.edu/jwks"},
        "deploymentIds": ["d1"],
    })
}

async fn create(gate: &TestGate, body: &Value) -> String {
    let created = gate
        .admin_json(Method::POST, "/admin/platforms", Some(body))
        .await;
    created["id"].as_str().unwrap().to_owned()
}

async fn platform(gate: &TestGate, id: &str) -> reqwest::Response {
    gate.admin(Method::GET, &format!("/admin/platforms/{id}"))
        .send()
        .await
        .unwrap()
}

async fn status(gate: &TestGate, id: &str) -> String {
    let body: Value = platform(gate, id).await.json().await.unwrap();
    body["status"].as_str().unwrap().to_owned()
}

/// The LMS opens ltigate's registration URL (Dynamic Registration); the page it gets.
async fn open_register(gate: &TestGate, sim: &Simulator) -> String {
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let response = gate.client.get(url).send().await.unwrap();
    response.text().await.unwrap()
}

/// The simulator registers itself; the new platform's id.
async fn register(gate: &TestGate, sim: &Simulator) -> String {
    let before = platform_ids(gate).await;
    let page = open_register(gate, sim).await;
    assert!(page.contains("Registration complete"), "{page}");
    let mut new: Vec<String> = platform_ids(gate)
        .await
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    assert_eq!(new.len(), 1, "one new platform");
    new.remove(0)
}

async fn platform_ids(gate: &TestGate) -> Vec<String> {
    let listed = gate.admin_json(Method::GET, "/admin/platforms", None).await;
    listed["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_wrong_key_gets_the_form_again_and_the_right_one_a_strict_cookie() {
    let gate = TestGate::start(|_| {}).await;
    let mut browser = Browser::new(&gate);

    let bare = browser.get("/admin").await;
    assert_eq!(bare.status(), 303);
    assert_eq!(bare.headers()[LOCATION], "/admin/");
    let first = browser.get("/admin/").await;
    assert_eq!(first.status(), 200);
    let form = first.text().await.unwrap();
    assert!(form.contains("name=\"admin_key\""), "{form}");
    assert!(
        !form.contains("name=\"csrf\""),
        "no overview before sign-in"
    );

    let wrong = browser.sign_in_with("not-the-admin-key").await;
    assert_eq!(wrong.status(), 401);
    assert!(session_set_cookie(&wrong).is_none());
    let page = wrong.text().await.unwrap();
    assert!(page.contains("The admin key is not valid."), "{page}");
    assert!(page.contains("name=\"admin_key\""), "the form again");
    assert!(!page.contains(ADMIN_KEY) && !page.contains("not-the-admin-key"));
    assert!(browser.cookie.is_none());

    let right = browser.sign_in_with(ADMIN_KEY).await;
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()[LOCATION], "/admin/");
    let cookie = session_set_cookie(&right).unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=1800"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let overview = browser.overview().await;
    assert!(overview.contains("name=\"csrf\""), "{overview}");
    assert!(overview.contains(&gate.url("/lti/register")), "the DR URL");
}

#[tokio::test]
async fn the_cookie_is_secure_when_public_url_is_https() {
    let gate = TestGate::start(|c| {
        c.public_url = Some("https://tool.example.edu".parse().unwrap());
    })
    .await;
    let mut browser = Browser::new(&gate);
    let response = browser.sign_in_with(ADMIN_KEY).await;
    let cookie = session_set_cookie(&response).unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // The DR URL is public_url's.
    assert!(
        browser
            .overview()
            .await
            .contains("https://tool.example.edu/lti/register")
    );
}

#[tokio::test]
async fn the_page_is_off_without_an_admin_key() {
    let gate = TestGate::start(|c| c.admin_key = None).await;
    let mut browser = Browser::new(&gate);
    assert_eq!(browser.get("/admin/").await.status(), 404);
    assert_eq!(browser.get("/admin/ui/admin.css").await.status(), 404);
    assert_eq!(browser.sign_in_with(ADMIN_KEY).await.status(), 404);
    let post = browser
        .post("/admin/ui/keys/rotate", &[("csrf", "x")])
        .await;
    assert_eq!(post.status(), 404);
}

#[tokio::test]
async fn every_answer_is_unframeable_uncached_and_under_a_strict_policy() {
    let gate = TestGate::start(|_| {}).await;
    let browser = Browser::signed_in(&gate).await;
    let anonymous = Browser::new(&gate);
    let answers = [
        anonymous.get("/admin/").await,
        browser.get("/admin/").await,
        browser.get("/admin/ui/admin.css").await,
        browser.post("/admin/ui/keys/rotate", &[]).await,
    ];
    for response in answers {
        let headers = response.headers();
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-frame-options"], "DENY");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("script-src"), "no script at all: {csp}");
    }
    let css = browser.get("/admin/ui/admin.css").await;
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn activate_and_deactivate_change_the_store() {
    let gate = TestGate::start(|_| {}).await;
    let id = create(&gate, &manual_platform("Moodle", "c1")).await;
    let browser = Browser::signed_in(&gate).await;
    let page = browser.overview().await;
    assert!(page.contains(&format!("/admin/ui/platforms/{id}/deactivate")));

    let notice = browser
        .click(&format!("/admin/ui/platforms/{id}/deactivate"))
        .await;
    assert!(notice.contains("inactive"), "{notice}");
    assert_eq!(status(&gate, &id).await, "inactive");
    let page = browser.overview().await;
    assert!(page.contains(&format!("/admin/ui/platforms/{id}/activate")));

    browser
        .click(&format!("/admin/ui/platforms/{id}/activate"))
        .await;
    assert_eq!(status(&gate, &id).await, "active");

    // An unknown platform: the service's code, shown on the page.
    let notice = browser.click("/admin/ui/platforms/nope/activate").await;
    assert!(notice.contains("PLATFORM_NOT_FOUND"), "{notice}");
}

#[tokio::test]
async fn pending_registrations_are_approved_or_rejected_and_refusals_are_counted() {
    let sim = Simulator::start_with(Profile::Canvas).await.unwrap();
    let gate = TestGate::start(loopback_lms).await;
    let approved = register(&gate, &sim).await;
    let rejected = register(&gate, &sim).await;
    assert_eq!(status(&gate, &approved).await, "pending");

    // A launch of the pending platform is refused, and counted on this node.
    let listed: Value = platform(&gate, &approved).await.json().await.unwrap();
    let lms = Lms {
        gate,
        sim,
        platform_id: approved.clone(),
        client_id: listed["clientId"].as_str().unwrap().to_owned(),
    };
    assert_eq!(lms.login_refusal().await, "PLATFORM_PENDING");
    assert_eq!(lms.login_refusal().await, "PLATFORM_PENDING");
    let gate = &lms.gate;

    let browser = Browser::signed_in(gate).await;
    let page = browser.overview().await;
    let pending = between(&page, "<section id=\"pending\">", "</section>").unwrap();
    assert!(
        pending.contains(&format!("data-id=\"{approved}\"")),
        "{pending}"
    );
    assert!(
        pending.contains(&format!("data-id=\"{rejected}\"")),
        "{pending}"
    );
    let refusals = between(&page, "<section id=\"refusals\">", "</section>").unwrap();
    assert!(
        refusals.contains("<code>PLATFORM_PENDING</code></td><td class=\"count\">2</td>"),
        "{refusals}"
    );
    assert!(
        refusals.contains("this node"),
        "the tally is said to be per node"
    );

    let notice = browser
        .click(&format!("/admin/ui/platforms/{approved}/approve"))
        .await;
    assert!(notice.contains("approved"), "{notice}");
    assert_eq!(status(gate, &approved).await, "active");
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    // Refusals at the launch step are counted too.
    let forged = gate
        .client
        .post(gate.url("/lti/launch"))
        .form(&[("state", "forged"), ("id_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let page = browser.overview().await;
    let refusals = between(&page, "<section id=\"refusals\">", "</section>").unwrap();
    assert!(
        refusals.contains("<code>STATE_INVALID</code></td><td class=\"count\">1</td>"),
        "{refusals}"
    );

    let notice = browser
        .click(&format!("/admin/ui/platforms/{rejected}/reject"))
        .await;
    assert!(notice.contains("deleted"), "{notice}");
    assert_eq!(platform(gate, &rejected).await.status(), 404);

    // Only a pending registration can be rejected: the live one stays.
    let notice = browser
        .click(&format!("/admin/ui/platforms/{approved}/reject"))
        .await;
    assert!(notice.contains("Only a pending"), "{notice}");
    assert_eq!(status(gate, &approved).await, "active");
}

#[tokio::test]
async fn pending_changes_are_applied_or_dropped() {
    let sim = Simulator::start_with(Profile::Canvas).await.unwrap();
    let gate = TestGate::start(|c| {
        loopback_lms(c);
        c.registration.auto_activate = true;
    })
    .await;
    let id = register(&gate, &sim).await;
    let path = format!("/admin/platforms/{id}");
    let browser = Browser::signed_in(&gate).await;

    for (action, notice_words) in [("reject-change", "dropped"), ("approve-change", "applied")] {
        // Canvas numbers its client ids: make the platform hold the next one, then
        // re-register, which proposes a change to it.
        let current = gate.admin_json(Method::GET, &path, None).await;
        let next = current["clientId"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            + 1;
        gate.admin_json(
            Method::PATCH,
            &path,
            Some(&json!({"clientId": next.to_string(), "accesstokenEndpoint": "https://old.example.edu/token"})),
        )
        .await;
        let page = open_register(&gate, &sim).await;
        assert!(page.contains("already registered"), "{page}");

        let overview = browser.overview().await;
        let changes = between(&overview, "<section id=\"changes\">", "</section>").unwrap();
        assert!(changes.contains(&format!("data-id=\"{id}\"")), "{changes}");
        assert!(changes.contains(&sim.token_endpoint()), "{changes}");

        let notice = browser
            .click(&format!("/admin/ui/platforms/{id}/{action}"))
            .await;
        assert!(notice.contains(notice_words), "{notice}");
        let after = gate.admin_json(Method::GET, &path, None).await;
        assert!(after.get("pendingChange").is_none(), "{after}");
        let token_endpoint = after["accesstokenEndpoint"].as_str().unwrap();
        if action == "approve-change" {
            assert_eq!(token_endpoint, sim.token_endpoint());
        } else {
            assert_eq!(token_endpoint, "https://old.example.edu/token");
        }
    }
    let notice = browser
        .click(&format!("/admin/ui/platforms/{id}/approve-change"))
        .await;
    assert!(notice.contains("NO_PENDING_CHANGE"), "{notice}");
}

#[tokio::test]
async fn rotate_publishes_a_next_key_once() {
    let gate = TestGate::start(|_| {}).await;
    let browser = Browser::signed_in(&gate).await;
    let keys = |page: String| {
        between(&page, "<section id=\"keys\">", "</section>")
            .unwrap()
            .to_owned()
    };
    let before = keys(browser.overview().await);
    assert_eq!(before.matches("class=\"key\"").count(), 1, "{before}");
    assert!(before.contains("<td class=\"state\">current</td>"));

    let notice = browser.click("/admin/ui/keys/rotate").await;
    assert!(notice.contains("new tool key"), "{notice}");
    let after = keys(browser.overview().await);
    assert_eq!(after.matches("class=\"key\"").count(), 2, "{after}");
    assert!(after.contains("<td class=\"state\">next</td>"), "{after}");

    let notice = browser.click("/admin/ui/keys/rotate").await;
    assert!(notice.contains("KEY_ROTATION_IN_PROGRESS"), "{notice}");
    let again = keys(browser.overview().await);
    assert_eq!(again.matches("class=\"key\"").count(), 2);
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_or_from_another_origin_change_nothing() {
    let gate = TestGate::start(|_| {}).await;
    let id = create(&gate, &manual_platform("Moodle", "c1")).await;
    let browser = Browser::signed_in(&gate).await;
    let other = Browser::signed_in(&gate).await;
    let others_token = other.csrf().await;
    let own_token = browser.csrf().await;
    let deactivate = format!("/admin/ui/platforms/{id}/deactivate");

    let missing = browser.post(&deactivate, &[]).await;
    assert_eq!(refused(missing, 403).await, "CSRF_TOKEN_INVALID");
    let wrong = browser.post(&deactivate, &[("csrf", "forged")]).await;
    assert_eq!(refused(wrong, 403).await, "CSRF_TOKEN_INVALID");
    let foreign = browser.post(&deactivate, &[("csrf", &others_token)]).await;
    assert_eq!(refused(foreign, 403).await, "CSRF_TOKEN_INVALID");
    let cross_site = browser
        .request(Method::POST, &deactivate)
        .header(ORIGIN, "https://evil.example")
        .form(&[("csrf", own_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused(cross_site, 403).await, "ORIGIN_NOT_ALLOWED");
    // A sandboxed frame or a no-referrer page elsewhere posts with an opaque origin.
    let opaque = browser
        .request(Method::POST, &deactivate)
        .header(ORIGIN, "null")
        .form(&[("csrf", own_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused(opaque, 403).await, "ORIGIN_NOT_ALLOWED");
    let cross_site_sign_in = gate
        .client
        .post(gate.url("/admin/"))
        .header(ORIGIN, "https://evil.example")
        .form(&[("admin_key", ADMIN_KEY)])
        .send()
        .await
        .unwrap();
    assert!(session_set_cookie(&cross_site_sign_in).is_none());
    assert_eq!(refused(cross_site_sign_in, 403).await, "ORIGIN_NOT_ALLOWED");
    assert_eq!(status(&gate, &id).await, "active", "nothing changed");

    // The browser's own origin is fine.
    let same_site = browser
        .request(Method::POST, &deactivate)
        .header(ORIGIN, format!("http://{}", gate.addr))
        .form(&[("csrf", own_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), 303);
    assert_eq!(status(&gate, &id).await, "inactive");
}

#[tokio::test]
async fn forged_and_expired_sessions_are_refused() {
    let clock = manual_clock_at_now();
    let gate = TestGate::start_at(clock.clone(), |_| {}).await;
    let id = create(&gate, &manual_platform("Moodle", "c1")).await;
    let deactivate = format!("/admin/ui/platforms/{id}/deactivate");
    let mut browser = Browser::signed_in(&gate).await;
    let token = browser.csrf().await;
    let real = browser.cookie.clone().unwrap();

    // Forged: a later expiry, or another MAC.
    let value = real.strip_prefix(&format!("{SESSION_COOKIE}=")).unwrap();
    let parts: Vec<&str> = value.split('.').collect();
    let stretched = format!(
        "{SESSION_COOKIE}={}.{}.{}",
        parts[0],
        parts[1].parse::<i64>().unwrap() + 86_400,
        parts[2]
    );
    let forged_mac = format!(
        "{SESSION_COOKIE}={}.{}.AAAAAAAAAAAAAAAAAAAAAAAA",
        parts[0], parts[1]
    );
    for forged in [stretched, forged_mac, format!("{SESSION_COOKIE}=x")] {
        browser.cookie = Some(forged);
        let post = browser.post(&deactivate, &[("csrf", &token)]).await;
        assert_eq!(refused(post, 401).await, "ADMIN_SIGN_IN_REQUIRED");
        let page = browser.get("/admin/").await.text().await.unwrap();
        assert!(page.contains("name=\"admin_key\""), "the sign-in form");
    }

    // Expired: 30 minutes after sign-in.
    browser.cookie = Some(real);
    assert!(browser.overview().await.contains("name=\"csrf\""));
    clock.advance(30 * 60);
    let post = browser.post(&deactivate, &[("csrf", &token)]).await;
    assert_eq!(refused(post, 401).await, "ADMIN_SIGN_IN_REQUIRED");
    assert!(browser.overview().await.contains("name=\"admin_key\""));
    assert_eq!(status(&gate, &id).await, "active", "nothing changed");
}

#[tokio::test]
async fn a_changed_admin_key_ends_sessions_of_the_old_one() {
    let gate = TestGate::start(|_| {}).await;
    let browser = Browser::signed_in(&gate).await;
    // A second node on the same database, configured with another admin key.
    let other = TestGate::serve(gate.database_url.clone(), Clock::System, |c| {
        c.admin_key = Some(ltigate::secret::KeyHash::of("rotated-admin-key"));
    })
    .await;
    let elsewhere = Browser::with_cookie(&other, &browser.cookie);
    assert!(elsewhere.overview().await.contains("name=\"admin_key\""));
    // A node with the same key accepts it: the session is valid on every node.
    let same = TestGate::serve(gate.database_url.clone(), Clock::System, |_| {}).await;
    let on_same = Browser::with_cookie(&same, &browser.cookie);
    assert!(on_same.overview().await.contains("name=\"csrf\""));
}

#[tokio::test]
async fn sign_out_clears_the_session() {
    let gate = TestGate::start(|_| {}).await;
    let mut browser = Browser::signed_in(&gate).await;
    let token = browser.csrf().await;
    let response = browser.post("/admin/ui/signout", &[("csrf", &token)]).await;
    assert_eq!(response.status(), 303);
    let cleared = session_set_cookie(&response).unwrap();
    assert!(
        cleared.starts_with(&format!("{SESSION_COOKIE}=;")),
        "{cleared}"
    );
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The browser drops the cookie, as told.
    browser.cookie = None;
    let page = browser
        .get(response.headers()[LOCATION].to_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"admin_key\""), "signed out: {page}");
    assert!(page.contains("You are signed out."), "{page}");
    let post = browser
        .post("/admin/ui/keys/rotate", &[("csrf", &token)])
        .await;
    assert_eq!(refused(post, 401).await, "ADMIN_SIGN_IN_REQUIRED");
}

#[tokio::test]
async fn hostile_platform_names_are_escaped() {
    let gate = TestGate::start(|_| {}).await;
    let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
    create(&gate, &manual_platform(hostile, "c1")).await;
    let browser = Browser::signed_in(&gate).await;
    let page = browser.overview().await;
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    // askama escapes with numeric references.
    assert!(
        page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#34;&#62;&#60;img"),
        "{page}"
    );
}

#[tokio::test]
async fn wrong_keys_over_the_limit_get_a_429_page_and_count_with_the_admin_api() {
    let gate = TestGate::start(|c| {
        c.admin_sign_in_limit.per_minute = 1;
        c.admin_sign_in_limit.burst = 3;
    })
    .await;
    let mut browser = Browser::new(&gate);
    assert_eq!(browser.sign_in_with("guess-1").await.status(), 401);
    assert_eq!(browser.sign_in_with("guess-2").await.status(), 401);
    // The third wrong key goes through the admin API: one limit for both doors.
    let api = gate
        .client
        .get(gate.url("/admin/platforms"))
        .bearer_auth("guess-3")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);

    for key in ["guess-4", ADMIN_KEY] {
        let response = browser.sign_in_with(key).await;
        assert!(session_set_cookie(&response).is_none(), "no session");
        let retry_after = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            retry_after
                .parse::<u64>()
                .is_ok_and(|s| (1..=60).contains(&s)),
            "{retry_after}"
        );
        assert_eq!(
            response.headers()["x-frame-options"],
            "DENY",
            "the page's headers"
        );
        assert_eq!(refused(response, 429).await, "ADMIN_SIGN_IN_RATE_LIMITED");
    }
    assert!(browser.cookie.is_none());
    assert_eq!(
        browser.get("/admin/").await.status(),
        200,
        "the form still shows"
    );
}

#[tokio::test]
async fn the_platform_table_shows_first_and_last_launch() {
    let lms = Lms::start_at(manual_clock_at_now(), json!({})).await;
    let browser = Browser::signed_in(&lms.gate).await;
    let row = |page: &str| {
        let start = format!("data-id=\"{}\"", lms.platform_id);
        between(page, &start, "</tr>")
            .unwrap_or_else(|| panic!("no row for the platform: {page}"))
            .to_owned()
    };
    let before = row(&browser.overview().await);
    assert!(
        before.contains("<td class=\"first-launch\">never</td>")
            && before.contains("<td class=\"last-launch\">never</td>"),
        "{before}"
    );
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    let launched: Value = lms.platform().await;
    let at = launched["firstLaunchAt"].as_i64().unwrap();
    let after = row(&browser.overview().await);
    let shown = between(&after, "<td class=\"first-launch\">", "</td>").unwrap();
    assert!(!after.contains(">never<"), "{after}");
    assert!(shown.ends_with(&page_time(at)), "{shown} at {at}");
    let last = between(&after, "<td class=\"last-launch\">", "</td>").unwrap();
    assert_eq!(last, shown);
}

/// The time of day of a Unix time as the page ends it (`... 14:00:00 UTC`).
fn page_time(unix: i64) -> String {
    let day = unix.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} UTC",
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}
