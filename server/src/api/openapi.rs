//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers themselves, and a
//! browsable docs page (Swagger UI, served by the site from npm's `swagger-ui-dist`).

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Tollgate API",
        description = "Plans, quotas, rate limits and entitlements for the operator's backend.\n\nAuthenticate with `Authorization: Bearer <key>`: a service key (`tg_svc_…`) acts for any account, named in the request; a customer key (`tg_live_…`, `tg_test_…`) acts for its own account only. Errors are `{\"error\": {\"code\", \"message\"}}`.",
    ),
    // The typed ids name themselves in the operations' parameters; registered here so that
    // every `$ref` resolves.
    components(schemas(
        model::AccountId, model::KeyId, model::GrantId, model::UserId, model::RequestId,
        crate::error::ErrorEnvelope, crate::error::ErrorBody,
        model::AlertEvent, model::AlertData,
    )),
    tags(
        (name = "metering", description = "The hot path: verify, ingest, consume, entitlements"),
        (name = "grants", description = "Overrides on top of a plan"),
        (name = "keys", description = "A customer's own API keys"),
        (name = "account", description = "A customer's own usage"),
        (name = "alerts", description = "Where a customer's alerts go: webhook endpoints, the delivery log, email"),
    )
)]
pub struct ApiDoc;

/// The answers every operation can give besides its own, all in the error envelope:
/// the key layer's 401 and 429, a key of the wrong kind or role (403), and a query or path
/// that does not parse (400). Operations that take a body add 413, 415 and 422.
const EVERY_OPERATION: &[(&str, &str)] = &[
    ("400", "The query, path or body is malformed; the message says what"),
    ("401", "No key or session, or one that is unknown, revoked or expired"),
    ("403", "The key or session may not do this (wrong kind of key, role or account)"),
    ("429", "Rate limit reached; `Retry-After` says when to try again"),
];
const WITH_A_BODY: &[(&str, &str)] = &[
    ("413", "The body is larger than 64 KiB"),
    ("415", "The body is not sent as `application/json`"),
    ("422", "The body is JSON but a field is missing, of the wrong type or out of range"),
];

/// Documents the shared error answers on every operation that does not describe them
/// itself, and gives every error answer the envelope as its body.
fn add_error_answers(doc: &mut OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let envelope = || ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorEnvelope"))).build();
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
            let body = operation.request_body.is_some();
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let RefOr::T(response) = response {
                    if status.starts_with('4') && response.content.is_empty() {
                        response.content.insert("application/json".to_owned(), envelope());
                    }
                }
            }
            let answers = EVERY_OPERATION.iter().chain(if body { WITH_A_BODY } else { &[] });
            for (status, description) in answers {
                if !responses.contains_key(*status) {
                    let response = ResponseBuilder::new().description(*description).content("application/json", envelope()).build();
                    responses.insert((*status).to_owned(), response.into());
                }
            }
        }
    }
}

/// Adds the two kinds of bearer key and the shared error answers to a generated document.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    add_error_answers(&mut doc);
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, what) in [("service_key", "A service key, tg_svc_…"), ("customer_key", "A customer key, tg_live_… or tg_test_…")] {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(what.to_owned());
        components.add_security_scheme(name, SecurityScheme::Http(scheme));
    }
    doc
}

/// The request schemas whose `meter` and `feature` name the catalog's.
const NAMES_A_METER_OR_FEATURE: &[&str] = &["VerifyRequest", "UsageEvent", "NewGrant"];

/// States what only the running catalog knows: the meters and features that `meter` and
/// `feature` may name (in paths and in bodies), and the export's choice of days. A value
/// outside these is answered 422, and the document says so before anyone sends it.
pub fn with_catalog(doc: &OpenApi, catalog: &engine::Catalog) -> serde_json::Value {
    use serde_json::{json, Value};
    let meters: Vec<Value> = catalog.meters().iter().map(|m| json!(m.key)).collect();
    let features: Vec<Value> = catalog.features().into_iter().map(|f| json!(f)).collect();
    let allowed = |name: &str| match name {
        "meter" => Some(&meters),
        "feature" => Some(&features),
        _ => None,
    };
    // An optional body field still takes null (parameters have lost theirs below).
    let restrict = |schema: &mut Value, values: &[Value]| {
        let mut values = values.to_vec();
        if schema["type"].as_array().is_some_and(|types| types.contains(&json!("null"))) {
            values.push(Value::Null);
        }
        schema["enum"] = Value::Array(values);
    };
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    // Only `get_mut` below: indexing a JSON object mutably inserts the key when it is absent.
    let operations = doc.get_mut("paths").and_then(Value::as_object_mut).into_iter().flat_map(|paths| paths.iter_mut());
    for (path, item) in operations {
        let Some(item) = item.as_object_mut() else { continue };
        for operation in item.values_mut() {
            let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
            for parameter in parameters {
                let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                let in_path = parameter["in"] == "path";
                let Some(schema) = parameter.get_mut("schema") else { continue };
                // A parameter is present or absent, never null.
                if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
                    types.retain(|t| t != "null");
                }
                if let Some(values) = allowed(&name).filter(|_| in_path) {
                    restrict(schema, values);
                }
                if name == "days" && path.ends_with("/usage.csv") {
                    let days: Vec<Value> = engine::journey::features::EXPORT_DAYS.iter().map(|d| json!(d)).collect();
                    restrict(schema, &days);
                }
            }
        }
    }
    let schemas = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut);
    for (name, schema) in schemas.into_iter().flat_map(|schemas| schemas.iter_mut()) {
        if !NAMES_A_METER_OR_FEATURE.contains(&name.as_str()) {
            continue;
        }
        // The schema itself, or each of its `oneOf` (a grant's kinds).
        let variants: Vec<&mut Value> = if schema.get("oneOf").is_some() {
            schema.get_mut("oneOf").and_then(Value::as_array_mut).map(|v| v.iter_mut().collect()).unwrap_or_default()
        } else {
            vec![schema]
        };
        for variant in variants {
            let Some(properties) = variant.get_mut("properties").and_then(Value::as_object_mut) else { continue };
            for (field, schema) in properties.iter_mut() {
                if let Some(values) = allowed(field) {
                    restrict(schema, values);
                }
            }
        }
    }
    add_outgoing_webhooks(&mut doc);
    doc
}

/// OpenAPI 3.1's `webhooks`: what Tollgate sends to an account's endpoints, one entry per
/// event type, each an `AlertEvent` signed per Standard Webhooks.
fn add_outgoing_webhooks(doc: &mut serde_json::Value) {
    use serde_json::json;
    let mut hooks = serde_json::Map::new();
    for kind in engine::alerts::webhooks::event_types().into_iter().chain([engine::alerts::webhooks::TEST_EVENT]) {
        let header = |name: &str, what: &str| json!({"name": name, "in": "header", "required": true, "description": what, "schema": {"type": "string"}});
        hooks.insert(kind.to_owned(), json!({"post": {
            "summary": format!("`{kind}`, sent to the endpoints that take it"),
            "description": "Signed per Standard Webhooks: HMAC-SHA256 with the endpoint's secret over `{webhook-id}.{webhook-timestamp}.{body}`. \
                Attempts follow the retry schedule until a 2xx; a 410 disables the endpoint; `Retry-After` is honoured.",
            "parameters": [
                header("webhook-id", "The message id, the same on every attempt: deduplicate on it"),
                header("webhook-timestamp", "Unix seconds when this attempt was signed"),
                header("webhook-signature", "`v1,<base64>`; two, space-separated, while a rolled secret overlaps"),
            ],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AlertEvent"}}}},
            "responses": {
                "2XX": {"description": "Delivered"},
                "410": {"description": "Gone: the endpoint is disabled and nothing more is sent"},
            },
        }}));
    }
    doc["webhooks"] = serde_json::Value::Object(hooks);
}

/// `/api/openapi.json` and `/api/docs`.
pub fn router<S: Clone + Send + Sync + 'static>(json: serde_json::Value) -> Router<S> {
    Router::new()
        .route("/api/openapi.json", get(move || std::future::ready(Json(json.clone()))))
        .route("/api/docs", get(|| async { ([(axum::http::header::CONTENT_SECURITY_POLICY, DOCS_POLICY)], Html(DOCS_PAGE)) }))
}

/// The docs page runs only the site's own scripts; Swagger UI styles elements inline and
/// draws its icons from `data:` URLs.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tollgate API</title>
  <link rel="icon" href="/favicon.svg">
  <link rel="stylesheet" href="/vendor/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/vendor/swagger-ui-bundle.js"></script>
  <script src="/api-docs.js"></script>
</body>
</html>
"#;
