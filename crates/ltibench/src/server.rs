//! The server under test: `ltigate serve` as a child process, and what `/proc` says about it.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Admin API key given to the child (only this process and the child know it).
pub const ADMIN_KEY: &str = "ltibench-admin-key";
/// App API key given to the child.
pub const API_KEY: &str = "ltibench-api-key";

/// A running `ltigate serve`; killed and reaped on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub base_url: String,
    log: PathBuf,
    pub db: PathBuf,
}

impl Server {
    /// Starts `ltigate serve` number `node` on a free loopback port with `database_url`, or
    /// a SQLite database in `dir`, and waits until `/readyz` answers.
    pub async fn start(
        binary: &Path,
        dir: &Path,
        node: usize,
        database_url: Option<&str>,
        app_launch_url: &str,
    ) -> Result<Self, String> {
        let port = free_port()?;
        let db = dir.join("bench.db");
        let database_url = database_url
            .map(str::to_owned)
            .unwrap_or_else(|| format!("sqlite://{}", db.display()));
        let log = dir.join(format!("server-{node}.log"));
        let log_file = File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let mut command = Command::new(binary);
        // Inherited LTIGATE_* or RUST_LOG variables would change what is measured.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("LTIGATE_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            // No ltigate.toml from the caller's directory.
            .current_dir(dir)
            .env("LTIGATE_DATABASE_URL", database_url)
            .env("LTIGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env("LTIGATE_ALLOW_INSECURE_HTTP", "true")
            // The simulator's JWKS is on loopback, which outbound fetches refuse by default.
            .env("LTIGATE_REGISTRATION__ALLOW_PRIVATE_NETWORKS", "true")
            .env("LTIGATE_APP__LAUNCH_URL", app_launch_url)
            .env("LTIGATE_ADMIN_KEY", ADMIN_KEY)
            // figment reads `[..]` in an environment value as an array.
            .env("LTIGATE_API_KEYS", format!("[{API_KEY}]"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
            db,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.base_url);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "ltigate exited at start-up ({status}); its log:\n{}",
                    self.log_tail()
                ));
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "ltigate not ready after 30 s; its log:\n{}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Sizes of the database file and of its write-ahead log, bytes.
    pub fn db_bytes(&self) -> (u64, u64) {
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let wal = PathBuf::from(format!("{}-wal", self.db.display()));
        (size(&self.db), size(&wal))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Our own child, by its handle; errors only mean it is already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind a port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local address: {e}"))
}

/// Clock ticks per second for `/proc/*/stat` times (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// CPU time of a process in clock ticks: (utime + stime, stime). `pid` None is this process.
pub fn cpu_ticks(pid: Option<u32>) -> Result<(u64, u64), String> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("read {path}: {e}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: skip past it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("{path}: no command name"))?;
    // After ")": field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("{path}: field {} unreadable", i + 3))
    };
    let (user, system) = (field(11)?, field(12)?);
    Ok((user + system, system))
}

/// Context switches (voluntary and not) of every thread of a process, so far.
pub fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// Busy clock ticks of the whole machine (all CPUs), from the first line of `/proc/stat`.
pub fn machine_busy_ticks() -> Result<u64, String> {
    let stat =
        std::fs::read_to_string("/proc/stat").map_err(|e| format!("read /proc/stat: {e}"))?;
    let line = stat.lines().next().unwrap_or_default();
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
    if values.len() < 8 {
        return Err("/proc/stat: short cpu line".into());
    }
    let total: u64 = values[..8].iter().sum();
    Ok(total - values[3] - values[4])
}

/// Memory of a process, kilobytes: (VmRSS, VmHWM).
pub fn memory_kb(pid: u32) -> Result<(u64, u64), String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("read {path}: {e}"))?;
    let value = |name: &str| -> Result<u64, String> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("{path}: no {name}"))
    };
    Ok((value("VmRSS:")?, value("VmHWM:")?))
}

/// The 1-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
