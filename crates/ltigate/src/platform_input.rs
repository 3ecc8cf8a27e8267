//! Validation of platform registrations entered by people (admin API and CLI).
//!
//! Issuers are compared byte for byte with the `iss` claim, so they are checked by parsing
//! but stored exactly as given.

use lti::error::LaunchError;
use lti::ids::{ClientId, Issuer};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::code::Code;
use crate::store::{KeyMethod, NewPlatform, PlatformKey, PlatformStatus, PlatformUpdate};

const MAX_ID_LEN: usize = 255;
const MAX_URL_LEN: usize = 2048;
const MAX_DEPLOYMENTS: usize = 1000;

/// A platform as sent to the admin API (LTIAAS names). Every field may be absent or `null`;
/// which are required depends on the operation. Unknown fields are ignored, so a platform
/// read with GET can be sent back with PUT.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformFields {
    pub url: Option<String>,
    pub client_id: Option<String>,
    pub name: Option<String>,
    pub authentication_endpoint: Option<String>,
    pub accesstoken_endpoint: Option<String>,
    /// The `aud` of service token requests when it is not the token endpoint; `""` clears it.
    pub authorization_server: Option<String>,
    pub auth_config: Option<AuthConfig>,
    pub deployment_ids: Option<Vec<String>>,
    pub active: Option<bool>,
    pub allow_new_deployments: Option<bool>,
}

/// How the platform's signing key is found: `JWK_SET` (a JWKS URL), `JWK_KEY` (one JWK,
/// as an object or JSON text) or `RSA_KEY` (a PEM public key).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AuthConfig {
    #[schema(pattern = "^(JWK_SET|JWK_KEY|RSA_KEY)$")]
    pub method: String,
    /// The JWKS URL, the JWK (object or JSON text) or the PEM public key.
    pub key: Value,
}

/// A rejected input; the message names the field (it is shown to the administrator).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    #[error("{0}")]
    MissingField(String),
    #[error("{0}")]
    InvalidUrl(String),
    #[error("{0}")]
    InsecureUrl(String),
    #[error("{0}")]
    InvalidField(String),
    #[error("{0}")]
    InvalidAuthConfig(String),
}

impl InvalidInput {
    /// The stable code of the refusal.
    pub fn code(&self) -> Code {
        match self {
            Self::MissingField(_) => Code::MissingField,
            Self::InvalidUrl(_) => Code::InvalidUrl,
            Self::InsecureUrl(_) => Code::InsecureUrl,
            Self::InvalidField(_) => Code::InvalidField,
            Self::InvalidAuthConfig(_) => Code::InvalidAuthConfig,
        }
    }
}

/// A complete platform (POST, PUT, CLI add). Absent `active` means active; absent
/// `allowNewDeployments` means "record new deployments" only when no deployment ids are given.
pub fn new_platform(fields: PlatformFields, allow_http: bool) -> Result<NewPlatform, InvalidInput> {
    let required = |value: Option<String>, field: &str| {
        value.ok_or_else(|| InvalidInput::MissingField(format!("`{field}` is required.")))
    };
    let auth_config = fields
        .auth_config
        .ok_or_else(|| InvalidInput::MissingField("`authConfig` is required.".into()))?;
    let deployment_ids = deployment_ids(fields.deployment_ids.unwrap_or_default())?;
    Ok(NewPlatform {
        issuer: issuer(required(fields.url, "url")?, allow_http)?,
        client_id: client_id(required(fields.client_id, "clientId")?)?,
        name: name(required(fields.name, "name")?)?,
        auth_endpoint: endpoint(
            required(fields.authentication_endpoint, "authenticationEndpoint")?,
            "authenticationEndpoint",
            allow_http,
        )?,
        token_endpoint: endpoint(
            required(fields.accesstoken_endpoint, "accesstokenEndpoint")?,
            "accesstokenEndpoint",
            allow_http,
        )?,
        authorization_server: fields
            .authorization_server
            .map(authorization_server)
            .transpose()?
            .flatten(),
        key: platform_key(auth_config, allow_http)?,
        status: status(fields.active.unwrap_or(true)),
        allow_new_deployments: fields
            .allow_new_deployments
            .unwrap_or(deployment_ids.is_empty()),
        product_family: None,
        version: None,
        scopes: Vec::new(),
        deployment_ids,
    })
}

/// PUT: every field of a complete platform replaces the stored one.
pub fn full_update(new: NewPlatform) -> PlatformUpdate {
    PlatformUpdate {
        issuer: Some(new.issuer),
        client_id: Some(new.client_id),
        name: Some(new.name),
        auth_endpoint: Some(new.auth_endpoint),
        token_endpoint: Some(new.token_endpoint),
        authorization_server: Some(new.authorization_server),
        key: Some(new.key),
        status: Some(new.status),
        allow_new_deployments: Some(new.allow_new_deployments),
        deployment_ids: Some(new.deployment_ids),
    }
}

/// PATCH: only present fields change.
pub fn partial_update(
    fields: PlatformFields,
    allow_http: bool,
) -> Result<PlatformUpdate, InvalidInput> {
    Ok(PlatformUpdate {
        issuer: fields.url.map(|u| issuer(u, allow_http)).transpose()?,
        client_id: fields.client_id.map(client_id).transpose()?,
        name: fields.name.map(name).transpose()?,
        auth_endpoint: fields
            .authentication_endpoint
            .map(|u| endpoint(u, "authenticationEndpoint", allow_http))
            .transpose()?,
        token_endpoint: fields
            .accesstoken_endpoint
            .map(|u| endpoint(u, "accesstokenEndpoint", allow_http))
            .transpose()?,
        authorization_server: fields
            .authorization_server
            .map(authorization_server)
            .transpose()?,
        key: fields
            .auth_config
            .map(|a| platform_key(a, allow_http))
            .transpose()?,
        status: fields.active.map(status),
        allow_new_deployments: fields.allow_new_deployments,
        deployment_ids: fields.deployment_ids.map(deployment_ids).transpose()?,
    })
}

fn status(active: bool) -> PlatformStatus {
    if active {
        PlatformStatus::Active
    } else {
        PlatformStatus::Inactive
    }
}

/// An http(s) URL; plain http only when allowed (local development).
fn checked_url(value: &str, field: &str, allow_http: bool) -> Result<Url, InvalidInput> {
    if value.len() > MAX_URL_LEN {
        return Err(InvalidInput::InvalidUrl(format!("`{field}` is too long.")));
    }
    let url = Url::parse(value)
        .map_err(|e| InvalidInput::InvalidUrl(format!("`{field}` is not a valid URL: {e}.")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(InvalidInput::InsecureUrl(format!(
                "`{field}` must use https (set allow_insecure_http for local development)."
            )));
        }
        _ => {
            return Err(InvalidInput::InvalidUrl(format!(
                "`{field}` must be an https URL."
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) || url.fragment().is_some() {
        return Err(InvalidInput::InvalidUrl(format!(
            "`{field}` must have a host and no fragment."
        )));
    }
    Ok(url)
}

fn issuer(value: String, allow_http: bool) -> Result<Issuer, InvalidInput> {
    let value = value.trim().to_owned();
    checked_url(&value, "url", allow_http)?;
    Ok(Issuer::new(value))
}

fn endpoint(value: String, field: &str, allow_http: bool) -> Result<Url, InvalidInput> {
    checked_url(value.trim(), field, allow_http)
}

/// An authorization server identifier: a URL or, as Canvas sends it, a host name. Empty means
/// none (the token endpoint is the audience).
fn authorization_server(value: String) -> Result<Option<String>, InvalidInput> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > MAX_URL_LEN || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InvalidInput::InvalidField(format!(
            "`authorizationServer` must be a URL or host name of at most {MAX_URL_LEN} characters."
        )));
    }
    Ok(Some(value.to_owned()))
}

fn client_id(value: String) -> Result<ClientId, InvalidInput> {
    identifier(value, "clientId").map(ClientId::new)
}

fn identifier(value: String, field: &str) -> Result<String, InvalidInput> {
    let value = value.trim().to_owned();
    if value.is_empty() || value.len() > MAX_ID_LEN {
        return Err(InvalidInput::InvalidField(format!(
            "`{field}` must be 1 to {MAX_ID_LEN} characters."
        )));
    }
    Ok(value)
}

fn name(value: String) -> Result<String, InvalidInput> {
    identifier(value, "name")
}

fn deployment_ids(ids: Vec<String>) -> Result<Vec<String>, InvalidInput> {
    if ids.len() > MAX_DEPLOYMENTS {
        return Err(InvalidInput::InvalidField(format!(
            "`deploymentIds` may hold at most {MAX_DEPLOYMENTS} ids."
        )));
    }
    ids.into_iter()
        .map(|id| identifier(id, "deploymentIds[]"))
        .collect()
}

fn platform_key(config: AuthConfig, allow_http: bool) -> Result<PlatformKey, InvalidInput> {
    let bad_key = |why: &str| InvalidInput::InvalidAuthConfig(format!("`authConfig.key` {why}."));
    let key_text = match config.key {
        Value::String(s) => s.trim().to_owned(),
        Value::Object(_) if config.method == KeyMethod::JwkKey.as_str() => config.key.to_string(),
        _ => return Err(bad_key("must be a string")),
    };
    let method = KeyMethod::parse(&config.method).ok_or_else(|| {
        InvalidInput::InvalidAuthConfig(
            "`authConfig.method` must be JWK_SET, JWK_KEY or RSA_KEY.".into(),
        )
    })?;
    match method {
        KeyMethod::JwkSet => {
            checked_url(&key_text, "authConfig.key", allow_http).map(PlatformKey::JwkSet)
        }
        // The launch's own key rules: a key stored here must be able to verify an id_token.
        KeyMethod::JwkKey => PlatformKey::jwk(key_text).map_err(unusable_key),
        KeyMethod::RsaKey => PlatformKey::rsa_pem(key_text).map_err(unusable_key),
    }
}

/// Names why `lti` refused the key (its reasons are its own fixed text, never the input).
fn unusable_key(e: LaunchError) -> InvalidInput {
    let why = match e {
        LaunchError::KeyUnsupported { reason } => reason,
        _ => "is not a usable key",
    };
    InvalidInput::InvalidAuthConfig(format!(
        "`authConfig.key` cannot verify id_tokens: {why} (allowed: RSA of 2048 to 8192 \
             bits, EC P-256)."
    ))
}

#[cfg(test)]
mod tests;
