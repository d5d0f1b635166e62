//! API keys over REST: creation, listing, revocation, and what is stored.

use crate::helpers::*;
use chrono::Utc;
use engine::auth::KeyName;
use engine::AccountId;
use model::{KeyKind, KeyScope};
use serde_json::Value;

/// A live key of acc_initech that may manage the account's keys.
async fn owner_key(app: &TestApp) -> String {
    scoped_key(app, KeyKind::Live, &[KeyScope::ManageKeys]).await
}

async fn scoped_key(app: &TestApp, kind: KeyKind, scopes: &[KeyScope]) -> String {
    let account = AccountId::parse("acc_initech").expect("id");
    let name = KeyName::parse("bootstrap").expect("name");
    app.engine.create_scoped_key("test", Some(&account), kind, &name, None, scopes, Utc::now()).await.expect("key").plaintext
}

async fn create_with(app: &TestApp, auth: Auth<'_>, body: Value) -> (u16, Value) {
    let request = app.client.post(format!("{}/api/v1/user/keys", app.base)).json(&body);
    let request = match auth {
        Auth::Key(key) => request.bearer_auth(key),
        Auth::Session(session) => request.header("Cookie", &session.cookie).header("Origin", &app.base),
    };
    let response = request.send().await.expect("create");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

enum Auth<'a> {
    Key(&'a str),
    Session(&'a Session),
}

#[tokio::test]
async fn a_key_created_over_rest_is_shown_once_and_stored_only_as_a_hash() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let key = owner_key(&app).await;
    let response = app
        .client
        .post(format!("{}/api/v1/user/keys", app.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "name": "deploy bot", "environment": "test" }))
        .send()
        .await
        .expect("r");
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("json");
    let plaintext = created["plaintext"].as_str().expect("plaintext").to_owned();
    assert!(plaintext.starts_with("tg_test_") && plaintext.len() == 40, "{plaintext}");
    assert!(plaintext.starts_with(created["key"]["prefix"].as_str().expect("prefix")));

    let listed = app.get_with_key(&key, "/api/v1/user/keys").await.text().await.expect("list");
    assert!(listed.contains("deploy bot") && !listed.contains(&plaintext) && !listed.contains("key_hash"));

    let dump: Vec<(String, String, String, String)> = sqlx::query_as("SELECT id, key_hash, prefix, name FROM api_keys")
        .fetch_all(app.engine.db().pool())
        .await
        .expect("rows");
    for row in dump {
        let text = format!("{row:?}");
        assert!(!text.contains(&plaintext[8..]), "the database holds the secret: {text}");
    }
    assert!(app.get_with_key(&plaintext, "/api/v1/users/me/usage").await.status().is_success());
}

#[tokio::test]
async fn a_revoked_key_fails_on_the_very_next_request() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let key = owner_key(&app).await;
    let victim: Value = app
        .client
        .post(format!("{}/api/v1/user/keys", app.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "name": "to revoke" }))
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("json");
    let plaintext = victim["plaintext"].as_str().expect("plaintext");
    let id = victim["key"]["id"].as_str().expect("id");
    // Warm the cache, so revocation must evict it.
    assert_eq!(app.get_with_key(plaintext, "/api/license/status").await.status(), 200);
    let revoked = app.client.delete(format!("{}/api/v1/user/keys/{id}", app.base)).bearer_auth(&key).send().await.expect("r");
    assert_eq!(revoked.status(), 200);
    let (status, code, message) = error_code(app.get_with_key(plaintext, "/api/license/status").await).await;
    assert_eq!((status.as_u16(), code.as_str()), (401, "unauthorized"));
    assert!(message.contains("revoked"), "{message}");
}

#[tokio::test]
async fn missing_malformed_unknown_and_service_keys_get_clear_401s_or_403s() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let cases = [
        (None, 401, "Authorization: Bearer"),
        (Some("Basic dXNlcjpwYXNz"), 401, "format"),
        (Some("Bearer tg_live_short"), 401, "format"),
        (Some("Bearer tg_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401, "not known"),
    ];
    for (header, expected, fragment) in cases {
        let mut request = app.client.get(format!("{}/api/v1/user/keys", app.base));
        if let Some(value) = header {
            request = request.header("authorization", value);
        }
        let (status, code, message) = error_code(request.send().await.expect("r")).await;
        assert_eq!(status.as_u16(), expected, "{header:?}");
        assert_eq!(code, "unauthorized");
        assert!(message.contains(fragment), "{header:?}: {message}");
    }
    let service = app.engine.create_key("test", None, KeyKind::Service, &KeyName::parse("svc").expect("n"), None, Utc::now()).await.expect("svc");
    let (status, code, _) = error_code(app.get_with_key(&service.plaintext, "/api/v1/user/keys").await).await;
    assert_eq!((status.as_u16(), code.as_str()), (403, "forbidden"));
}

#[tokio::test]
async fn bad_key_requests_get_the_error_envelope_and_change_nothing() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let key = owner_key(&app).await;
    let before = app.count("api_keys").await;
    let url = format!("{}/api/v1/user/keys", app.base);
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(100 * 1024));
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (app.client.post(&url).bearer_auth(&key).header("content-type", "application/json").body("{not json"), 400, "bad_request"),
        (app.client.post(&url).bearer_auth(&key).header("content-type", "application/json").body(r#"{"name": 42}"#), 422, "invalid"),
        (app.client.post(&url).bearer_auth(&key).body(r#"{"name": "x"}"#), 415, "unsupported_media_type"),
        (app.client.post(&url).bearer_auth(&key).json(&serde_json::json!({"name": ""})), 422, "invalid"),
        (app.client.post(&url).bearer_auth(&key).json(&serde_json::json!({"name": "x", "environment": "prod"})), 422, "invalid"),
        (app.client.post(&url).bearer_auth(&key).json(&serde_json::json!({"name": "x", "expires_in_days": 0})), 422, "invalid"),
        (app.client.post(&url).bearer_auth(&key).header("content-type", "application/json").body(big), 413, "payload_too_large"),
    ];
    for (request, expected, expected_code) in cases {
        let (status, code, message) = error_code(request.send().await.expect("r")).await;
        assert_eq!((status.as_u16(), code.as_str()), (expected, expected_code), "{message}");
        assert!(!message.is_empty());
    }
    assert_eq!(app.count("api_keys").await, before);
}

#[tokio::test]
async fn a_malformed_id_in_a_path_or_a_form_is_refused_at_the_edge_naming_the_field() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let key = app.manager_key("acc_initech").await;
    let service = app.service_key().await;
    let refused = app.client.delete(format!("{}/api/v1/user/keys/a%20b'%3B--", app.base)).bearer_auth(&key).send().await.expect("r");
    let (status, code, message) = error_code(refused).await;
    assert_eq!((status.as_u16(), code.as_str()), (422, "invalid"));
    assert!(message.contains("key_id: use 1 to 64"), "{message}");
    let refused = app.client.delete(format!("{}/api/v1/accounts/acc_initech/grants/%C3%BC", app.base)).bearer_auth(&service).send().await.expect("r");
    let (status, code, message) = error_code(refused).await;
    assert_eq!((status.as_u16(), code.as_str()), (422, "invalid"));
    assert!(message.contains("grant_id"), "{message}");
    let refused = app.client.get(format!("{}/api/v1/accounts/not%20an%20id/grants", app.base)).bearer_auth(&service).send().await.expect("r");
    let (status, _, message) = error_code(refused).await;
    assert_eq!(status.as_u16(), 422);
    assert!(message.contains("account_id"), "{message}");
    // A server function's typed argument is checked the same way, before any handler runs.
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    let response = app.server_fn(Some(&owner), "keys/revoke", &[("id", "../../etc")]).await;
    assert_eq!(response.status(), 400, "a malformed id is a malformed request");
    let body = response.text().await.expect("body");
    assert!(body.contains("key_id"), "{body}");
}

#[tokio::test]
async fn only_owners_and_keys_with_the_manage_scope_manage_keys_and_a_test_key_never_mints_a_live_one() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let live = serde_json::json!({ "name": "minted", "environment": "live" });
    let member = app.sign_in(MEMBER.0, MEMBER.1).await;
    let (status, body) = create_with(&app, Auth::Session(&member), live.clone()).await;
    assert_eq!(status, 403, "a member's session: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("owners")), "{body}");
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    assert_eq!(create_with(&app, Auth::Session(&owner), live.clone()).await.0, 201, "an owner's session");

    let plain = app.customer_key("acc_initech").await;
    let (status, body) = create_with(&app, Auth::Key(&plain), live.clone()).await;
    assert_eq!(status, 403, "a key without the scope: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("manage_keys")), "{body}");
    assert_eq!(app.get_with_key(&plain, "/api/v1/user/keys").await.status(), 200, "any key of the account may list");

    let test_manager = scoped_key(&app, KeyKind::Test, &[KeyScope::ManageKeys]).await;
    let (status, body) = create_with(&app, Auth::Key(&test_manager), live).await;
    assert_eq!(status, 403, "a test key asks for a live key: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("test key creates only test keys")), "{body}");
    let (status, body) = create_with(&app, Auth::Key(&test_manager), serde_json::json!({ "name": "t", "environment": "test" })).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["plaintext"].as_str().is_some_and(|p| p.starts_with("tg_test_")), "{body}");

    // Revocation follows the same rule.
    let id = body["key"]["id"].as_str().expect("id").to_owned();
    let by_member = app.client.delete(format!("{}/api/v1/user/keys/{id}", app.base)).header("Cookie", &member.cookie).header("Origin", &app.base).send().await.expect("r");
    assert_eq!(by_member.status(), 403);
    let by_plain = app.client.delete(format!("{}/api/v1/user/keys/{id}", app.base)).bearer_auth(&plain).send().await.expect("r");
    assert_eq!(by_plain.status(), 403);
    let by_manager = app.client.delete(format!("{}/api/v1/user/keys/{id}", app.base)).bearer_auth(&test_manager).send().await.expect("r");
    assert_eq!(by_manager.status(), 200);
}

#[tokio::test]
async fn admins_list_and_revoke_service_keys_and_nobody_else_may() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let admin = app.sign_in(ADMIN.0, ADMIN.1).await;
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    let listed: Value = app.json_as(&admin, "/api/v1/admin/service-keys").await;
    let id = listed[0]["id"].as_str().expect("a service key").to_owned();
    assert!(!listed.to_string().contains(&service[8..]), "never the key itself");
    assert_eq!(app.get_as(&owner, "/api/v1/admin/service-keys").await.status(), 403);
    assert_eq!(app.get("/api/v1/admin/service-keys").await.status(), 401);
    assert_eq!(app.get_with_key(&service, "/api/v1/admin/service-keys").await.status(), 401, "a service key is not an admin");
    let url = format!("{}/api/v1/admin/service-keys/{id}", app.base);
    let refused = app.client.delete(&url).header("Cookie", &owner.cookie).header("Origin", &app.base).send().await.expect("r");
    assert_eq!(refused.status(), 403);
    let ok = app.entitlement_status(&service).await;
    assert_eq!(ok, 200, "the service key works before");
    let revoked = app.client.delete(&url).header("Cookie", &admin.cookie).header("Origin", &app.base).send().await.expect("r");
    assert_eq!(revoked.status(), 200);
    assert_eq!(app.entitlement_status(&service).await, 401, "and not after");
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'service_key.revoked' AND target = $1")
        .bind(&id)
        .fetch_one(app.engine.db().pool())
        .await
        .expect("audit");
    assert_eq!(audit, 1);
}
