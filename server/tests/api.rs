//! The HTTP surface, in-process on loopback, against a fresh SQLite file per test.

use chrono::{Duration, Utc};
use engine::seed::NewAccount;
use engine::{AccountId, Engine};
use model::LicenseStatus;
use serde_json::Value;
use server::{open_engine, router, ServerConfig};

struct TestApp {
    base: String,
    engine: Engine,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestApp {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json body")
    }
}

async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = server::cli::StoreArgs {
        database_url: format!("sqlite://{}", dir.path().join("test.db").display()),
        catalog: None,
    };
    let engine = open_engine(&store, Some("https://billing.example/portal".into())).await.expect("engine");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = ServerConfig { addr, site_root: dir.path().display().to_string(), viewer: None };
    let app = router(engine.clone(), &config);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { base: format!("http://{addr}"), engine, client, _dir: dir }
}

/// A free account with known usage: 19 calls today, 40 yesterday, 81 items, 3.2 MB.
async fn known_account(app: &TestApp) -> AccountId {
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
    id
}

#[tokio::test]
async fn health_endpoints_answer_when_the_database_does() {
    let app = spawn_app().await;
    assert_eq!(app.json("/healthz").await["status"], "ok");
    let ready = app.json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");
}

#[tokio::test]
async fn the_usage_endpoint_reports_the_recorded_numbers_in_the_notes_shape() {
    let app = spawn_app().await;
    known_account(&app).await;
    let body = app.json("/api/v1/users/me/usage").await;

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
    known_account(&app).await;
    let status = app.json("/api/license/status").await;
    assert_eq!(status["status"], "past_due");
    assert_eq!(status["status_label"], "Payment past due");
    assert_eq!(status["tier"], "free");
    assert_eq!(status["seats"], 4);
    assert_eq!(status["max_nodes"], 4);
    assert_eq!(status["billing_portal_url"], "https://billing.example/portal");
    assert_eq!(status["quotas"]["memories"]["level"], "warning");
    assert_eq!(status["features"], serde_json::json!(["basic_memory", "search"]));

    let quotas = app.json("/api/license/quotas").await;
    assert_eq!(quotas["api_calls"]["used"], 19.0);
    assert_eq!(quotas["api_calls"]["limit"], 100.0);
    assert_eq!(quotas["api_calls"]["period"], "day");

    let license_id: String = sqlx::query_scalar("SELECT id FROM licenses").fetch_one(app.engine.db().pool()).await.expect("id");
    for path in ["/api/license/status", "/api/license/quotas", "/api/v1/users/me/usage", "/dashboard"] {
        let text = app.get(path).await.text().await.expect("text");
        assert!(!text.contains(&license_id), "{path} leaks the license id");
        assert!(!text.contains("lic_"), "{path} leaks a license id");
    }
}

#[tokio::test]
async fn an_empty_database_gets_an_actionable_404_in_the_error_envelope() {
    let app = spawn_app().await;
    for path in ["/api/v1/users/me/usage", "/api/license/status", "/api/license/quotas"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "not_found");
        assert!(body["error"]["message"].as_str().expect("message").contains("--demo"), "{body}");
    }
}

#[tokio::test]
async fn the_dashboard_is_rendered_on_the_server_with_the_numbers() {
    let app = spawn_app().await;
    known_account(&app).await;
    let root = app.get("/").await;
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/dashboard");

    let response = app.get("/dashboard").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    for expected in [
        "81 / 100 items",
        "3.2 / 10 MB",
        "19 / 100 calls",
        "Payment past due",
        "Renew license",
        "Upgrade your plan",
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
async fn the_demo_seed_on_the_dashboard_shows_the_default_viewer() {
    let app = spawn_app().await;
    let ids = app.engine.seed_demo(Utc::now()).await.expect("seed");
    let html = app.get("/dashboard").await.text().await.expect("html");
    let first = app.engine.overview(&ids[0], Utc::now()).await.expect("overview");
    assert!(html.contains(&first.license.account_name));
    for quota in &first.quotas {
        assert!(html.contains(&quota.usage_text()), "{}", quota.usage_text());
    }
}
