//! A fresh database per test: a SQLite file by default, or a new PostgreSQL database when
//! `LTITEST_DATABASE_URL` names a PostgreSQL server. One test matrix: the same tests run on
//! both backends by setting one variable.
//!
//! Shared by the integration tests (`tests/common`) and the crate's unit tests (included
//! by path from `src/store`), so both halves pick their database the same way.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

/// `postgres://user:password@127.0.0.1/db`: a role allowed to create databases. Each test
/// creates its own database through it and drops it when done.
pub const DATABASE_URL: &str = "LTITEST_DATABASE_URL";
/// `1`: a test that needs PostgreSQL fails instead of skipping when `DATABASE_URL` is unset.
pub const REQUIRE_POSTGRES: &str = "LTITEST_REQUIRE_POSTGRES";
/// The first words of the line a skipped PostgreSQL test prints.
pub const SKIPPED: &str = "postgres tests skipped:";

/// A database that exists for one test; a PostgreSQL one is dropped with it.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Sqlite(tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl TestDatabase {
    /// A fresh database on the backend the environment selects (SQLite by default).
    pub async fn fresh() -> Self {
        match server_url() {
            Some(server_url) => Self::create_postgres(server_url).await,
            None => Self::sqlite(),
        }
    }

    /// A fresh SQLite file, whatever the environment says: for tests about the file itself.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self {
            url,
            kind: Kind::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` after printing why the test is skipped.
    /// Panics instead when [`REQUIRE_POSTGRES`] is `1`.
    pub async fn postgres_or_skip(test: &str) -> Option<Self> {
        if let Some(server_url) = server_url() {
            return Some(Self::create_postgres(server_url).await);
        }
        if std::env::var(REQUIRE_POSTGRES).as_deref() == Ok("1") {
            panic!(
                "{test} needs PostgreSQL because {REQUIRE_POSTGRES}=1: set {DATABASE_URL} to \
                 postgres://user:password@127.0.0.1/db (.ci/postgres starts one)"
            );
        }
        // Straight to stderr: the harness captures eprintln! of passing tests, and a skip
        // that nobody sees looks like a pass.
        let _ = writeln!(
            std::io::stderr(),
            "{SKIPPED} {test}: {DATABASE_URL} is not set (.ci/postgres starts a server; \
             {REQUIRE_POSTGRES}=1 makes this a failure)"
        );
        None
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres { .. })
    }

    /// The SQLite file; `None` on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        match &self.kind {
            Kind::Sqlite(dir) => Some(dir.path().join("test.db")),
            Kind::Postgres { .. } => None,
        }
    }

    /// The directory of the SQLite file, for files a test keeps beside it.
    pub fn dir(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite(dir) => Some(dir.path()),
            Kind::Postgres { .. } => None,
        }
    }

    async fn create_postgres(server_url: String) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .subsec_nanos();
        // Unique across the test binaries running now (pid) and within one (counter).
        let name = format!(
            "ltitest_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|e| panic!("{DATABASE_URL} must name a reachable PostgreSQL: {e}"));
        drop_leftovers(&mut admin).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("the {DATABASE_URL} role must be allowed CREATEDB: {e}"));
        let _ = admin.close().await;
        let mut url = url::Url::parse(&server_url).expect("database URL");
        url.set_path(&name);
        Self {
            url: url.into(),
            kind: Kind::Postgres { server_url, name },
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Kind::Postgres { server_url, name } = &self.kind else {
            return;
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop may run inside the test's runtime, which cannot block on itself: a thread with
        // its own runtime does it, detached. Joining it stalled the DROP for a minute when the
        // blocked runtime held a connection halfway through its handshake (PostgreSQL waits
        // for every session before dropping). A drop cut short by the end of the test binary
        // leaves a database that the next run removes (see `drop_leftovers`).
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&server_url).await.ok()?;
                drop_database(&mut admin, &name).await.ok()?;
                admin.close().await.ok()
            })
        });
    }
}

/// FORCE ends the connections a stopping server still holds.
async fn drop_database(admin: &mut sqlx::PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(admin)
    .await
    .map(drop)
}

/// Drops the test databases of test binaries that are no longer running (their names carry
/// the process id), once per process. The server is on this machine (loopback), so `/proc`
/// tells which processes live.
async fn drop_leftovers(admin: &mut sqlx::PgConnection) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, Ordering::Relaxed) || !Path::new("/proc/self").exists() {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'ltitest\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(1).unwrap_or_default();
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            let _ = drop_database(admin, &name).await;
        }
    }
}

/// The PostgreSQL server URL the environment gives, if any.
fn server_url() -> Option<String> {
    std::env::var(DATABASE_URL)
        .ok()
        .filter(|url| !url.trim().is_empty())
}
