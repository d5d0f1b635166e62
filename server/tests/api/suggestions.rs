//! Upgrade suggestions and the gated CSV export, over real HTTP.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn the_csv_export_is_gated_on_the_server_and_real_when_allowed() {
    let app = spawn_app().await;
    app.seed_demo().await;
    // Initech is on free: the export is refused with the way to upgrade, not a bare 403.
    let free = app.customer_key("acc_initech").await;
    let response = app.get_with_key(&free, "/api/v1/users/me/usage.csv").await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "upgrade_required");
    assert_eq!(body["error"]["required_plan"], "pro");
    assert_eq!(body["error"]["upgrade_url"], "https://billing.example/portal");

    // Acme is on pro: real CSV, a row per day and meter, matching the stored rollups.
    let pro = app.customer_key("acc_acme").await;
    let response = app.get_with_key(&pro, "/api/v1/users/me/usage.csv?days=7").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().expect("ascii").contains("usage-7d.csv"));
    let csv = response.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "day,meter,value");
    assert_eq!(lines.len(), 1 + 7 * 3, "7 days of 3 meters");
    let today = chrono::Utc::now().date_naive().to_string();
    let row = lines.iter().find(|l| l.starts_with(&format!("{today},api_calls,"))).expect("today's API calls");
    let value: f64 = row.rsplit(',').next().expect("value").parse().expect("number");
    assert_eq!(value, app.today("acc_acme", "api_calls").await);
    assert_eq!(app.get_with_key(&pro, "/api/v1/users/me/usage.csv?days=12").await.status(), 422);
}

#[tokio::test]
async fn suggestions_name_the_meter_near_its_limit_and_repeated_refusals() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let accounts = ["acc_initech", "acc_acme", "acc_globex", "acc_hooli", "acc_stark", "acc_wonka"];
    let mut checked = 0;
    for account in accounts {
        let key = app.customer_key(account).await;
        let usage: Value = app.get_with_key(&key, "/api/license/quotas").await.json().await.expect("json");
        let near: Vec<String> = usage
            .as_object()
            .expect("quotas")
            .iter()
            .filter(|(_, q)| q["percent"].as_f64().unwrap_or(0.0) >= 80.0)
            .map(|(m, _)| m.clone())
            .collect();
        let suggestions: Vec<Value> = app.get_with_key(&key, "/api/v1/users/me/suggestions").await.json().await.expect("json");
        let triggered: Vec<String> = suggestions
            .iter()
            .flat_map(|s| s["triggers"].as_array().cloned().unwrap_or_default())
            .filter(|t| t["kind"] == "near_limit")
            .filter_map(|t| t["meter"].as_str().map(str::to_owned))
            .collect();
        for meter in &near {
            assert!(triggered.contains(meter), "{account}: {meter} is at 80% or more but not suggested: {suggestions:?}");
            checked += 1;
        }
        for s in &suggestions {
            assert!(["low", "medium", "high"].contains(&s["urgency"].as_str().unwrap_or("")));
            assert!(!s["reason"].as_str().unwrap_or("").is_empty());
        }
    }
    assert!(checked > 0, "the demo data has an account near a limit");

    // Three refusals of `exports` this week suggest Pro to a free account.
    let service = app.service_key().await;
    for _ in 0..3 {
        let r: Value = app.get_with_key(&service, "/api/v1/entitlements/exports?account_id=acc_hooli").await.json().await.expect("json");
        assert_eq!(r["allowed"], false);
    }
    let key = app.customer_key("acc_hooli").await;
    let mut found = false;
    for _ in 0..50 {
        let suggestions: Vec<Value> = app.get_with_key(&key, "/api/v1/users/me/suggestions").await.json().await.expect("json");
        found = suggestions.iter().any(|s| {
            s["suggested_tier"] == "pro"
                && s["triggers"].as_array().is_some_and(|t| t.iter().any(|t| t["kind"] == "repeated_refusals" && t["feature"] == "exports"))
        });
        if found {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(found, "refusals are counted and suggest the plan that unlocks the feature");
}
