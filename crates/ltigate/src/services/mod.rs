//! LTI Advantage for the app: what a call may reach ([`ServiceContext`]), service keys
//! ([`keys`]), the platform calls with service access tokens ([`tokens`]), AGS ([`ags`]),
//! NRPS ([`nrps`]) and deep linking responses ([`deep_linking`]).
//!
//! Services return their own error enums and never see HTTP types; `http` maps them.

pub mod ags;
pub mod deep_linking;
pub mod endpoint;
pub mod keys;
pub mod nrps;
pub mod tokens;

use lti::claims::{AgsEndpoint, Context, LaunchClaims, NrpsService};
use serde::{Deserialize, Serialize};

use crate::store::Platform;

/// What an app call may reach: the context of an ltik's launch, or of a service key.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    pub platform: Platform,
    pub deployment_id: String,
    pub context: Option<Context>,
    /// The launch's resource link; `None` for a service key (it serves the whole context).
    pub resource_link_id: Option<String>,
    /// The AGS claim; with a service key its `lineitem` is `None` (that belongs to a link).
    pub ags: Option<AgsEndpoint>,
    pub nrps: Option<NrpsService>,
}

impl ServiceContext {
    /// The context of a verified launch.
    pub fn of_launch(platform: Platform, deployment_id: String, claims: &LaunchClaims) -> Self {
        Self {
            platform,
            deployment_id,
            context: claims.context().cloned(),
            resource_link_id: claims.resource_link().map(|l| l.id.clone()),
            ags: claims.ags().cloned(),
            nrps: claims.nrps().cloned(),
        }
    }

    /// The context a service key reaches, from what its context's launches said.
    pub fn of_key(platform: Platform, deployment_id: String, services: ContextServices) -> Self {
        Self {
            platform,
            deployment_id,
            context: services.context,
            resource_link_id: None,
            ags: services.ags,
            nrps: services.nrps,
        }
    }
}

/// What a service key stores about its context: the services of the context, without what
/// belongs to one resource link (so launches from every link of a course agree on it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextServices {
    pub context: Option<Context>,
    pub ags: Option<AgsEndpoint>,
    pub nrps: Option<NrpsService>,
}

impl ContextServices {
    pub fn of_launch(claims: &LaunchClaims) -> Self {
        Self {
            context: claims.context().cloned(),
            ags: claims.ags().map(|ags| AgsEndpoint {
                lineitem: None,
                ..ags.clone()
            }),
            nrps: claims.nrps().cloned(),
        }
    }
}
