//! Two ltigate nodes on one PostgreSQL database, as behind a load balancer: nothing of a
//! launch may depend on which node served which step. The nodes are two `Server`s in this
//! process on separate loopback ports (processes would only add start-up time: the nodes
//! share nothing but the database either way). Both advertise node A's address as their
//! public URL, as nodes behind one balancer advertise its address.
//!
//! PostgreSQL only: each test prints a skip line without `LTITEST_DATABASE_URL`.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::time::{Duration, Instant};

use ltisim::{MessageType, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

use common::lms::{AuthResponse, Lms, Outcome, loopback_lms, outcome};
use common::{TestDatabase, TestGate};
use ltigate::clock::Clock;

/// Node A registered with the simulator, and node B on A's database.
struct Nodes {
    a: Lms,
    b: TestGate,
}

impl Nodes {
    async fn start(test: &str) -> Option<Self> {
        Self::start_with(test, |_| {}).await
    }

    async fn start_with(
        test: &str,
        adjust: impl Fn(&mut ltigate::config::Config) + Clone,
    ) -> Option<Self> {
        let db = TestDatabase::postgres_or_skip(test).await?;
        let sim = Simulator::start().await.expect("simulator starts");
        let adjust_a = adjust.clone();
        let a = TestGate::start_on(db, Clock::System, |c| {
            loopback_lms(c);
            adjust_a(c);
        })
        .await;
        let public = url::Url::parse(&a.url("/")).expect("node A URL");
        let b = TestGate::serve(a.database_url.clone(), Clock::System, |c| {
            loopback_lms(c);
            c.public_url = Some(public);
            adjust(c);
        })
        .await;
        let a = Lms::register(a, sim, json!({})).await;
        Some(Self { a, b })
    }

    /// The platform's form, as the browser would post it, sent to node B instead.
    fn to_b(&self, form: &AuthResponse) -> AuthResponse {
        AuthResponse {
            action: self.b.url("/lti/launch"),
            fields: form.fields.clone(),
        }
    }
}

#[tokio::test]
async fn a_login_on_node_a_launches_on_node_b() {
    let Some(nodes) = Nodes::start("a_login_on_node_a_launches_on_node_b").await else {
        return;
    };
    let login = nodes.a.login(MessageType::ResourceLink).await;
    let form = nodes.a.authorize(&login).await;
    let ltik = nodes
        .a
        .post_launch(&nodes.to_b(&form), login.cookie.as_deref())
        .await
        .ltik()
        .to_owned();
    // The ltik B issued opens the launch on either node.
    for gate in [&nodes.a.gate, &nodes.b] {
        let claims: Value = gate
            .client
            .get(gate.url("/api/idtoken?raw=true"))
            .header(
                "Authorization",
                format!("LTIK-AUTH-V2 {}:{ltik}", common::API_KEY),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"],
            common::lms::DEPLOYMENT_ID,
            "{claims}"
        );
    }
}

#[tokio::test]
async fn fifty_replays_of_one_id_token_across_both_nodes_launch_once() {
    let Some(nodes) =
        Nodes::start("fifty_replays_of_one_id_token_across_both_nodes_launch_once").await
    else {
        return;
    };
    let login = nodes.a.login(MessageType::ResourceLink).await;
    let form = nodes.a.authorize(&login).await;
    let on_b = nodes.to_b(&form);
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..50 {
        let form = if i % 2 == 0 { &form } else { &on_b };
        let mut post = nodes.a.gate.client.post(&form.action).form(&form.fields);
        if let Some(cookie) = &login.cookie {
            post = post.header(reqwest::header::COOKIE, cookie);
        }
        posts.spawn(post.send());
    }
    let mut launched = 0;
    let mut refusals = Vec::new();
    for response in posts.join_all().await {
        match outcome(response.unwrap()).await {
            Outcome::Handoff { .. } => launched += 1,
            Outcome::Refused { code, .. } => refusals.push(code),
        }
    }
    assert_eq!(launched, 1, "refusals: {refusals:?}");
    assert_eq!(refusals.len(), 49);
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&nodes.a.gate.database_url)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM launches")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(rows, 1, "one launch row");
}

#[tokio::test]
async fn a_platform_registered_on_node_a_launches_on_node_b() {
    let Some(nodes) = Nodes::start("a_platform_registered_on_node_a_launches_on_node_b").await
    else {
        return;
    };
    // Login, authorization and launch all on B: B never saw the registration happen.
    let on_b = Lms {
        gate: TestGate::attach(nodes.b.addr, nodes.b.database_url.clone()),
        sim: nodes.a.sim.clone(),
        platform_id: nodes.a.platform_id.clone(),
        client_id: nodes.a.client_id.clone(),
    };
    let login = on_b.login(MessageType::ResourceLink).await;
    let form = on_b.authorize(&login).await;
    let outcome = on_b
        .post_launch(&nodes.to_b(&form), login.cookie.as_deref())
        .await;
    assert!(!outcome.ltik().is_empty());
    let platform = on_b.platform().await;
    assert_eq!(platform["id"], nodes.a.platform_id.as_str());
}

#[tokio::test]
async fn keys_rotated_on_node_a_are_served_by_node_b_within_the_refresh_interval() {
    const REFRESH: Duration = Duration::from_secs(1);
    let Some(nodes) = Nodes::start_with(
        "keys_rotated_on_node_a_are_served_by_node_b_within_the_refresh_interval",
        |c| c.keys.refresh_interval = REFRESH,
    )
    .await
    else {
        return;
    };
    let before = kids(&nodes.b).await;
    assert_eq!(before, kids(&nodes.a.gate).await, "one key set");
    // `ltigate keys rotate`, the operator's command, against the nodes' database.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ltigate"))
        .args(["keys", "rotate", "--delay", "3600"])
        .current_dir(dir.path())
        .env("LTIGATE_DATABASE_URL", &nodes.a.gate.database_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated = Instant::now();
    let printed = String::from_utf8(out.stdout).unwrap();
    let kid = printed
        .strip_prefix("published key ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no kid in {printed}"))
        .to_owned();
    assert!(!before.contains(&kid));
    loop {
        let served = kids(&nodes.b).await;
        if served.contains(&kid) {
            // The old key stays published beside it until it retires.
            assert!(before.iter().all(|k| served.contains(k)), "{served:?}");
            break;
        }
        // One refresh interval, with slack for a loaded machine.
        assert!(
            rotated.elapsed() < REFRESH * 3,
            "node B still serves {served:?} after {:?}",
            rotated.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(kids(&nodes.a.gate).await.contains(&kid));
}

#[tokio::test]
async fn scores_posted_through_both_nodes_share_one_access_token() {
    let Some(nodes) = Nodes::start("scores_posted_through_both_nodes_share_one_access_token").await
    else {
        return;
    };
    let launch = nodes.a.launch_with(None).await;
    for (i, gate) in [&nodes.a.gate, &nodes.b].into_iter().enumerate() {
        let response = gate
            .client
            .request(Method::POST, gate.url("/api/lineitems/default/scores"))
            .header(
                "Authorization",
                format!("LTIK-AUTH-V2 {}:{}", common::API_KEY, launch.ltik),
            )
            .json(
                &json!({"userId": "ltisim-user-2003", "activityProgress": "Completed",
                          "gradingProgress": "FullyGraded", "scoreGiven": 80 + i,
                          "scoreMaximum": 100}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "score through node {i}");
    }
    let received = nodes.a.sim.scores_received(launch.lineitem());
    let given: Vec<_> = received.iter().map(|s| s["scoreGiven"].clone()).collect();
    assert_eq!(given, [json!(80), json!(81)]);
    let tokens = nodes.a.sim.token_requests();
    assert_eq!(tokens.len(), 1, "node B used the token node A fetched");
    let bearers: Vec<_> = nodes
        .a
        .sim
        .service_requests()
        .into_iter()
        .filter_map(|r| r.bearer)
        .collect();
    assert_eq!(bearers.len(), 2);
    assert_eq!(bearers[0], bearers[1]);
}

/// The kids a node's JWKS publishes.
async fn kids(gate: &TestGate) -> Vec<String> {
    let jwks: Value = reqwest::get(gate.url("/lti/keys"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}
