//! Usage alerts over real HTTP: a write that crosses a threshold raises a notification at
//! once, once a day per threshold; the sweep finds what the hot path did not see; the
//! account reads and marks them, and no other account can.

use crate::helpers::*;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

const CATALOG: &str = r#"
[[meters]]
key = "api_calls"
name = "API calls"
unit = "calls"
aggregation = "sum"

[[meters]]
key = "seats_used"
name = "Seats"
unit = "seats"
aggregation = "last"
alert_at_percent = 50

[[plans]]
id = "small"
name = "Small"
rank = 0
price = 0
features = ["basic"]
rate_limits = { per_minute = 100000, per_day = 10000000 }
limits.api_calls = { value = 10, period = "day", enforcement = "hard" }
limits.seats_used = { value = 4, period = "lifetime", enforcement = "hard" }
"#;

async fn notifications(app: &TestApp, key: &str) -> Value {
    let response = app.get_with_key(key, "/api/v1/users/me/notifications").await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// Polls until the account has `count` notifications, for at most two seconds.
async fn wait_for(app: &TestApp, key: &str, count: usize) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let list = notifications(app, key).await;
        let now = list["notifications"].as_array().map_or(0, Vec::len);
        if now >= count || std::time::Instant::now() > deadline {
            assert_eq!(now, count, "{list}");
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_consume_that_crosses_a_threshold_is_told_at_once_and_once_a_day() {
    let clock = engine::Clock::manual(Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).single().expect("time"));
    let app = spawn_app_full(TestOptions { catalog: Some(CATALOG.into()), clock: Some(clock.clone()), ..Default::default() }, |_| {}).await;
    app.account("acc_a", "small").await;
    let key = app.customer_key("acc_a").await;
    let consume = |quantity: f64| {
        let (app, key) = (&app, &key);
        async move { app.post_json(key, "/api/v1/quotas/api_calls/consume", &json!({"quantity": quantity})).await.status() }
    };

    assert_eq!(consume(7.0).await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(notifications(&app, &key).await["unread"], 0, "70% is below the 80% default");

    assert_eq!(consume(1.0).await, 200); // 8 of 10: 80%
    let list = wait_for(&app, &key, 1).await;
    let first = &list["notifications"][0];
    assert_eq!((first["kind"].as_str(), first["subject"].as_str(), first["threshold"].as_f64()), (Some("quota.threshold_crossed"), Some("api_calls"), Some(80.0)));
    assert_eq!(first["title"], "API calls: 80% of the limit");
    assert!(first["body"].as_str().is_some_and(|b| b.starts_with("8 / 10 calls used (per day).")), "{first}");
    assert_eq!(list["unread"], 1);

    assert_eq!(consume(2.0).await, 200); // 10 of 10: the limit
    let list = wait_for(&app, &key, 2).await;
    let newest = &list["notifications"][0];
    assert_eq!((newest["kind"].as_str(), newest["title"].as_str()), (Some("quota.exceeded"), Some("API calls: limit reached")));
    assert!(newest["body"].as_str().is_some_and(|b| b.contains("refused until the limit resets at 00:00 UTC on 11 Mar")), "{newest}");

    // Evaluated again and again (a restart, the sweep): nothing new today. The dedupe is
    // the database's, so no process remembers anything.
    let account = engine::AccountId::parse("acc_a").expect("id");
    for _ in 0..10 {
        assert_eq!(app.engine.evaluate_alerts(&account).await.expect("evaluate"), 0);
    }
    assert_eq!(app.count("notifications").await, 2);

    // The next UTC day starts from zero calls: a new crossing is told again.
    clock.set(Utc.with_ymd_and_hms(2026, 3, 11, 9, 0, 0).single().expect("time"));
    assert_eq!(consume(9.0).await, 200);
    let list = wait_for(&app, &key, 3).await;
    assert_eq!(list["notifications"][0]["threshold"], 80.0);
}

#[tokio::test]
async fn a_level_set_by_ingest_is_evaluated_and_the_sweep_repeats_it_daily() {
    let clock = engine::Clock::manual(Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).single().expect("time"));
    let app = spawn_app_full(TestOptions { catalog: Some(CATALOG.into()), clock: Some(clock.clone()), ..Default::default() }, |_| {}).await;
    app.account("acc_l", "small").await;
    let service = app.service_key().await;
    let key = app.customer_key("acc_l").await;
    // The catalog warns this meter at 50%: 2 of 4 seats.
    let level = |n: u32, value: f64| json!({"idempotency_key": format!("seats-{n}"), "account_id": "acc_l", "meter": "seats_used", "quantity": value});
    assert_eq!(app.post_json(&service, "/api/v1/usage", &level(1, 2.0)).await.status(), 200);
    // Ingest is evaluated within its two-second delay.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
    while notifications(&app, &key).await["notifications"].as_array().map_or(0, Vec::len) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let list = notifications(&app, &key).await;
    assert_eq!(list["notifications"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!((list["notifications"][0]["subject"].as_str(), list["notifications"][0]["threshold"].as_f64()), (Some("seats_used"), Some(50.0)));

    // Down and up again ten times the same day: still one.
    for n in 0..10 {
        app.post_json(&service, "/api/v1/usage", &level(10 + n * 2, 1.0)).await;
        app.post_json(&service, "/api/v1/usage", &level(11 + n * 2, 3.0)).await;
        assert_eq!(app.engine.sweep_alerts().await.expect("sweep"), 0);
    }
    // The next day the level still stands at 75%: the sweep tells it once more.
    clock.set(Utc.with_ymd_and_hms(2026, 3, 11, 0, 30, 0).single().expect("time"));
    assert_eq!(app.engine.sweep_alerts().await.expect("sweep"), 1);
    assert_eq!(app.engine.sweep_alerts().await.expect("sweep"), 0);
    assert_eq!(notifications(&app, &key).await["unread"], 2);
}

#[tokio::test]
async fn an_account_marks_its_own_notifications_read_and_no_one_elses() {
    let app = spawn_app_full(TestOptions { catalog: Some(CATALOG.into()), ..Default::default() }, |_| {}).await;
    app.account("acc_a", "small").await;
    app.account("acc_b", "small").await;
    let (a, b) = (app.customer_key("acc_a").await, app.customer_key("acc_b").await);
    assert_eq!(app.post_json(&a, "/api/v1/quotas/api_calls/consume", &json!({"quantity": 10})).await.status(), 200);
    let list = wait_for(&app, &a, 1).await;
    let id = list["notifications"][0]["id"].as_str().expect("id").to_owned();
    // Only the highest threshold reached is told: the limit, not also 80%.
    assert_eq!(list["notifications"][0]["kind"], "quota.exceeded");

    assert_eq!(notifications(&app, &b).await["notifications"], json!([]), "b sees nothing of a's");
    let (status, code, _) = error_code(app.post_json(&b, "/api/v1/users/me/notifications/read", &json!({"id": id})).await).await;
    assert_eq!((status.as_u16(), code.as_str()), (404, "not_found"), "b cannot mark a's");
    assert_eq!(notifications(&app, &a).await["unread"], 1);

    let marked: Value = app.post_json(&a, "/api/v1/users/me/notifications/read", &json!({"id": id})).await.json().await.expect("json");
    assert_eq!(marked, json!({"marked": 1, "unread": 0}));
    let again: Value = app.post_json(&a, "/api/v1/users/me/notifications/read", &json!({})).await.json().await.expect("json");
    assert_eq!(again, json!({"marked": 0, "unread": 0}));
    assert_eq!(notifications(&app, &a).await["notifications"][0]["read"], true);

    // A service key acts for no account of its own; no key at all is refused.
    let service = app.service_key().await;
    let (status, code, _) = error_code(app.get_with_key(&service, "/api/v1/users/me/notifications").await).await;
    assert_eq!((status.as_u16(), code.as_str()), (403, "forbidden"));
    let (status, _, _) = error_code(app.post_json(&service, "/api/v1/users/me/notifications/read", &json!({})).await).await;
    assert_eq!(status.as_u16(), 403);
    assert_eq!(app.get("/api/v1/users/me/notifications").await.status(), 401);

    // Bad input: a limit out of range, an unknown field.
    let (status, _, _) = error_code(app.get_with_key(&a, "/api/v1/users/me/notifications?limit=0").await).await;
    assert_eq!(status.as_u16(), 422);
    let (status, _, _) = error_code(app.post_json(&a, "/api/v1/users/me/notifications/read", &json!({"all": true})).await).await;
    assert_eq!(status.as_u16(), 422);
}

#[tokio::test]
async fn every_page_shows_the_unread_count_and_the_notifications_page_lists_them() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    let page = app.get_as(&owner, "/keys").await.text().await.expect("html");
    assert!(!page.contains("data-testid=\"unread-badge\""), "no badge while nothing is unread");

    // Initech is at 81% of its item limit: the sweep tells it.
    let initech = engine::AccountId::parse("acc_initech").expect("id");
    assert_eq!(app.engine.evaluate_alerts(&initech).await.expect("evaluate"), 1);
    for path in ["/dashboard", "/keys", "/plans", "/notifications"] {
        let html = app.get_as(&owner, path).await.text().await.expect("html");
        assert!(html.contains(r#"data-testid="unread-badge" data-count="1""#), "{path} shows the badge");
    }
    let html = app.get_as(&owner, "/notifications").await.text().await.expect("html");
    assert!(html.contains("Memories: 81% of the limit"), "the page lists it");
    assert!(html.contains("81 / 100 items used."), "with its numbers");
    assert!(html.contains(r#"data-testid="mark-all-read""#));
    // Another account's owner sees none of it.
    let hooli = app.sign_in("owner@hooli.example", "hooli-owner-demo").await;
    let theirs = app.get_as(&hooli, "/notifications").await.text().await.expect("html");
    assert!(!theirs.contains("Memories: 81%"));
}
