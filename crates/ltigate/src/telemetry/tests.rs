use super::*;

#[test]
fn route_families_come_from_templates_and_stay_few() {
    for (route, family_name) in [
        (Some("/lti/login"), "lti"),
        (Some("/lti/launch"), "lti"),
        (Some("/lti/keys"), "lti"),
        (Some("/lti/register"), "registration"),
        (Some("/api/registrations/{id}/complete"), "registration"),
        (Some("/api/idtoken"), "api"),
        (Some("/api/lineitems/{*id}"), "api"),
        (Some("/admin/platforms/{id}"), "admin"),
        (Some("/admin"), "admin"),
        (Some("/healthz"), "ops"),
        (Some("/metrics"), "ops"),
        (Some("/administrator"), "other"),
        (None, "unmatched"),
    ] {
        assert_eq!(family(route), family_name, "{route:?}");
    }
}

#[test]
fn only_login_and_launch_have_outcomes() {
    assert_eq!(Step::of("/lti/login"), Some(Step::Login));
    assert_eq!(Step::of("/lti/launch"), Some(Step::Launch));
    assert_eq!(Step::of("/lti/keys"), None);
    assert_eq!(Step::of("/api/idtoken"), None);
}

#[test]
fn failures_fall_into_a_few_classes() {
    assert_eq!(failure_class(&FetchError::Timeout), "timeout");
    assert_eq!(
        failure_class(&FetchError::Transport("reset".into())),
        "transport"
    );
    assert_eq!(failure_class(&FetchError::TooLarge(10)), "bad_answer");
    assert_eq!(
        failure_class(&FetchError::PrivateAddress {
            host: "lms.test".into(),
            ip: std::net::IpAddr::from([10, 0, 0, 1]),
        }),
        "refused"
    );
}

#[test]
fn service_calls_are_told_apart_by_scope() {
    assert_eq!(
        OutboundKind::of_service(&[
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
        ]),
        OutboundKind::Nrps
    );
    assert_eq!(
        OutboundKind::of_service(&["https://purl.imsglobal.org/spec/lti-ags/scope/score"]),
        OutboundKind::Ags
    );
}
