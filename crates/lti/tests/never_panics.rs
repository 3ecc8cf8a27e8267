//! Property tests: hostile input gives a `LaunchError`, never a panic.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lti::claims::LaunchClaims;
use lti::id_token::UnverifiedIdToken;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("1.3.0".into())),
        Just(Value::String("LtiResourceLinkRequest".into())),
        Just(Value::String("LtiDeepLinkingRequest".into())),
        Just(Value::String("https://tool.example.com/x".into())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}|id|deep_link_return_url", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn claim_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "sub",
        "name",
        "email",
        lti::claims::uri::VERSION,
        lti::claims::uri::MESSAGE_TYPE,
        lti::claims::uri::DEPLOYMENT_ID,
        lti::claims::uri::TARGET_LINK_URI,
        lti::claims::uri::RESOURCE_LINK,
        lti::claims::uri::ROLES,
        lti::claims::uri::CONTEXT,
        lti::claims::uri::CUSTOM,
        lti::claims::uri::LAUNCH_PRESENTATION,
        lti::claims::uri::AGS_ENDPOINT,
        lti::claims::uri::NRPS,
        lti::claims::uri::DEEP_LINKING_SETTINGS,
    ])
    .prop_map(str::to_owned)
}

proptest! {
    #[test]
    fn parse_never_panics_on_any_string(token in ".{0,300}") {
        let _ = UnverifiedIdToken::parse(&token);
    }

    #[test]
    fn parse_never_panics_on_jws_shaped_input(
        header in json_value(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        signature in "[A-Za-z0-9_=+/-]{0,40}",
        dots in 0usize..4,
    ) {
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        for _ in 0..dots {
            token.push('.');
            token.push_str(&signature);
        }
        let _ = UnverifiedIdToken::parse(&token);
    }

    #[test]
    fn claims_never_panic_and_text_agrees_with_map(
        claims in prop::collection::btree_map(claim_name(), json_value(), 0..12)
    ) {
        let raw: Map<String, Value> = claims.into_iter().collect();
        let from_map = LaunchClaims::from_raw(&raw);
        // The launch path reads payload text; it must agree with the map reading.
        let from_text = LaunchClaims::from_json(&Value::Object(raw).to_string());
        prop_assert_eq!(from_map, from_text);
    }
}
