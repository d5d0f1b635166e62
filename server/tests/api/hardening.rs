//! Hardening at the HTTP edge: unrouted API paths answer JSON, `/metrics` can require a
//! token, and an admin cannot mint a sign-in link for another admin.

use crate::helpers::*;
use reqwest::header::{ALLOW, CONTENT_TYPE};

#[tokio::test]
async fn an_unknown_api_path_or_method_answers_the_json_envelope() {
    let app = spawn_app().await;
    let missing = app.get("/api/v1/anything").await;
    assert_eq!(missing.headers()[CONTENT_TYPE], "application/json");
    let (status, code, message) = error_code(missing).await;
    assert_eq!((status.as_u16(), code.as_str()), (404, "not_found"));
    assert!(message.contains("/api/v1/anything"), "{message}");

    let service = app.service_key().await;
    let wrong = app.client.delete(format!("{}/api/v1/keys/verify", app.base)).bearer_auth(&service).send().await.expect("r");
    assert_eq!(wrong.status(), 405);
    assert!(wrong.headers().get(ALLOW).is_some_and(|a| a.to_str().unwrap_or_default().contains("POST")), "{:?}", wrong.headers());
    let (_, code, _) = error_code(wrong).await;
    assert_eq!(code, "method_not_allowed");
    // Pages outside /api/ keep their HTML not-found page.
    let page = app.get("/no-such-page").await;
    assert_eq!(page.status(), 404);
    assert!(page.headers()[CONTENT_TYPE].to_str().unwrap_or_default().starts_with("text/html"));
}

#[tokio::test]
async fn metrics_require_the_token_when_one_is_set() {
    let open = spawn_app().await;
    assert_eq!(open.get("/metrics").await.status(), 200, "open by default (loopback)");
    let app = spawn_app_with(|c| c.metrics_token = Some("metrics-secret-token".into())).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    assert_eq!(app.get_with_key("wrong-token", "/metrics").await.status(), 401);
    let ok = app.get_with_key("metrics-secret-token", "/metrics").await;
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.expect("body").contains("# TYPE"), "Prometheus text");
}

#[tokio::test]
async fn an_admin_cannot_issue_a_sign_in_link_for_another_admin() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let email = engine::auth::Email::parse("second-admin@tollgate.example").expect("email");
    let password = engine::auth::Password::parse("a long admin password").expect("password");
    let id = app.engine.create_user(&email, &password, model::Role::Admin, None).await.expect("admin");
    let admin = app.sign_in(ADMIN.0, ADMIN.1).await;
    let response = app.server_fn(Some(&admin), "admin/issue_link", &[("user_id", &id)]).await;
    assert_eq!(response.status(), 403);
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signin_links").fetch_one(app.engine.db().pool()).await.expect("links");
    assert_eq!(links, 0);
}
