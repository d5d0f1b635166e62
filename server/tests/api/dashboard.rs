//! The dashboard and its JSON twins, for a signed-in customer.

use crate::helpers::*;
use chrono::{Duration, Utc};
use engine::auth::{Email, Password};
use engine::accounts::NewAccount;
use engine::AccountId;
use model::{LicenseStatus, Role};
use serde_json::Value;

/// A free account with known usage: 19 calls today, 40 yesterday, 81 items, 3.2 MB.
async fn known_account(app: &TestApp) -> Session {
    let now = Utc::now();
    let id = AccountId::parse("acc_known").expect("id");
    app.engine
        .create_account(&NewAccount {
            id: id.clone(),
            name: "Known Ltd".into(),
            plan_id: "free".into(),
            status: LicenseStatus::PastDue,
            seats: 4,
            starts_at: now - Duration::days(60),
            expires_at: Some(now + Duration::days(9)),
        })
        .await
        .expect("account");
    for i in 0..19 {
        app.engine.record_usage(&id, "api_calls", 1.0, now, &format!("c{i}")).await.expect("call");
    }
    app.engine.record_usage(&id, "api_calls", 40.0, now - Duration::days(1), "yesterday").await.expect("y");
    app.engine.record_usage(&id, "memories", 81.0, now, "m").await.expect("m");
    app.engine.record_usage(&id, "storage_mb", 3.2, now, "s").await.expect("s");
    let email = Email::parse("kim@known.example").expect("email");
    let password = Password::parse("known password").expect("password");
    app.engine.create_user(&email, &password, Role::Member, Some(&id)).await.expect("user");
    app.sign_in("kim@known.example", "known password").await
}

#[tokio::test]
async fn health_endpoints_answer_when_the_database_does() {
    let app = spawn_app().await;
    let health: Value = app.get("/healthz").await.json().await.expect("json");
    assert_eq!(health["status"], "ok");
    let ready: Value = app.get("/readyz").await.json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");
}

#[tokio::test]
async fn the_usage_endpoint_reports_the_recorded_numbers_in_the_notes_shape() {
    let app = spawn_app().await;
    let kim = known_account(&app).await;
    let body = app.json_as(&kim, "/api/v1/users/me/usage").await;

    assert_eq!(body["plan"]["tier"], "free");
    assert_eq!(body["plan"]["name"], "Free");
    assert_eq!(body["plan"]["limits"]["memories"], 100.0);
    assert_eq!(body["plan"]["limits"]["storage_mb"], 10.0);
    assert_eq!(body["plan"]["limits"]["rpm"], 10.0);
    assert_eq!(body["usage"]["memories"], 81.0);
    assert_eq!(body["usage"]["storage_mb"], 3.2);
    assert_eq!(body["usage"]["api_calls_today"], 19.0);
    let series: Vec<f64> = body["usage"]["api_calls_7d"].as_array().expect("array").iter().filter_map(Value::as_f64).collect();
    assert_eq!(series, [0.0, 0.0, 0.0, 0.0, 0.0, 40.0, 19.0]);
    assert_eq!(body["quotas"]["memories_percent"], 81.0);
    assert_eq!(body["quotas"]["storage_mb_percent"], 32.0);
    assert_eq!(body["quotas"]["api_calls_percent"], 19.0);
}

#[tokio::test]
async fn the_license_endpoints_show_status_and_quotas_without_any_license_id() {
    let app = spawn_app().await;
    let kim = known_account(&app).await;
    let status = app.json_as(&kim, "/api/license/status").await;
    assert_eq!(status["status"], "past_due");
    assert_eq!(status["status_label"], "Payment past due");
    assert_eq!(status["tier"], "free");
    assert_eq!(status["seats"], 4);
    assert_eq!(status["max_nodes"], 4);
    assert_eq!(status["billing_portal_url"], "https://billing.example/portal");
    assert_eq!(status["quotas"]["memories"]["level"], "warning");
    assert_eq!(status["features"], serde_json::json!(["basic_memory", "search"]));

    let quotas = app.json_as(&kim, "/api/license/quotas").await;
    assert_eq!(quotas["api_calls"]["used"], 19.0);
    assert_eq!(quotas["api_calls"]["limit"], 100.0);
    assert_eq!(quotas["api_calls"]["period"], "day");

    let license_id: String = sqlx::query_scalar("SELECT id FROM licenses").fetch_one(app.engine.db().pool()).await.expect("id");
    for path in ["/api/license/status", "/api/license/quotas", "/api/v1/users/me/usage", "/dashboard"] {
        let text = app.get_as(&kim, path).await.text().await.expect("text");
        assert!(!text.contains(&license_id), "{path} leaks the license id");
        assert!(!text.contains("lic_"), "{path} leaks a license id");
    }
}

#[tokio::test]
async fn the_json_endpoints_need_a_session_or_a_key_and_say_how() {
    let app = spawn_app().await;
    for path in ["/api/v1/users/me/usage", "/api/license/status", "/api/license/quotas"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body["error"]["message"].as_str().expect("message").contains("Authorization: Bearer"), "{body}");
    }
}

#[tokio::test]
async fn the_dashboard_is_rendered_on_the_server_with_the_numbers() {
    let app = spawn_app().await;
    let kim = known_account(&app).await;
    let root = app.get("/").await;
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/dashboard");

    let response = app.get_as(&kim, "/dashboard").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    for expected in [
        "81 / 100 items",
        "3.2 / 10 MB",
        "19 / 100 calls",
        "Payment past due",
        "Renew license",
        "Compare plans and upgrade",
        "Contact sales",
        "https://billing.example/portal",
        r#"role="progressbar""#,
        r#"aria-valuenow="81""#,
        "Approaching the limit",
        r#"data-value="40""#,
        "/vendor/echarts.min.js",
    ] {
        assert!(html.contains(expected), "dashboard HTML lacks {expected:?}");
    }
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.expect("html").contains("Page not found"));
}

#[tokio::test]
async fn the_demo_owner_sees_their_own_accounts_dashboard() {
    let app = spawn_app().await;
    let ids = app.engine.seed_demo(Utc::now()).await.expect("seed");
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    let html = app.get_as(&owner, "/dashboard").await.text().await.expect("html");
    let first = app.engine.overview(&ids[0], Utc::now()).await.expect("overview");
    assert_eq!(ids[0].as_str(), "acc_initech");
    assert!(html.contains(&first.license.account_name));
    for quota in &first.quotas {
        assert!(html.contains(&quota.usage_text()), "{}", quota.usage_text());
    }
}

#[tokio::test]
async fn a_dashboard_whose_data_fails_to_load_shows_the_error_and_a_retry_in_the_page() {
    let app = spawn_app().await;
    let kim = known_account(&app).await;
    // The page's data is loaded before it renders; make that read fail (the usage table is
    // gone) while the session, the license cache and the page around it still work.
    sqlx::query("ALTER TABLE usage_daily RENAME TO usage_daily_away").execute(app.engine.db().pool()).await.expect("rename");
    let response = app.get_as(&kim, "/dashboard").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    for expected in [r#"data-testid="error""#, "load your usage.", r#"data-testid="retry""#, r#"data-action="refresh""#, "kim@known.example"] {
        assert!(html.contains(expected), "error page lacks {expected:?}");
    }
    assert!(!html.contains(r#"data-testid="dashboard""#), "no dashboard without its data");

    // Once the data is back, the same page shows it again.
    sqlx::query("ALTER TABLE usage_daily_away RENAME TO usage_daily").execute(app.engine.db().pool()).await.expect("rename back");
    let html = app.get_as(&kim, "/dashboard").await.text().await.expect("html");
    assert!(html.contains("19 / 100 calls") && !html.contains(r#"data-testid="error""#));
}

#[tokio::test]
async fn a_meter_at_a_hard_limit_says_requests_are_refused_and_until_when() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let hooli = app.sign_in("owner@hooli.example", "hooli-owner-demo").await;
    let html = app.get_as(&hooli, "/dashboard").await.text().await.expect("html");
    // Hooli is at 100 of 100 calls today and 112 of 100 items, both hard limits.
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).format("%-d %b").to_string();
    let daily = format!("Limit reached: requests that need more are refused until the limit resets at 00:00 UTC on {tomorrow}.");
    assert!(html.contains(&daily), "the daily meter names its reset: {daily}");
    assert!(html.contains("Limit reached: requests that need more are refused until you upgrade."), "the lifetime meter");
    assert!(!html.contains("consider upgrading before requests are refused"), "they are refused already");
}
