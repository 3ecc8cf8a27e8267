//! Crash safety: the `ltigate` binary is SIGKILLed during a burst of concurrent launches from
//! the LMS simulator, then restarted on the same SQLite file. The database must pass
//! `PRAGMA integrity_check`, and every launch that was acknowledged (a 302 carrying an ltik
//! reached the browser before the kill) must still read through `GET /api/idtoken`.
//! Loopback only; bounded in launches and time. SQLite only, whatever `LTITEST_DATABASE_URL`
//! says: the WAL file and its integrity are the subject.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::lms::{APP_DEEP_LINKING_URL, APP_LAUNCH_URL, Lms, Outcome};
use common::{ADMIN_KEY, API_KEY, TestGate};
use ltisim::{MessageType, Simulator};
use serde_json::json;
use sqlx::Connection as _;

const BIN: &str = env!("CARGO_BIN_EXE_ltigate");
const WORKERS: usize = 8;
const MAX_LAUNCHES: usize = 300;
const BURST_LIMIT: Duration = Duration::from_secs(20);
/// Acknowledged launches before the kill: enough that the burst is well under way.
const ACKS_BEFORE_KILL: usize = 64;

/// `ltigate serve` as a child process of this test; killed and reaped on drop.
struct GateProcess {
    child: Child,
    log: PathBuf,
}

impl GateProcess {
    /// Starts the binary on `addr` with the SQLite file `db`, configured as
    /// `common::lms::loopback_lms` configures the in-process gate, and waits for `/readyz`.
    /// `name` names its log file in `dir`.
    async fn start(dir: &Path, name: &str, addr: SocketAddr, db: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let mut command = Command::new(BIN);
        // Only this test's settings: no inherited LTIGATE_* variables.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("LTIGATE_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .current_dir(dir)
            .env("LTIGATE_LISTEN", addr.to_string())
            .env("LTIGATE_DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("LTIGATE_ADMIN_KEY", ADMIN_KEY)
            // figment reads `[..]` in an environment value as an array.
            .env("LTIGATE_API_KEYS", format!("[{API_KEY}]"))
            .env("LTIGATE_ALLOW_INSECURE_HTTP", "true")
            // The simulator's JWKS is on loopback, which outbound fetches refuse by default.
            .env("LTIGATE_REGISTRATION__ALLOW_PRIVATE_NETWORKS", "true")
            .env("LTIGATE_APP__LAUNCH_URL", APP_LAUNCH_URL)
            .env("LTIGATE_APP__DEEP_LINKING_URL", APP_DEEP_LINKING_URL)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let mut gate = Self {
            child: command.spawn().expect("ltigate starts"),
            log,
        };
        gate.wait_ready(addr).await;
        gate
    }

    async fn wait_ready(&mut self, addr: SocketAddr) {
        let url = format!("http://{addr}/readyz");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("ltigate exited at start ({status}):\n{}", self.log_text());
            }
            if let Ok(response) = reqwest::get(&url).await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ltigate not ready within 30 s:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown code runs, nothing is flushed.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL our own child");
        self.child.wait().expect("reap");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for GateProcess {
    fn drop(&mut self) {
        // Our own child, by its handle; an error only means it is already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port free now, so the restarted process can take the same address (the
/// simulator has the tool's login and launch URLs on it).
fn free_loopback_addr() -> SocketAddr {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
}

/// What the burst saw.
#[derive(Default)]
struct Burst {
    /// ltiks of launches that reached the browser as a 302.
    acknowledged: Mutex<Vec<String>>,
    started: AtomicUsize,
    /// Launches cut off by the kill (their helper found no server to answer).
    interrupted: AtomicUsize,
    /// Set just before the SIGKILL: a launch failing after this is the kill's doing.
    killed: AtomicBool,
}

/// One worker: launches one after another until the kill, the launch budget or the time limit.
async fn worker(lms: Arc<Lms>, burst: Arc<Burst>, deadline: Instant) {
    while !burst.killed.load(Ordering::SeqCst)
        && Instant::now() < deadline
        && burst.started.fetch_add(1, Ordering::SeqCst) < MAX_LAUNCHES
    {
        let launching = Arc::clone(&lms);
        // In its own task: the helpers panic when the server is gone, which is expected
        // only after the kill.
        let result =
            tokio::spawn(async move { launching.do_launch(MessageType::ResourceLink).await }).await;
        let killed = burst.killed.load(Ordering::SeqCst);
        match result {
            Ok(Outcome::Handoff { ltik, .. }) => burst.acknowledged.lock().unwrap().push(ltik),
            Ok(Outcome::Refused { code, status }) => {
                panic!("a launch was refused ({status} {code}) during the burst")
            }
            Err(e) if e.is_panic() && killed => {
                burst.interrupted.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("launch task failed: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_launch_burst_loses_no_acknowledged_launch() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gate.db");
    let addr = free_loopback_addr();
    let mut process = GateProcess::start(dir.path(), "first", addr, &db).await;
    let sim = Simulator::start().await.expect("simulator starts");
    let gate = TestGate::attach(addr, format!("sqlite://{}", db.display()));
    let lms = Arc::new(Lms::register(gate, sim, json!({})).await);

    let burst = Arc::new(Burst::default());
    let deadline = Instant::now() + BURST_LIMIT;
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| tokio::spawn(worker(Arc::clone(&lms), Arc::clone(&burst), deadline)))
        .collect();
    while burst.acknowledged.lock().unwrap().len() < ACKS_BEFORE_KILL
        && Instant::now() < deadline
        && !workers.iter().all(|w| w.is_finished())
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    burst.killed.store(true, Ordering::SeqCst);
    let started_at_kill = burst.started.load(Ordering::SeqCst);
    process.kill();
    for w in workers {
        w.await.unwrap();
    }
    let acknowledged = burst.acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= ACKS_BEFORE_KILL,
        "only {} launches acknowledged before the kill:\n{}",
        acknowledged.len(),
        process.log_text()
    );
    assert!(
        started_at_kill < MAX_LAUNCHES,
        "the kill came after the burst had ended"
    );
    eprintln!(
        "{} launches acknowledged, {} cut off by SIGKILL",
        acknowledged.len(),
        burst.interrupted.load(Ordering::SeqCst)
    );

    let _restarted = GateProcess::start(dir.path(), "restarted", addr, &db).await;
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut connection)
        .await
        .unwrap();
    assert_eq!(integrity, ["ok"]);
    connection.close().await.unwrap();

    for ltik in &acknowledged {
        let response = lms.idtoken(ltik, "").await;
        assert_eq!(
            response.status(),
            200,
            "an acknowledged launch no longer reads after the crash"
        );
    }
    // And the restarted gate takes new launches.
    lms.do_launch(MessageType::ResourceLink).await.ltik();
}
