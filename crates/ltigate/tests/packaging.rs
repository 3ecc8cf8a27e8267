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
