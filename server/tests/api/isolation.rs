//! Tenant isolation: tenant A's session and keys, aimed at tenant B's ids, get 403 or 404
//! and none of B's data, on every account-scoped server function and REST route.

use crate::helpers::*;
use chrono::Utc;
use engine::auth::KeyName;
use engine::AccountId;
use model::KeyKind;
use serde_json::Value;

struct World {
    app: TestApp,
    a: Session,
    a_key: String,
    b_key_id: String,
    b_key: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    app.seed_demo().await;
    let now = Utc::now();
    let a_account = AccountId::parse("acc_initech").expect("a");
    let b_account = AccountId::parse("acc_acme").expect("b");
    let name = KeyName::parse("acme production").expect("name");
    let b = app.engine.create_key("test", Some(&b_account), KeyKind::Live, &name, None, now).await.expect("b key");
    let a_name = KeyName::parse("initech ci").expect("name");
    // A's key may manage keys, so only tenancy stands between it and B's keys.
    let scopes = [model::KeyScope::ManageKeys];
    let a_key = app.engine.create_scoped_key("test", Some(&a_account), KeyKind::Live, &a_name, None, &scopes, now).await.expect("a key");
    let a = app.sign_in(OWNER.0, OWNER.1).await;
    World { app, a, a_key: a_key.plaintext, b_key_id: b.key.id.to_string(), b_key: b.plaintext }
}

/// Nothing of tenant B in a body.
fn assert_no_b_data(body: &str, what: &str, w: &World) {
    for secret in ["Acme", "acc_acme", "acme production", w.b_key_id.as_str(), &w.b_key[8..]] {
        assert!(!body.contains(secret), "{what} leaks {secret:?}: {body:.300}");
    }
}

#[tokio::test]
async fn a_session_cannot_touch_another_tenants_keys_through_server_functions() {
    let w = world().await;
    let b = w.b_key_id.as_str();
    for (endpoint, form) in [
        ("keys/rename", vec![("id", b), ("name", "pwned")]),
        ("keys/rotate", vec![("id", b), ("grace_minutes", "0")]),
        ("keys/revoke", vec![("id", b)]),
    ] {
        let response = w.app.server_fn(Some(&w.a), endpoint, &form).await;
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        assert!(status == 404 || status == 403, "{endpoint}: {status}");
        assert_no_b_data(&body, endpoint, &w);
    }
    let listed = w.app.server_fn(Some(&w.a), "keys/list", &[]).await.text().await.expect("body");
    assert!(listed.contains("initech ci"));
    assert_no_b_data(&listed, "keys/list", &w);
    let overview = w.app.server_fn(Some(&w.a), "overview", &[]).await.text().await.expect("body");
    assert!(overview.contains("Initech"));
    assert_no_b_data(&overview, "overview", &w);
    // B's key is untouched: still named and valid.
    let b_list: Value = w.app.get_with_key(&w.b_key, "/api/v1/user/keys").await.json().await.expect("json");
    assert_eq!(b_list[0]["name"], "acme production");
    assert_eq!(b_list[0]["revoked_at"], Value::Null);
}

#[tokio::test]
async fn a_key_cannot_touch_another_tenants_keys_or_data_through_rest() {
    let w = world().await;
    let delete = w.app.client.delete(format!("{}/api/v1/user/keys/{}", w.app.base, w.b_key_id)).bearer_auth(&w.a_key).send().await.expect("r");
    let (status, code, _) = error_code(delete).await;
    assert_eq!((status.as_u16(), code.as_str()), (404, "not_found"));
    for path in ["/api/v1/user/keys", "/api/v1/users/me/usage", "/api/license/status", "/api/license/quotas"] {
        let response = w.app.get_with_key(&w.a_key, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_no_b_data(&response.text().await.expect("body"), path, &w);
    }
    let status: Value = w.app.get_with_key(&w.a_key, "/api/license/status").await.json().await.expect("json");
    assert_eq!(status["account_name"], "Initech");
    assert!(w.app.get_with_key(&w.b_key, "/api/v1/user/keys").await.status().is_success(), "B's key still works");
}

#[tokio::test]
async fn an_account_id_in_the_request_is_never_used_to_pick_the_account() {
    let w = world().await;
    // Extra parameters naming B are ignored: the account comes from the session or key.
    let body = w.app.get_with_key(&w.a_key, "/api/license/status?account_id=acc_acme").await.text().await.expect("body");
    assert_no_b_data(&body, "status?account_id", &w);
    let created = w
        .app
        .client
        .post(format!("{}/api/v1/user/keys", w.app.base))
        .bearer_auth(&w.a_key)
        .json(&serde_json::json!({ "name": "x", "account_id": "acc_acme" }))
        .send()
        .await
        .expect("r");
    assert_eq!(created.status(), 422, "unknown fields such as account_id are refused");
}

#[tokio::test]
async fn a_member_cannot_do_owner_actions() {
    let w = world().await;
    let member = w.app.sign_in(MEMBER.0, MEMBER.1).await;
    let keys_before = w.app.count("api_keys").await;
    let create = w.app.server_fn(Some(&member), "keys/create", &[("name", "sneaky"), ("environment", "live")]).await;
    assert_eq!(create.status(), 403);
    let listed: Value = w.app.server_fn(Some(&member), "keys/list", &[]).await.json().await.expect("json");
    assert_eq!(listed["can_manage"], false);
    let a_key_id = listed["keys"][0]["id"].as_str().expect("a key id").to_owned();
    assert_eq!(w.app.server_fn(Some(&member), "keys/revoke", &[("id", &a_key_id)]).await.status(), 403);
    assert_eq!(w.app.server_fn(Some(&member), "keys/rename", &[("id", &a_key_id), ("name", "x")]).await.status(), 403);
    assert_eq!(w.app.count("api_keys").await, keys_before);
    assert_eq!(w.app.get_as(&member, "/dashboard").await.status(), 200, "members read the dashboard");
}

#[tokio::test]
async fn customers_get_403_from_admin_functions_and_the_admin_page() {
    let w = world().await;
    for endpoint in ["admin/accounts", "admin/service_keys"] {
        let response = w.app.server_fn(Some(&w.a), endpoint, &[]).await;
        assert_eq!(response.status(), 403, "{endpoint}");
        assert_no_b_data(&response.text().await.expect("body"), endpoint, &w);
    }
    let create = w.app.server_fn(Some(&w.a), "admin/service_keys/create", &[("name", "x")]).await;
    assert_eq!(create.status(), 403);
    // The writing admin functions refuse a customer before they look anything up.
    let service = w.app.service_key().await;
    let service_id: String = sqlx::query_scalar("SELECT id FROM api_keys WHERE kind = 'svc'")
        .fetch_one(w.app.engine.db().pool())
        .await
        .expect("service key id");
    let audit_before = w.app.count("audit_log").await;
    let revoke = w.app.server_fn(Some(&w.a), "admin/service_keys/revoke", &[("id", &service_id)]).await;
    assert_eq!(revoke.status(), 403);
    assert_eq!(w.app.entitlement_status(&service).await, 200, "the service key still works");
    let attach = w
        .app
        .server_fn(Some(&w.a), "admin/attach_event", &[("provider", "stripe"), ("event_id", "evt_1"), ("account_id", "acc_acme"), ("reason", "mine")])
        .await;
    assert_eq!(attach.status(), 403);
    assert_eq!(w.app.count("audit_log").await, audit_before, "nothing was done, so nothing was audited");
    let page = w.app.get_as(&w.a, "/admin").await;
    assert_eq!(page.status(), 403);
    let html = page.text().await.expect("html");
    assert!(html.contains("Admins only"));
    assert_no_b_data(&html, "/admin", &w);

    let admin = w.app.sign_in(ADMIN.0, ADMIN.1).await;
    assert_eq!(w.app.get_as(&admin, "/admin").await.status(), 200);
    let accounts = w.app.server_fn(Some(&admin), "admin/accounts", &[]).await.text().await.expect("body");
    assert!(accounts.contains("Acme") && accounts.contains("Initech"), "admins see every account");
}
