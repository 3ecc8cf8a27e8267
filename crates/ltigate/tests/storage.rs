//! The SQLite file on disk: it holds the tool's private keys, the login-state HMAC key, API key
//! hashes, platforms and launches with their claims, so it is private from its first byte.
//! SQLite only, whatever `LTITEST_DATABASE_URL` says: these tests are about the file.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestDatabase, TestGate};
use ltigate::store::Store;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The database file and the WAL and SHM files SQLite keeps beside it.
fn database_files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| PathBuf::from(format!("{}{suffix}", db.display()));
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

/// Runs the ignored test `name` of this test binary in a child process under umask 022 (the
/// usual default, which makes new files readable by everyone), so the umask of the parallel
/// tests here is left alone.
fn run_under_umask_022(name: &str) {
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .args(["-c", r#"umask 022 && exec "$0" --exact --ignored "$1""#])
        .arg(&exe)
        .arg(name)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name} failed:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "{name} did not run"
    );
}

#[test]
fn a_fresh_server_creates_its_database_wal_and_shm_private_under_umask_022() {
    run_under_umask_022("fresh_server_database_files_are_owner_only");
}

#[tokio::test]
#[ignore = "run under umask 022 by a_fresh_server_creates_its_database_wal_and_shm_private_under_umask_022"]
async fn fresh_server_database_files_are_owner_only() {
    let database = TestDatabase::sqlite();
    let db = database.sqlite_path().unwrap();
    let _gate = TestGate::start_on(database, ltigate::clock::Clock::System, |_| {}).await;
    let control = db.with_file_name("control");
    std::fs::write(&control, "").unwrap();
    assert_eq!(
        mode(&control),
        0o644,
        "the umask lets new files be read by all"
    );
    // The server has written (migrations, keys) and holds its connections open.
    for file in database_files(&db) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn an_existing_database_open_to_others_is_made_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    for file in &database_files(&db)[..2] {
        std::fs::write(file, "").unwrap();
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    assert!(store.ping().await);
    for file in database_files(&db) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}
