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
    components(schemas(model::AccountId, model::KeyId, model::GrantId, model::UserId, model::RequestId)),
    tags(
        (name = "metering", description = "The hot path: verify, ingest, consume, entitlements"),
        (name = "grants", description = "Overrides on top of a plan"),
        (name = "keys", description = "A customer's own API keys"),
        (name = "account", description = "A customer's own usage"),
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

/// `{"error": {"code", "message", "field"?}}`: every answer that is not a success.
fn error_envelope() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let error = ObjectBuilder::new()
        .property("code", ObjectBuilder::new().schema_type(Type::String).description(Some("A stable, machine-readable code")))
        .required("code")
        .property("message", ObjectBuilder::new().schema_type(Type::String).description(Some("What went wrong, for a person")))
        .required("message")
        .property("field", ObjectBuilder::new().schema_type(Type::String).description(Some("The field at fault, when there is one")));
    ObjectBuilder::new().property("error", error).required("error").into()
}

/// Documents the shared error answers on every operation that does not describe them itself.
fn add_error_answers(doc: &mut OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let envelope = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorEnvelope"))).build())
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
            let body = operation.request_body.is_some();
            let answers = EVERY_OPERATION.iter().chain(if body { WITH_A_BODY } else { &[] });
            for (status, description) in answers {
                let responses = &mut operation.responses.responses;
                if !responses.contains_key(*status) {
                    responses.insert((*status).to_owned(), envelope(description).into());
                }
            }
        }
    }
}

/// Adds the two kinds of bearer key and the shared error answers to a generated document.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    add_error_answers(&mut doc);
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.insert("ErrorEnvelope".to_owned(), error_envelope().into());
    for (name, what) in [("service_key", "A service key, tg_svc_…"), ("customer_key", "A customer key, tg_live_… or tg_test_…")] {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(what.to_owned());
        components.add_security_scheme(name, SecurityScheme::Http(scheme));
    }
    doc
}

/// `/api/openapi.json` and `/api/docs`.
pub fn router<S: Clone + Send + Sync + 'static>(doc: OpenApi) -> Router<S> {
    let json = serde_json::to_value(&doc).unwrap_or_default();
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
