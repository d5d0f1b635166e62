//! Hardening at the HTTP edge: unrouted API paths answer JSON, `/metrics` can require a
//! token, an admin cannot mint a sign-in link for another admin, every response carries the
//! security headers, and over https the session cookie is `__Host-`.

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

/// Every `<script …>` opening tag in a page.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script").map(|(at, _)| &html[at..at + html[at..].find('>').expect("a closed tag")]).collect()
}

/// A tag's `nonce="…"`, if it has one.
fn nonce_of(tag: &str) -> Option<&str> {
    tag.split_once("nonce=\"").map(|(_, rest)| &rest[..rest.find('"').expect("quoted")])
}

#[tokio::test]
async fn every_page_carries_a_nonce_policy_and_inline_scripts_carry_its_nonce() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    let mut nonces = std::collections::HashSet::new();
    for (path, signed_in) in [("/signin", false), ("/plans", false), ("/dashboard", true), ("/keys", true), ("/no-such-page", false)] {
        let response = if signed_in { app.get_as(&owner, path).await } else { app.get(path).await };
        assert!(matches!(response.status().as_u16(), 200 | 404), "{path}: {}", response.status());
        let headers = response.headers().clone();
        let policy = headers[reqwest::header::CONTENT_SECURITY_POLICY].to_str().expect("ascii").to_owned();
        let html = response.text().await.expect("html");
        let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap_or_else(|| panic!("{path}: a nonce in the policy: {policy}")).to_owned();
        assert!(nonce.len() >= 16, "{path}: a real nonce: {nonce}");
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{path}: {policy}");
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"), "{path}: no inline scripts at large: {policy}");
        let scripts = script_tags(&html);
        assert!(!scripts.is_empty(), "{path}: the hydration script is there");
        for tag in scripts {
            match nonce_of(tag) {
                Some(found) => assert_eq!(found, nonce, "{path}: the script's nonce is the policy's"),
                // An external script from the site needs no nonce; an inline one would be blocked.
                None => assert!(tag.contains(" src="), "{path}: an inline script without the nonce: {tag}"),
            }
        }
        assert_eq!(headers[reqwest::header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[reqwest::header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(headers[reqwest::header::REFERRER_POLICY], "same-origin", "{path}");
        assert!(headers.get(reqwest::header::STRICT_TRANSPORT_SECURITY).is_none(), "{path}: no HSTS over http");
        nonces.insert(nonce);
    }
    assert_eq!(nonces.len(), 5, "a fresh nonce per response");
    // JSON and files are allowed to run nothing at all.
    let health = app.get("/api/v1/health").await;
    let policy = health.headers()[reqwest::header::CONTENT_SECURITY_POLICY].to_str().expect("ascii").to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert_eq!(health.headers()[reqwest::header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn over_https_the_session_cookie_is_host_prefixed_and_hsts_is_sent() {
    const SITE: &str = "https://billing.example";
    let app = spawn_app_with(|c| c.public_url = SITE.into()).await;
    app.seed_demo().await;
    let signin = app
        .client
        .post(format!("{}/api/session/sign_in", app.base))
        .header(reqwest::header::ORIGIN, SITE)
        .form(&[("email", OWNER.0), ("password", OWNER.1)])
        .send()
        .await
        .expect("sign in");
    assert!(signin.status().is_success() || signin.status().is_redirection(), "{}", signin.status());
    assert_eq!(signin.headers()[reqwest::header::STRICT_TRANSPORT_SECURITY], "max-age=31536000; includeSubDomains");
    let set = set_cookie_header(signin.headers());
    assert!(set.starts_with("__Host-tg_session="), "{set}");
    assert!(set.contains("; Secure") && set.contains("Path=/") && !set.contains("Domain"), "{set}");
    let cookie = session_cookie(signin.headers()).expect("session");
    let session = Session { cookie: cookie.clone() };
    assert_eq!(app.get_as(&session, "/dashboard").await.status(), 200, "the prefixed cookie signs in");
    // The unprefixed name, which a sibling subdomain could plant, is not read over https.
    let planted = Session { cookie: cookie.replacen("__Host-", "", 1) };
    assert_eq!(app.get_as(&planted, "/dashboard").await.status(), 303, "sent to sign in");
}

#[tokio::test]
async fn a_malformed_query_or_a_body_that_is_not_an_object_answers_the_envelope_and_consumes_nothing() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let customer = app.customer_key("acc_acme").await;

    // An unknown or mistyped query parameter: 400 in JSON, not axum's plain text.
    for path in ["/api/v1/entitlements/tags?=false", "/api/v1/users/me/usage.csv?days=695806812473768960"] {
        let response = app.get_with_key(&customer, path).await;
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json", "{path}");
        let (status, code, message) = error_code(response).await;
        assert_eq!((status.as_u16(), code.as_str()), (400, "bad_request"), "{path}");
        assert!(message.starts_with("the query string is malformed"), "{message}");
    }

    // serde reads a struct from an array of its fields; the API takes only an object.
    let before = app.today("acc_acme", "api_calls").await;
    let response = app.post_json(&customer, "/api/v1/quotas/api_calls/consume", &serde_json::json!([null, 5])).await;
    let (status, code, message) = error_code(response).await;
    assert_eq!((status.as_u16(), code.as_str(), message.as_str()), (422, "invalid", "the body must be a JSON object"));
    assert_eq!(app.today("acc_acme", "api_calls").await, before, "nothing was consumed");
    // Not JSON at all is still a 400, and an object still works.
    let garbage = app.client.post(format!("{}/api/v1/quotas/api_calls/consume", app.base)).bearer_auth(&customer)
        .header(CONTENT_TYPE, "application/json").body("[nul").send().await.expect("send");
    assert_eq!(garbage.status(), 400);
    let ok = app.post_json(&customer, "/api/v1/quotas/api_calls/consume", &serde_json::json!({"quantity": 2})).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(app.today("acc_acme", "api_calls").await, before + 2.0);
}

#[tokio::test]
async fn a_customer_batch_naming_another_account_is_refused_whole() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let customer = app.customer_key("acc_acme").await;
    let events_before = app.count("usage_events").await;
    let batch = serde_json::json!({"events": [
        {"idempotency_key": "mine-1", "meter": "api_calls", "quantity": 1},
        {"idempotency_key": "theirs-1", "account_id": "acc_initech", "meter": "api_calls", "quantity": 1},
    ]});
    let (status, code, message) = error_code(app.post_json(&customer, "/api/v1/usage", &batch).await).await;
    assert_eq!((status.as_u16(), code.as_str()), (403, "forbidden"));
    assert!(message.contains("own account"), "{message}");
    assert_eq!(app.count("usage_events").await, events_before, "not even the customer's own event was recorded");
    // Naming its own account is fine.
    let own = serde_json::json!({"idempotency_key": "mine-2", "account_id": "acc_acme", "meter": "api_calls", "quantity": 1});
    assert_eq!(app.post_json(&customer, "/api/v1/usage", &own).await.status(), 200);
}

#[tokio::test]
async fn an_idempotency_key_is_measured_in_characters() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let event = |key: String| serde_json::json!({"idempotency_key": key, "account_id": "acc_acme", "meter": "api_calls", "quantity": 1});
    // 255 two-byte characters (510 bytes) is within the documented 255.
    assert_eq!(app.post_json(&service, "/api/v1/usage", &event("é".repeat(255))).await.status(), 200);
    let (status, _, message) = error_code(app.post_json(&service, "/api/v1/usage", &event("é".repeat(256))).await).await;
    assert_eq!(status.as_u16(), 422);
    assert!(message.contains("1 to 255 characters"), "{message}");
    // A C1 control character is refused like a C0 one.
    let (status, _, _) = error_code(app.post_json(&service, "/api/v1/usage", &event("a\u{85}b".into())).await).await;
    assert_eq!(status.as_u16(), 422);
}

#[tokio::test]
async fn a_grant_refuses_fields_its_kind_does_not_take_and_control_characters_in_its_reason() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let path = "/api/v1/accounts/acc_acme/grants";
    let before = app.count("grants").await;
    for (body, field) in [
        (serde_json::json!({"kind": "limit", "meter": "storage_mb", "feature": "tags"}), "feature"),
        (serde_json::json!({"kind": "feature", "feature": "sla", "meter": "api_calls"}), "meter"),
        (serde_json::json!({"kind": "bypass", "value": 5}), "value"),
        (serde_json::json!({"kind": "bypass", "reason": "s\u{8}\u{1b}[31m"}), "reason"),
    ] {
        let response = app.post_json(&service, path, &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: serde_json::Value = response.json().await.expect("json");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    assert_eq!(app.count("grants").await, before, "nothing was granted");
    // The kinds' own fields, and a reason on two lines, are fine.
    let fine = serde_json::json!({"kind": "feature", "feature": "sla", "reason": "trial of the SLA\n(ticket 12)"});
    assert_eq!(app.post_json(&service, path, &fine).await.status(), 201);

    // The document says the same: one schema per kind, each closed to the others' fields.
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.expect("json");
    let kinds = doc["components"]["schemas"]["NewGrant"]["oneOf"].as_array().expect("oneOf").clone();
    assert_eq!(kinds.len(), 3);
    for kind in &kinds {
        assert_eq!(kind["additionalProperties"], false, "{kind}");
    }
    assert!(kinds[0]["properties"]["meter"]["enum"].as_array().is_some_and(|m| m.contains(&serde_json::json!("storage_mb"))));
    assert!(kinds[1]["properties"]["feature"]["enum"].as_array().is_some_and(|f| f.contains(&serde_json::json!("sla"))));
}
