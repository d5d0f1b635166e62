//! `GET /api/live` over real HTTP: a charge reaches the open stream with the meter as the
//! page shows it, so does ingest (counted once per account), only the caller's account is followed, and a
//! closed stream leaves nothing watched.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Reads the stream until a `live` event arrives (at most `within`); its data.
async fn next_event(response: &mut reqwest::Response, buffer: &mut String, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.lines().any(|l| l == "event: live") {
                let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
                return serde_json::from_str(data).ok();
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk()).await.ok()?.ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_charge_reaches_the_open_stream_and_a_closed_one_is_forgotten() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let key = app.customer_key("acc_acme").await;
    let other = app.customer_key("acc_initech").await;
    assert_eq!(app.get("/api/live").await.status(), 401, "no session, no key: nothing to follow");

    let mut stream = app.client.get(format!("{}/api/live", app.base)).bearer_auth(&key).send().await.expect("stream");
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"].to_str().unwrap_or("").starts_with("text/event-stream"));
    assert_eq!(app.engine.watched_accounts(), 1);
    let mut buffer = String::new();

    // Another account's usage says nothing here.
    app.post_json(&other, "/api/v1/quotas/api_calls/consume", &json!({"quantity": 3})).await;
    assert!(next_event(&mut stream, &mut buffer, Duration::from_millis(700)).await.is_none(), "another account's charge is not sent");

    let answer: Value = app.post_json(&key, "/api/v1/quotas/api_calls/consume", &json!({"quantity": 7})).await.json().await.expect("json");
    let used = answer["used"].as_f64().expect("consume answers the meter's value");
    let event = next_event(&mut stream, &mut buffer, Duration::from_secs(2)).await.expect("an event within two seconds");
    assert_eq!(event["reread"], false);
    let meter = &event["meters"][0];
    assert_eq!(meter["meter"], "api_calls");
    assert!(meter["text"].as_str().is_some_and(|t| t.ends_with("/ 50,000 calls")), "{event}");
    assert!(meter["text"].as_str().is_some_and(|t| t.starts_with(&model::quota::format_number(used))), "{event} vs {used}");
    assert_eq!(meter["level"], "ok");

    let batch = json!({"idempotency_key": "live-1", "account_id": "acc_acme", "meter": "api_calls", "quantity": 2});
    assert_eq!(app.post_json(&key, "/api/v1/usage", &batch).await.status(), 200);
    let event = next_event(&mut stream, &mut buffer, Duration::from_secs(2)).await.expect("an event for ingest");
    assert_eq!(event["reread"], false, "ingest is counted and sent as meters, not a re-read");
    let calls = event["meters"].as_array().expect("meters").iter().find(|m| m["meter"] == "api_calls").cloned().expect("api_calls");
    assert!(calls["text"].as_str().is_some_and(|t| t.starts_with(&model::quota::format_number(used + 2.0))), "{event} vs {used} + 2");

    drop(stream);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The next write finds the closed stream; the tidy job then forgets the account.
    app.post_json(&key, "/api/v1/quotas/api_calls/consume", &json!({"quantity": 1})).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    app.engine.shrink();
    assert_eq!(app.engine.watched_accounts(), 0, "a closed page costs nothing");
}
