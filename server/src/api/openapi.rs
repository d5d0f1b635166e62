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

/// Adds the two kinds of bearer key to a generated document.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
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
