//! The metering hot path over real HTTP: verify, consume, ingest, entitlements, grants,
//! rate limits, and the exactness the issue asks for.

use crate::helpers::*;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

/// A catalog with small limits, so the boundaries are reached in a test.
const SMALL: &str = r#"
[[meters]]
key = "api_calls"
name = "API calls"
unit = "calls"
aggregation = "sum"

[[meters]]
key = "tokens"
name = "Tokens"
unit = "tokens"
aggregation = "sum"

[[meters]]
key = "seats_used"
name = "Seats"
unit = "seats"
aggregation = "last"

[[plans]]
id = "metered"
name = "Metered"
rank = 0
price = 0
features = ["basic"]
rate_limits = { per_minute = 100000, per_day = 10000000 }
limits.api_calls = { value = 5, period = "month", enforcement = "hard" }
limits.tokens = { value = 100, period = "day", enforcement = "soft" }
limits.seats_used = { value = 3, period = "lifetime", enforcement = "hard" }

[[plans]]
id = "bigger"
name = "Bigger"
rank = 1
price = 20
features = ["basic", "exports"]
rate_limits = { per_minute = 100000, per_day = 10000000 }
limits.api_calls = { value = 1000, period = "month", enforcement = "hard" }
"#;

async fn small_app(clock: Option<engine::Clock>) -> TestApp {
    spawn_app_full(TestOptions { catalog: Some(SMALL.into()), clock, ..Default::default() }, |_| {}).await
}

async fn consume(app: &TestApp, key: &str, meter: &str, body: Value) -> reqwest::Response {
    app.post_json(key, &format!("/api/v1/quotas/{meter}/consume"), &body).await
}

#[tokio::test]
async fn verify_answers_valid_and_records_the_call_before_answering() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let customer = app.customer_key("acc_wayne").await;
    let before = app.today("acc_wayne", "api_calls").await;

    let response = app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": customer })).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["code"], "VALID");
    assert_eq!(body["account"], "acc_wayne");
    assert_eq!(body["plan"], "enterprise");
    assert_eq!(body["meter"], "api_calls");
    let after = app.today("acc_wayne", "api_calls").await;
    assert_eq!(after, before + 1.0, "the call is stored once the answer arrives");
    assert_eq!(body["remaining"].as_f64(), Some(1_000_000.0 - after));
    assert_eq!(body["ratelimit"]["limit"], 1000);
    assert_eq!(body["ratelimit"]["remaining"], 999);
    assert!(headers.get("ratelimit-policy").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("\"minute\";q=1000;w=60")), "{headers:?}");
    assert!(headers.get("ratelimit").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("r=999")), "{headers:?}");

    // A cost charges that many.
    let response = app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": customer, "cost": 25 })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.today("acc_wayne", "api_calls").await, after + 25.0);
}

#[tokio::test]
async fn verify_explains_every_refusal_with_its_code() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let verify = |key: String, extra: Value| {
        let mut body = json!({ "key": key });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let app = &app;
        let service = service.clone();
        async move {
            let response = app.post_json(&service, "/api/v1/keys/verify", &body).await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };

    let unknown = "tg_live_".to_owned() + &"a".repeat(32);
    assert_eq!(verify(unknown, json!({})).await["code"], "NOT_FOUND");
    assert_eq!(verify("not a key".into(), json!({})).await["code"], "NOT_FOUND");
    assert_eq!(verify(service.clone(), json!({})).await["code"], "NOT_FOUND", "a service key is not a customer's key");

    let suspended = app.customer_key("acc_umbrella").await;
    let body = verify(suspended, json!({})).await;
    assert_eq!((body["valid"].clone(), body["code"].clone()), (json!(false), json!("LICENSE_INACTIVE")));
    assert_eq!(verify(app.customer_key("acc_tyrell").await, json!({})).await["code"], "EXPIRED");

    // Initech is on free, which lacks `exports` (pro is the first plan with it).
    let initech = app.customer_key("acc_initech").await;
    let body = verify(initech.clone(), json!({ "feature": "exports" })).await;
    assert_eq!(body["code"], "UPGRADE_REQUIRED", "{body}");
    assert_eq!(body["entitlement"]["required_plan"], "pro");
    assert_eq!(body["entitlement"]["upgrade_url"], "https://billing.example/portal");
    assert_eq!(verify(initech.clone(), json!({ "feature": "search" })).await["code"], "VALID");

    // Revoked: the very next verify says so.
    let keys: Vec<Value> = app.get_with_key(&initech, "/api/v1/user/keys").await.json().await.expect("keys");
    let id = keys[0]["id"].as_str().expect("id").to_owned();
    let manager = app.manager_key("acc_initech").await;
    let revoked = app.client.delete(format!("{}/api/v1/user/keys/{id}", app.base)).bearer_auth(&manager).send().await.expect("revoke");
    assert_eq!(revoked.status(), 200);
    assert_eq!(verify(initech, json!({})).await["code"], "REVOKED");
}

#[tokio::test]
async fn verify_refuses_past_the_plans_rate_limit_and_the_quota() {
    let app = small_app(None).await;
    app.account("acc_q", "metered").await;
    let service = app.service_key().await;
    let key = app.customer_key("acc_q").await;
    let mut codes = Vec::new();
    for _ in 0..7 {
        let response = app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": key })).await;
        let retry_after = response.headers().get("retry-after").is_some();
        let body: Value = response.json().await.expect("json");
        codes.push((body["code"].as_str().unwrap_or_default().to_owned(), retry_after));
    }
    let valid = codes.iter().filter(|(c, _)| c == "VALID").count();
    assert_eq!(valid, 5, "the monthly hard limit is 5: {codes:?}");
    assert!(codes[5..].iter().all(|(c, retry)| c == "QUOTA_EXCEEDED" && *retry), "{codes:?}");
    assert_eq!(app.rollup("usage_monthly", "acc_q", "api_calls").await, 5.0, "refusals consume nothing");

    // Free plan: 10 requests a minute.
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let free = app.customer_key("acc_hooli").await;
    let mut last = Value::Null;
    let mut headers = None;
    for _ in 0..11 {
        let response = app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": free, "cost": 0 })).await;
        headers = Some(response.headers().clone());
        last = response.json().await.expect("json");
    }
    assert_eq!(last["code"], "RATE_LIMITED", "{last}");
    assert_eq!(last["ratelimit"]["remaining"], 0);
    let headers = headers.expect("headers");
    let retry: u64 = headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn verify_is_for_service_keys_and_checks_its_input() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let customer = app.customer_key("acc_wayne").await;
    let (status, code, _) = error_code(app.post_json(&customer, "/api/v1/keys/verify", &json!({ "key": customer })).await).await;
    assert_eq!((status.as_u16(), code.as_str()), (403, "forbidden"));
    for (body, field) in [
        (json!({ "key": customer, "meter": "bandwidth" }), "meter"),
        (json!({ "key": customer, "feature": "teleport" }), "feature"),
        (json!({ "key": customer, "cost": -1 }), "cost"),
        (json!({ "key": customer, "cost": 1e300 }), "cost"),
    ] {
        let response = app.post_json(&service, "/api/v1/keys/verify", &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    let (status, _, message) = error_code(app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": customer, "kee": 1 })).await).await;
    assert_eq!(status, 422);
    assert!(message.contains("kee"), "{message}");
    let before = app.rollup("usage_daily", "acc_wayne", "api_calls").await;
    let unauthenticated = app.client.post(format!("{}/api/v1/keys/verify", app.base)).json(&json!({ "key": customer })).send().await.expect("post");
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(app.rollup("usage_daily", "acc_wayne", "api_calls").await, before, "bad requests record nothing");
}

#[tokio::test]
async fn two_hundred_concurrent_consumers_never_pass_a_hard_limit() {
    let app = small_app(None).await;
    app.account("acc_race", "metered").await;
    let service = app.service_key().await;
    // A limit grant sets N = 37 for this account's monthly API calls.
    let grant = app
        .post_json(&service, "/api/v1/accounts/acc_race/grants", &json!({ "kind": "limit", "meter": "api_calls", "value": 37 }))
        .await;
    assert_eq!(grant.status(), 201);

    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let client = app.client.clone();
            let url = format!("{}/api/v1/quotas/api_calls/consume", app.base);
            let service = service.clone();
            tokio::spawn(async move {
                client.post(url).bearer_auth(service).json(&json!({ "account_id": "acc_race", "quantity": 1 })).send().await.map(|r| r.status().as_u16())
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").expect("response"));
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((ok, refused), (37, 163), "{statuses:?}");
    assert_eq!(app.rollup("usage_monthly", "acc_race", "api_calls").await, 37.0);
    assert_eq!(app.rollup("usage_daily", "acc_race", "api_calls").await, 37.0);
}

#[tokio::test]
async fn hard_limits_refuse_with_retry_after_and_soft_limits_flag() {
    let app = small_app(None).await;
    app.account("acc_s", "metered").await;
    let key = app.customer_key("acc_s").await;

    // Soft: tokens 100 per day.
    let body: Value = consume(&app, &key, "tokens", json!({ "quantity": 90 })).await.json().await.expect("json");
    assert_eq!((body["allowed"].clone(), body["over_soft_limit"].clone()), (json!(true), json!(false)), "{body}");
    assert_eq!(body["remaining"], 10.0);
    let response = consume(&app, &key, "tokens", json!({ "quantity": 30 })).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["over_soft_limit"], true);
    assert_eq!(body["used"], 120.0);
    assert_eq!(body["remaining"], 0.0);
    assert_eq!(app.rollup("usage_daily", "acc_s", "tokens").await, 120.0);

    // Hard: a level of 3 seats, lifetime.
    assert_eq!(consume(&app, &key, "seats_used", json!({ "quantity": 3 })).await.status(), 200);
    let refused = consume(&app, &key, "seats_used", json!({})).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().get("retry-after").is_none(), "a lifetime limit never resets");
    let error: Value = refused.json().await.expect("json");
    assert_eq!(error["error"]["code"], "quota_exceeded");
    assert_eq!(error["error"]["limit"], 3.0);
    assert_eq!(error["error"]["upgrade_url"], "https://billing.example/portal");
    // Monthly API calls: 5, then 429 with Retry-After until the month ends.
    for _ in 0..5 {
        assert_eq!(consume(&app, &key, "api_calls", json!({})).await.status(), 200);
    }
    let refused = consume(&app, &key, "api_calls", json!({})).await;
    assert_eq!(refused.status(), 429);
    let retry: i64 = refused.headers()["retry-after"].to_str().expect("ascii").parse().expect("secs");
    let now = Utc::now();
    let month_end = (now.date_naive().with_day(1).expect("day 1") + chrono::Months::new(1)).and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    assert!((retry - (month_end - now).num_seconds()).abs() <= 2, "Retry-After {retry} points at the month's end");
    assert_eq!(app.rollup("usage_monthly", "acc_s", "api_calls").await, 5.0);
}

use chrono::Datelike;

#[tokio::test]
async fn a_monthly_limit_rolls_over_at_the_utc_month_start() {
    let clock = engine::Clock::manual(Utc.with_ymd_and_hms(2026, 1, 31, 23, 59, 30).single().expect("time"));
    let app = small_app(Some(clock.clone())).await;
    app.account("acc_m", "metered").await;
    let key = app.customer_key("acc_m").await;
    for _ in 0..5 {
        assert_eq!(consume(&app, &key, "api_calls", json!({})).await.status(), 200);
    }
    let refused = consume(&app, &key, "api_calls", json!({})).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "30", "30 seconds to February");

    clock.set(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 5).single().expect("time"));
    let response = consume(&app, &key, "api_calls", json!({})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["used"], 1.0, "February starts from zero: {body}");
    assert_eq!(body["resets_at"], "2026-03-01T00:00:00Z");
    let months: Vec<(String, f64)> = sqlx::query_as("SELECT CAST(month AS TEXT), value FROM usage_monthly WHERE account_id = 'acc_m' AND meter = 'api_calls' ORDER BY month")
        .fetch_all(app.engine.db().pool())
        .await
        .expect("rows");
    assert_eq!(months.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [5.0, 1.0], "{months:?}");
}

#[tokio::test]
async fn twenty_parallel_sends_of_one_idempotency_key_count_once() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let before = app.rollup("usage_daily", "acc_acme", "api_calls").await;
    let event = json!({ "idempotency_key": "evt-42", "account_id": "acc_acme", "meter": "api_calls", "quantity": 7 });
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = app.client.clone();
            let url = format!("{}/api/v1/usage", app.base);
            let (service, event) = (service.clone(), event.clone());
            tokio::spawn(async move {
                let response = client.post(url).bearer_auth(service).json(&event).send().await.expect("send");
                (response.status().as_u16(), response.json::<Value>().await.expect("json")["results"][0]["status"].clone())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    assert!(outcomes.iter().all(|(status, _)| *status == 200), "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|(_, s)| s == "accepted").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|(_, s)| s == "duplicate").count(), 19);
    assert_eq!(app.rollup("usage_daily", "acc_acme", "api_calls").await, before + 7.0);

    // The same key with another payload is a conflict, answered 409, and changes nothing.
    let changed = json!({ "idempotency_key": "evt-42", "account_id": "acc_acme", "meter": "api_calls", "quantity": 8 });
    let response = app.post_json(&service, "/api/v1/usage", &changed).await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["results"][0]["status"], "conflict");
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(app.rollup("usage_daily", "acc_acme", "api_calls").await, before + 7.0);
}

#[tokio::test]
async fn a_batch_answers_each_event_and_a_rejected_event_keeps_its_key() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let now = Utc::now();
    let batch = json!({ "events": [
        { "idempotency_key": "b1", "account_id": "acc_acme", "meter": "api_calls", "quantity": 2, "properties": { "route": "/x" } },
        { "idempotency_key": "b2", "account_id": "acc_acme", "meter": "storage_mb", "quantity": 12.5, "timestamp": now.to_rfc3339() },
        { "idempotency_key": "b3", "account_id": "acc_acme", "meter": "api_calls", "quantity": -4 },
        { "idempotency_key": "b1", "account_id": "acc_acme", "meter": "api_calls", "quantity": 2, "properties": { "route": "/x" } },
        { "idempotency_key": "b4", "account_id": "acc_nobody", "meter": "api_calls", "quantity": 1 },
        { "idempotency_key": "b5", "meter": "api_calls", "quantity": 1 },
    ]});
    let response = app.post_json(&service, "/api/v1/usage", &batch).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let statuses: Vec<_> = body["results"].as_array().expect("results").iter().map(|r| r["status"].as_str().unwrap_or("?").to_owned()).collect();
    assert_eq!(statuses, ["accepted", "accepted", "rejected", "duplicate", "rejected", "rejected"], "{body}");
    assert!(body["results"][2]["reason"].as_str().is_some_and(|r| r.contains("greater than zero")), "{body}");
    assert!(body["results"][4]["reason"].as_str().is_some_and(|r| r.contains("unknown account")), "{body}");
    assert!(body["results"][5]["reason"].as_str().is_some_and(|r| r.contains("account_id is required")), "{body}");

    // b3 was rejected, so its key is still free.
    let fixed = json!({ "idempotency_key": "b3", "account_id": "acc_acme", "meter": "api_calls", "quantity": 4 });
    let body: Value = app.post_json(&service, "/api/v1/usage", &fixed).await.json().await.expect("json");
    assert_eq!(body["results"][0]["status"], "accepted");

    // A customer key writes only to its own account.
    let customer = app.customer_key("acc_acme").await;
    let other = json!({ "idempotency_key": "c1", "account_id": "acc_initech", "meter": "api_calls", "quantity": 1 });
    let response = app.post_json(&customer, "/api/v1/usage", &other).await;
    assert_eq!(response.status(), 403, "refused as a whole, as consume refuses it");
    let own = json!({ "idempotency_key": "c1", "meter": "api_calls", "quantity": 1 });
    assert_eq!(app.post_json(&customer, "/api/v1/usage", &own).await.status(), 200);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_no_stored_count() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let snapshot = |app: &TestApp| {
        let pool = app.engine.db().pool().clone();
        async move {
            let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_events").fetch_one(&pool).await.expect("count");
            let daily: f64 = sqlx::query_scalar("SELECT COALESCE(SUM(value), 0) FROM usage_daily").fetch_one(&pool).await.expect("sum");
            let monthly: f64 = sqlx::query_scalar("SELECT COALESCE(SUM(value), 0) FROM usage_monthly").fetch_one(&pool).await.expect("sum");
            (events, daily.to_bits(), monthly.to_bits())
        }
    };
    let before = snapshot(&app).await;
    let event = |quantity: Value, extra: Value| {
        let mut e = json!({ "idempotency_key": "bad", "account_id": "acc_acme", "meter": "api_calls", "quantity": quantity });
        if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
            e.extend(x.clone());
        }
        e
    };
    let far_future = (Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let far_past = (Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let cases: Vec<(Value, u16, &str)> = vec![
        (event(json!(-1), json!({})), 422, "greater than zero"),
        (event(json!("NaN"), json!({})), 422, "must be a number"),
        (event(json!(1e300), json!({})), 422, "at most"),
        (event(json!(1), json!({ "meter": "bandwidth" })), 422, "unknown meter `bandwidth`"),
        (event(json!(1), json!({ "timestamp": far_future })), 422, "in the future"),
        (event(json!(1), json!({ "timestamp": far_past })), 422, "in the past"),
        (event(json!(1), json!({ "timestamp": "yesterday" })), 422, "RFC 3339"),
        (event(json!(1), json!({ "idempotency_key": "" })), 422, "idempotency_key"),
        (event(json!(1), json!({ "account_id": "x'; DROP TABLE accounts;--" })), 422, "account_id"),
        (event(json!(1), json!({ "properties": "a string" })), 422, "properties must be an object"),
        (event(json!(1), json!({ "properties": { "blob": "x".repeat(5000) } })), 422, "at most 4096 bytes"),
        (json!([1, 2]), 422, "one event"),
    ];
    for (body, status, needle) in cases {
        let response = app.post_json(&service, "/api/v1/usage", &body).await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        let text = response.text().await.expect("text");
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    let raw = |body: Vec<u8>| {
        app.client.post(format!("{}/api/v1/usage", app.base)).bearer_auth(&service).header("content-type", "application/json").body(body).send()
    };
    for (body, status, needle) in [
        (b"{\"idempotency_key\": \"x\", \"quantity\": NaN}".to_vec(), 400, "not valid JSON"),
        (b"{\"idempotency_key\": \"x\", \"quantity\": 1e400}".to_vec(), 400, "not valid JSON"),
        (b"{\"events\": [".to_vec(), 400, "not valid JSON"),
        (vec![b' '; 10 * 1024 * 1024], 413, "too large"),
    ] {
        let response = raw(body).await.expect("send");
        assert_eq!(response.status().as_u16(), status);
        let text = response.text().await.expect("text");
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    let many: Vec<Value> = (0..10_000).map(|i| json!({ "idempotency_key": format!("m{i}"), "account_id": "acc_acme", "meter": "api_calls", "quantity": 1 })).collect();
    let response = app.post_json(&service, "/api/v1/usage", &json!({ "events": many })).await;
    assert_eq!(response.status(), 413);
    let small_many: Vec<Value> = (0..1001).map(|i| json!({ "idempotency_key": format!("{i}"), "meter": "api_calls", "quantity": 1, "account_id": "acc_acme" })).collect();
    let response = app.post_json(&service, "/api/v1/usage", &json!({ "events": small_many })).await;
    assert_eq!(response.status(), 413);
    assert!(response.text().await.expect("text").contains("at most 1000 events"));

    for (body, status) in [(json!({ "quantity": -1, "account_id": "acc_acme" }), 422), (json!({ "quantity": "lots", "account_id": "acc_acme" }), 422)] {
        assert_eq!(consume(&app, &service, "api_calls", body).await.status().as_u16(), status);
    }
    assert_eq!(consume(&app, &service, "bandwidth", json!({ "account_id": "acc_acme" })).await.status(), 422);
    assert_eq!(consume(&app, &service, "api_calls", json!({})).await.status(), 422, "a service key names the account");
    assert_eq!(snapshot(&app).await, before, "no stored count changed");
    assert_eq!(app.get("/readyz").await.status(), 200, "the server is still up");
}

#[tokio::test]
async fn entitlements_answer_allowed_or_the_way_to_upgrade() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let get = |path: String, key: String| {
        let app = &app;
        async move { app.get_with_key(&key, &path).await }
    };
    let body: Value = get("/api/v1/entitlements/search?account_id=acc_initech".into(), service.clone()).await.json().await.expect("json");
    assert_eq!(body, json!({ "feature": "search", "allowed": true, "plan": "free" }));
    let body: Value = get("/api/v1/entitlements/exports?account_id=acc_initech".into(), service.clone()).await.json().await.expect("json");
    assert_eq!(body["allowed"], false);
    assert_eq!(body["code"], "upgrade_required");
    assert_eq!(body["required_plan"], "pro");
    assert_eq!(body["upgrade_url"], "https://billing.example/portal");
    let body: Value = get("/api/v1/entitlements/tags?account_id=acc_umbrella".into(), service.clone()).await.json().await.expect("json");
    assert_eq!(body["code"], "license_inactive", "{body}");
    assert_eq!(get("/api/v1/entitlements/teleport?account_id=acc_initech".into(), service.clone()).await.status(), 404);
    assert_eq!(get("/api/v1/entitlements/tags".into(), service.clone()).await.status(), 422);
    assert_eq!(get("/api/v1/entitlements/tags?account_id=acc_nobody".into(), service.clone()).await.status(), 404);

    // A customer key asks for its own account, and no other.
    let customer = app.customer_key("acc_initech").await;
    assert_eq!(get("/api/v1/entitlements/tags".into(), customer.clone()).await.status(), 200);
    assert_eq!(get("/api/v1/entitlements/tags?account_id=acc_acme".into(), customer).await.status(), 403);

    // A feature grant unlocks it at once; revoking it locks it again.
    let grant: Value = app
        .post_json(&service, "/api/v1/accounts/acc_initech/grants", &json!({ "kind": "feature", "feature": "exports", "reason": "pilot" }))
        .await
        .json()
        .await
        .expect("json");
    let body: Value = get("/api/v1/entitlements/exports?account_id=acc_initech".into(), service.clone()).await.json().await.expect("json");
    assert_eq!(body["allowed"], true);
    let listed: Value = get("/api/v1/accounts/acc_initech/grants".into(), service.clone()).await.json().await.expect("json");
    assert_eq!(listed[0]["id"], grant["id"]);
    let revoked = app.client.delete(format!("{}/api/v1/accounts/acc_initech/grants/{}", app.base, grant["id"].as_str().expect("id"))).bearer_auth(&service).send().await.expect("delete");
    assert_eq!(revoked.status(), 204);
    let body: Value = get("/api/v1/entitlements/exports?account_id=acc_initech".into(), service.clone()).await.json().await.expect("json");
    assert_eq!(body["allowed"], false);
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('grant.created', 'grant.revoked')").fetch_one(app.engine.db().pool()).await.expect("audit");
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn a_bypass_grant_lifts_quotas_and_rate_limits_but_still_meters() {
    let app = small_app(None).await;
    app.account("acc_admin", "metered").await;
    let service = app.service_key().await;
    let key = app.customer_key("acc_admin").await;
    for _ in 0..5 {
        assert_eq!(consume(&app, &key, "api_calls", json!({})).await.status(), 200);
    }
    assert_eq!(consume(&app, &key, "api_calls", json!({})).await.status(), 429);
    let response = app.post_json(&service, "/api/v1/accounts/acc_admin/grants", &json!({ "kind": "bypass", "reason": "staff account" })).await;
    assert_eq!(response.status(), 201);
    let body: Value = consume(&app, &key, "api_calls", json!({ "quantity": 10 })).await.json().await.expect("json");
    assert_eq!(body["allowed"], true, "{body}");
    assert_eq!(body["limit"], Value::Null);
    assert_eq!(app.rollup("usage_monthly", "acc_admin", "api_calls").await, 15.0);
}

#[tokio::test]
async fn customer_keys_are_rate_limited_by_plan_and_failed_auth_counts_for_nobody() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let key = app.customer_key("acc_hooli").await; // free: 10 a minute
    let forged = "tg_live_".to_owned() + &"Z".repeat(32);
    for _ in 0..25 {
        assert_eq!(app.get_with_key(&forged, "/api/v1/users/me/usage").await.status(), 401);
    }
    let first = app.get_with_key(&key, "/api/v1/users/me/usage").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["ratelimit"], "\"minute\";r=9;t=6", "the forged attempts spent nothing");
    assert!(first.headers()["ratelimit-policy"].to_str().expect("ascii").contains("\"day\";q=100;w=86400"));
    for _ in 0..9 {
        assert_eq!(app.get_with_key(&key, "/api/v1/users/me/usage").await.status(), 200);
    }
    let limited = app.get_with_key(&key, "/api/v1/users/me/usage").await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers()["ratelimit"].to_str().expect("ascii").contains("r=0"));
    let (_, code, message) = error_code(limited).await;
    assert_eq!(code, "rate_limited");
    assert!(message.contains("retry in"), "{message}");
}

#[tokio::test]
async fn service_keys_have_their_own_configurable_limit() {
    let app = spawn_app_full(TestOptions { service_rate_per_second: Some(3), ..Default::default() }, |_| {}).await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let event = json!({ "idempotency_key": format!("s{i}"), "account_id": "acc_acme", "meter": "api_calls", "quantity": 1 });
        statuses.push(app.post_json(&service, "/api/v1/usage", &event).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // Verify is limited by the customer's plan, not the service limit.
    let customer = app.customer_key("acc_wayne").await;
    let response = app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": customer })).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_usage_endpoint_reports_real_calls_and_its_own_calls_do_not_count() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let customer = app.customer_key("acc_wayne").await;
    let before: Value = app.get_with_key(&customer, "/api/v1/users/me/usage").await.json().await.expect("json");
    for _ in 0..3 {
        app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": customer })).await;
    }
    let after: Value = app.get_with_key(&customer, "/api/v1/users/me/usage").await.json().await.expect("json");
    let today = |v: &Value| v["usage"]["api_calls_today"].as_f64().expect("today");
    assert_eq!(today(&after), today(&before) + 3.0, "three verifies, and the two usage reads count for nothing");
    assert!(after["usage"]["rpm_current"].as_f64().expect("rpm") >= 3.0, "{after}");
}

#[tokio::test]
async fn metrics_count_requests_decisions_events_and_batches() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let customer = app.customer_key("acc_wayne").await;
    app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": customer })).await;
    app.post_json(&service, "/api/v1/usage", &json!({ "idempotency_key": "m1", "account_id": "acc_wayne", "meter": "api_calls", "quantity": 1 })).await;
    let text = app.get("/metrics").await.text().await.expect("text");
    for needle in [
        "tollgate_http_requests_total{route=\"/api/v1/keys/verify\",method=\"POST\",status=\"200\"}",
        "tollgate_http_request_duration_seconds_bucket{route=\"/api/v1/usage\"",
        "tollgate_verify_decisions_total{code=\"VALID\"}",
        "tollgate_ingested_events_total",
        "tollgate_writer_batch_jobs_bucket",
    ] {
        assert!(text.contains(needle), "{needle} missing from /metrics:\n{text}");
    }
}

#[tokio::test]
async fn a_level_dated_ahead_cannot_hide_later_reports_and_customers_cannot_set_levels() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let service = app.service_key().await;
    let now = Utc::now();
    let level = |key: &str, quantity: f64, at: chrono::DateTime<Utc>| {
        json!({ "idempotency_key": key, "account_id": "acc_acme", "meter": "memories", "quantity": quantity, "timestamp": at.to_rfc3339() })
    };
    assert_eq!(app.post_json(&service, "/api/v1/usage", &level("l1", 80.0, now)).await.status(), 200);
    // The attack: a zero dated almost five minutes ahead, then the real level a second later.
    assert_eq!(app.post_json(&service, "/api/v1/usage", &level("l2", 0.0, now + chrono::Duration::seconds(299))).await.status(), 200);
    assert_eq!(app.post_json(&service, "/api/v1/usage", &level("l3", 90.0, now + chrono::Duration::seconds(1))).await.status(), 200);
    assert_eq!(app.today("acc_acme", "memories").await, 90.0, "the report after the future-dated zero is the level");

    let customer = app.customer_key("acc_acme").await;
    let own = json!({ "idempotency_key": "c1", "meter": "memories", "quantity": 0 });
    let refused = app.post_json(&customer, "/api/v1/usage", &own).await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.expect("json");
    assert!(body["results"][0]["reason"].as_str().is_some_and(|r| r.contains("level meter")), "{body}");
    assert_eq!(app.today("acc_acme", "memories").await, 90.0, "a customer key cannot lower its level");
    let counted = json!({ "idempotency_key": "c2", "meter": "api_calls", "quantity": 1 });
    assert_eq!(app.post_json(&customer, "/api/v1/usage", &counted).await.status(), 200, "customers still count usage");
}
