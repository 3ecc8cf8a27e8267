//! ltigate: a self-hosted LTI 1.3 / LTI Advantage gateway.
//!
//! The binary (`src/main.rs`) is a thin CLI over this library: [`server`] runs the HTTP
//! service, [`store`] holds all state, [`keys`] manages the tool's signing keys, `demo`
//! runs ltigate, the LMS simulator and a sample app together for a first look (cargo feature
//! `demo`, on by default; without it the library carries no simulator).

pub mod api_shape;
pub mod check;
pub mod clock;
pub mod code;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod http;
pub mod keys;
pub mod launch;
pub mod outbound;
pub mod platform_input;
pub mod platforms;
pub mod registration;
pub mod secret;
pub mod server;
pub mod services;
pub mod store;
pub mod telemetry;
