use serde_json::json;

use super::*;

fn fields(body: serde_json::Value) -> PlatformFields {
    serde_json::from_value(body).unwrap()
}

fn valid() -> serde_json::Value {
    json!({
        "url": "https://canvas.instructure.com",
        "clientId": "10000000000001",
        "name": "Canvas",
        "authenticationEndpoint": "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "accesstokenEndpoint": "https://sso.canvaslms.com/login/oauth2/token",
        "authConfig": {"method": "JWK_SET", "key": "https://sso.canvaslms.com/api/lti/security/jwks"},
    })
}

fn code_of(body: serde_json::Value, allow_http: bool) -> &'static str {
    new_platform(fields(body), allow_http)
        .unwrap_err()
        .code()
        .as_str()
}

#[test]
fn a_complete_platform_is_accepted_and_the_issuer_kept_verbatim() {
    let p = new_platform(fields(valid()), false).unwrap();
    assert_eq!(
        p.issuer.as_str(),
        "https://canvas.instructure.com",
        "no trailing slash added"
    );
    assert_eq!(p.status, PlatformStatus::Active);
    assert!(
        p.allow_new_deployments,
        "no deployment ids: record them at launch"
    );
}

#[test]
fn listed_deployments_turn_off_recording_new_ones_unless_asked() {
    let mut body = valid();
    body["deploymentIds"] = json!(["1"]);
    assert!(
        !new_platform(fields(body.clone()), false)
            .unwrap()
            .allow_new_deployments
    );
    body["allowNewDeployments"] = json!(true);
    assert!(
        new_platform(fields(body), false)
            .unwrap()
            .allow_new_deployments
    );
}

#[test]
fn inactive_when_asked() {
    let mut body = valid();
    body["active"] = json!(false);
    assert_eq!(
        new_platform(fields(body), false).unwrap().status,
        PlatformStatus::Inactive
    );
}

#[test]
fn each_missing_field_is_named() {
    for field in [
        "url",
        "clientId",
        "name",
        "authenticationEndpoint",
        "accesstokenEndpoint",
        "authConfig",
    ] {
        let mut body = valid();
        body[field] = serde_json::Value::Null;
        let err = new_platform(fields(body), false).unwrap_err();
        assert_eq!(err.code(), "MISSING_FIELD");
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn urls_must_parse_and_be_https_unless_allowed() {
    let mut body = valid();
    body["url"] = json!("not a url");
    assert_eq!(code_of(body, false), "INVALID_URL");
    let mut body = valid();
    body["authenticationEndpoint"] = json!("http://lms.test/auth");
    assert_eq!(code_of(body.clone(), false), "INSECURE_URL");
    assert!(new_platform(fields(body), true).is_ok());
    let mut body = valid();
    body["accesstokenEndpoint"] = json!("javascript:alert(1)");
    assert_eq!(code_of(body, true), "INVALID_URL");
}

#[test]
fn auth_config_is_checked_per_method() {
    let mut body = valid();
    body["authConfig"] = json!({"method": "SHARED_SECRET", "key": "x"});
    assert_eq!(code_of(body, false), "INVALID_AUTH_CONFIG");
    let mut body = valid();
    body["authConfig"] = json!({"method": "RSA_KEY", "key": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"});
    assert_eq!(code_of(body, false), "INVALID_AUTH_CONFIG");
    let mut body = valid();
    body["authConfig"] = json!({"method": "JWK_KEY", "key": {"kty": "RSA", "n": "AQAB"}});
    assert_eq!(code_of(body, false), "INVALID_AUTH_CONFIG");
    let mut body = valid();
    body["authConfig"] = json!({"method": "JWK_SET", "key": "http://lms.test/jwks"});
    assert_eq!(code_of(body, false), "INSECURE_URL");
}

#[test]
fn a_jwk_object_key_is_accepted() {
    lti::install_crypto_provider();
    let mut body = valid();
    body["authConfig"] = json!({"method": "JWK_KEY", "key": {
        "kty": "RSA", "e": "AQAB", "kid": "k1",
        "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"
    }});
    let p = new_platform(fields(body), false).unwrap();
    assert_eq!(p.key.method(), "JWK_KEY");
}

#[test]
fn identifiers_are_bounded() {
    let mut body = valid();
    body["clientId"] = json!("   ");
    assert_eq!(code_of(body, false), "INVALID_FIELD");
    let mut body = valid();
    body["deploymentIds"] = json!(["ok", "x".repeat(300)]);
    assert_eq!(code_of(body, false), "INVALID_FIELD");
}

#[test]
fn partial_update_validates_only_present_fields() {
    let update = partial_update(fields(json!({"name": "New", "active": false})), false).unwrap();
    assert_eq!(update.name.as_deref(), Some("New"));
    assert_eq!(update.status, Some(PlatformStatus::Inactive));
    assert!(update.issuer.is_none() && update.deployment_ids.is_none());
    let err = partial_update(fields(json!({"url": "http://x.test"})), false).unwrap_err();
    assert_eq!(err.code(), "INSECURE_URL");
}

#[test]
fn keys_that_can_never_verify_are_refused_with_the_reason() {
    let cases = [
        (
            "JWK_KEY",
            include_str!("../../tests/fixtures/keys/oct.jwk.json"),
            "key alg is not in the allowlist",
        ),
        (
            "JWK_KEY",
            include_str!("../../tests/fixtures/keys/rsa-1024.jwk.json"),
            "RSA key shorter than 2048 bits",
        ),
        (
            "JWK_KEY",
            include_str!("../../tests/fixtures/keys/ec-p384.jwk.json"),
            "EC key not on the P-256 curve",
        ),
        (
            "RSA_KEY",
            include_str!("../../tests/fixtures/keys/rsa-1024.pem"),
            "RSA key shorter than 2048 bits",
        ),
        (
            "RSA_KEY",
            include_str!("../../tests/fixtures/keys/ec-p384.pem"),
            "not an RSA public key PEM",
        ),
    ];
    for (method, key, reason) in cases {
        let mut body = valid();
        body["authConfig"] = json!({"method": method, "key": key});
        let err = new_platform(fields(body), false).unwrap_err();
        assert_eq!(err.code(), "INVALID_AUTH_CONFIG", "{method} {reason}");
        assert!(err.to_string().contains(reason), "{err}");
        let patch = json!({"authConfig": {"method": method, "key": key}});
        assert_eq!(
            partial_update(fields(patch), false).unwrap_err().code(),
            "INVALID_AUTH_CONFIG"
        );
    }
}
