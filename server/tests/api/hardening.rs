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

/// Wrong-password sign-ins, each for a different email (so only the per-address limit
/// counts), sent as if through a proxy for `client`; returns the last status.
async fn failures_from(app: &TestApp, client: &str, count: usize, tag: &str) -> u16 {
    let mut last = 0;
    for i in 0..count {
        let response = app
            .client
            .post(format!("{}/api/session/sign_in", app.base))
            .header("Origin", &app.base)
            .header("X-Forwarded-For", format!("198.18.0.1, {client}"))
            .form(&[("email", format!("{tag}{i}@example.com")), ("password", "wrong password".into())])
            .send()
            .await
            .expect("sign in");
        last = response.status().as_u16();
    }
    last
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_on_its_own_and_forged_headers_are_ignored() {
    let proxied = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")]).await;
    assert_eq!(failures_from(&proxied, "203.0.113.7", 20, "a").await, 401, "twenty failures are allowed");
    assert_eq!(failures_from(&proxied, "203.0.113.7", 1, "b").await, 429, "the attacker's address is now blocked");
    assert_eq!(failures_from(&proxied, "198.51.100.9", 1, "c").await, 401, "another client behind the proxy is not");

    // Without a trusted proxy the header is not believed: every request is the peer's.
    let direct = spawn_app().await;
    assert_eq!(failures_from(&direct, "203.0.113.7", 20, "a").await, 401);
    assert_eq!(failures_from(&direct, "198.51.100.9", 1, "c").await, 429, "a forged X-Forwarded-For does not dodge the limit");
}
