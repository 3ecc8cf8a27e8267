//! The CLI commands. `check` reports what would stop a deployment ([`ltigate::check`]). Key
//! and platform commands work on the configured database directly, so they need no running
//! server; the demo ignores the configuration (see [`ltigate::demo`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use ltigate::check::{self, Finding, Level, Report};
use ltigate::clock::Clock;
use ltigate::config::{Config, ConfigError};
#[cfg(feature = "demo")]
use ltigate::demo::{self, DemoError, DemoOptions};
use ltigate::http::admin::PlatformView;
use ltigate::keys::{self, KeyRing, key_states};
use ltigate::platform_input::{self, AuthConfig, PlatformFields};
use ltigate::platforms::{Platforms, PlatformsError};
#[cfg(feature = "demo")]
use ltigate::server::StartError;
use ltigate::server::{self, Server};
use ltigate::store::{KeyMethod, PlatformFilter, PlatformStatus, Store};

use super::Command;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the tool keys and their states.
    List,
    /// Publish a new key now; it starts signing after the rotation delay.
    Rotate {
        /// Seconds before the new key signs (default: keys.rotation_delay).
        #[arg(long)]
        delay: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlatformsCommand {
    /// Register a platform by hand.
    Add(Box<AddPlatform>),
    /// List platforms.
    List {
        /// Only platforms in this state (active, pending, inactive).
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one platform as JSON.
    Show { id: String },
    /// Allow a platform to launch.
    Activate { id: String },
    /// Stop a platform from launching.
    Deactivate { id: String },
    /// Delete a platform and its deployments.
    Remove { id: String },
}

#[derive(Debug, Args)]
pub struct AddPlatform {
    /// The platform's issuer (the `iss` of its id_tokens).
    #[arg(long)]
    url: String,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    name: String,
    /// OIDC authorization endpoint.
    #[arg(long)]
    authentication_endpoint: String,
    /// OAuth2 token endpoint.
    #[arg(long)]
    accesstoken_endpoint: String,
    /// The `aud` of service token requests, when the platform names one other than the
    /// token endpoint.
    #[arg(long)]
    authorization_server: Option<String>,
    /// The platform's JWKS URL.
    #[arg(long, group = "key")]
    jwks_url: Option<String>,
    /// A file holding the platform's RSA public key (PEM).
    #[arg(long, group = "key")]
    rsa_key_file: Option<PathBuf>,
    /// Known deployment ids (repeat the flag for several).
    #[arg(long = "deployment-id")]
    deployment_ids: Vec<String>,
    /// Register without activating.
    #[arg(long)]
    inactive: bool,
}

/// Runs one command; the error is the one line to print.
pub async fn run(config_path: Option<PathBuf>, command: Command) -> Result<(), String> {
    lti::install_crypto_provider();
    // The demo brings its own configuration: a stray ltigate.toml must not change it.
    #[cfg(feature = "demo")]
    if let Command::Demo { port } = command {
        return demo(port).await;
    }
    let loaded = match &config_path {
        Some(path) => Config::load(path, true),
        None => Config::load(std::path::Path::new("ltigate.toml"), false),
    };
    if let Command::Check = command {
        return check(loaded).await;
    }
    let config = loaded.map_err(|e| e.to_string())?;
    match command {
        Command::Serve => serve(config).await,
        Command::Check => check(Ok(config)).await,
        Command::Keys(cmd) => keys_command(&config, cmd).await,
        Command::Platforms(cmd) => platforms_command(&config, cmd).await,
        #[cfg(feature = "demo")]
        Command::Demo { port } => demo(port).await,
    }
}

#[cfg(feature = "demo")]
async fn demo(port: u16) -> Result<(), String> {
    let options = DemoOptions {
        port,
        cross_site: false,
    };
    demo::run(options, server::shutdown_signal())
        .await
        .map_err(|e| match e {
            DemoError::Gate(StartError::Listen { .. }) => {
                format!("{e} (choose another port with --port, or --port 0 for any)")
            }
            e => e.to_string(),
        })
}

/// Prints one line per finding and a summary; fails when any finding failed.
async fn check(loaded: Result<Config, ConfigError>) -> Result<(), String> {
    let report = match loaded {
        Ok(config) => check::run(&config, &Clock::System).await,
        Err(e) => Report {
            findings: vec![Finding {
                level: Level::Fail,
                subject: "configuration".into(),
                message: e.to_string(),
            }],
        },
    };
    println!("{report}");
    if report.failed() {
        Err(format!("check failed: {}", report.summary()))
    } else {
        Ok(())
    }
}

async fn serve(config: Config) -> Result<(), String> {
    if config.public_url.is_none() {
        tracing::warn!(
            "public_url is not set: LMSes will be told http://{}, which only works locally",
            config.listen
        );
    }
    if config.admin_key.is_none() {
        tracing::warn!("admin_key is not set: the admin API is disabled (the CLI still works)");
    }
    if config.app.launch_url.is_none() {
        tracing::warn!("app.launch_url is not set: launches have nowhere to go");
    }
    let server = Server::bind(config, Clock::System)
        .await
        .map_err(|e| e.to_string())?;
    let config = &server.state().config;
    let endpoint = |path: &str| config.public_endpoint(path);
    let banner = format!(
        "ltigate listening on http://{listen}\n\
         \x20 public URL:           {public}\n\
         \x20 JWKS (tool keys):     {keys}\n\
         \x20 OIDC login URL:       {login}\n\
         \x20 launch/redirect URL:  {launch}\n\
         \x20 dynamic registration: {register}",
        listen = config.listen,
        public = config.public_url(),
        keys = endpoint("/lti/keys"),
        login = endpoint("/lti/login"),
        launch = endpoint("/lti/launch"),
        register = endpoint("/lti/register"),
    );
    println!("{banner}");
    if let Some(key) = &server.generated_api_key {
        println!(
            "  generated API key (shown once, only its hash is stored): {key}\n\
             \x20 set api_keys in the configuration to choose your own"
        );
    }
    server
        .run(server::shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn keys_command(config: &Config, cmd: KeysCommand) -> Result<(), String> {
    let store = open_store(config).await?;
    let clock = Clock::System;
    let now = clock.now();
    match cmd {
        KeysCommand::List => {
            keys::ensure_key(&store, now)
                .await
                .map_err(|e| e.to_string())?;
            let all = store.all_tool_keys().await.map_err(|e| e.to_string())?;
            println!(
                "{:<24} {:<9} {:>12} {:>12}",
                "KID", "STATE", "ACTIVATE_AT", "RETIRE_AT"
            );
            for (key, state) in all.iter().zip(key_states(&all, now)) {
                let retire = key.retire_at.map_or("-".to_string(), |r| r.to_string());
                println!(
                    "{:<24} {:<9} {:>12} {:>12}",
                    key.kid,
                    state.as_str(),
                    key.activate_at,
                    retire
                );
            }
        }
        KeysCommand::Rotate { delay } => {
            keys::ensure_key(&store, now)
                .await
                .map_err(|e| e.to_string())?;
            let delay = delay.map_or(config.keys.rotation_delay, Duration::from_secs);
            let next = keys::rotate(&store, now, delay, config.keys.max_token_lifetime)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "published key {} now; it signs from {} (in {} s); older keys leave the JWKS {} s after that",
                next.kid,
                next.activate_at,
                delay.as_secs(),
                config.keys.max_token_lifetime.as_secs()
            );
        }
    }
    Ok(())
}

async fn platforms_command(config: &Config, cmd: PlatformsCommand) -> Result<(), String> {
    let store = open_store(config).await?;
    let clock = Clock::System;
    let platforms = Platforms::new(
        store.clone(),
        KeyRing::new(store.clone(), clock.clone(), &config.keys),
        clock.clone(),
    );
    let failed = |e: PlatformsError| format!("{e} ({})", e.code());
    match cmd {
        PlatformsCommand::Add(add) => {
            let key = match (add.jwks_url, add.rsa_key_file) {
                (Some(url), None) => (KeyMethod::JwkSet, url),
                (None, Some(path)) => (
                    KeyMethod::RsaKey,
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
                ),
                _ => return Err("give one of --jwks-url or --rsa-key-file".into()),
            };
            let fields = PlatformFields {
                url: Some(add.url),
                client_id: Some(add.client_id),
                name: Some(add.name),
                authentication_endpoint: Some(add.authentication_endpoint),
                accesstoken_endpoint: Some(add.accesstoken_endpoint),
                authorization_server: add.authorization_server,
                auth_config: Some(AuthConfig {
                    method: key.0.as_str().into(),
                    key: key.1.into(),
                }),
                deployment_ids: Some(add.deployment_ids),
                active: Some(!add.inactive),
                allow_new_deployments: None,
            };
            let new = platform_input::new_platform(fields, config.allow_insecure_http)
                .map_err(|e| format!("{e} ({})", e.code()))?;
            let record = platforms.create(&new).await.map_err(failed)?;
            println!("{}", record.platform.id);
        }
        PlatformsCommand::List { status } => {
            let status = status
                .map(|s| PlatformStatus::parse(&s).ok_or(format!("unknown status {s}")))
                .transpose()?;
            let filter = PlatformFilter {
                status,
                ..Default::default()
            };
            let platforms = store.platforms(&filter).await.map_err(|e| e.to_string())?;
            println!("{:<18} {:<9} {:<24} URL", "ID", "STATUS", "CLIENT_ID");
            for p in platforms {
                println!(
                    "{:<18} {:<9} {:<24} {}",
                    p.id,
                    p.settings.status.as_str(),
                    p.settings.client_id,
                    p.settings.issuer
                );
            }
        }
        PlatformsCommand::Show { id } => {
            let record = platforms.get(&id).await.map_err(failed)?;
            // A database no server has used yet has no signing key: show the platform anyway.
            let public_key = platforms.public_key().await.unwrap_or_default();
            let view = PlatformView::of(record, &public_key);
            let json = serde_json::to_string_pretty(&view).map_err(|e| e.to_string())?;
            println!("{json}");
        }
        PlatformsCommand::Activate { id } => {
            let r = platforms
                .set_status(&id, PlatformStatus::Active)
                .await
                .map_err(failed)?;
            println!("platform {} is active", r.platform.id);
        }
        PlatformsCommand::Deactivate { id } => {
            let r = platforms
                .set_status(&id, PlatformStatus::Inactive)
                .await
                .map_err(failed)?;
            println!("platform {} is inactive", r.platform.id);
        }
        PlatformsCommand::Remove { id } => {
            platforms.delete(&id).await.map_err(failed)?;
            println!("platform {id} removed");
        }
    }
    Ok(())
}

async fn open_store(config: &Config) -> Result<Store, String> {
    Store::connect(&config.database_url).await.map_err(|e| {
        let shown = ltigate::store::redacted_url(&config.database_url);
        format!("cannot open the database {shown}: {e}")
    })
}
