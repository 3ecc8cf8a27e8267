//! `ltigate check`: what would stop a real deployment, one finding per line.
//!
//! It reads the configuration as `serve` does and looks at it, at the database and at each
//! active platform's key. It changes nothing that `serve` would not change at start: a missing
//! SQLite file is not created (a missing file is normal before the first `serve`, which
//! creates it; only a folder that does not exist or cannot be written is a failure), and no
//! tool key or API key is generated. An existing database is opened with
//! [`Store::connect`](crate::store::Store::connect), which applies pending migrations, as
//! `serve` would. Platform JWKS are fetched through the configuration's outbound policy
//! ([`OutboundPolicy::from_config`](crate::outbound::OutboundPolicy::from_config)), so a URL
//! that launches could not reach fails here too.
//!
//! It does not start the server or contact the app.

mod database;
mod stored;

use std::fmt;

use url::{Host, Url};

use crate::clock::Clock;
use crate::config::Config;
use database::database;

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
        Some(store) => findings.extend(stored::stored(config, clock, &store).await),
        // Nothing to read yet: say what the first `serve` will do.
        None if !database_failed => findings.extend(stored::first_start(config)),
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

#[cfg(test)]
mod tests;
