//! The OpenAPI document matches the live routes.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn the_openapi_document_is_3_1_and_every_operation_is_live() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");
    for expected in [
        "/api/v1/keys/verify",
        "/api/v1/usage",
        "/api/v1/quotas/{meter}/consume",
        "/api/v1/entitlements/{feature}",
        "/api/v1/accounts/{account_id}/grants",
        "/api/v1/accounts/{account_id}/grants/{grant_id}",
        "/api/v1/users/me/usage",
        "/api/v1/user/keys",
        "/api/v1/user/keys/{id}",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    assert!(doc["components"]["securitySchemes"]["service_key"].is_object());
    // Every `$ref` resolves (the typed ids and the error envelope are components).
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').expect("closed")];
        assert!(doc["components"]["schemas"][name].is_object(), "{name} is referenced but not defined");
    }

    // Every documented operation exists on the running server: without a key it is
    // refused 401 by the API, never 404 or 405 from the router.
    let mut checked = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        let concrete = path.replace("{meter}", "api_calls").replace("{feature}", "tags").replace('{', "x").replace('}', "");
        for method in item.as_object().expect("item").keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = app.client.request(method.clone(), format!("{}{concrete}", app.base)).send().await.expect("send");
            assert_eq!(response.status(), 401, "{method} {path}");
            let body: Value = response.json().await.expect("json envelope");
            assert_eq!(body["error"]["code"], "unauthorized");
            // The document says so, and names the envelope, for every operation.
            let operation = &item[method.as_str().to_lowercase()];
            for status in ["400", "401", "403", "429"] {
                assert!(operation["responses"][status].is_object(), "{method} {path} documents {status}");
            }
            if operation["requestBody"].is_object() {
                for status in ["413", "415", "422"] {
                    assert!(operation["responses"][status].is_object(), "{method} {path} documents {status}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} operations");
}

#[tokio::test]
async fn the_docs_page_loads_swagger_ui_from_the_site() {
    let app = spawn_app().await;
    let response = app.get("/api/docs").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    assert!(html.contains("/vendor/swagger-ui-bundle.js") && html.contains("/api-docs.js"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing comes from a CDN");
}

#[tokio::test]
async fn the_document_states_the_catalogs_meters_and_features_and_every_error_body() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.expect("json");
    let meters: Vec<String> = app.engine.catalog().meters().iter().map(|m| m.key.clone()).collect();
    let path_enum = |path: &str, method: &str, name: &str| -> Vec<String> {
        let parameters = doc["paths"][path][method]["parameters"].as_array().expect("parameters");
        let parameter = parameters.iter().find(|p| p["name"] == name).expect("the parameter");
        parameter["schema"]["enum"].as_array().expect("an enum").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    };
    assert_eq!(path_enum("/api/v1/quotas/{meter}/consume", "post", "meter"), meters);
    let features = path_enum("/api/v1/entitlements/{feature}", "get", "feature");
    assert!(features.contains(&"exports".to_owned()) && !features.is_empty(), "{features:?}");
    // A query parameter is in the query, not the path, and is not nullable.
    let query = &doc["paths"]["/api/v1/entitlements/{feature}"]["get"]["parameters"][1];
    assert_eq!((query["name"].as_str(), query["in"].as_str(), query["required"].as_bool()), (Some("account_id"), Some("query"), Some(false)));
    assert_eq!(query["schema"]["type"], "string");
    assert_eq!(query["schema"]["pattern"], "^[A-Za-z0-9_-]{1,64}$");
    let days = &doc["paths"]["/api/v1/users/me/usage.csv"]["get"]["parameters"][0]["schema"]["enum"];
    assert_eq!(days, &serde_json::json!([7, 30, 90]));

    // In bodies: the meter names the catalog's (or null where optional), the key its rule.
    let schemas = &doc["components"]["schemas"];
    let verify_meter = schemas["VerifyRequest"]["properties"]["meter"]["enum"].as_array().expect("enum");
    assert!(verify_meter.contains(&Value::Null) && verify_meter.len() == meters.len() + 1, "{verify_meter:?}");
    let event = &schemas["UsageEvent"]["properties"];
    assert_eq!(event["meter"]["enum"].as_array().map(Vec::len), Some(meters.len()));
    assert_eq!((event["idempotency_key"]["minLength"].as_u64(), event["idempotency_key"]["maxLength"].as_u64()), (Some(1), Some(255)));

    // Every error answer has a JSON body, and ingest's names its results beside the error.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.starts_with('4') {
                    assert!(response["content"]["application/json"]["schema"].is_object(), "{method} {path} {status} has no body");
                }
            }
        }
    }
    let refusal = &doc["paths"]["/api/v1/usage"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(refusal, "#/components/schemas/IngestRefusal");
    assert!(schemas["IngestRefusal"]["required"].as_array().is_some_and(|r| r.contains(&serde_json::json!("error"))));
}

