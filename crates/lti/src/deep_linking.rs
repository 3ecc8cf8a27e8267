//! The tool's side of Deep Linking 2.0: content items and the `LtiDeepLinkingResponse`.
//!
//! An app sends its content items the way the LTIAAS API takes them (`{type, url, title,
//! lineItem: {scoreMaximum, ...}, ...}`), which are already the spec's member names (Deep
//! Linking 2.0 §3: every content item property is camelCase, `lineItem` included). This module
//! reads each item into its typed shape, checks it against what the platform said it accepts
//! in the request's `deep_linking_settings` (§4.4.1), and builds the claims of the response
//! message (§4.2). Explicit `null`s are dropped; properties this crate does not know
//! (platform extensions such as Canvas's) are passed through unchanged.
//!
//! What it does not do: sign (the server holds the keys), read the clock or draw the nonce
//! (the caller passes both in), or check URLs for reachability.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::claims::{DeepLinkingSettings, LTI_VERSION};
use crate::ids::{ClientId, DeploymentId, Issuer};

/// Claim names of the response message.
pub mod uri {
    /// The content items the user picked (§4.2.3).
    pub const CONTENT_ITEMS: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items";
    /// The request's `data`, echoed unchanged (§4.2.2).
    pub const DATA: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/data";
    /// Message shown to the user on success.
    pub const MSG: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/msg";
    /// Message logged by the platform on success.
    pub const LOG: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/log";
    /// Message shown to the user on failure.
    pub const ERRORMSG: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg";
    /// Message logged by the platform on failure.
    pub const ERRORLOG: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog";
    /// LTI deployment id.
    pub const DEPLOYMENT_ID: &str = "https://purl.imsglobal.org/spec/lti/claim/deployment_id";
    /// LTI message type.
    pub const MESSAGE_TYPE: &str = "https://purl.imsglobal.org/spec/lti/claim/message_type";
    /// LTI version.
    pub const VERSION: &str = "https://purl.imsglobal.org/spec/lti/claim/version";
}

/// The `message_type` of the response.
pub const RESPONSE_MESSAGE_TYPE: &str = "LtiDeepLinkingResponse";

/// How long a response is valid, in seconds: the browser posts it at once.
pub const RESPONSE_LIFETIME_SECS: i64 = 300;

/// The content item types of Deep Linking 2.0 §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContentItemType {
    /// A link that launches the tool (§3.1).
    #[serde(rename = "ltiResourceLink")]
    LtiResourceLink,
    /// A plain link (§3.2).
    #[serde(rename = "link")]
    Link,
    /// A file to download (§3.3).
    #[serde(rename = "file")]
    File,
    /// An HTML fragment (§3.4).
    #[serde(rename = "html")]
    Html,
    /// An image (§3.5).
    #[serde(rename = "image")]
    Image,
}

impl ContentItemType {
    const ALL: [Self; 5] = [
        Self::LtiResourceLink,
        Self::Link,
        Self::File,
        Self::Html,
        Self::Image,
    ];

    /// The value of the item's `type` (and of `accept_types`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LtiResourceLink => "ltiResourceLink",
            Self::Link => "link",
            Self::File => "file",
            Self::Html => "html",
            Self::Image => "image",
        }
    }

    /// The type named by `value`, if it is one of the spec's.
    pub fn from_wire(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    /// The property this type cannot do without (§3): the link, file and image need a `url`
    /// (a resource link may leave it to the tool's default), the fragment its `html`.
    fn required_property(self) -> Option<&'static str> {
        match self {
            Self::Link | Self::File | Self::Image => Some("url"),
            Self::Html => Some("html"),
            Self::LtiResourceLink => None,
        }
    }
}

impl fmt::Display for ContentItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Members this crate does not know, kept as sent (minus explicit `null`s).
pub type Extensions = Map<String, Value>;

/// `icon` and `thumbnail`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageRef {
    /// The image's URL (required).
    pub url: String,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Unknown members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `lineItem` of a resource link (§3.1, with AGS 2.0's member names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Label; the platform uses the item's title when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Maximum score, a positive number (required), kept as sent (`100` stays `100`).
    pub score_maximum: Number,
    /// The tool's id of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Free tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Whether the platform should release grades to learners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grades_released: Option<bool>,
    /// Unknown members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `available` and `submission`: ISO 8601 start and end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeWindow {
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<String>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
    /// Unknown members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `iframe`: how to embed the item (`src` for a link, absent for a resource link).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Iframe {
    /// The frame's source, when it differs from the item's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Unknown members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `window`: how to open the item in a new window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// Name of the window, so several links can share one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// `window.open()` features, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_features: Option<String>,
    /// Unknown members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `embed`: an HTML fragment that embeds the item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Embed {
    /// The fragment (required).
    pub html: String,
    /// Unknown members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One content item, as the spec's JSON (§3). Serializes to the member names of the spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentItem {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: ContentItemType,
    /// Where the item lives (required for link, file and image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Plain-text description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<ImageRef>,
    /// Thumbnail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<ImageRef>,
    /// Line item to create with a resource link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_item: Option<LineItem>,
    /// When learners may open the item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<TimeWindow>,
    /// When learners may submit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission: Option<TimeWindow>,
    /// Embedding in a frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iframe: Option<Iframe>,
    /// Opening in a window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Embedding as HTML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embed: Option<Embed>,
    /// Custom parameters of a resource link (string values only, §3.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<BTreeMap<String, String>>,
    /// Until when a file's URL works.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// A file's media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The fragment of an html item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// An image's width in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// An image's height in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Unknown members, passed through.
    #[serde(flatten)]
    pub extensions: Extensions,
}

impl ContentItem {
    /// Reads item number `index` of the app's list: a JSON object with a known `type`, each
    /// known property of its shape, the type's required property present.
    pub fn from_value(index: usize, value: Value) -> Result<Self, DeepLinkingError> {
        let Value::Object(mut members) = value else {
            return Err(DeepLinkingError::ItemNotObject { index });
        };
        members.retain(|_, v| !v.is_null());
        let kind = match members.remove("type") {
            None => return Err(DeepLinkingError::TypeMissing { index }),
            Some(Value::String(kind)) => {
                ContentItemType::from_wire(&kind).ok_or(DeepLinkingError::TypeUnknown { index })?
            }
            Some(_) => return Err(DeepLinkingError::TypeUnknown { index }),
        };
        let mut read = Reader {
            index,
            members: &mut members,
        };
        let item = Self {
            kind,
            url: read.take("url")?,
            title: read.take("title")?,
            text: read.take("text")?,
            icon: read.take("icon")?,
            thumbnail: read.take("thumbnail")?,
            line_item: read.take("lineItem")?,
            available: read.take("available")?,
            submission: read.take("submission")?,
            iframe: read.take("iframe")?,
            window: read.take("window")?,
            embed: read.take("embed")?,
            custom: read.take("custom")?,
            expires_at: read.take("expiresAt")?,
            media_type: read.take("mediaType")?,
            html: read.take("html")?,
            width: read.take("width")?,
            height: read.take("height")?,
            extensions: members,
        };
        if let Some(line_item) = &item.line_item
            && !line_item
                .score_maximum
                .as_f64()
                .is_some_and(|max| max > 0.0)
        {
            return Err(DeepLinkingError::PropertyInvalid {
                index,
                property: "lineItem.scoreMaximum",
            });
        }
        if let Some(property) = kind.required_property() {
            let value = match property {
                "url" => item.url.as_deref(),
                _ => item.html.as_deref(),
            };
            if value.is_none_or(str::is_empty) {
                return Err(DeepLinkingError::PropertyMissing {
                    index,
                    kind,
                    property,
                });
            }
        }
        Ok(item)
    }
}

/// Takes known properties out of an item, leaving the extensions.
struct Reader<'a> {
    index: usize,
    members: &'a mut Map<String, Value>,
}

impl Reader<'_> {
    fn take<T: DeserializeOwned>(
        &mut self,
        property: &'static str,
    ) -> Result<Option<T>, DeepLinkingError> {
        let Some(mut value) = self.members.remove(property) else {
            return Ok(None);
        };
        // One level down too: `{"icon": {"url": "...", "width": null}}` loses its null.
        if let Value::Object(nested) = &mut value {
            nested.retain(|_, v| !v.is_null());
        }
        T::deserialize(value)
            .map(Some)
            .map_err(|_| DeepLinkingError::PropertyInvalid {
                index: self.index,
                property,
            })
    }
}

/// Reads the app's items and checks them against the request's settings (§4.4.1):
/// each `type` in `accept_types` (an empty list, which the spec does not allow, restricts
/// nothing), more than one item only when `accept_multiple` is true, a `lineItem` only when
/// `accept_lineitem` is not false.
pub fn content_items(
    items: Vec<Value>,
    settings: &DeepLinkingSettings,
) -> Result<Vec<ContentItem>, DeepLinkingError> {
    if items.len() > 1 && settings.accept_multiple != Some(true) {
        return Err(DeepLinkingError::MultipleNotAccepted { count: items.len() });
    }
    let items = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| ContentItem::from_value(index, item))
        .collect::<Result<Vec<_>, _>>()?;
    for (index, item) in items.iter().enumerate() {
        let accepted = settings.accept_types.is_empty()
            || settings
                .accept_types
                .iter()
                .any(|t| t == item.kind.as_str());
        if !accepted {
            return Err(DeepLinkingError::TypeNotAccepted {
                index,
                kind: item.kind,
            });
        }
        if item.line_item.is_some() && settings.accept_lineitem == Some(false) {
            return Err(DeepLinkingError::LineItemNotAccepted { index });
        }
    }
    Ok(items)
}

/// What the app may add to the response (LTIAAS `options`), each mapped to its claim:
/// `message` -> `msg`, `log` -> `log`, `errMessage` -> `errormsg`, `errLog` -> `errorlog`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseOptions {
    /// Shown to the user on success.
    #[serde(default)]
    pub message: Option<String>,
    /// Logged by the platform on success.
    #[serde(default)]
    pub log: Option<String>,
    /// Shown to the user on failure.
    #[serde(default)]
    pub err_message: Option<String>,
    /// Logged by the platform on failure.
    #[serde(default)]
    pub err_log: Option<String>,
}

/// The body of the LTIAAS deep linking endpoints: `{contentItems, options}`, `null`s allowed.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseRequest {
    /// The items as the app sent them; read by [`content_items`].
    #[serde(default)]
    pub content_items: Option<Vec<Value>>,
    /// Messages for the platform.
    #[serde(default)]
    pub options: Option<ResponseOptions>,
}

/// Who the response is from and to, and when: everything but the items.
#[derive(Clone, Copy, Debug)]
pub struct ResponseContext<'a> {
    /// The tool's client id at the platform: `iss` of the response.
    pub client_id: &'a ClientId,
    /// The platform's issuer: `aud` of the response.
    pub platform_issuer: &'a Issuer,
    /// The request's deployment id.
    pub deployment_id: &'a DeploymentId,
    /// The request's settings (`data` is echoed from them).
    pub settings: &'a DeepLinkingSettings,
    /// Seconds since the Unix epoch.
    pub now: i64,
    /// A fresh random value, unique per response.
    pub nonce: &'a str,
}

/// The claims of the `LtiDeepLinkingResponse` (§4.2) for the app's request: items read and
/// checked with [`content_items`], `data` echoed exactly when the request had it.
pub fn response_claims(
    context: &ResponseContext<'_>,
    request: ResponseRequest,
) -> Result<Map<String, Value>, DeepLinkingError> {
    let items = content_items(request.content_items.unwrap_or_default(), context.settings)?;
    let options = request.options.unwrap_or_default();
    let mut claims = Map::new();
    claims.insert("iss".into(), context.client_id.as_str().into());
    claims.insert("aud".into(), context.platform_issuer.as_str().into());
    claims.insert("iat".into(), context.now.into());
    claims.insert(
        "exp".into(),
        context.now.saturating_add(RESPONSE_LIFETIME_SECS).into(),
    );
    claims.insert("nonce".into(), context.nonce.into());
    claims.insert(
        uri::DEPLOYMENT_ID.into(),
        context.deployment_id.as_str().into(),
    );
    claims.insert(uri::MESSAGE_TYPE.into(), RESPONSE_MESSAGE_TYPE.into());
    claims.insert(uri::VERSION.into(), LTI_VERSION.into());
    if let Some(data) = &context.settings.data {
        claims.insert(uri::DATA.into(), data.clone());
    }
    let items = items
        .iter()
        .enumerate()
        // Serializing these plain structs cannot fail; were it to, it is a refusal, not a panic.
        .map(|(index, item)| {
            serde_json::to_value(item).map_err(|_| DeepLinkingError::ItemNotObject { index })
        })
        .collect::<Result<Vec<_>, _>>()?;
    claims.insert(uri::CONTENT_ITEMS.into(), Value::Array(items));
    for (claim, value) in [
        (uri::MSG, options.message),
        (uri::LOG, options.log),
        (uri::ERRORMSG, options.err_message),
        (uri::ERRORLOG, options.err_log),
    ] {
        if let Some(value) = value {
            claims.insert(claim.into(), value.into());
        }
    }
    Ok(claims)
}

/// Why the app's content items cannot go into a response. `Display` names the rule and the
/// item index, from this crate's text only (never an item's values).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeepLinkingError {
    /// An item is not a JSON object.
    #[error("content item {index} is not a JSON object")]
    ItemNotObject {
        /// Position in `contentItems`.
        index: usize,
    },
    /// An item has no `type`.
    #[error("content item {index} has no type")]
    TypeMissing {
        /// Position in `contentItems`.
        index: usize,
    },
    /// An item's `type` is not one of the spec's.
    #[error(
        "content item {index} has a type other than ltiResourceLink, link, file, html or image"
    )]
    TypeUnknown {
        /// Position in `contentItems`.
        index: usize,
    },
    /// An item lacks what its type requires.
    #[error("content item {index} of type {kind} lacks its required property {property}")]
    PropertyMissing {
        /// Position in `contentItems`.
        index: usize,
        /// Its type.
        kind: ContentItemType,
        /// The missing property.
        property: &'static str,
    },
    /// A known property has the wrong shape.
    #[error("content item {index} has an invalid {property}")]
    PropertyInvalid {
        /// Position in `contentItems`.
        index: usize,
        /// The property.
        property: &'static str,
    },
    /// `accept_types`: the platform does not take this type.
    #[error(
        "accept_types: the platform does not accept content items of type {kind} (item {index})"
    )]
    TypeNotAccepted {
        /// Position in `contentItems`.
        index: usize,
        /// The refused type.
        kind: ContentItemType,
    },
    /// `accept_multiple`: the platform takes one item at most.
    #[error("accept_multiple: the platform accepts one content item at most, not {count}")]
    MultipleNotAccepted {
        /// How many items were sent.
        count: usize,
    },
    /// `accept_lineitem`: the platform does not create line items.
    #[error("accept_lineitem: the platform does not accept a lineItem (item {index})")]
    LineItemNotAccepted {
        /// Position in `contentItems`.
        index: usize,
    },
}

impl DeepLinkingError {
    /// The stable code: every refusal of the app's items is one code; the rule tells them apart.
    pub fn code(&self) -> &'static str {
        "DEEP_LINKING_ITEM_REFUSED"
    }

    /// The broken rule: a settings member (`accept_types`, `accept_multiple`,
    /// `accept_lineitem`) or `content_item` for an item that is malformed in itself.
    pub fn rule(&self) -> &'static str {
        match self {
            Self::TypeNotAccepted { .. } => "accept_types",
            Self::MultipleNotAccepted { .. } => "accept_multiple",
            Self::LineItemNotAccepted { .. } => "accept_lineitem",
            Self::ItemNotObject { .. }
            | Self::TypeMissing { .. }
            | Self::TypeUnknown { .. }
            | Self::PropertyMissing { .. }
            | Self::PropertyInvalid { .. } => "content_item",
        }
    }
}

#[cfg(test)]
mod tests;
