#![allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type

use figment::Jail;

use super::*;

#[test]
fn no_file_and_no_environment_gives_working_defaults() {
    Jail::expect_with(|_jail| {
        let config = Config::load(Path::new("absent.toml"), false).unwrap();
        assert_eq!(config.listen, default_listen());
        assert_eq!(config.database_url, "sqlite://ltigate.db");
        assert_eq!(config.public_url().as_str(), "http://127.0.0.1:3000/");
        assert_eq!(
            config.public_endpoint("/lti/keys"),
            "http://127.0.0.1:3000/lti/keys"
        );
        assert!(config.admin_key.is_none());
        Ok(())
    });
}

#[test]
fn environment_overrides_file_including_nested_keys() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "ltigate.toml",
            r#"
                public_url = "https://tool.example.com/gate/"
                admin_key = "admin-secret"
                [app]
                launch_url = "https://app.example.com/launch"
            "#,
        )?;
        jail.set_env("LTIGATE_APP__LAUNCH_URL", "https://other.example.com/lti");
        jail.set_env("LTIGATE_LISTEN", "0.0.0.0:8080");
        let config = Config::load(Path::new("ltigate.toml"), true).unwrap();
        assert_eq!(
            config.app.launch_url.as_ref().unwrap().as_str(),
            "https://other.example.com/lti"
        );
        assert_eq!(config.listen.port(), 8080);
        assert!(config.admin_key.as_ref().unwrap().matches("admin-secret"));
        assert_eq!(
            config.public_endpoint("/lti/login"),
            "https://tool.example.com/gate/lti/login"
        );
        Ok(())
    });
}

#[test]
fn invalid_values_name_the_field() {
    Jail::expect_with(|jail| {
        jail.set_env("LTIGATE_APP__LAUNCH_URL", "not a url");
        let err = Config::load(Path::new("absent.toml"), false).unwrap_err();
        assert!(err.to_string().contains("app.launch_url"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("LTIGATE_APP__LAUNCH_URL", "ftp://app.example.com/");
        let err = Config::load(Path::new("absent.toml"), false).unwrap_err();
        assert!(err.to_string().contains("app.launch_url"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.create_file("ltigate.toml", "listen = 12")?;
        let err = Config::load(Path::new("ltigate.toml"), true).unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.create_file("ltigate.toml", "api_keys = [\"sha256:12\"]")?;
        let err = Config::load(Path::new("ltigate.toml"), true).unwrap_err();
        assert!(err.to_string().contains("api_keys"), "{err}");
        Ok(())
    });
}

#[test]
fn a_field_with_a_bad_value_in_the_environment_is_an_error_not_ignored() {
    Jail::expect_with(|jail| {
        jail.set_env("LTIGATE_LIMITS__MAX_BODY_BYTES", "lots");
        let ignored = ConfigEnv::read().ignored;
        assert!(
            !ignored.iter().any(|n| n.starts_with("LTIGATE_LIMITS")),
            "{ignored:?}"
        );
        let err = Config::load(Path::new("absent.toml"), false).unwrap_err();
        assert!(err.to_string().contains("limits.max_body_bytes"), "{err}");
        Ok(())
    });
}

#[test]
fn no_warning_without_foreign_variables() {
    let env = ConfigEnv {
        fields: Env::prefixed(ENV_PREFIX),
        ignored: Vec::new(),
    };
    assert!(env.warning().is_none());
}

#[test]
fn unknown_fields_and_missing_required_file_are_refused() {
    Jail::expect_with(|jail| {
        jail.create_file("ltigate.toml", "lisen = \"127.0.0.1:1\"")?;
        let err = Config::load(Path::new("ltigate.toml"), true).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        let err = Config::load(Path::new("nope.toml"), true).unwrap_err();
        assert!(err.to_string().contains("nope.toml"), "{err}");
        Ok(())
    });
}

#[test]
fn server_timeouts_and_connection_cap_have_defaults_and_refuse_zero() {
    Jail::expect_with(|jail| {
        let config = Config::load(Path::new("absent.toml"), false).unwrap();
        assert_eq!(config.timeouts.header_read, Duration::from_secs(10));
        assert_eq!(config.timeouts.keep_alive_idle, Duration::from_secs(60));
        assert_eq!(config.timeouts.request, Duration::from_secs(30));
        assert_eq!(config.limits.max_connections, 10_000);
        jail.create_file(
            "ltigate.toml",
            "[timeouts]\nheader_read = 2\nkeep_alive_idle = 5\nrequest = 7\n\
             [limits]\nmax_connections = 50\n",
        )?;
        let config = Config::load(Path::new("ltigate.toml"), true).unwrap();
        assert_eq!(config.timeouts.header_read, Duration::from_secs(2));
        assert_eq!(config.timeouts.keep_alive_idle, Duration::from_secs(5));
        assert_eq!(config.timeouts.request, Duration::from_secs(7));
        assert_eq!(config.limits.max_connections, 50);
        Ok(())
    });
    for (variable, field) in [
        ("LTIGATE_TIMEOUTS__HEADER_READ", "timeouts.header_read"),
        (
            "LTIGATE_TIMEOUTS__KEEP_ALIVE_IDLE",
            "timeouts.keep_alive_idle",
        ),
        ("LTIGATE_TIMEOUTS__REQUEST", "timeouts.request"),
        ("LTIGATE_LIMITS__MAX_CONNECTIONS", "limits.max_connections"),
    ] {
        Jail::expect_with(|jail| {
            jail.set_env(variable, "0");
            let err = Config::load(Path::new("absent.toml"), false).unwrap_err();
            assert!(err.to_string().contains(field), "{err}");
            Ok(())
        });
    }
}

#[test]
fn registration_abuse_limits_have_defaults_and_read_from_the_file() {
    Jail::expect_with(|jail| {
        let defaults = Config::load(Path::new("absent.toml"), false).unwrap();
        let r = &defaults.registration;
        assert_eq!((r.rate_limit.per_minute, r.rate_limit.burst), (6, 10));
        assert_eq!(r.max_pending, 100);
        assert_eq!(r.pending_platform_ttl, Duration::from_secs(7 * 24 * 3600));
        assert!(r.trusted_proxies.is_empty());
        jail.create_file(
            "ltigate.toml",
            r#"
                [registration]
                max_pending = 5
                pending_platform_ttl = 3600
                trusted_proxies = ["127.0.0.1", "::1"]
                [registration.rate_limit]
                per_minute = 0
            "#,
        )?;
        let config = Config::load(Path::new("ltigate.toml"), true).unwrap();
        let r = &config.registration;
        assert_eq!((r.rate_limit.per_minute, r.rate_limit.burst), (0, 10));
        assert_eq!(r.max_pending, 5);
        assert_eq!(r.pending_platform_ttl, Duration::from_secs(3600));
        assert_eq!(r.trusted_proxies.len(), 2);
        Ok(())
    });
}

/// What Kubernetes injects for a Service named `ltigate`, and a test suite's own switch.
const FOREIGN_ENV: [(&str, &str); 4] = [
    ("LTIGATE_PORT", "tcp://10.0.0.1:80"),
    ("LTIGATE_PORT_80_TCP_ADDR", "10.0.0.1"),
    ("LTIGATE_SERVICE_HOST", "10.0.0.1"),
    ("LTIGATE_SKIP_BROWSER_TESTS", "1"),
];

#[test]
fn environment_variables_that_are_not_fields_are_ignored() {
    Jail::expect_with(|jail| {
        for (name, value) in FOREIGN_ENV {
            jail.set_env(name, value);
        }
        jail.set_env("LTIGATE_CONFIG", "absent.toml");
        let config = Config::load(Path::new("absent.toml"), false).unwrap();
        assert_eq!(config.listen, default_listen());

        // Checked by inclusion: the shell running the tests may hold LTIGATE_* variables too.
        let env = ConfigEnv::read();
        assert!(env.ignored.is_sorted(), "{:?}", env.ignored);
        assert!(
            !env.ignored.iter().any(|n| n == "LTIGATE_CONFIG"),
            "LTIGATE_CONFIG is the file's path, not ignored"
        );
        let warning = env.warning().unwrap();
        for (name, value) in FOREIGN_ENV {
            assert!(warning.contains(name), "{warning}");
            assert!(
                !warning.contains(value),
                "values stay out of logs: {warning}"
            );
        }
        Ok(())
    });
}

#[test]
fn a_valid_environment_field_still_overrides_beside_ignored_variables() {
    Jail::expect_with(|jail| {
        jail.create_file("ltigate.toml", "listen = \"127.0.0.1:4000\"")?;
        for (name, value) in FOREIGN_ENV {
            jail.set_env(name, value);
        }
        jail.set_env("LTIGATE_LISTEN", "127.0.0.1:5000");
        jail.set_env("LTIGATE_APP__LAUNCH_URL", "https://app.example.com/launch");
        let config = Config::load(Path::new("ltigate.toml"), true).unwrap();
        let ignored = ConfigEnv::read().ignored;
        assert!(
            !ignored.iter().any(|n| n.starts_with("LTIGATE_LISTEN")),
            "{ignored:?}"
        );
        assert!(
            !ignored.iter().any(|n| n.starts_with("LTIGATE_APP")),
            "{ignored:?}"
        );
        assert_eq!(config.listen.port(), 5000);
        assert_eq!(
            config.app.launch_url.as_ref().unwrap().as_str(),
            "https://app.example.com/launch"
        );
        Ok(())
    });
}

#[test]
fn unknown_keys_in_the_file_still_fail_while_unknown_variables_are_ignored() {
    Jail::expect_with(|jail| {
        for (name, value) in FOREIGN_ENV {
            jail.set_env(name, value);
        }
        jail.create_file("ltigate.toml", "[app]\nlaunch_ur = \"https://a.example/\"")?;
        let err = Config::load(Path::new("ltigate.toml"), true).unwrap_err();
        assert!(err.to_string().contains("launch_ur"), "{err}");
        Ok(())
    });
}
