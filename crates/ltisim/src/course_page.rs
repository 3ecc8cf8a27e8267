//! The "LMS course page" a browser opens to launch a tool in an iframe, and the platform
//! storage (LTI Client Side postMessages) the page offers tools that cannot use cookies.

use crate::deep_linking::items_list;
use crate::html::{escape, hidden_inputs};
use crate::platform::Platform;
use crate::tool::{MessageType, Storage, Tool};
use serde_json::json;

/// The name of the hidden frame that holds platform storage in `Storage::PlatformFrame`.
pub(crate) const STORAGE_FRAME: &str = "ltisim_storage";

const STORAGE_SCRIPT: &str = include_str!("platform_storage.js");

/// The course page: a "Launch" button that posts the login initiation into `tool_frame`.
pub(crate) fn course_page(
    platform: &Platform,
    tool: &Tool,
    message_type: MessageType,
    storage: Storage,
) -> String {
    let mut login = platform.login_initiation_params(&tool.client_id, message_type);
    let (storage_frame, storage_script) = match storage {
        Storage::Cookie => (String::new(), String::new()),
        Storage::Platform => {
            login.push(("lti_storage_target".to_owned(), "_parent".to_owned()));
            let answers = ["lti.capabilities", "lti.put_data", "lti.get_data"];
            (String::new(), storage_script(tool, "_parent", &answers))
        }
        Storage::PlatformFrame => {
            login.push(("lti_storage_target".to_owned(), STORAGE_FRAME.to_owned()));
            let frame = format!(
                r#"<iframe name="{STORAGE_FRAME}" src="/storage_frame?client_id={}" hidden></iframe>"#,
                escape(
                    &url::form_urlencoded::byte_serialize(tool.client_id.as_bytes())
                        .collect::<String>()
                )
            );
            // The page announces the frame; only the frame stores.
            (
                frame,
                storage_script(tool, STORAGE_FRAME, &["lti.capabilities"]),
            )
        }
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>SIM 101 · ltisim</title></head>
<body>
<h1>Introduction to Simulated Computing</h1>
<p>{kind} launch of tool <code>{client_id}</code>, storage: {storage}.</p>
<form id="login" method="post" action="{login_url}" target="tool_frame">
{inputs}
<button id="launch" type="submit">Launch</button>
</form>
<iframe name="tool_frame" title="Tool" style="width:100%;height:70vh;border:1px solid #999"></iframe>
<h2>Course content</h2>
{items}{storage_frame}
{storage_script}
</body>
</html>
"#,
        kind = message_type.claim_value(),
        client_id = escape(&tool.client_id),
        storage = storage.query_value(),
        login_url = escape(&tool.login_url),
        inputs = hidden_inputs(&login),
        items = items_list(&platform.deep_links().items()),
    )
}

/// The hidden storage frame of `Storage::PlatformFrame`.
pub(crate) fn storage_frame_page(tool: &Tool) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>storage</title></head>\n<body>\n{}\n</body></html>\n",
        storage_script(tool, STORAGE_FRAME, &["lti.put_data", "lti.get_data"])
    )
}

fn storage_script(tool: &Tool, frame: &str, answers: &[&str]) -> String {
    let config = json!({ "origins": tool.origins(), "frame": frame, "answers": answers });
    // "<" never appears raw inside the script, so no value can close the script element.
    let config = config.to_string().replace('<', "\\u003c");
    format!("<script>\nvar ltisimStorage = {config};\n{STORAGE_SCRIPT}</script>")
}
