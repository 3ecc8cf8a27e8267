//! The `ltigate` command: serve, check a deployment, manage keys and platforms, run the demo.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Self-hosted LTI 1.3 / LTI Advantage gateway.
#[derive(Debug, Parser)]
#[command(name = "ltigate", version, about)]
struct Args {
    /// Configuration file (TOML). Every field can also be set as LTIGATE_<FIELD>.
    #[arg(long, global = true, env = "LTIGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve,
    /// Check the configuration, the database and each active platform's keys; exits
    /// non-zero when something would stop a deployment.
    Check,
    /// Manage the tool's signing keys (works on the database directly).
    #[command(subcommand)]
    Keys(cli::KeysCommand),
    /// Manage registered platforms (works on the database directly).
    #[command(subcommand)]
    Platforms(cli::PlatformsCommand),
    #[cfg(feature = "demo")]
    /// Try ltigate in a browser: ltigate, an LMS simulator and a sample app on loopback,
    /// with a temporary database. Prints the URL to open.
    Demo {
        /// ltigate's port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ltigate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args.config, args.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ltigate: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
