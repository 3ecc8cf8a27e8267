//! The platform's answer to the registration POST (DR §3.6).

use serde_json::{Map, Value};

use super::{MAX_DOCUMENT_LEN, RegistrationError, TOOL_CONFIGURATION_KEY, member};

/// The platform's answer to the registration POST.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistrationResponse {
    /// The client id the platform assigned (a JSON number is turned into its text).
    pub client_id: String,
    /// The deployment id, when the platform created one with the registration.
    pub deployment_id: Option<String>,
    /// The scopes granted (`scope` split on whitespace); empty when none or absent.
    pub scopes: Vec<String>,
    /// The whole answer as received.
    pub raw: Value,
}

/// Reads the platform's registration response.
///
/// DR §3.6: the platform answers with the registration it kept, plus `client_id`; "the
/// platform MAY include the deployment_id" inside the tool configuration object. Liberal in
/// what it accepts:
/// - `client_id` is required: a non-empty string, or a JSON number (stringified);
/// - `deployment_id` is read from the tool configuration object (spec, Moodle: `"2"`), else
///   from the top level (Canvas: `"9:8865aa…"`), else absent (spec example, Blackboard, older
///   Canvas: the deployment arrives with the first launch); a number is stringified, an empty
///   string counts as absent;
/// - `scope` is split on whitespace (Moodle often answers `""`); an array of strings is also
///   read; absent means none;
/// - everything else is ignored; `raw` keeps the answer.
pub fn parse_registration_response(json: &[u8]) -> Result<RegistrationResponse, RegistrationError> {
    if json.len() > MAX_DOCUMENT_LEN {
        return Err(RegistrationError::DocumentTooLarge {
            max: MAX_DOCUMENT_LEN,
        });
    }
    let raw: Value =
        serde_json::from_slice(json).map_err(|_| RegistrationError::ResponseInvalid)?;
    let document = raw.as_object().ok_or(RegistrationError::ResponseInvalid)?;

    let client_id = match document.get("client_id") {
        None | Some(Value::Null) => {
            return Err(RegistrationError::ResponseFieldMissing { field: "client_id" });
        }
        Some(value) => identifier(value)
            .ok_or(RegistrationError::ResponseFieldInvalid { field: "client_id" })?,
    };

    let tool_configuration = member(document, TOOL_CONFIGURATION_KEY).and_then(Value::as_object);
    let deployment_id = match tool_configuration
        .and_then(|t| deployment_id(t, "lti-tool-configuration.deployment_id"))
        .transpose()?
    {
        Some(id) => Some(id),
        None => deployment_id(document, "deployment_id").transpose()?,
    };

    let scopes = match document.get("scope") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(scope)) => scope.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect(),
        Some(_) => return Err(RegistrationError::ResponseFieldInvalid { field: "scope" }),
    };

    Ok(RegistrationResponse {
        client_id,
        deployment_id,
        scopes,
        raw,
    })
}

/// A non-empty string, or an integer as text.
fn identifier(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// `deployment_id` of `object`: `None` when absent, null or empty; an error when it is there
/// but neither a string nor an integer.
fn deployment_id(
    object: &Map<String, Value>,
    field: &'static str,
) -> Option<Result<String, RegistrationError>> {
    match object.get("deployment_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(value) => {
            Some(identifier(value).ok_or(RegistrationError::ResponseFieldInvalid { field }))
        }
    }
}
