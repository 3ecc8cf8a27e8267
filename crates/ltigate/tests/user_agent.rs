//! Every request ltigate sends a platform names ltigate (`User-Agent: ltigate/<version>`):
//! Canvas refuses API calls without a User-Agent. Checked on the simulator's side of the wire.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use common::TestGate;
use common::lms::{Lms, loopback_lms};
use ltisim::{MessageType, Simulator};

const USER_AGENT: &str = concat!("ltigate/", env!("CARGO_PKG_VERSION"));

#[tokio::test]
async fn the_jwks_fetch_of_a_launch_carries_the_user_agent() {
    let lms = Lms::start().await;
    lms.do_launch(MessageType::ResourceLink).await.ltik();
    assert_eq!(
        lms.sim.user_agent_seen(&lms.sim.jwks_uri()).as_deref(),
        Some(USER_AGENT)
    );
    // The browser's own request to the platform is not ltigate's (the test client sends none).
    assert_eq!(
        lms.sim.user_agent_seen(&lms.sim.authorization_endpoint()),
        None
    );
}

#[tokio::test]
async fn dynamic_registration_requests_carry_the_user_agent() {
    let sim = Simulator::start().await.unwrap();
    let gate = TestGate::start(loopback_lms).await;
    let url = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let response = gate.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    for endpoint in [sim.openid_configuration_url(), sim.registration_endpoint()] {
        assert_eq!(
            sim.user_agent_seen(&endpoint).as_deref(),
            Some(USER_AGENT),
            "{endpoint}"
        );
    }
}
