//! The LMS-side record of a registered tool, and the kinds of launch the LMS can start.

use url::Url;

/// A tool as the LMS administrator registered it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tool {
    pub client_id: String,
    pub deployment_id: String,
    /// OIDC third-party login initiation URL.
    pub login_url: String,
    /// The only URLs the authorization endpoint will post an id_token to.
    pub redirect_uris: Vec<String>,
    /// Where resource link launches go.
    pub target_link_uri: String,
    /// Where deep linking requests go; `target_link_uri` when absent.
    pub deep_linking_url: Option<String>,
    /// The tool's JWKS (e.g. ltigate's `/lti/keys`): the keys that sign its client assertions
    /// and deep linking responses. Without it the platform refuses both.
    pub jwks_uri: Option<String>,
}

impl Tool {
    /// The launch target for a message type.
    pub(crate) fn target_for(&self, message_type: MessageType) -> &str {
        match (message_type, &self.deep_linking_url) {
            (MessageType::DeepLinking, Some(url)) => url,
            _ => &self.target_link_uri,
        }
    }

    /// Origins the tool's pages run on (login and redirect pages): the only origins the
    /// platform storage answers, and the only `targetOrigin`s it replies to.
    pub(crate) fn origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = std::iter::once(&self.login_url)
            .chain(&self.redirect_uris)
            .filter_map(|url| Url::parse(url).ok())
            .map(|url| url.origin())
            .filter(|origin| origin.is_tuple())
            .map(|origin| origin.ascii_serialization())
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }
}

/// The LTI message the LMS starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `LtiResourceLinkRequest`
    ResourceLink,
    /// `LtiDeepLinkingRequest`
    DeepLinking,
}

impl MessageType {
    /// The value of the `message_type` claim.
    pub fn claim_value(self) -> &'static str {
        match self {
            Self::ResourceLink => "LtiResourceLinkRequest",
            Self::DeepLinking => "LtiDeepLinkingRequest",
        }
    }

    pub(crate) fn from_claim_value(value: &str) -> Option<Self> {
        [Self::ResourceLink, Self::DeepLinking]
            .into_iter()
            .find(|kind| kind.claim_value() == value)
    }

    /// The value of the launch page's `message_type` query parameter.
    pub fn query_value(self) -> &'static str {
        match self {
            Self::ResourceLink => "resource_link",
            Self::DeepLinking => "deep_linking",
        }
    }

    pub(crate) fn from_query_value(value: &str) -> Option<Self> {
        [Self::ResourceLink, Self::DeepLinking]
            .into_iter()
            .find(|kind| kind.query_value() == value)
    }
}

/// Where the tool may keep its login state during a launch from the LMS course page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Storage {
    /// No platform storage: the tool must use cookies.
    #[default]
    Cookie,
    /// Platform storage in the course page itself (`lti_storage_target=_parent`).
    Platform,
    /// Platform storage in a named hidden frame of the course page.
    PlatformFrame,
}

impl Storage {
    /// The value of the launch page's `storage` query parameter.
    pub fn query_value(self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::Platform => "platform",
            Self::PlatformFrame => "platform_frame",
        }
    }

    pub(crate) fn from_query_value(value: &str) -> Option<Self> {
        [Self::Cookie, Self::Platform, Self::PlatformFrame]
            .into_iter()
            .find(|storage| storage.query_value() == value)
    }
}
