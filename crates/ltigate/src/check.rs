//! `ltigate check`: what would stop a real deployment, one finding per line.
//!
//! It reads the configuration as `serve` does and looks at it, at the database and at each
//! active platform's key. It changes nothing that `serve` would not change at start: a missing
//! SQLite file is not created (a missing file is normal before the first `serve`, which
//! creates it; only a folder that does not exist or cannot be written is a failure), and no
//! tool key or API key is generated. An existing database is opened with [`Store::connect`],
//! which applies pending migrations, as `serve` would. Platform JWKS are fetched through the
//! outbound policy of the configuration ([`OutboundPolicy::from_config`]), so a URL that
//! launches could not reach fails here too.
//!
//! It does not start the server or contact the app.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use tokio::task::JoinSet;
use url::{Host, Url};

use crate::clock::Clock;
use crate::code::DisplayChain;
use crate::config::Config;
use crate::keys::{KeyError, KeyRing};
use crate::launch::PlatformKeys;
use crate::outbound::{Outbound, OutboundPolicy};
use crate::store::{Platform, PlatformFilter, PlatformKey, PlatformStatus, Store};

/// The longest wait for the database to answer (past the pool's own 10 s, whose error says
/// more).
const DATABASE_TIMEOUT: Duration = Duration::from_secs(15);
/// Platform key sets fetched at once.
const PARALLEL_FETCHES: usize = 8;

/// How bad a finding is. Only [`Level::Fail`] makes the command fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    /// Works, but not as a deployment should (local-only URLs, admin API off, first start).
    Warn,
    /// A deployment would not work.
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
        }
    }
}

/// One line of the report: what was checked, and what was found and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub subject: String,
    pub message: String,
}

impl Finding {
    fn new(level: Level, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level,
            subject: subject.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<4} {}: {}",
            self.level.as_str(),
            self.subject,
            self.message
        )
    }
}

/// Every finding, in a fixed order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// Whether any finding failed (the command then exits non-zero).
    pub fn failed(&self) -> bool {
        self.count(Level::Fail) > 0
    }

    /// The closing line: how many failures and warnings.
    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}",
            plural(self.count(Level::Fail), "failure"),
            plural(self.count(Level::Warn), "warning")
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        write!(f, "{}", self.summary())
    }
}

/// Runs every check against `config`.
pub async fn run(config: &Config, clock: &Clock) -> Report {
    let mut findings = vec![public_url(config)];
    findings.extend(app_urls(config));
    findings.push(admin_key(config));
    let (database, store) = database(&config.database_url).await;
    let database_failed = database.level == Level::Fail;
    findings.push(database);
    match store {
        Some(store) => findings.extend(stored(config, clock, &store).await),
        // Nothing to read yet: say what the first `serve` will do.
        None if !database_failed => findings.extend(first_start(config)),
        None => {}
    }
    Report { findings }
}

const PUBLIC_URL_FIX: &str =
    "set public_url (LTIGATE_PUBLIC_URL) to the https URL LMSes and browsers reach ltigate at";

/// Plain http works on loopback (development, the demo) and nowhere else: LMSes expect https
/// tool URLs and browsers drop the `SameSite=None` login cookie unless it is `Secure`.
pub fn public_url(config: &Config) -> Finding {
    let subject = "public_url";
    match &config.public_url {
        Some(url) if url.scheme() == "https" => Finding::new(Level::Ok, subject, url.as_str()),
        Some(url) if is_loopback(url) => Finding::new(
            Level::Warn,
            subject,
            format!("{url} is plain http on loopback: local development only; {PUBLIC_URL_FIX}"),
        ),
        Some(url) => Finding::new(
            Level::Fail,
            subject,
            format!(
                "{url} is plain http: LMSes expect https and browsers drop the login cookie \
                 without it; {PUBLIC_URL_FIX}"
            ),
        ),
        None if config.listen.ip().is_loopback() => Finding::new(
            Level::Warn,
            subject,
            format!(
                "not set: LMSes are told http://{}, which only this machine reaches; \
                 {PUBLIC_URL_FIX}",
                config.listen
            ),
        ),
        None => Finding::new(
            Level::Fail,
            subject,
            format!(
                "not set: LMSes would be told http://{}, which is not a public https URL; \
                 {PUBLIC_URL_FIX}",
                config.listen
            ),
        ),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The app's URLs: without a launch URL every launch fails; without a deep linking URL deep
/// linking requests go to the launch URL.
pub fn app_urls(config: &Config) -> Vec<Finding> {
    let launch = match &config.app.launch_url {
        Some(url) => app_url("app.launch_url", url),
        None => Finding::new(
            Level::Fail,
            "app.launch_url",
            "not set: verified launches have nowhere to go; set app.launch_url \
             (LTIGATE_APP__LAUNCH_URL) to the app's launch page",
        ),
    };
    let offers_deep_linking = config
        .tool
        .messages
        .iter()
        .any(|m| m.message_type == "LtiDeepLinkingRequest");
    let deep_linking = match &config.app.deep_linking_url {
        Some(url) => app_url("app.deep_linking_url", url),
        None if offers_deep_linking => Finding::new(
            Level::Warn,
            "app.deep_linking_url",
            "not set: deep linking requests go to app.launch_url; set app.deep_linking_url \
             (LTIGATE_APP__DEEP_LINKING_URL) to the app's content picker",
        ),
        None => Finding::new(
            Level::Ok,
            "app.deep_linking_url",
            "not set, and tool.messages offers no deep linking",
        ),
    };
    vec![launch, deep_linking]
}

/// An app URL receives the ltik in its query: over plain http it crosses the network in clear.
fn app_url(field: &str, url: &Url) -> Finding {
    if url.scheme() == "https" || is_loopback(url) {
        Finding::new(Level::Ok, field, url.as_str())
    } else {
        Finding::new(
            Level::Warn,
            field,
            format!(
                "{url} is plain http on another host: the ltik crosses the network in clear; \
                 use https, or run the app beside ltigate on loopback"
            ),
        )
    }
}

pub fn admin_key(config: &Config) -> Finding {
    match config.admin_key {
        Some(_) => Finding::new(Level::Ok, "admin_key", "set: the admin API is on"),
        None => Finding::new(
            Level::Warn,
            "admin_key",
            "not set: the admin API is off (the CLI still works); set admin_key \
             (LTIGATE_ADMIN_KEY), best as sha256:<hex>",
        ),
    }
}

/// Opens the database as `serve` does, except that a missing SQLite file is left missing.
async fn database(url: &str) -> (Finding, Option<Store>) {
    let subject = "database";
    let shown = redacted(url);
    if url.starts_with("sqlite:") {
        match sqlite_file(url) {
            Err(e) => {
                let message = format!("{shown} is not a SQLite URL ({e}); fix database_url");
                return (Finding::new(Level::Fail, subject, message), None);
            }
            Ok(None) => {
                let message = format!(
                    "{shown} is in memory: everything is lost when ltigate stops and nodes \
                     share nothing; use a file (sqlite://PATH) or PostgreSQL"
                );
                return (Finding::new(Level::Warn, subject, message), None);
            }
            Ok(Some(file)) if !file.exists() => return (missing_sqlite_file(&file), None),
            Ok(Some(file)) => {
                // The pool retries a file it cannot use until its own timeout: say it at once.
                if let Err(why) = sqlite_header(&file) {
                    let message = format!(
                        "cannot open {shown}: {why}; check database_url (LTIGATE_DATABASE_URL) \
                         and the file's owner and mode"
                    );
                    return (Finding::new(Level::Fail, subject, message), None);
                }
            }
        }
    }
    let fix = "check database_url (LTIGATE_DATABASE_URL) and that this user may read and write it";
    match tokio::time::timeout(DATABASE_TIMEOUT, Store::connect(url)).await {
        Ok(Ok(store)) if store.ping().await => (
            Finding::new(Level::Ok, subject, format!("{shown} answers")),
            Some(store),
        ),
        Ok(Ok(_)) => {
            let message = format!("{shown} opened but does not answer queries; {fix}");
            (Finding::new(Level::Fail, subject, message), None)
        }
        Ok(Err(e)) => {
            let message = format!("cannot open {shown}: {}; {fix}", DisplayChain(&e));
            (Finding::new(Level::Fail, subject, message), None)
        }
        Err(_) => {
            let message = format!(
                "{shown} did not answer within {} s; {fix}",
                DATABASE_TIMEOUT.as_secs()
            );
            (Finding::new(Level::Fail, subject, message), None)
        }
    }
}

/// The file a SQLite URL names, `None` for an in-memory database.
fn sqlite_file(url: &str) -> Result<Option<PathBuf>, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?;
    // Read from the URL: sqlx's `to_url_lossy` panics on an in-memory database's options.
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let in_memory = path.trim_start_matches("sqlite:").trim_start_matches("//") == ":memory:"
        || url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "mode" && v == "memory");
    Ok((!in_memory).then(|| options.get_filename().to_path_buf()))
}

/// Whether `file` can be read and starts as a SQLite database does (an empty file is a new
/// database to SQLite).
fn sqlite_header(file: &Path) -> Result<(), String> {
    use std::io::Read;
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut head = Vec::with_capacity(MAGIC.len());
    std::fs::File::open(file)
        .and_then(|f| f.take(MAGIC.len() as u64).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    if head.is_empty() || head == MAGIC {
        Ok(())
    } else {
        Err("the file is not a SQLite database".into())
    }
}

/// Before the first `serve` the file does not exist: fine, when `serve` will be able to
/// create it.
fn missing_sqlite_file(file: &Path) -> Finding {
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let subject = "database";
    if !folder.is_dir() {
        return Finding::new(
            Level::Fail,
            subject,
            format!(
                "the folder {} of the SQLite file does not exist; create it, writable by the \
                 service user, or fix database_url",
                folder.display()
            ),
        );
    }
    match can_create_in(&folder) {
        Ok(()) => Finding::new(
            Level::Ok,
            subject,
            format!(
                "the SQLite file {} does not exist yet: the first `ltigate serve` creates it \
                 (owner-only); this user can write its folder",
                file.display()
            ),
        ),
        Err(e) => Finding::new(
            Level::Fail,
            subject,
            format!(
                "the SQLite file {} does not exist and its folder {} cannot be written ({e}); \
                 make the folder writable by the service user",
                file.display(),
                folder.display()
            ),
        ),
    }
}

/// Whether a file can be created in `folder`, tried with a file that is removed at once
/// (permission bits alone do not tell: ACLs, read-only mounts, another owner).
fn can_create_in(folder: &Path) -> std::io::Result<()> {
    let probe = folder.join(format!(".ltigate-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// A database URL fit to print: the password replaced.
fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot carry a password, which this one does.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// What the first `serve` on a database that does not exist yet will make.
fn first_start(config: &Config) -> Vec<Finding> {
    vec![
        no_tool_key(),
        api_keys(config, 0),
        Finding::new(
            Level::Warn,
            "platforms",
            format!("none registered yet; {}", how_to_register(config)),
        ),
    ]
}

fn no_tool_key() -> Finding {
    Finding::new(
        Level::Warn,
        "tool key",
        "none yet: the first `ltigate serve` generates one (LMSes registered before that \
         cannot fetch it)",
    )
}

fn api_keys(config: &Config, stored: usize) -> Finding {
    let configured = config.api_keys.len();
    if configured + stored == 0 {
        Finding::new(
            Level::Warn,
            "api_keys",
            "none configured or stored: the first `ltigate serve` generates one and prints \
             it once; set api_keys (LTIGATE_API_KEYS) to choose your own",
        )
    } else {
        Finding::new(
            Level::Ok,
            "api_keys",
            format!("{configured} configured, {stored} generated by serve"),
        )
    }
}

fn how_to_register(config: &Config) -> String {
    format!(
        "give LMSes the dynamic registration URL {}, or add one with the admin API or \
         `ltigate platforms add`",
        config.public_endpoint("/lti/register")
    )
}

/// Checks on what the database holds: the tool key, API keys and platforms.
async fn stored(config: &Config, clock: &Clock, store: &Store) -> Vec<Finding> {
    let mut findings = vec![tool_key(config, clock, store).await];
    findings.push(match store.api_key_hashes().await {
        Ok(stored) => api_keys(config, stored.len()),
        Err(e) => Finding::new(
            Level::Fail,
            "api_keys",
            format!("cannot read the stored API keys: {}", DisplayChain(&e)),
        ),
    });
    findings.extend(platforms(config, clock, store).await);
    findings
}

async fn tool_key(config: &Config, clock: &Clock, store: &Store) -> Finding {
    let subject = "tool key";
    let ring = KeyRing::new(store.clone(), clock.clone(), &config.keys);
    match ring.signing_key().await {
        Ok(key) => {
            let published = ring.jwks().await.map_or(0, |set| set.keys.len());
            Finding::new(
                Level::Ok,
                subject,
                format!("{} signs; {published} published", key.kid),
            )
        }
        Err(KeyError::NoCurrentKey)
            if store
                .live_tool_keys(clock.now())
                .await
                .is_ok_and(|k| k.is_empty()) =>
        {
            no_tool_key()
        }
        Err(e) => Finding::new(
            Level::Fail,
            subject,
            format!(
                "{}; list the keys with `ltigate keys list`, replace a bad one with \
                 `ltigate keys rotate --delay 0`",
                DisplayChain(&e)
            ),
        ),
    }
}

/// Each active platform's key, and whether any registration waits for an administrator.
async fn platforms(config: &Config, clock: &Clock, store: &Store) -> Vec<Finding> {
    let with_status = |status| PlatformFilter {
        status: Some(status),
        ..Default::default()
    };
    let mut findings = Vec::new();
    let active = match store.platforms(&with_status(PlatformStatus::Active)).await {
        Ok(active) => active,
        Err(e) => {
            let message = format!(
                "cannot read the platforms: {}; `ltigate platforms list` shows them",
                DisplayChain(&e)
            );
            return vec![Finding::new(Level::Fail, "platforms", message)];
        }
    };
    if active.is_empty() {
        findings.push(Finding::new(
            Level::Warn,
            "platforms",
            format!("no active platform; {}", how_to_register(config)),
        ));
    }
    if let Ok(pending) = store.platforms(&with_status(PlatformStatus::Pending)).await
        && !pending.is_empty()
    {
        findings.push(Finding::new(
            Level::Warn,
            "platforms",
            format!(
                "{} waiting for approval: `ltigate platforms list --status pending`, then \
                 `ltigate platforms activate ID`",
                pending.len()
            ),
        ));
    }
    match Outbound::new(OutboundPolicy::from_config(config)) {
        Ok(http) => {
            let keys = PlatformKeys::new(
                http,
                clock.clone(),
                config.launch.jwks_ttl,
                config.launch.jwks_min_refetch,
            );
            findings.extend(platform_keys(&keys, active).await);
        }
        Err(e) => findings.push(Finding::new(
            Level::Fail,
            "platforms",
            format!("cannot check platform keys: {}", DisplayChain(&e)),
        )),
    }
    findings
}

/// Each platform's finding, in the platforms' order, fetching a few key sets at a time.
async fn platform_keys(keys: &PlatformKeys, platforms: Vec<Platform>) -> Vec<Finding> {
    let mut findings = Vec::with_capacity(platforms.len());
    let mut platforms = platforms.into_iter();
    loop {
        let mut batch = JoinSet::new();
        for (i, platform) in platforms.by_ref().take(PARALLEL_FETCHES).enumerate() {
            let keys = keys.clone();
            batch.spawn(async move { (i, platform_key(&keys, &platform).await) });
        }
        if batch.is_empty() {
            return findings;
        }
        let mut done: Vec<(usize, Finding)> = Vec::with_capacity(batch.len());
        while let Some(joined) = batch.join_next().await {
            match joined {
                Ok(found) => done.push(found),
                Err(e) => done.push((
                    usize::MAX,
                    Finding::new(Level::Fail, "platform", format!("check aborted: {e}")),
                )),
            }
        }
        done.sort_by_key(|(i, _)| *i);
        findings.extend(done.into_iter().map(|(_, f)| f));
    }
}

/// A static key was checked when it was registered; a JWKS must answer now.
async fn platform_key(keys: &PlatformKeys, platform: &Platform) -> Finding {
    let subject = format!("platform {} ({})", platform.settings.name, platform.id);
    let url = match &platform.settings.key {
        PlatformKey::JwkSet(url) => url,
        key => {
            let message = format!("static {} key", key.method());
            return Finding::new(Level::Ok, subject, message);
        }
    };
    let mut shown = url.clone();
    shown.set_query(None);
    let fix = format!(
        "launches from this LMS fail until it does; check the URL with its administrator \
         (`ltigate platforms show {}`) and that this host may reach it",
        platform.id
    );
    match keys.probe(url.as_str()).await {
        Ok(0) => Finding::new(
            Level::Fail,
            subject,
            format!(
                "JWKS {shown} has no usable signing key (a signing RSA key of 2048 bits or \
                 more, or EC P-256, with a kid); {fix}"
            ),
        ),
        Ok(n) => Finding::new(
            Level::Ok,
            subject,
            format!(
                "JWKS {shown} answers with {n} usable key{}",
                if n == 1 { "" } else { "s" }
            ),
        ),
        Err(e) => Finding::new(
            Level::Fail,
            subject,
            format!("JWKS {shown}: {} ({}); {fix}", DisplayChain(&e), e.code()),
        ),
    }
}

#[cfg(test)]
mod tests;
