//! `ltibench`: load benchmark of ltigate's launch path (issue 3, item 8) and of its proxied
//! grade posts (issue 9, item 9).
//!
//! The driver (this process) runs the LMS simulator in-process and starts `ltigate serve` as a
//! child process on a fresh SQLite database (or `--database-url`), or `--nodes N` of them on one
//! database, as behind a load balancer without sticky sessions: the login of flow `i` goes to
//! node `i mod N`, its launch to the next node, its idtoken read and score post to the one
//! after (so consecutive steps of a flow never meet the same node twice in a row). It registers
//! the simulator through the admin API, then runs the launch flow in batches, each with six
//! phases:
//!
//! 0. timed: N `GET /healthz`, the cheapest request ltigate answers: what the HTTP exchange
//!    alone costs the server on this machine, the floor under every other phase;
//! 1. timed: N logins (`POST /lti/login`), keeping each redirect URL and the cookies set;
//! 2. untimed: the simulator signs one id_token per login, for that login's state and nonce,
//!    in parallel on all cores (RS256 signing is the LMS's cost, not ltigate's);
//! 3. timed: N launches (`POST /lti/launch` with id_token, state and every cookie the login
//!    set), collecting the ltiks;
//! 4. timed: N reads of `GET /api/idtoken`, one per ltik;
//! 5. timed (unless `--no-services`): N score posts (`POST /api/lineitems/default/scores`),
//!    one per ltik, each for a different user (the simulator refuses a score not newer than
//!    the same user's previous one), which ltigate forwards to the simulator's AGS with a
//!    service access token. The simulator runs in this process, so the server's CPU is
//!    ltigate's own cost beyond the platform's.
//!
//! Per phase it reports ops/s, p50/p99/max latency, errors, the server's CPU per operation
//! (utime + stime of the children from `/proc/<pid>/stat`, summed over the nodes, with its
//! kernel share and the context switches of its threads), the driver's own CPU per operation, how many cores other
//! processes used meanwhile (the machine is shared), and the server's VmRSS after each phase of
//! each batch; at the end the server's VmHWM (peak RSS), and the token requests the simulator
//! received over the whole run. Exits non-zero on any error, or when the simulator did not
//! store every score posted.

mod report;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use ltisim::{MessageType, Simulator, Tool};
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use report::{Phase, Usage};
use server::Server;

const CLIENT_ID: &str = "ltibench-client";
const DEPLOYMENT_ID: &str = "ltibench-deployment";
/// Where ltigate hands launches to; nothing listens there, the driver only reads the redirect.
const APP_LAUNCH_URL: &str = "http://127.0.0.1:9/app";
/// The launch's own line item's scores, as an LTIAAS client posts a grade.
const SCORES: &str = "/api/lineitems/default/scores";

/// Load benchmark of ltigate's LTI launch path against the in-process LMS simulator.
#[derive(Debug, Parser)]
#[command(name = "ltibench")]
struct Args {
    /// The ltigate binary to start as the server under test.
    #[arg(long, default_value = "target/release/ltigate")]
    ltigate: PathBuf,
    /// The server's database (e.g. an empty PostgreSQL database); default: a fresh SQLite
    /// file in a temporary folder. The database server's own CPU shows as `other CPU`.
    #[arg(long)]
    database_url: Option<String>,
    /// Number of launches (and of logins and idtoken reads).
    #[arg(long, default_value_t = 5_000)]
    launches: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Launches per batch (login, sign, launch, read); bounds the driver's memory and keeps
    /// every state and id_token well inside their lifetimes.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Complete flows run before measuring (JWKS fetch, connections, caches).
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Skip the services phase (score posts through ltigate to the simulator's AGS).
    #[arg(long)]
    no_services: bool,
    /// Servers on the one database; each flow's login and launch go to different nodes.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ltibench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(errors) => {
            eprintln!("ltibench: {errors} operations failed");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("ltibench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Shared by every request of a run.
#[derive(Debug)]
struct Ctx {
    client: reqwest::Client,
    sim: Simulator,
    /// Base URLs of the nodes.
    gates: Vec<String>,
    ticks_per_sec: u64,
    server_pids: Vec<u32>,
    services: bool,
    /// Numbers the users of score posts, so no two posts of a run are for the same user.
    next_user: AtomicUsize,
}

impl Ctx {
    /// The node that serves step `step` of flow `flow`: consecutive steps change node.
    fn gate(&self, flow: usize, step: usize) -> &str {
        &self.gates[(flow + step) % self.gates.len()]
    }

    /// CPU ticks of every node so far: (user + system, system).
    fn server_ticks(&self) -> Result<(u64, u64), String> {
        self.server_pids
            .iter()
            .try_fold((0, 0), |(all, sys), &pid| {
                let (a, s) = server::cpu_ticks(Some(pid))?;
                Ok((all + a, sys + s))
            })
    }

    fn server_switches(&self) -> u64 {
        self.server_pids
            .iter()
            .map(|&pid| server::context_switches(pid))
            .sum()
    }

    /// VmRSS and VmHWM, kB, summed over the nodes.
    fn server_memory_kb(&self) -> Result<(u64, u64), String> {
        self.server_pids
            .iter()
            .try_fold((0, 0), |(rss, hwm), &pid| {
                let (r, h) = server::memory_kb(pid)?;
                Ok((rss + r, hwm + h))
            })
    }
}

/// What a login left for the launch: the platform URL the browser was sent to, and cookies.
#[derive(Debug)]
struct LoginDone {
    auth_url: String,
    cookie: String,
}

/// One launch ready to post.
#[derive(Debug)]
struct LaunchInput {
    id_token: String,
    state: String,
    cookie: String,
}

async fn run(args: Args) -> Result<u64, String> {
    if args.launches == 0 || args.concurrency == 0 || args.batch == 0 || args.nodes == 0 {
        return Err("--launches, --concurrency, --batch and --nodes must be positive".into());
    }
    // Absolute: the server runs in the temp dir.
    let binary = std::fs::canonicalize(&args.ltigate).map_err(|e| {
        format!(
            "{}: {e} (build it with `cargo build --release -p ltigate`)",
            args.ltigate.display()
        )
    })?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let sim = Simulator::start()
        .await
        .map_err(|e| format!("simulator: {e}"))?;
    // One after the other: the first migrates the database, the others find it ready.
    let mut servers = Vec::with_capacity(args.nodes);
    for node in 0..args.nodes {
        let server = Server::start(
            &binary,
            dir.path(),
            node,
            args.database_url.as_deref(),
            APP_LAUNCH_URL,
        )
        .await?;
        servers.push(server);
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let ctx = Arc::new(Ctx {
        client,
        sim,
        gates: servers.iter().map(|s| s.base_url.clone()).collect(),
        ticks_per_sec: server::clock_ticks(),
        server_pids: servers.iter().map(Server::pid).collect(),
        services: !args.no_services,
        next_user: AtomicUsize::new(0),
    });
    register(&ctx).await?;

    print_header(&args, &ctx);
    let mut phases = new_phases();
    // Without the services phase its row is left out of every report.
    let shown = if ctx.services { 5 } else { 4 };

    // Warm-up, not recorded: the first launch fetches the simulator's JWKS, the first score
    // post a service access token.
    let mut scratch = new_phases();
    let warmup = args.warmup.max(1);
    let ltik = run_batch(
        &ctx,
        warmup,
        args.concurrency,
        &mut scratch,
        &mut Usage::default(),
    )
    .await?;
    let warmup_errors: u64 = scratch.iter().map(|p| p.errors).sum();
    if warmup_errors > 0 {
        report::print_table(&mut scratch[..shown], ctx.ticks_per_sec);
        let logs: Vec<String> = servers.iter().map(Server::log_tail).collect();
        return Err(format!(
            "the warm-up failed ({warmup_errors} errors); server logs:\n{}",
            logs.join("\n--\n")
        ));
    }
    let lineitem = if ctx.services {
        let ltik = ltik.ok_or("the warm-up launched nothing")?;
        Some(line_item(&ctx, &ltik).await?)
    } else {
        None
    };
    let (rss_warm, _) = ctx.server_memory_kb()?;
    println!(
        "warm-up: {warmup} flows; server VmRSS {:.1} MB",
        rss_warm as f64 / 1024.0
    );

    let mut signing = Usage::default();
    let mut batch_sizes = Vec::new();
    let mut remaining = args.launches;
    let started = Instant::now();
    while remaining > 0 {
        let size = remaining.min(args.batch);
        run_batch(&ctx, size, args.concurrency, &mut phases, &mut signing).await?;
        remaining -= size;
        batch_sizes.push(size);
        let done = args.launches - remaining;
        eprintln!(
            "  batch {}: {done}/{} launches, {:.0} s elapsed, load {}",
            batch_sizes.len(),
            args.launches,
            started.elapsed().as_secs_f64(),
            server::load_average()
        );
    }
    let (_, peak_kb) = ctx.server_memory_kb()?;

    report::print_table(&mut phases[..shown], ctx.ticks_per_sec);
    println!(
        "sign     {:>7} id_tokens signed by the simulator, untimed: {:.2} s wall ({:.0}/s)",
        args.launches,
        signing.wall.as_secs_f64(),
        args.launches as f64 / signing.wall.as_secs_f64().max(1e-9)
    );
    let [floor, login, launch, read, services] = &phases;
    let timed = login.usage.wall + launch.usage.wall + read.usage.wall;
    println!(
        "complete flows (login + launch + idtoken, signing excluded): {:.0}/s",
        args.launches as f64 / timed.as_secs_f64().max(1e-9)
    );
    report::print_rss(&phases[..shown], &batch_sizes);
    let (db, wal) = servers[0].db_bytes();
    println!(
        "server peak RSS (VmHWM) {:.1} MB; database {:.1} MB + WAL {:.1} MB; load average at end {}",
        peak_kb as f64 / 1024.0,
        db as f64 / 1e6,
        wal as f64 / 1e6,
        server::load_average()
    );
    report::print_targets(
        floor,
        login,
        launch,
        ctx.ticks_per_sec,
        peak_kb,
        &read.rss_after_kb,
        args.launches,
    );
    let mut errors = phases.iter().map(|p| p.errors).sum();
    if let Some(lineitem) = lineitem {
        // Every post answered 204 (the warm-up's included) must be in the platform's gradebook.
        let posted = warmup + services.latencies_us.len();
        let stored = ctx.sim.scores_received(&lineitem).len();
        let tokens = ctx.sim.token_requests();
        report::print_service_targets(
            services,
            ctx.ticks_per_sec,
            &tokens,
            args.nodes,
            posted,
            stored,
        );
        if stored != posted {
            errors += posted.abs_diff(stored) as u64;
        }
    }
    Ok(errors)
}

fn new_phases() -> [Phase; 5] {
    ["healthz", "login", "launch", "idtoken", "services"].map(Phase::new)
}

fn print_header(args: &Args, ctx: &Ctx) {
    println!(
        "ltibench: {} launches in batches of {}, {} in flight, servers {:?} (pids {:?}), {} cores, load {}",
        args.launches,
        args.batch,
        args.concurrency,
        ctx.gates,
        ctx.server_pids,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        server::load_average()
    );
}

/// Registers the simulator as a platform (admin API) and ltigate as a tool (simulator).
async fn register(ctx: &Ctx) -> Result<(), String> {
    let gate = &ctx.gates[0];
    ctx.sim.add_tool(Tool {
        client_id: CLIENT_ID.into(),
        deployment_id: DEPLOYMENT_ID.into(),
        login_url: format!("{gate}/lti/login"),
        // Each node names itself in the authorization request it sends the browser to.
        redirect_uris: ctx
            .gates
            .iter()
            .map(|g| format!("{g}/lti/launch"))
            .collect(),
        target_link_uri: format!("{gate}/lti/launch"),
        deep_linking_url: None,
        jwks_uri: Some(format!("{gate}/lti/keys")),
    });
    let body = json!({
        "url": ctx.sim.issuer(),
        "clientId": CLIENT_ID,
        "name": "ltibench simulated LMS",
        "authenticationEndpoint": ctx.sim.authorization_endpoint(),
        "accesstokenEndpoint": ctx.sim.token_endpoint(),
        "authConfig": {"method": "JWK_SET", "key": ctx.sim.jwks_uri()},
        "deploymentIds": [DEPLOYMENT_ID],
    });
    let response = ctx
        .client
        .post(format!("{gate}/admin/platforms"))
        .bearer_auth(server::ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("admin API: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!("registering the platform: {status}: {text}"));
    }
    Ok(())
}

/// One batch of `n` flows; timed phases are added to `phases`, signing time to `signing`.
/// Returns one of the batch's ltiks, if any launch worked.
async fn run_batch(
    ctx: &Arc<Ctx>,
    n: usize,
    concurrency: usize,
    phases: &mut [Phase; 5],
    signing: &mut Usage,
) -> Result<Option<String>, String> {
    let [
        floor_phase,
        login_phase,
        launch_phase,
        read_phase,
        services_phase,
    ] = phases;
    {
        let ctx2 = Arc::clone(ctx);
        timed(ctx, floor_phase, n, concurrency, move |i| {
            let ctx = Arc::clone(&ctx2);
            async move { healthz(&ctx, ctx.gate(i, 0)).await }
        })
        .await?;
    }

    // Login initiation parameters come from the LMS: prepared before the clock starts.
    let params: Arc<Vec<Vec<(String, String)>>> = Arc::new(
        (0..n)
            .map(|_| {
                ctx.sim
                    .login_initiation_params(CLIENT_ID, MessageType::ResourceLink)
            })
            .collect(),
    );
    let logins = {
        let ctx2 = Arc::clone(ctx);
        timed(ctx, login_phase, n, concurrency, move |i| {
            let ctx = Arc::clone(&ctx2);
            let params = Arc::clone(&params);
            async move { login(&ctx, ctx.gate(i, 0), &params[i]).await }
        })
        .await?
    };

    let start = Instant::now();
    let inputs = sign_all(&ctx.sim, logins, login_phase);
    signing.wall += start.elapsed();

    // Only logins that worked are launched; the others are already counted as errors.
    let inputs: Arc<Vec<LaunchInput>> = Arc::new(inputs.into_iter().flatten().collect());
    let ltiks = {
        let ctx2 = Arc::clone(ctx);
        let inputs2 = Arc::clone(&inputs);
        timed(ctx, launch_phase, inputs.len(), concurrency, move |i| {
            let ctx = Arc::clone(&ctx2);
            let inputs = Arc::clone(&inputs2);
            async move { launch(&ctx, ctx.gate(i, 1), &inputs[i]).await }
        })
        .await?
    };
    drop(inputs);

    let ltiks: Arc<Vec<String>> = Arc::new(ltiks.into_iter().flatten().collect());
    per_ltik(ctx, read_phase, &ltiks, concurrency, ApiCall::ReadIdtoken).await?;
    if ctx.services {
        per_ltik(ctx, services_phase, &ltiks, concurrency, ApiCall::PostScore).await?;
    }
    Ok(ltiks.first().cloned())
}

/// The timed app API calls, one per ltik.
#[derive(Debug, Clone, Copy)]
enum ApiCall {
    ReadIdtoken,
    PostScore,
}

/// Times `call` once with each of `ltiks`.
async fn per_ltik(
    ctx: &Arc<Ctx>,
    phase: &mut Phase,
    ltiks: &Arc<Vec<String>>,
    concurrency: usize,
    call: ApiCall,
) -> Result<(), String> {
    let ctx2 = Arc::clone(ctx);
    let ltiks2 = Arc::clone(ltiks);
    timed(ctx, phase, ltiks.len(), concurrency, move |i| {
        let ctx = Arc::clone(&ctx2);
        let ltiks = Arc::clone(&ltiks2);
        async move {
            let gate = ctx.gate(i, 2);
            match call {
                ApiCall::ReadIdtoken => read_idtoken(&ctx, gate, &ltiks[i]).await,
                ApiCall::PostScore => post_score(&ctx, gate, &ltiks[i]).await,
            }
        }
    })
    .await
    .map(drop)
}

/// Runs `op(0..n)` with `concurrency` in flight, recording latencies, errors, CPU and RSS
/// into `phase`. Returns each operation's result (None when it failed), in order.
async fn timed<O, F, Fut>(
    ctx: &Ctx,
    phase: &mut Phase,
    n: usize,
    concurrency: usize,
    op: F,
) -> Result<Vec<Option<O>>, String>
where
    O: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, String>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let server_before = ctx.server_ticks()?;
    let switches_before = ctx.server_switches();
    let driver_before = server::cpu_ticks(None)?.0;
    let machine_before = server::machine_busy_ticks()?;
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(n) {
        let op = Arc::clone(&op);
        let next = Arc::clone(&next);
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break done;
                }
                let t = Instant::now();
                let result = op(i).await;
                done.push((i, t.elapsed(), result));
            }
        });
    }
    let mut results: Vec<Option<O>> = (0..n).map(|_| None).collect();
    let mut outcomes = Vec::with_capacity(n);
    while let Some(worker) = workers.join_next().await {
        outcomes.extend(worker.map_err(|e| format!("a worker task failed: {e}"))?);
    }
    let wall = start.elapsed();
    let server_after = ctx.server_ticks()?;
    phase.usage += Usage {
        wall,
        server_ticks: server_after.0 - server_before.0,
        server_sys_ticks: server_after.1 - server_before.1,
        server_switches: ctx.server_switches().saturating_sub(switches_before),
        driver_ticks: server::cpu_ticks(None)?.0 - driver_before,
        machine_ticks: server::machine_busy_ticks()? - machine_before,
    };
    for (i, latency, result) in outcomes {
        match result {
            Ok(value) => {
                phase.latencies_us.push(micros(latency));
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(value);
                }
            }
            Err(e) => phase.record_error(e),
        }
    }
    phase.rss_after_kb.push(ctx.server_memory_kb()?.0);
    Ok(results)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// `GET /healthz`: expects 200.
async fn healthz(ctx: &Ctx, gate: &str) -> Result<(), String> {
    expect_status(ctx.client.get(format!("{gate}/healthz")), 200)
        .await
        .map(drop)
}

/// `POST /lti/login`: expects a 302 to the platform and keeps every cookie set.
async fn login(ctx: &Ctx, gate: &str, params: &[(String, String)]) -> Result<LoginDone, String> {
    let response = ctx
        .client
        .post(format!("{gate}/lti/login"))
        .form(params)
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| format!("body: {e}"))?;
    if status != 302 {
        return Err(format!("status {status}: {}", error_code(&body)));
    }
    let auth_url = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("302 without Location")?
        .to_owned();
    // What a browser sends back: the name=value part of every Set-Cookie.
    let cookie = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    if cookie.is_empty() {
        return Err("login set no cookie".into());
    }
    Ok(LoginDone { auth_url, cookie })
}

/// The simulator signs an id_token for each successful login, on every core. A login the
/// simulator refuses is an error of the login phase.
fn sign_all(
    sim: &Simulator,
    logins: Vec<Option<LoginDone>>,
    login_phase: &mut Phase,
) -> Vec<Option<LaunchInput>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = logins.len().div_ceil(threads).max(1);
    let signed: Vec<Vec<Result<LaunchInput, String>>> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let handles: Vec<_> = logins
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .flatten()
                            .map(|login| sign_one(sim, login))
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| vec![Err("a signing thread panicked".into())])
                })
                .collect()
        })
    });
    signed
        .into_iter()
        .flatten()
        .map(|r| match r {
            Ok(input) => Some(input),
            Err(e) => {
                login_phase.record_error(format!("simulator refused the login: {e}"));
                None
            }
        })
        .collect()
}

fn sign_one(sim: &Simulator, login: &LoginDone) -> Result<LaunchInput, String> {
    let url = url::Url::parse(&login.auth_url).map_err(|e| format!("Location: {e}"))?;
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let state = query
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.clone())
        .ok_or("no state in the authorization request")?;
    Ok(LaunchInput {
        id_token: sim.id_token_for(&query)?,
        state,
        cookie: login.cookie.clone(),
    })
}

/// `POST /lti/launch`: expects a 302 to the app with `?ltik=`.
async fn launch(ctx: &Ctx, gate: &str, input: &LaunchInput) -> Result<String, String> {
    let response = ctx
        .client
        .post(format!("{gate}/lti/launch"))
        .header(COOKIE, &input.cookie)
        .form(&[("id_token", &input.id_token), ("state", &input.state)])
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await.map_err(|e| format!("body: {e}"))?;
    if status != 302 {
        return Err(format!("status {status}: {}", error_code(&body)));
    }
    let location = location.ok_or("302 without Location")?;
    let url = url::Url::parse(&location).map_err(|e| format!("Location: {e}"))?;
    url.query_pairs()
        .find(|(k, _)| k == "ltik")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("redirect without an ltik: {location}"))
}

/// A request to ltigate's app API, authorised by `ltik`.
fn api(
    ctx: &Ctx,
    gate: &str,
    method: reqwest::Method,
    path: &str,
    ltik: &str,
) -> reqwest::RequestBuilder {
    ctx.client.request(method, format!("{gate}{path}")).header(
        AUTHORIZATION,
        format!("LTIK-AUTH-V2 {}:{ltik}", server::API_KEY),
    )
}

/// Sends an API request and returns the body when the status is `expected`.
async fn expect_status(
    request: reqwest::RequestBuilder,
    expected: u16,
) -> Result<impl AsRef<[u8]>, String> {
    let response = request.send().await.map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| format!("body: {e}"))?;
    if status != expected {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ));
    }
    Ok(body)
}

/// `GET /api/idtoken`: expects 200 and a JSON body.
async fn read_idtoken(ctx: &Ctx, gate: &str, ltik: &str) -> Result<(), String> {
    let request = api(ctx, gate, reqwest::Method::GET, "/api/idtoken", ltik);
    let body = expect_status(request, 200).await?;
    if body.as_ref().first() != Some(&b'{') {
        return Err("the body is not a JSON object".into());
    }
    Ok(())
}

/// `POST /api/lineitems/default/scores` for a user no other post of the run names: expects
/// 204 (the platform accepted it).
async fn post_score(ctx: &Ctx, gate: &str, ltik: &str) -> Result<(), String> {
    let user = ctx.next_user.fetch_add(1, Ordering::Relaxed);
    let score = json!({
        "userId": format!("ltibench-user-{user}"),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": 7,
        "scoreMaximum": 10,
    });
    let request = api(ctx, gate, reqwest::Method::POST, SCORES, ltik).json(&score);
    expect_status(request, 204).await.map(drop)
}

/// The launch's line item URL, as `/api/idtoken` names it (untimed; the scores posted to
/// `default` are stored under it).
async fn line_item(ctx: &Ctx, ltik: &str) -> Result<String, String> {
    let request = api(
        ctx,
        &ctx.gates[0],
        reqwest::Method::GET,
        "/api/idtoken",
        ltik,
    );
    let body = expect_status(request, 200).await?;
    let idtoken: serde_json::Value =
        serde_json::from_slice(body.as_ref()).map_err(|e| format!("/api/idtoken: {e}"))?;
    idtoken["services"]["assignmentAndGrades"]["lineItemId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "/api/idtoken names no line item: the launch has no AGS claim".into())
}

/// The stable code on an ltigate error page, or the start of the body.
fn error_code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.split("Error code <code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .map(str::to_owned)
        .unwrap_or_else(|| text.chars().take(200).collect())
}
