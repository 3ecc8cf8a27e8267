//! What the `ltigate` package carries into a build: the server library without its default
//! features must not depend on the LMS simulator (which forges platform tokens) or tempfile.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::collections::BTreeSet;
use std::process::Command;

/// The package names in ltigate's normal (non-dev) dependency tree, ltigate included.
fn normal_dependencies(features: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--prefix",
            "none",
            "-e",
            "normal",
            "-p",
            "ltigate",
        ])
        .args(features)
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_server_library_without_default_features_carries_no_simulator() {
    let server = normal_dependencies(&["--no-default-features"]);
    assert!(server.contains("lti"), "{server:?}");
    for absent in ["ltisim", "tempfile"] {
        assert!(!server.contains(absent), "{absent} in {server:?}");
    }
    // The default build keeps `ltigate demo`.
    let with_demo = normal_dependencies(&[]);
    assert!(with_demo.contains("ltisim"), "{with_demo:?}");
}

/// The example systemd unit (`packaging/ltigate.service`) runs a command line this binary
/// accepts, with the hardening the README promises.
#[test]
fn the_example_systemd_unit_runs_a_real_command_and_is_hardened() {
    let unit = include_str!("../../../packaging/ltigate.service");
    let value = |key: &str| {
        let prefix = format!("{key}=");
        unit.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{key} in the unit"))
    };
    for (key, want) in [
        ("User", "ltigate"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0077"),
    ] {
        assert_eq!(value(key), want, "{key}");
    }
    // The only writable path is the database folder, which systemd creates for the user.
    let state = value("WorkingDirectory");
    assert_eq!(value("ReadWritePaths"), state);
    assert_eq!(format!("/var/lib/{}", value("StateDirectory")), state);
    assert!(value("EnvironmentFile").starts_with("-/etc/ltigate/"));

    let exec = value("ExecStart");
    let mut args = exec.split_whitespace();
    assert_eq!(args.next(), Some("/usr/local/bin/ltigate"));
    // `--help` after the unit's arguments: they parse, and nothing is read or started.
    let out = Command::new(env!("CARGO_BIN_EXE_ltigate"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(help.contains("Run the HTTP service"), "{help}");
}
