use super::*;

fn config(adjust: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config::default();
    adjust(&mut config);
    config
}

fn url(text: &str) -> Option<Url> {
    Some(Url::parse(text).expect("test URL"))
}

#[test]
fn public_url_must_be_https_except_on_loopback() {
    let level = |adjust: fn(&mut Config)| public_url(&config(adjust)).level;
    // Plain http elsewhere fails: a public name, a private address, a name that only looks
    // local.
    for (given, want) in [
        ("https://lti.example.com", Level::Ok),
        ("http://lti.example.com", Level::Fail),
        ("http://10.0.0.5", Level::Fail),
        ("http://localhost.example.com", Level::Fail),
    ] {
        assert_eq!(
            public_url(&config(|c| c.public_url = url(given))).level,
            want,
            "{given}"
        );
    }
    for local in [
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
        "http://localhost:3000",
        "http://lti.localhost",
    ] {
        let finding = public_url(&config(|c| c.public_url = url(local)));
        assert_eq!(finding.level, Level::Warn, "{local}");
        assert!(finding.message.contains("LTIGATE_PUBLIC_URL"), "{finding}");
    }
    // Unset: the fallback http://<listen> is only good when listening on loopback.
    assert_eq!(level(|_| {}), Level::Warn);
    let finding = public_url(&config(|c| {
        c.listen = "0.0.0.0:3000".parse().expect("addr")
    }));
    assert_eq!(finding.level, Level::Fail);
    assert!(finding.message.contains("http://0.0.0.0:3000"), "{finding}");
}

#[test]
fn a_missing_launch_url_fails_and_a_missing_deep_linking_url_warns_only_when_offered() {
    let levels = |c: &Config| app_urls(c).iter().map(|f| f.level).collect::<Vec<_>>();
    assert_eq!(levels(&Config::default()), [Level::Fail, Level::Warn]);
    let set = config(|c| {
        c.app.launch_url = url("https://app.example.com/lti");
        c.app.deep_linking_url = url("https://app.example.com/dl");
    });
    assert_eq!(levels(&set), [Level::Ok, Level::Ok]);
    let no_deep_linking = config(|c| {
        c.app.launch_url = url("http://127.0.0.1:8080/lti");
        c.tool
            .messages
            .retain(|m| m.message_type != "LtiDeepLinkingRequest");
    });
    assert_eq!(levels(&no_deep_linking), [Level::Ok, Level::Ok]);
    // The ltik rides in the app URL's query: plain http to another host is a warning.
    let plain = config(|c| c.app.launch_url = url("http://app.example.com/lti"));
    assert_eq!(app_urls(&plain)[0].level, Level::Warn);
}

#[test]
fn the_admin_api_off_is_a_warning() {
    assert_eq!(admin_key(&Config::default()).level, Level::Warn);
    let on = config(|c| c.admin_key = Some(crate::secret::KeyHash::of("k")));
    assert_eq!(admin_key(&on).level, Level::Ok);
}

#[tokio::test]
async fn a_missing_sqlite_file_is_not_created_and_is_fine_when_its_folder_is_writable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ltigate.db");
    let (finding, store) = database(&format!("sqlite://{}", file.display())).await;
    assert_eq!(finding.level, Level::Ok, "{finding}");
    assert!(finding.message.contains("does not exist yet"), "{finding}");
    assert!(store.is_none());
    assert!(!file.exists(), "check must not create the database");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert!(left.is_empty(), "the write probe is removed: {left:?}");

    let gone = dir.path().join("no-such-folder/ltigate.db");
    let (finding, _) = database(&format!("sqlite://{}", gone.display())).await;
    assert_eq!(finding.level, Level::Fail, "{finding}");
    assert!(finding.message.contains("does not exist"), "{finding}");

    for memory in ["sqlite::memory:", "sqlite://ltigate.db?mode=memory"] {
        let (finding, _) = database(memory).await;
        assert_eq!(finding.level, Level::Warn, "{memory}: {finding}");
        assert!(finding.message.contains("in memory"), "{finding}");
    }
}

#[test]
fn the_report_fails_only_on_a_failure() {
    let mut report = Report {
        findings: vec![
            Finding::new(Level::Ok, "a", "fine"),
            Finding::new(Level::Warn, "b", "hmm"),
        ],
    };
    assert!(!report.failed());
    assert_eq!(report.summary(), "0 failures, 1 warning");
    report
        .findings
        .push(Finding::new(Level::Fail, "c", "broken"));
    assert!(report.failed());
    let text = report.to_string();
    assert!(text.contains("FAIL c: broken"), "{text}");
    assert!(text.contains("warn b: hmm"), "{text}");
    assert!(text.ends_with("1 failure, 1 warning"), "{text}");
}
