//! `GET /api/openapi.json` against the server that serves it: the document is valid OpenAPI
//! 3.1 with every reference resolved, every documented operation is routed and asks for the
//! credentials it documents, methods it does not document are not routed, and real answers
//! (successes and errors) have the documented shapes.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::lms::{Lms, loopback_lms};
use common::services::{Launched, encode};
use common::{ADMIN_KEY, API_KEY, TestGate, expect_error};
use ltisim::{MessageType, Profile, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The served document; its headers checked.
async fn served(gate: &TestGate) -> Value {
    let response = gate
        .client
        .get(gate.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "application/json");
    // The document holds no secret, but the API's no-store rule covers it: an upgraded
    // server's document is never read stale from a cache.
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    response.json().await.unwrap()
}

/// A simulator platform with one resource link launch, and the document its gate serves.
async fn launched() -> (Lms, Launched, Value) {
    let lms = Lms::start().await;
    let launched = lms.launch_with(None).await;
    let doc = served(&lms.gate).await;
    (lms, launched, doc)
}

/// Every `(path, method, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                ops.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    ops
}

/// Every `$ref` string anywhere in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => found.push(r.clone()),
                    _ => refs(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

/// The target of a local reference (`#/components/...`), if it exists.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_and_every_reference_resolves() {
    let gate = TestGate::start(|_| {}).await;
    let doc = served(&gate).await;
    // What is served is what the server built, once.
    assert_eq!(
        doc,
        serde_json::to_value(ltigate::http::openapi::document()).unwrap()
    );

    // The typed model of OpenAPI 3.1 reads it, and its version is 3.1.
    let spec = oas3::from_json(doc.to_string()).expect("oas3 reads the document");
    let version = spec.validate_version().expect("an OpenAPI 3.1 version");
    assert_eq!((version.major, version.minor), (3, 1));
    assert!(!spec.info.title.is_empty() && !spec.info.version.is_empty());

    // Every `$ref`, wherever it is, points at something in the document.
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 20, "the document uses references");
    for reference in &found {
        assert!(resolve(&doc, reference).is_some(), "{reference} resolves");
    }

    // oas3 resolves each operation's parameters, body, responses and their schemas.
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut operation_ids = BTreeSet::new();
    for (path, method, op) in spec.operations() {
        let at = format!("{method} {path}");
        let id = op.operation_id.clone().expect("an operationId");
        assert!(operation_ids.insert(id), "{at}: operationId is unique");
        let mut path_params = BTreeSet::new();
        for parameter in &op.parameters {
            let parameter = parameter.resolve(&spec).unwrap();
            if parameter.location == oas3::spec::ParameterIn::Path {
                assert_eq!(
                    parameter.required,
                    Some(true),
                    "{at}: path params are required"
                );
                path_params.insert(parameter.name);
            }
        }
        // Each `{name}` in the path is a declared path parameter, and only those.
        let templated: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        assert_eq!(templated, path_params, "{at}: path parameters");
        if let Some(body) = &op.request_body {
            let body = body.resolve(&spec).unwrap();
            for media in body.content.values() {
                media.schema(&spec).unwrap();
            }
        }
        let responses = op.responses.as_ref().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{at}: a success"
        );
        for (status, response) in responses {
            let response = response.resolve(&spec).unwrap();
            for media in response.content.values() {
                media.schema(&spec).unwrap();
            }
            if status.starts_with('4') || status.starts_with('5') {
                // Errors have the LTIAAS shape, narrowed to the codes of that status.
                let raw = &doc["paths"][&path][method.as_str().to_lowercase()]["responses"][status];
                let schema = &raw["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["allOf"][0]["$ref"], "#/components/schemas/ApiError",
                    "{at} {status}"
                );
                let codes =
                    schema["allOf"][1]["properties"]["details"]["properties"]["message"]["enum"]
                        .as_array()
                        .unwrap();
                assert!(!codes.is_empty(), "{at} {status}: codes listed");
            }
        }
        for requirement in &op.security {
            for name in requirement.0.keys() {
                assert!(schemes.contains_key(name), "{at}: scheme {name} exists");
            }
        }
    }
    assert!(operation_ids.len() >= 20);

    // The auth schemes say which header forms they are.
    let header = |name: &str| schemes[name]["description"].as_str().unwrap().to_owned();
    assert_eq!(schemes["ltik"]["type"], "apiKey");
    assert_eq!(schemes["ltik"]["in"], "header");
    assert_eq!(schemes["ltik"]["name"], "Authorization");
    assert!(header("ltik").contains("LTIK-AUTH-V2 <API_KEY>:<LTIK>"));
    assert_eq!(schemes["serviceKey"]["type"], "apiKey");
    assert!(header("serviceKey").contains("SERVICE-AUTH-V1 <API_KEY>:<SERVICE_KEY>"));
    assert_eq!(schemes["adminKey"]["scheme"], "bearer");
    assert_eq!(schemes["apiKey"]["scheme"], "bearer");
}

#[tokio::test]
async fn the_contract_paths_are_documented() {
    let doc = serde_json::to_value(ltigate::http::openapi::document()).unwrap();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(path, method, _)| (method, path))
        .collect();
    // DESIGN.md's HTTP contract for the app and admin APIs.
    let contract = [
        ("get", "/api/idtoken"),
        ("get", "/api/lineitems"),
        ("post", "/api/lineitems"),
        ("get", "/api/lineitems/{id}"),
        ("put", "/api/lineitems/{id}"),
        ("delete", "/api/lineitems/{id}"),
        ("get", "/api/lineitems/{id}/scores"),
        ("post", "/api/lineitems/{id}/scores"),
        ("get", "/api/memberships"),
        ("post", "/api/deeplinking"),
        ("post", "/api/deeplinking/form"),
        ("get", "/api/registrations/{id}"),
        ("post", "/api/registrations/{id}/complete"),
        ("get", "/admin/platforms"),
        ("post", "/admin/platforms"),
        ("get", "/admin/platforms/{id}"),
        ("put", "/admin/platforms/{id}"),
        ("patch", "/admin/platforms/{id}"),
        ("delete", "/admin/platforms/{id}"),
        ("post", "/admin/platforms/{id}/activate"),
        ("post", "/admin/platforms/{id}/deactivate"),
        ("post", "/admin/platforms/{id}/change/approve"),
        ("post", "/admin/platforms/{id}/change/reject"),
        ("post", "/admin/servicekeys/revoke"),
        ("get", "/api/openapi.json"),
    ];
    for (method, path) in contract {
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is documented"
        );
    }
    // Nothing but the API and admin routes: the LMS-facing and ops routes are not API.
    for (_, path) in &documented {
        assert!(
            path.starts_with("/api/") || path.starts_with("/admin/"),
            "{path}"
        );
    }
    // The line item id is described as the encoded line item URL the wildcard takes.
    let id = &doc["paths"]["/api/lineitems/{id}/scores"]["get"]["parameters"][0];
    assert_eq!(id["in"], "path");
    assert!(
        id["description"]
            .as_str()
            .unwrap()
            .contains("percent-encoded")
    );
}

/// The `Authorization` header for a documented operation's first security scheme.
fn credentials(op: &Value, ltik: &str) -> Option<String> {
    let scheme = op["security"][0].as_object()?.keys().next()?.clone();
    Some(match scheme.as_str() {
        "ltik" | "serviceKey" => format!("LTIK-AUTH-V2 {API_KEY}:{ltik}"),
        "apiKey" => format!("Bearer {API_KEY}"),
        "adminKey" => format!("Bearer {ADMIN_KEY}"),
        other => panic!("unknown scheme {other}"),
    })
}

/// `path` with its `{id}` filled: a real line item URL (encoded) for the line item routes.
fn concrete(path: &str, lineitem: &str) -> String {
    let id = if path.starts_with("/api/lineitems/") {
        encode(lineitem)
    } else {
        "no-such-id".to_owned()
    };
    path.replace("{id}", &id)
}

/// A router's own refusal (no route, no method) has no LTIAAS body; a handler's does.
async fn answered_by_a_handler(response: reqwest::Response, at: &str) {
    let status = response.status().as_u16();
    assert_ne!(status, 405, "{at}: routed for this method");
    let body = response.text().await.unwrap();
    if status == 404 {
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        assert!(
            body["details"]["message"].is_string(),
            "{at}: 404 from a handler, not the router"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_asks_for_its_credentials() {
    let (lms, launched, doc) = launched().await;
    let gate = &lms.gate;
    let ops = operations(&doc);
    assert!(ops.len() >= 25);

    for (path, method, op) in &ops {
        let at = format!("{method} {path}");
        let url = gate.url(&concrete(path, launched.lineitem()));
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();

        // Without credentials: a secured operation refuses for want of them, which also
        // proves a handler (not the router's fallback) answered; a public one answers.
        let bare = gate
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .unwrap();
        match credentials(op, &launched.ltik) {
            Some(_) => {
                expect_error(bare, 401, "MISSING_AUTHORIZATION").await;
            }
            None => assert_eq!(bare.status(), 200, "{at} is public"),
        }

        // With them: whatever the handler says (a platform 404 included), never 405.
        let mut request = gate.client.request(method, &url);
        if let Some(header) = credentials(op, &launched.ltik) {
            request = request.header("Authorization", header);
        }
        answered_by_a_handler(request.send().await.unwrap(), &at).await;
    }
}

#[tokio::test]
async fn methods_a_path_does_not_document_are_refused() {
    let (lms, launched, doc) = launched().await;
    let gate = &lms.gate;

    for (path, item) in doc["paths"].as_object().unwrap() {
        let documented_op = METHODS.iter().find_map(|m| item.get(*m)).unwrap();
        let header = credentials(documented_op, &launched.ltik);
        for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
            let at = format!("{method} {path}");
            let mut request = gate.client.request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                gate.url(&concrete(path, launched.lineitem())),
            );
            if let Some(header) = &header {
                request = request.header("Authorization", header);
            }
            // A JSON body, so that a body-reading handler gets past reading it.
            let response = request.json(&json!({})).send().await.unwrap();
            // One wildcard serves a line item and its scores (see the `id` description): a
            // method of the other form reaches it and is refused as a bad path.
            let wildcard = path.starts_with("/api/lineitems/") && *method != "patch";
            if wildcard {
                expect_error(response, 400, "INVALID_PARAMETER").await;
            } else {
                assert_eq!(response.status(), 405, "{at} is not routed");
            }
        }
    }
}

/// `schema` with its `$ref` followed and its `allOf` parts merged into one schema (their
/// `properties` merged member by member, `required` joined).
fn merged(doc: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        return merged(doc, resolve(doc, reference).unwrap());
    }
    let Some(parts) = schema["allOf"].as_array() else {
        return schema.clone();
    };
    let mut out = schema.as_object().unwrap().clone();
    out.remove("allOf");
    let mut out = Value::Object(out);
    for part in parts {
        out = merge_two(doc, &out, &merged(doc, part));
    }
    out
}

fn merge_two(doc: &Value, a: &Value, b: &Value) -> Value {
    let mut out = a.as_object().unwrap().clone();
    for (key, value) in b.as_object().unwrap() {
        match (key.as_str(), out.get(key.as_str())) {
            ("properties", Some(Value::Object(mine))) => {
                let mut properties = mine.clone();
                for (name, schema) in value.as_object().unwrap() {
                    let joined = match properties.get(name) {
                        Some(existing) => {
                            merge_two(doc, &merged(doc, existing), &merged(doc, schema))
                        }
                        None => schema.clone(),
                    };
                    properties.insert(name.clone(), joined);
                }
                out.insert(key.clone(), Value::Object(properties));
            }
            ("required", Some(Value::Array(mine))) => {
                let mut required = mine.clone();
                required.extend(value.as_array().unwrap().iter().cloned());
                out.insert(key.clone(), Value::Array(required));
            }
            (_, None) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// Where `value` departs from `schema` (a subset of JSON Schema: `$ref`, `allOf`, `oneOf`,
/// `anyOf`, `type`, `enum`, `properties`, `required`, `items`). An object schema with
/// `properties` is taken as closed unless it allows `additionalProperties`: a member the
/// server sends that the document does not name is drift.
fn departures(doc: &Value, value: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    let schema = &merged(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(alternatives) = schema[key].as_array() {
            let fits = alternatives.iter().any(|s| {
                let mut errors = Vec::new();
                departures(doc, value, s, at, &mut errors);
                errors.is_empty()
            });
            if !fits {
                out.push(format!("{at}: fits none of {key}"));
            }
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_of = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        _ => false,
    };
    if !types.is_empty() && !types.iter().any(|t| type_of(t)) {
        out.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object())
    {
        for required in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap()) {
                out.push(format!("{at}: {required} missing"));
            }
        }
        let open = !matches!(
            schema.get("additionalProperties"),
            None | Some(Value::Bool(false))
        );
        for (key, member) in object {
            match properties.get(key) {
                Some(s) => departures(doc, member, s, &format!("{at}.{key}"), out),
                None if open => {}
                None => out.push(format!("{at}.{key}: not in the document")),
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            departures(doc, item, schema, &format!("{at}[{i}]"), out);
        }
    }
}

/// Asserts that `value` is what `method path` documents for `status`.
fn assert_documented(doc: &Value, method: &str, path: &str, status: u16, value: &Value) {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    let schema = &response["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} documents {status}");
    let mut out = Vec::new();
    departures(doc, value, schema, "$", &mut out);
    assert!(
        out.is_empty(),
        "{method} {path} {status}: {out:#?}\n{value:#}"
    );
}

#[tokio::test]
async fn real_answers_have_the_documented_shapes() {
    let (lms, launched, doc) = launched().await;
    let ltik = &launched.ltik;

    let idtoken = lms.api_json("/api/idtoken", ltik).await;
    assert!(
        idtoken["services"]["serviceKey"].is_string(),
        "a full answer is checked"
    );
    assert_documented(&doc, "get", "/api/idtoken", 200, &idtoken);
    let raw = lms.api_json("/api/idtoken?raw=true", ltik).await;
    assert_documented(&doc, "get", "/api/idtoken", 200, &raw);

    let items = lms.api_json("/api/lineitems", ltik).await;
    assert!(!items["lineItems"].as_array().unwrap().is_empty());
    assert_documented(&doc, "get", "/api/lineitems", 200, &items);
    let item_path = format!("/api/lineitems/{}", encode(launched.lineitem()));
    let item = lms.api_json(&item_path, ltik).await;
    assert_documented(&doc, "get", "/api/lineitems/{id}", 200, &item);

    let score = json!({"userId": idtoken["user"]["id"], "activityProgress": "Completed",
        "gradingProgress": "FullyGraded", "scoreGiven": 7, "scoreMaximum": 10});
    let posted = lms
        .api(Method::POST, &format!("{item_path}/scores"), ltik)
        .json(&score)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 204);
    let scores = lms.api_json(&format!("{item_path}/scores"), ltik).await;
    assert!(!scores["scores"].as_array().unwrap().is_empty());
    assert_documented(&doc, "get", "/api/lineitems/{id}/scores", 200, &scores);

    let members = lms.api_json("/api/memberships", ltik).await;
    assert!(!members["members"].as_array().unwrap().is_empty());
    assert_documented(&doc, "get", "/api/memberships", 200, &members);

    let gate = &lms.gate;
    let platforms = gate.admin_json(Method::GET, "/admin/platforms", None).await;
    assert_documented(&doc, "get", "/admin/platforms", 200, &platforms);
    let platform_path = format!("/admin/platforms/{}", lms.platform_id);
    let platform = gate.admin_json(Method::GET, &platform_path, None).await;
    assert_documented(&doc, "get", "/admin/platforms/{id}", 200, &platform);

    let dl_ltik = lms
        .do_launch(MessageType::DeepLinking)
        .await
        .ltik()
        .to_owned();
    let body = json!({"contentItems": [{"type": "link", "url": "https://example.org/r"}],
        "options": {"message": "Done"}});
    for path in ["/api/deeplinking", "/api/deeplinking/form"] {
        let response = lms
            .api(Method::POST, path, &dl_ltik)
            .json(&body)
            .send()
            .await;
        let response = response.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_documented(&doc, "post", path, 200, &response.json().await.unwrap());
    }

    // Errors: the shape, and the status the document gives their code.
    let refused = lms
        .api_send(Method::GET, "/api/idtoken", "not-an-ltik")
        .await;
    let error = expect_error(refused, 401, "INVALID_LTIK").await;
    assert_documented(&doc, "get", "/api/idtoken", 401, &error);
    let missing = gate
        .admin(Method::GET, "/admin/platforms/nope")
        .send()
        .await
        .unwrap();
    let error = expect_error(missing, 404, "PLATFORM_NOT_FOUND").await;
    assert_documented(&doc, "get", "/admin/platforms/{id}", 404, &error);
}

#[tokio::test]
async fn registration_answers_have_the_documented_shapes() {
    let sim = Simulator::start_with(Profile::Moodle).await.unwrap();
    let gate = TestGate::start(|c| {
        loopback_lms(c);
        c.registration.intermediate_url = Some("http://app.test/setup".parse().unwrap());
    })
    .await;
    let doc = served(&gate).await;
    let start = sim.registration_initiation_url(&gate.url("/lti/register"), true);
    let parked = gate.client.get(start).send().await.unwrap();
    assert_eq!(parked.status(), 302);
    let location = parked.headers()["location"].to_str().unwrap();
    let id = location.split_once("registrationId=").unwrap().1.to_owned();
    let api = |method: Method, path: &str| {
        gate.client
            .request(method, gate.url(path))
            .bearer_auth(API_KEY)
    };

    let path = format!("/api/registrations/{id}");
    let offer: Value = api(Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_documented(&doc, "get", "/api/registrations/{id}", 200, &offer);
    let complete = format!("{path}/complete");
    let done = api(Method::POST, &complete).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_documented(&doc, "post", "/api/registrations/{id}/complete", 200, &done);
    let again = api(Method::POST, &complete).send().await.unwrap();
    let error = expect_error(again, 410, "REGISTRATION_GONE").await;
    assert_documented(
        &doc,
        "post",
        "/api/registrations/{id}/complete",
        410,
        &error,
    );
}

#[test]
fn each_error_status_lists_exactly_the_codes_of_that_status() {
    let doc = serde_json::to_value(ltigate::http::openapi::document()).unwrap();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (path, method, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            let schema = &response["content"]["application/json"]["schema"];
            let Some(codes) = schema["allOf"][1]["properties"]["details"]["properties"]["message"]
                ["enum"]
                .as_array()
            else {
                continue;
            };
            for code in codes {
                let code = code.as_str().unwrap().to_owned();
                // One code, one status, across the whole document.
                let first = seen.entry(code.clone()).or_insert_with(|| status.clone());
                assert_eq!(first, status, "{method} {path}: {code}");
                let description = response["description"].as_str().unwrap();
                assert!(
                    description.contains(&format!("`{code}`")),
                    "{method} {path}: {code}"
                );
            }
        }
    }
    assert_eq!(seen["INVALID_LTIK"], "401");
    assert_eq!(seen["PLATFORM_NOT_FOUND"], "404");
    assert_eq!(seen["INVALID_BODY"], "400");
}
