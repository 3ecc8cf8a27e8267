//! The platform's end of Deep Linking 2.0: the `deep_link_return_url` that receives the
//! tool's `LtiDeepLinkingResponse` (a form field `JWT`), verified as a strict platform does
//! (Deep Linking 2.0 §4.2, Security Framework §5.2), and the content items it placed in the
//! course.
//!
//! The response's signature is checked with the key its `kid` names in the tool's JWKS,
//! fetched from the tool's registered `jwks_uri` on every response (no cache: tests rotate
//! keys and the simulator is not on a hot path).

use crate::html::{error_page, escape};
use crate::jws;
use crate::platform::Platform;
use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

const LTI: &str = "https://purl.imsglobal.org/spec/lti/claim/";
const DL: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/";
/// How many deep linking requests may wait for their response at once (oldest forgotten).
const MAX_PENDING: usize = 1024;
/// Clock skew allowed on `iat`, in seconds.
const LEEWAY: u64 = 60;

/// What the platform remembers about deep linking.
#[derive(Default)]
pub(crate) struct DeepLinks {
    ledger: Mutex<Ledger>,
}

#[derive(Default)]
struct Ledger {
    /// `(data, client_id)` of the requests sent, newest last.
    pending: VecDeque<(Value, String)>,
    /// Nonces of accepted responses (a response is accepted once).
    nonces: HashSet<String>,
    /// Every content item placed, in order.
    items: Vec<Value>,
    /// The claims of every accepted response.
    responses: Vec<Value>,
}

impl DeepLinks {
    fn state(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // Each update is a few pushes: a panic cannot leave the state half-written.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers the `data` of a deep linking request sent to `client_id`.
    pub(crate) fn issue(&self, data: &Value, client_id: &str) {
        let mut state = self.state();
        if state.pending.len() >= MAX_PENDING {
            state.pending.pop_front();
        }
        state
            .pending
            .push_back((data.clone(), client_id.to_owned()));
    }

    /// Whether `data` (any JSON value) was sent to `client_id` in a request.
    fn was_issued(&self, data: &Value, client_id: &str) -> bool {
        !data.is_null()
            && self
                .state()
                .pending
                .iter()
                .any(|(d, c)| d == data && c == client_id)
    }

    /// Records an accepted response, unless its nonce was already used.
    fn accept(&self, nonce: &str, items: &[Value], claims: &Map<String, Value>) -> bool {
        let mut state = self.state();
        if !state.nonces.insert(nonce.to_owned()) {
            return false;
        }
        state.items.extend(items.iter().cloned());
        state.responses.push(Value::Object(claims.clone()));
        true
    }

    pub(crate) fn items(&self) -> Vec<Value> {
        self.state().items.clone()
    }

    pub(crate) fn responses(&self) -> Vec<Value> {
        self.state().responses.clone()
    }
}

/// `POST /deep_link_return`: verifies the response, places its items, and shows them.
pub(crate) async fn deep_link_return(
    State(platform): State<Arc<Platform>>,
    RawForm(body): RawForm,
) -> Response {
    let jwt = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "JWT")
        .map(|(_, value)| value.into_owned());
    let Some(jwt) = jwt else {
        return refused("the form has no JWT field");
    };
    match verify(&platform, &jwt).await {
        Ok(accepted) => Html(accepted_page(&accepted)).into_response(),
        Err(reason) => refused(&reason),
    }
}

fn refused(reason: &str) -> Response {
    let page = error_page("Deep linking response refused", reason);
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

/// An accepted response: the items placed and the messages for the user.
struct Accepted {
    items: Vec<Value>,
    msg: Option<String>,
    errormsg: Option<String>,
}

/// The checks of a platform receiving an `LtiDeepLinkingResponse`, in order; the first
/// failure is the reason shown.
async fn verify(platform: &Platform, jwt: &str) -> Result<Accepted, String> {
    // 1. A compact JWS whose payload is an object.
    let decoded = jws::decode(jwt)?;
    let Value::Object(claims) = decoded.claims.clone() else {
        return Err("the JWT payload is not a JSON object".into());
    };
    // 2. iss is a registered tool's client_id; its key signed the message (RS256, by kid).
    let client_id = string(&claims, "iss").ok_or("iss is missing")?;
    let tool = platform
        .tool(client_id)
        .ok_or("iss is not the client_id of a registered tool")?;
    let jwks_uri = tool
        .jwks_uri
        .as_deref()
        .ok_or("the tool has no registered JWKS URL")?;
    let client = platform
        .services
        .oauth
        .http_client()
        .ok_or("the platform cannot make HTTP requests")?;
    let jwks = jws::fetch_jwks(client, jwks_uri)
        .await
        .map_err(|why| format!("the tool's JWKS could not be fetched: {why}"))?;
    decoded.verify_rs256(&jwks)?;
    // 3. Addressed to this platform, for the tool's deployment.
    let issuer = platform.issuer();
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == issuer,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(&issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err("aud is not this platform's issuer".into());
    }
    if string(&claims, &format!("{LTI}deployment_id")) != Some(tool.deployment_id.as_str()) {
        return Err("deployment_id is not the tool's deployment".into());
    }
    if string(&claims, &format!("{LTI}message_type")) != Some("LtiDeepLinkingResponse") {
        return Err("message_type must be LtiDeepLinkingResponse".into());
    }
    if string(&claims, &format!("{LTI}version")) != Some("1.3.0") {
        return Err("version must be 1.3.0".into());
    }
    // 4. Fresh: not expired, not issued in the future.
    let now = unix_now();
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or("exp is missing")?;
    if exp <= now {
        return Err("the response has expired (exp)".into());
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or("iat is missing")?;
    if iat > now + LEEWAY {
        return Err("iat is in the future".into());
    }
    let nonce = string(&claims, "nonce")
        .filter(|n| !n.is_empty())
        .ok_or("nonce is missing")?;
    // 5. The answer to a request this platform sent the tool: data echoed unchanged.
    let data = claims
        .get(&format!("{DL}data"))
        .ok_or("data is missing: the request's data must be echoed")?;
    if !platform.deep_links().was_issued(data, client_id) {
        return Err("data is not the value sent in a deep linking request to this tool".into());
    }
    // 6. The items: objects with a type.
    let items = match claims.get(&format!("{DL}content_items")) {
        None => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err("content_items is not an array".into()),
    };
    if !items
        .iter()
        .all(|item| item.get("type").is_some_and(Value::is_string))
    {
        return Err("every content item needs a type".into());
    }
    if !platform.deep_links().accept(nonce, &items, &claims) {
        return Err("this response was already received (nonce replayed)".into());
    }
    Ok(Accepted {
        items,
        msg: string(&claims, &format!("{DL}msg")).map(str::to_owned),
        errormsg: string(&claims, &format!("{DL}errormsg")).map(str::to_owned),
    })
}

fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn accepted_page(accepted: &Accepted) -> String {
    let mut body = String::new();
    if let Some(msg) = &accepted.msg {
        body.push_str(&format!("<p class=\"msg\">{}</p>\n", escape(msg)));
    }
    if let Some(errormsg) = &accepted.errormsg {
        body.push_str(&format!("<p class=\"errormsg\">{}</p>\n", escape(errormsg)));
    }
    body.push_str(&items_list(&accepted.items));
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Content added · ltisim</title></head>
<body>
<h1>Content added</h1>
{body}
</body>
</html>
"#
    )
}

/// The items as a list: type, title (or the URL) and URL, every value escaped.
pub(crate) fn items_list(items: &[Value]) -> String {
    if items.is_empty() {
        return "<p>No content items.</p>\n".to_owned();
    }
    let rows: Vec<String> = items
        .iter()
        .map(|item| {
            let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or("");
            let title = match field("title") {
                "" => field("url"),
                title => title,
            };
            format!(
                "<li class=\"item\"><span class=\"type\">{}</span> <span class=\"title\">{}</span> <code>{}</code></li>",
                escape(field("type")),
                escape(title),
                escape(field("url")),
            )
        })
        .collect();
    format!("<ul class=\"items\">\n{}\n</ul>\n", rows.join("\n"))
}
