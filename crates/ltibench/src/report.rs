//! Per-phase measurements, accumulated over batches, and the printed table.

use std::collections::BTreeSet;
use std::time::Duration;

use ltisim::TokenRequestRecord;

/// CPU and wall time of one stretch of work, in clock ticks where it is CPU.
#[derive(Debug, Default, Clone, Copy)]
pub struct Usage {
    pub wall: Duration,
    pub server_ticks: u64,
    /// The part of `server_ticks` spent in the kernel.
    pub server_sys_ticks: u64,
    /// Context switches of the server's threads.
    pub server_switches: u64,
    pub driver_ticks: u64,
    /// Every busy tick of the machine, all processes.
    pub machine_ticks: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.wall += other.wall;
        self.server_ticks += other.server_ticks;
        self.server_sys_ticks += other.server_sys_ticks;
        self.server_switches += other.server_switches;
        self.driver_ticks += other.driver_ticks;
        self.machine_ticks += other.machine_ticks;
    }
}

/// One timed phase (healthz, login, launch, idtoken read or score post), over all batches.
#[derive(Debug, Default)]
pub struct Phase {
    pub name: &'static str,
    /// Latency of every successful operation, microseconds.
    pub latencies_us: Vec<u64>,
    pub errors: u64,
    /// The first few errors, to print.
    pub error_samples: Vec<String>,
    pub usage: Usage,
    /// Server VmRSS after the phase in each batch, kB.
    pub rss_after_kb: Vec<u64>,
}

const ERROR_SAMPLES: usize = 5;

impl Phase {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            ..Self::default()
        }
    }

    pub fn record_error(&mut self, error: String) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(error);
        }
    }

    pub fn ops(&self) -> u64 {
        self.latencies_us.len() as u64 + self.errors
    }

    pub fn ops_per_sec(&self) -> f64 {
        self.ops() as f64 / self.usage.wall.as_secs_f64().max(1e-9)
    }

    /// Server CPU milliseconds per operation.
    pub fn server_cpu_ms_per_op(&self, ticks_per_sec: u64) -> f64 {
        ticks_ms(self.usage.server_ticks, ticks_per_sec) / self.ops().max(1) as f64
    }

    fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        // Nearest rank.
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1] as f64 / 1000.0
    }
}

fn ticks_ms(ticks: u64, ticks_per_sec: u64) -> f64 {
    ticks as f64 * 1000.0 / ticks_per_sec as f64
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Prints the per-phase table.
pub fn print_table(phases: &mut [Phase], ticks_per_sec: u64) {
    println!();
    println!(
        "{:<8} {:>7} {:>6} {:>7} {:>8} {:>7} {:>7} {:>7} {:>10} {:>7} {:>7} {:>10} {:>9} {:>9}",
        "phase",
        "ops",
        "errors",
        "wall s",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "srv CPU ms",
        "srv sys",
        "srv cs",
        "drv CPU ms",
        "other CPU",
        "RSS MB"
    );
    println!(
        "{:<8} {:>7} {:>6} {:>7} {:>8} {:>7} {:>7} {:>7} {:>10} {:>7} {:>7} {:>10} {:>9} {:>9}",
        "", "", "", "", "", "", "", "", "per op", "share", "per op", "per op", "cores", "after"
    );
    for phase in phases.iter_mut() {
        phase.latencies_us.sort_unstable();
        let u = phase.usage;
        let ops = phase.ops().max(1) as f64;
        let wall = u.wall.as_secs_f64().max(1e-9);
        // Busy ticks of processes other than the two measured, as average cores in use.
        let other_ticks = u
            .machine_ticks
            .saturating_sub(u.server_ticks + u.driver_ticks);
        let other_cores = other_ticks as f64 / ticks_per_sec as f64 / wall;
        println!(
            "{:<8} {:>7} {:>6} {:>7.2} {:>8.0} {:>7.2} {:>7.2} {:>7.2} {:>10.3} {:>6.0}% {:>7.1} {:>10.3} {:>9.2} {:>9.1}",
            phase.name,
            phase.ops(),
            phase.errors,
            wall,
            phase.ops_per_sec(),
            Phase::percentile_ms(&phase.latencies_us, 0.50),
            Phase::percentile_ms(&phase.latencies_us, 0.99),
            phase
                .latencies_us
                .last()
                .map_or(f64::NAN, |&m| m as f64 / 1000.0),
            ticks_ms(u.server_ticks, ticks_per_sec) / ops,
            100.0 * u.server_sys_ticks as f64 / u.server_ticks.max(1) as f64,
            u.server_switches as f64 / ops,
            ticks_ms(u.driver_ticks, ticks_per_sec) / ops,
            other_cores,
            phase.rss_after_kb.last().copied().map_or(f64::NAN, mb),
        );
    }
    println!(
        "srv = ltigate, drv = this driver; sys share = kernel part of the server's CPU; cs = the \
         server's context switches; other CPU = cores other processes used meanwhile"
    );
    for phase in phases.iter() {
        for sample in &phase.error_samples {
            println!("  {} error: {sample}", phase.name);
        }
    }
}

/// Prints server VmRSS after each phase of each batch, to show whether memory stays flat.
pub fn print_rss(phases: &[Phase], batch_sizes: &[usize]) {
    println!();
    println!("server VmRSS (MB) after each phase, per batch:");
    print!("{:>6} {:>9}", "batch", "launches");
    for phase in phases {
        print!(" {:>9}", phase.name);
    }
    println!();
    let mut done = 0;
    for (i, size) in batch_sizes.iter().enumerate() {
        done += size;
        print!("{:>6} {:>9}", i + 1, done);
        for phase in phases {
            match phase.rss_after_kb.get(i) {
                Some(&kb) => print!(" {:>9.1}", mb(kb)),
                None => print!(" {:>9}", "-"),
            }
        }
        println!();
    }
}

/// The services phase against issue 9 item 9, and the token requests of the whole run. Each
/// of `nodes` may fetch a token once: the single flight is per node, the cache shared.
pub fn print_service_targets(
    services: &Phase,
    ticks_per_sec: u64,
    token_requests: &[TokenRequestRecord],
    nodes: usize,
    posted: usize,
    stored: usize,
) {
    let cpu = services.server_cpu_ms_per_op(ticks_per_sec);
    let scope_sets: BTreeSet<Vec<&String>> = token_requests
        .iter()
        .map(|r| {
            let mut scopes: Vec<&String> = r.requested_scopes.iter().collect();
            scopes.sort_unstable();
            scopes
        })
        .collect();
    let requests = token_requests.len();
    println!();
    println!("targets (issue 9 item 9):");
    println!(
        "  server CPU per score   {cpu:.3} ms  (target <= 0.100)  {}",
        verdict(cpu <= 0.1)
    );
    println!(
        "  token requests         {requests} for {} scope set(s) over the whole run, warm-up included  (target at most one per set and node)  {}",
        scope_sets.len(),
        verdict(requests <= scope_sets.len() * nodes)
    );
    println!(
        "  scores the simulator stored: {stored} of {posted} answered 204  {}",
        verdict(stored == posted)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

pub fn print_targets(
    floor: &Phase,
    login: &Phase,
    launch: &Phase,
    ticks_per_sec: u64,
    peak_rss_kb: u64,
    rss_end_of_batches_kb: &[u64],
    launches: usize,
) {
    let login_cpu = login.server_cpu_ms_per_op(ticks_per_sec);
    let launch_cpu = launch.server_cpu_ms_per_op(ticks_per_sec);
    let rate = launch.ops_per_sec();
    println!();
    println!("targets (issue 3 item 8):");
    println!(
        "  server CPU per login   {login_cpu:.3} ms  (target <= 0.100)  {}",
        verdict(login_cpu <= 0.1)
    );
    println!(
        "  server CPU per launch  {launch_cpu:.3} ms  (target <= 0.150)  {}",
        verdict(launch_cpu <= 0.15)
    );
    let floor_cpu = floor.server_cpu_ms_per_op(ticks_per_sec);
    println!(
        "  the same against issue 10's target: {launch_cpu:.3} ms (target <= 0.120)  {}",
        verdict(launch_cpu <= 0.12)
    );
    println!(
        "  beyond a bare request  {:.3} ms  (launch {launch_cpu:.3} - healthz {floor_cpu:.3})",
        launch_cpu - floor_cpu
    );
    println!(
        "  launches/s end to end  {rate:.0}  (target >= 4000)  {}",
        verdict(rate >= 4000.0)
    );
    println!(
        "  server peak RSS        {:.1} MB  (target < 40)  {}",
        mb(peak_rss_kb),
        verdict(peak_rss_kb < 40 * 1024)
    );
    if let (Some(&first), Some(&last)) =
        (rss_end_of_batches_kb.first(), rss_end_of_batches_kb.last())
    {
        let max = rss_end_of_batches_kb.iter().copied().max().unwrap_or(last);
        println!(
            "  RSS at end of batch 1 {:.1} MB, of the last batch {:.1} MB (max {:.1} MB) over {launches} launches",
            mb(first),
            mb(last),
            mb(max)
        );
    }
}
