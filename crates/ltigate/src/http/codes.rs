//! One table: each stable code's HTTP status and the fixed sentences a browser or a caller
//! without the admin key is shown (what happened, what can be done about it).
//!
//! Nothing here is built from input: upstream bodies, OS errors, addresses and configuration
//! key names are the failure's detail, which goes to the log with the request id. The JSON
//! renderer ([`super::error::ApiError`]) and the HTML renderer ([`super::pages`]) both read
//! this table.

use axum::http::StatusCode;

/// What the public is told about a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Public {
    pub status: StatusCode,
    /// What happened.
    pub sentence: &'static str,
    /// What the reader (or the administrator they ask) can do.
    pub advice: &'static str,
}

const RELAUNCH: &str = "Go back to the LMS and launch again. If it keeps failing, give the error code and request id below to an administrator of the tool.";
const LMS_ADMIN: &str = "The LMS sent something this tool refuses. Give the error code and request id below to an administrator of the LMS or of the tool.";
const TOOL_ADMIN: &str =
    "An administrator of the tool can find the details in its log under the request id below.";
const REGISTER_AGAIN: &str = "Nothing was stored. An administrator of the tool can find the details in its log under the request id below; then start the registration again from the LMS.";
const FIX_REQUEST: &str = "Correct the request and send it again.";

/// The status and fixed sentences of `code`. Codes not listed get a generic 400.
///
/// Two codes keep a different status in the JSON API than here, until the codes are split:
/// `INTERNAL_ERROR` (500 there) and `BODY_TOO_LARGE` for a request body (413 there).
pub fn public(code: &str) -> Public {
    use StatusCode as S;
    let (status, sentence, advice) = match code {
        // Login and launch.
        "LOGIN_INVALID" => (
            S::BAD_REQUEST,
            "The LMS's login request is incomplete or could not be read.",
            LMS_ADMIN,
        ),
        "LAUNCH_INVALID" => (
            S::BAD_REQUEST,
            "The launch request could not be read.",
            RELAUNCH,
        ),
        "TOKEN_TOO_LARGE" => (
            S::PAYLOAD_TOO_LARGE,
            "The launch request is larger than this tool accepts.",
            LMS_ADMIN,
        ),
        "PLATFORM_ERROR" => (
            S::BAD_REQUEST,
            "The LMS answered the login with an error.",
            "Go back and try again, or ask an administrator of the LMS.",
        ),
        "PLATFORM_NOT_FOUND" => (
            S::NOT_FOUND,
            "This LMS is not registered with the tool.",
            "An administrator of the tool can register it.",
        ),
        "CLIENT_ID_AMBIGUOUS" => (
            S::BAD_REQUEST,
            "The LMS did not say which of its registrations (client id) this login is for.",
            "An administrator of the LMS can configure the tool to send its client id.",
        ),
        "PLATFORM_PENDING" => (
            S::FORBIDDEN,
            "The registration of this LMS is waiting for approval.",
            "An administrator of the tool can approve it.",
        ),
        "PLATFORM_INACTIVE" => (
            S::FORBIDDEN,
            "An administrator of the tool has turned this LMS off.",
            "An administrator of the tool can turn it on again.",
        ),
        "PLATFORM_MISCONFIGURED" => (
            S::BAD_REQUEST,
            "The registration of this LMS is incomplete.",
            TOOL_ADMIN,
        ),
        "DEPLOYMENT_UNKNOWN" => (
            S::FORBIDDEN,
            "This deployment of the tool is not registered for the LMS.",
            "An administrator of the tool can add its deployment id.",
        ),
        "STATE_MISSING" | "STATE_INVALID" => (
            S::BAD_REQUEST,
            "The launch does not carry a login this tool started.",
            RELAUNCH,
        ),
        "STATE_EXPIRED" => (
            S::BAD_REQUEST,
            "The launch took too long.",
            "Go back to the LMS and launch again.",
        ),
        "STATE_MISMATCH" => (
            S::BAD_REQUEST,
            "The login belongs to another browser session.",
            "Go back to the LMS and launch again.",
        ),
        "STATE_NOT_BOUND" => (
            S::BAD_REQUEST,
            "Your browser did not keep the login cookie (often blocked in frames).",
            "Try opening the tool in a new window from the LMS.",
        ),
        "NONCE_REPLAYED" => (
            S::BAD_REQUEST,
            "This launch was already used.",
            "Go back to the LMS and launch again.",
        ),
        "TOKEN_MISSING" => (S::BAD_REQUEST, "The launch carries no id_token.", RELAUNCH),
        "KID_MISSING" | "KID_UNKNOWN" => (
            S::BAD_REQUEST,
            "The launch is signed with a key the LMS does not publish.",
            LMS_ADMIN,
        ),
        "JWKS_UNAVAILABLE" => (
            S::BAD_GATEWAY,
            "The tool could not fetch the LMS's signing keys.",
            "Try again in a moment. If it keeps failing, an administrator of the tool can find the details in its log under the request id below.",
        ),
        "JWKS_INVALID" | "KEY_UNSUPPORTED" | "KEY_ALG_MISMATCH" | "ALG_NOT_ALLOWED" => (
            S::BAD_REQUEST,
            "The LMS's signing keys or algorithm are not ones this tool accepts.",
            LMS_ADMIN,
        ),
        "TOKEN_MALFORMED" | "SIGNATURE_INVALID" => (
            S::BAD_REQUEST,
            "The launch's id_token is malformed or its signature does not verify.",
            LMS_ADMIN,
        ),
        "ISS_MISMATCH" | "AUD_MISMATCH" | "AZP_MISSING" | "AZP_MISMATCH" | "NONCE_MISSING"
        | "NONCE_MISMATCH" => (
            S::BAD_REQUEST,
            "The launch's id_token was not issued for this login of this tool.",
            LMS_ADMIN,
        ),
        "EXP_MISSING"
        | "TOKEN_EXPIRED"
        | "IAT_MISSING"
        | "IAT_IN_FUTURE"
        | "TOKEN_NOT_YET_VALID" => (
            S::BAD_REQUEST,
            "The launch's id_token is expired or not valid yet.",
            "Check that the clocks of the LMS and the tool are right, then launch again.",
        ),
        "VERSION_MISSING"
        | "VERSION_INVALID"
        | "MESSAGE_TYPE_MISSING"
        | "MESSAGE_TYPE_UNSUPPORTED"
        | "DEPLOYMENT_ID_MISSING"
        | "RESOURCE_LINK_MISSING"
        | "TARGET_LINK_URI_MISSING"
        | "ROLES_MISSING"
        | "SUB_MISSING"
        | "DEEP_LINKING_SETTINGS_MISSING"
        | "CLAIM_INVALID" => (
            S::BAD_REQUEST,
            "The launch lacks a claim LTI 1.3 requires, or carries an invalid one.",
            LMS_ADMIN,
        ),
        "APP_NOT_CONFIGURED" => (
            S::SERVICE_UNAVAILABLE,
            "The tool has no app to hand the launch to.",
            TOOL_ADMIN,
        ),
        "INTERNAL_ERROR" => (
            S::SERVICE_UNAVAILABLE,
            "Something went wrong on the tool's server.",
            TOOL_ADMIN,
        ),
        // Dynamic registration: what the LMS sent, and the exchange with it.
        "REGISTRATION_RATE_LIMITED" => (
            S::TOO_MANY_REQUESTS,
            "Too many registration attempts came from this address.",
            "Nothing was stored. Wait for the time the answer gives, then start the registration again from the LMS.",
        ),
        "TOO_MANY_PENDING_REGISTRATIONS" => (
            S::SERVICE_UNAVAILABLE,
            "Too many registrations are waiting for an administrator of the tool.",
            "Nothing was stored. Ask an administrator of the tool to approve or remove the waiting registrations, then start again from the LMS.",
        ),
        "CHANGE_ALREADY_PENDING" => (
            S::CONFLICT,
            "A change to this registration already waits for an administrator of the tool.",
            "Nothing was changed. Ask an administrator of the tool to approve or reject the waiting change, then start again from the LMS.",
        ),
        "REGISTRATION_INVALID" => (
            S::BAD_REQUEST,
            "The registration request is incomplete (openid_configuration is required).",
            "Start the registration again from the LMS.",
        ),
        "CONFIGURATION_URL_INVALID" => (
            S::BAD_REQUEST,
            "The openid_configuration parameter is not a valid URL.",
            "Start the registration again from the LMS.",
        ),
        "CONFIGURATION_UNAVAILABLE" => (
            S::BAD_GATEWAY,
            "The LMS answered the request for its configuration with an error.",
            REGISTER_AGAIN,
        ),
        "PLATFORM_REFUSED_REGISTRATION" => (
            S::BAD_GATEWAY,
            "The LMS refused the tool's registration.",
            REGISTER_AGAIN,
        ),
        "URL_REFUSED" | "PRIVATE_ADDRESS" => (
            S::BAD_GATEWAY,
            "The tool does not fetch from the address the LMS gave.",
            REGISTER_AGAIN,
        ),
        "FETCH_TIMEOUT" => (
            S::BAD_GATEWAY,
            "The LMS did not answer in time.",
            REGISTER_AGAIN,
        ),
        "FETCH_FAILED" | "HTTP_STATUS" | "TOO_MANY_REDIRECTS" => (
            S::BAD_GATEWAY,
            "The tool could not get an answer from the LMS.",
            REGISTER_AGAIN,
        ),
        "HTTP_CLIENT" => (
            S::BAD_GATEWAY,
            "The tool could not make a request to the LMS.",
            TOOL_ADMIN,
        ),
        "BODY_TOO_LARGE" | "DOCUMENT_TOO_LARGE" => (
            S::BAD_GATEWAY,
            "The LMS's answer is larger than the tool accepts.",
            REGISTER_AGAIN,
        ),
        "NOT_JSON"
        | "CONFIG_INVALID"
        | "CONFIG_FIELD_MISSING"
        | "CONFIG_FIELD_INVALID"
        | "RESPONSE_INVALID"
        | "RESPONSE_FIELD_MISSING"
        | "RESPONSE_FIELD_INVALID" => (
            S::BAD_GATEWAY,
            "The LMS's answer is not a valid LTI registration document.",
            REGISTER_AGAIN,
        ),
        "ALG_RS256_UNSUPPORTED" => (
            S::BAD_GATEWAY,
            "The LMS does not support RS256 signatures, which the tool requires.",
            REGISTER_AGAIN,
        ),
        "URL_NOT_HTTPS" | "ISSUER_HOST_MISMATCH" | "HOSTED_ENDPOINT_FOREIGN" => (
            S::BAD_GATEWAY,
            "The LMS's configuration breaks the registration rules (https endpoints on the issuer's host).",
            REGISTER_AGAIN,
        ),
        // The JSON API.
        "INVALID_BODY" => (
            S::BAD_REQUEST,
            "The request body is not valid JSON of the expected shape.",
            FIX_REQUEST,
        ),
        "INVALID_QUERY" => (
            S::BAD_REQUEST,
            "The query string is not valid for this endpoint.",
            FIX_REQUEST,
        ),
        _ => (S::BAD_REQUEST, "The request was refused.", TOOL_ADMIN),
    };
    Public {
        status,
        sentence,
        advice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_pages_keep_their_statuses() {
        let status = |code| public(code).status.as_u16();
        assert_eq!(status("PLATFORM_NOT_FOUND"), 404);
        assert_eq!(status("PLATFORM_PENDING"), 403);
        assert_eq!(status("DEPLOYMENT_UNKNOWN"), 403);
        assert_eq!(status("JWKS_UNAVAILABLE"), 502);
        assert_eq!(status("APP_NOT_CONFIGURED"), 503);
        assert_eq!(status("INTERNAL_ERROR"), 503);
        assert_eq!(status("TOKEN_TOO_LARGE"), 413);
        assert_eq!(status("SIGNATURE_INVALID"), 400);
        assert_eq!(status("REGISTRATION_INVALID"), 400);
        assert_eq!(status("FETCH_FAILED"), 502);
    }

    #[test]
    fn sentences_carry_no_configuration_key_names() {
        for code in [
            "PRIVATE_ADDRESS",
            "FETCH_FAILED",
            "JWKS_UNAVAILABLE",
            "UNLISTED",
        ] {
            let p = public(code);
            assert!(!p.sentence.contains("allow_"), "{code}");
            assert!(!p.advice.contains("allow_"), "{code}");
        }
    }
}
