//! Billing webhooks over real HTTP: signatures, deduplication, ordering, provisioning.

use crate::helpers::*;
use base64::Engine as _;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const WHOP_SECRET: &str = "ws_test_whop_secret";
const STRIPE_SECRET: &str = "whsec_test_stripe_secret";

async fn app() -> TestApp {
    let options = TestOptions { whop_secret: Some(WHOP_SECRET.into()), stripe_secret: Some(STRIPE_SECRET.into()), ..Default::default() };
    let app = spawn_app_full(options, |_| {}).await;
    app.seed_demo().await;
    app
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("key");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Sends a Whop event signed the Standard Webhooks way.
async fn send_whop(app: &TestApp, body: &str, id: &str, at: i64) -> reqwest::Response {
    let sig = base64::engine::general_purpose::STANDARD.encode(hmac(WHOP_SECRET.as_bytes(), format!("{id}.{at}.{body}").as_bytes()));
    app.client
        .post(format!("{}/api/webhooks/whop", app.base))
        .header("webhook-id", id)
        .header("webhook-timestamp", at.to_string())
        .header("webhook-signature", format!("v1,{sig}"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("send")
}

async fn send_stripe(app: &TestApp, body: &str, at: i64) -> reqwest::Response {
    let sig = hex_of(&hmac(STRIPE_SECRET.as_bytes(), format!("{at}.{body}").as_bytes()));
    app.client
        .post(format!("{}/api/webhooks/stripe", app.base))
        .header("stripe-signature", format!("t={at},v1={sig}"))
        .body(body.to_owned())
        .send()
        .await
        .expect("send")
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn membership(event_id: &str, kind: &str, at: chrono::DateTime<Utc>, email: &str, plan: &str) -> String {
    json!({
        "id": event_id, "api_version": "v5", "timestamp": at.to_rfc3339(), "type": kind, "company_id": "biz_demo",
        "data": {
            "id": "mem_ada", "status": if kind == "membership.deactivated" { "canceled" } else { "active" },
            "user": { "id": "user_ada", "username": "ada", "name": "Ada Lovelace", "email": email },
            "plan": { "id": plan }, "product": { "id": "prod_demo", "title": "Demo" },
            "renewal_period_start": at.timestamp(), "renewal_period_end": at.timestamp() + 30 * 86400,
            "cancel_at_period_end": false, "canceled_at": null,
            "manage_url": "https://whop.com/orders/mem_ada/manage", "license_key": null, "metadata": {}
        }
    })
    .to_string()
}

async fn outcome(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["outcome"].as_str().or(body["error"]["code"].as_str()).unwrap_or_default().to_owned())
}

async fn license_of_email(app: &TestApp, email: &str) -> Option<(String, String, String)> {
    sqlx::query_as("SELECT l.account_id, l.plan_id, l.status FROM licenses l JOIN users u ON u.account_id = l.account_id WHERE u.email = $1")
        .bind(email)
        .fetch_optional(app.engine.db().pool())
        .await
        .expect("query")
}

#[tokio::test]
async fn a_purchase_provisions_an_account_and_a_deactivation_takes_it_back_to_free() {
    let app = app().await;
    let now = Utc::now();
    let body = membership("evt_a1", "membership.activated", now, "ada@example.com", "plan_demo_pro");
    assert_eq!(outcome(send_whop(&app, &body, "msg_a1", now.timestamp()).await).await, (200, "provisioned".into()));
    let (account, plan, status) = license_of_email(&app, "ada@example.com").await.expect("an account for the buyer");
    assert_eq!((plan.as_str(), status.as_str()), ("pro", "active"));

    // Its key now verifies on the paid plan.
    let key = app.customer_key(&account).await;
    let service = app.service_key().await;
    let verify = || async { app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": key })).await.json::<Value>().await.expect("json") };
    let answer = verify().await;
    assert_eq!((answer["code"].clone(), answer["plan"].clone()), (json!("VALID"), json!("pro")));

    let later = now + chrono::Duration::seconds(5);
    let body = membership("evt_a2", "membership.deactivated", later, "ada@example.com", "plan_demo_pro");
    assert_eq!(outcome(send_whop(&app, &body, "msg_a2", later.timestamp()).await).await, (200, "applied".into()));
    let (_, plan, status) = license_of_email(&app, "ada@example.com").await.expect("account");
    assert_eq!((plan.as_str(), status.as_str()), ("free", "active"));
    let answer = verify().await;
    assert_eq!(answer["plan"], "free", "the key now gets the free limits at once: {answer}");
    assert_eq!(answer["ratelimit"]["limit"], 10);

    let history: Vec<(String, String)> = sqlx::query_as("SELECT from_plan, to_plan FROM plan_history WHERE account_id = $1 ORDER BY at")
        .bind(&account)
        .fetch_all(app.engine.db().pool())
        .await
        .expect("history");
    assert_eq!(history, [("free".to_owned(), "pro".to_owned()), ("pro".to_owned(), "free".to_owned())]);
    let audits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE account_id = $1 AND action IN ('account.provisioned', 'license.changed')")
        .bind(&account)
        .fetch_one(app.engine.db().pool())
        .await
        .expect("audit");
    assert_eq!(audits, 3);
}

#[tokio::test]
async fn twenty_concurrent_copies_of_an_event_have_exactly_one_effect() {
    let app = app().await;
    let now = Utc::now();
    let body = membership("evt_dup", "membership.activated", now, "dup@example.com", "plan_demo_starter");
    // Sent together, so the copies race on the server.
    let app = std::sync::Arc::new(app);
    let sends: Vec<_> = (0..20)
        .map(|_| {
            let (app, body) = (app.clone(), body.clone());
            tokio::spawn(async move { outcome(send_whop(&app, &body, "msg_dup", now.timestamp()).await).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for send in sends {
        outcomes.push(send.await.expect("task"));
    }
    assert!(outcomes.iter().all(|(status, _)| *status == 200), "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|(_, o)| o == "provisioned").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|(_, o)| o == "duplicate").count(), 19);
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'dup@example.com'").fetch_one(app.engine.db().pool()).await.expect("n");
    assert_eq!(accounts, 1);
    assert_eq!(app.count("plan_history").await, 1);
    let deliveries: i64 = sqlx::query_scalar("SELECT deliveries FROM provider_events WHERE event_id = 'evt_dup'").fetch_one(app.engine.db().pool()).await.expect("n");
    assert_eq!(deliveries, 20, "every copy is counted, one is applied");
}

#[tokio::test]
async fn an_older_stripe_event_never_rolls_the_state_back() {
    let app = app().await;
    let t0 = Utc::now().timestamp() - 60;
    let sub = |id: &str, created: i64, price: &str, status: &str| {
        json!({ "id": id, "type": "customer.subscription.updated", "created": created, "data": { "object": {
            "id": "sub_acme", "status": status, "customer": "cus_acme", "cancel_at_period_end": false,
            "items": { "data": [{ "price": { "id": price } }] }, "metadata": { "email": "owner@acme.example" } } } })
        .to_string()
    };
    let newer = sub("evt_s2", t0 + 20, "price_demo_starter", "active");
    let older = sub("evt_s1", t0 + 10, "price_demo_pro", "past_due");
    assert_eq!(outcome(send_stripe(&app, &newer, Utc::now().timestamp()).await).await, (200, "applied".into()));
    assert_eq!(outcome(send_stripe(&app, &older, Utc::now().timestamp()).await).await, (200, "stale".into()));
    let (account, plan, status) = license_of_email(&app, "owner@acme.example").await.expect("acme");
    assert_eq!((account.as_str(), plan.as_str(), status.as_str()), ("acc_acme", "starter", "active"));

    // Unknown types are recorded as ignored, and answered 200.
    let unknown = json!({ "id": "evt_x", "type": "charge.dispute.created", "created": t0, "data": { "object": {} } }).to_string();
    assert_eq!(outcome(send_stripe(&app, &unknown, Utc::now().timestamp()).await).await, (200, "ignored".into()));
    let recorded: String = sqlx::query_scalar("SELECT outcome FROM provider_events WHERE event_id = 'evt_x'").fetch_one(app.engine.db().pool()).await.expect("row");
    assert_eq!(recorded, "ignored");

    // The admin console lists them, filtered by provider and outcome.
    let admin = app.sign_in(ADMIN.0, ADMIN.1).await;
    let list = |provider: &'static str, outcome: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let response = app.server_fn(Some(&admin), "admin/webhook_events", &[("provider", provider), ("outcome", outcome)]).await;
            assert!(response.status().is_success());
            response.json::<Vec<Value>>().await.expect("json")
        }
    };
    assert_eq!(list("", "").await.len(), 3);
    let stale = list("stripe", "stale").await;
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["event_id"], "evt_s1");
    assert!(stale[0]["detail"].as_str().is_some_and(|d| d.contains("older than")), "{}", stale[0]);
    assert!(list("whop", "").await.is_empty());
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    let refused = app.server_fn(Some(&owner), "admin/webhook_events", &[("provider", ""), ("outcome", "")]).await;
    assert!(!refused.status().is_success(), "admins only");
}

#[tokio::test]
async fn forged_stale_and_unsigned_requests_are_refused_and_store_nothing() {
    let app = app().await;
    let now = Utc::now();
    let body = membership("evt_f", "membership.activated", now, "mallory@example.com", "plan_demo_pro");
    let ts = now.timestamp();
    let good = base64::engine::general_purpose::STANDARD.encode(hmac(WHOP_SECRET.as_bytes(), format!("msg_f.{ts}.{body}").as_bytes()));
    let mut flipped = body.clone().into_bytes();
    flipped[10] ^= 0x01;
    let post = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let mut request = app.client.post(format!("{}/api/webhooks/whop", app.base)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let all = |sig: String, ts: i64| vec![("webhook-id", "msg_f".to_owned()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
    type Case = (Vec<(&'static str, String)>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (all(format!("v1,{good}"), ts), flipped, 401),
        (all("v1,".into(), ts), body.clone().into_bytes(), 400),
        (all(format!("v1,{}", &good[..20]), ts), body.clone().into_bytes(), 400),
        (all(format!("v2,{good}"), ts), body.clone().into_bytes(), 400),
        (all(format!("v1,{good}"), ts - 301), body.clone().into_bytes(), 401),
        (all(format!("v1,{good}"), ts + 301), body.clone().into_bytes(), 401),
        (all(format!("v1,{good}"), ts)[1..].to_vec(), body.clone().into_bytes(), 400),
        (vec![all(format!("v1,{good}"), ts)[0].clone(), all(String::new(), ts)[2].clone()], body.clone().into_bytes(), 400),
        (vec![], body.clone().into_bytes(), 400),
    ];
    for (headers, payload, expected) in cases {
        let described = format!("{headers:?}");
        let response = post(headers, payload).await.expect("send");
        assert_eq!(response.status().as_u16(), expected, "{described}");
        let text = response.text().await.expect("text");
        assert!(!text.contains("mallory"), "the body is never echoed: {text}");
    }
    assert_eq!(app.count("provider_events").await, 0, "nothing is stored for a refused request");
    assert!(license_of_email(&app, "mallory@example.com").await.is_none());
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("tollgate_webhook_rejected_total{provider=\"whop\",reason=\"mismatch\"}"), "{metrics}");

    // Stripe's header, with one valid signature among several.
    let event = json!({ "id": "evt_ok", "type": "invoice.paid", "created": ts, "data": { "object": { "subscription": "sub_nobody" } } }).to_string();
    let sig = hex_of(&hmac(STRIPE_SECRET.as_bytes(), format!("{ts}.{event}").as_bytes()));
    let response = app
        .client
        .post(format!("{}/api/webhooks/stripe", app.base))
        .header("stripe-signature", format!("t={ts},v1={},v1={sig},v0=legacy", "0".repeat(64)))
        .body(event)
        .send()
        .await
        .expect("send");
    assert_eq!(outcome(response).await, (200, "unmatched".into()));
}

#[tokio::test]
async fn legacy_whop_signatures_work_and_an_unconfigured_provider_says_so() {
    let app = app().await;
    let now = Utc::now();
    let body = json!({ "action": "membership.went_valid", "data": { "id": "mem_leg", "status": "active", "plan_id": "plan_demo_starter",
        "user": { "email": "legacy@example.com" } } })
    .to_string();
    let ts = now.timestamp();
    let sig = hex_of(&hmac(WHOP_SECRET.as_bytes(), format!("{ts}.{body}").as_bytes()));
    let send = |delivery: &'static str| {
        app.client
            .post(format!("{}/api/webhooks/whop", app.base))
            .header("x-whop-signature", format!("t={ts},v1={sig}"))
            .header("webhook-id", delivery)
            .body(body.clone())
            .send()
    };
    assert_eq!(outcome(send("msg_first").await.expect("send")).await, (200, "provisioned".into()));
    let (_, plan, _) = license_of_email(&app, "legacy@example.com").await.expect("account");
    assert_eq!(plan, "starter");
    // A replay of the signed body with a new (unsigned) delivery id is the same event.
    assert_eq!(outcome(send("msg_replayed").await.expect("send")).await, (200, "duplicate".into()));

    let bare = spawn_app().await;
    let response = bare.client.post(format!("{}/api/webhooks/stripe", bare.base)).body("{}").send().await.expect("send");
    assert_eq!(response.status(), 503);
    let text = response.text().await.expect("text");
    assert!(text.contains("TOLLGATE_STRIPE_WEBHOOK_SECRET"), "{text}");
}

async fn clocked_app(clock: engine::Clock) -> TestApp {
    let options = TestOptions {
        whop_secret: Some(WHOP_SECRET.into()),
        stripe_secret: Some(STRIPE_SECRET.into()),
        clock: Some(clock),
        ..Default::default()
    };
    let app = spawn_app_full(options, |_| {}).await;
    app.engine.seed_demo(app.engine.now()).await.expect("seed");
    app
}

async fn license(app: &TestApp, account: &str) -> (String, String) {
    sqlx::query_as("SELECT plan_id, status FROM licenses WHERE account_id = $1").bind(account).fetch_one(app.engine.db().pool()).await.expect("license")
}

#[tokio::test]
async fn past_due_is_suspended_after_the_grace_period_and_expiry_is_applied() {
    let clock = engine::Clock::manual(Utc::now());
    let app = clocked_app(clock.clone()).await;
    let t = clock.now().timestamp();
    let event = json!({ "id": "evt_pd", "type": "customer.subscription.updated", "created": t, "data": { "object": {
        "id": "sub_acme", "status": "past_due", "customer": "cus_acme", "items": { "data": [{ "price": { "id": "price_demo_pro" } }] },
        "metadata": { "email": "owner@acme.example" } } } })
    .to_string();
    assert_eq!(outcome(send_stripe(&app, &event, t).await).await, (200, "applied".into()));
    assert_eq!(license(&app, "acc_acme").await, ("pro".into(), "past_due".into()));
    sqlx::query("UPDATE licenses SET expires_at = $1 WHERE account_id = 'acc_wayne'")
        .bind(clock.now() + chrono::Duration::hours(1))
        .execute(app.engine.db().pool())
        .await
        .expect("expiry");

    clock.advance(chrono::Duration::days(6));
    assert_eq!(app.engine.run_license_lifecycle().await.expect("run"), 1, "only Wayne's expiry is due after 6 days");
    assert_eq!(license(&app, "acc_acme").await, ("pro".into(), "past_due".into()), "still in its 7-day grace");
    assert_eq!(license(&app, "acc_wayne").await.1, "expired");

    clock.advance(chrono::Duration::days(2));
    assert_eq!(app.engine.run_license_lifecycle().await.expect("run"), 1);
    assert_eq!(license(&app, "acc_acme").await, ("pro".into(), "suspended".into()));
    assert_eq!(app.engine.run_license_lifecycle().await.expect("run"), 0, "a transition applies once");

    // The customer sees it in their billing history, newest first.
    let key = app.customer_key("acc_acme").await;
    let billing: Value = app.get_with_key(&key, "/api/v1/users/me/billing").await.json().await.expect("json");
    let history = billing["plan_history"].as_array().expect("history");
    assert_eq!(history[0]["to_status"], "suspended", "{billing}");
    assert_eq!(history[0]["source"], "lifecycle");
    assert_eq!(history[1]["to_status"], "past_due");
    assert_eq!(billing["provider"], "stripe");
}

#[tokio::test]
async fn cancel_at_period_end_keeps_the_plan_until_the_period_ends() {
    let clock = engine::Clock::manual(Utc::now());
    let app = clocked_app(clock.clone()).await;
    let now = clock.now();
    let body = membership("evt_c1", "membership.activated", now, "carol@example.com", "plan_demo_pro");
    assert_eq!(outcome(send_whop(&app, &body, "msg_c1", now.timestamp()).await).await, (200, "provisioned".into()));
    let (account, ..) = license_of_email(&app, "carol@example.com").await.expect("account");
    let later = now + chrono::Duration::seconds(10);
    let mut cancel: Value = serde_json::from_str(&membership("evt_c2", "membership.cancel_at_period_end_changed", later, "carol@example.com", "plan_demo_pro")).expect("json");
    cancel["data"]["cancel_at_period_end"] = json!(true);
    let cancel = cancel.to_string();
    clock.set(later);
    assert_eq!(outcome(send_whop(&app, &cancel, "msg_c2", later.timestamp()).await).await, (200, "applied".into()));
    assert_eq!(license(&app, &account).await.0, "pro", "kept until the period ends");
    let key = app.customer_key(&account).await;
    let billing: Value = app.get_with_key(&key, "/api/v1/users/me/billing").await.json().await.expect("json");
    assert_eq!(billing["cancel_at_period_end"], true);
    assert_eq!(billing["portal_url"], "https://whop.com/orders/mem_ada/manage", "the membership's own manage link");

    clock.advance(chrono::Duration::days(29));
    app.engine.run_license_lifecycle().await.expect("run");
    assert_eq!(license(&app, &account).await.0, "pro");
    clock.advance(chrono::Duration::days(2));
    assert_eq!(app.engine.run_license_lifecycle().await.expect("run"), 1);
    assert_eq!(license(&app, &account).await, ("free".into(), "active".into()));
}

#[tokio::test]
async fn the_purchase_flow_end_to_end_from_webhook_to_key_to_dashboard() {
    let started = std::time::Instant::now();
    let app = app().await;
    let seeded = started.elapsed();
    let now = Utc::now();
    let t0 = std::time::Instant::now();
    let body = membership("evt_buy", "membership.activated", now, "grace@example.com", "plan_demo_pro");
    assert_eq!(outcome(send_whop(&app, &body, "msg_buy", now.timestamp()).await).await, (200, "provisioned".into()));
    let webhook = t0.elapsed();

    // The admin sees the new owner and issues a sign-in link.
    let admin = app.sign_in(ADMIN.0, ADMIN.1).await;
    let waiting: Value = app.server_fn(Some(&admin), "admin/awaiting_signin", &[]).await.json().await.expect("json");
    let owner = waiting.as_array().expect("list").iter().find(|w| w["email"] == "grace@example.com").expect("listed").clone();
    let member = app.sign_in(OWNER.0, OWNER.1).await;
    let refused = app.server_fn(Some(&member), "admin/issue_link", &[("user_id", owner["user_id"].as_str().expect("id"))]).await;
    assert!(!refused.status().is_success(), "only admins issue links");
    let path: String = app.server_fn(Some(&admin), "admin/issue_link", &[("user_id", owner["user_id"].as_str().expect("id"))]).await.json().await.expect("json");
    let token = path.strip_prefix("/welcome?token=").expect("a welcome link").to_owned();
    assert_eq!(app.get(&path).await.status(), 200, "the welcome page opens without a session");

    // The owner uses it: a password, a session, and the first key, once.
    let response = app.server_fn(None, "session/redeem_link", &[("token", &token), ("password", "grace-new-password")]).await;
    assert!(response.status().is_success(), "{}", response.status());
    let cookie = session_cookie(response.headers()).expect("signed in");
    let key: Value = response.json().await.expect("json");
    let key = key["plaintext"].as_str().expect("the first key").to_owned();
    let again = app.server_fn(None, "session/redeem_link", &[("token", &token), ("password", "another-password")]).await;
    assert!(!again.status().is_success(), "a link works once");

    // The key works on the paid plan, and the dashboard shows the paid tier.
    let service = app.service_key().await;
    let answer: Value = app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": key })).await.json().await.expect("json");
    assert_eq!((answer["code"].clone(), answer["plan"].clone()), (json!("VALID"), json!("pro")));
    let session = Session { cookie };
    let page = app.get_as(&session, "/dashboard").await.text().await.expect("html");
    assert!(page.contains("data-testid=\"license-header\"") && page.contains(">Pro<"), "the dashboard shows the Pro tier");
    let signed_in = app.sign_in("grace@example.com", "grace-new-password").await;
    assert!(!signed_in.cookie.is_empty());
    let path_done = t0.elapsed();

    // Deactivation takes it back to free, and the same key gets the free limits.
    let later = now + chrono::Duration::seconds(1);
    let body = membership("evt_end", "membership.deactivated", later, "grace@example.com", "plan_demo_pro");
    assert_eq!(outcome(send_whop(&app, &body, "msg_end", later.timestamp()).await).await, (200, "applied".into()));
    let answer: Value = app.post_json(&service, "/api/v1/keys/verify", &json!({ "key": key })).await.json().await.expect("json");
    assert_eq!(answer["plan"], "free");
    let history: Value = app.get_with_key(&key, "/api/v1/users/me/billing").await.json().await.expect("json");
    assert_eq!(history["plan_history"].as_array().map(Vec::len), Some(2), "{history}");
    eprintln!(
        "purchase flow on loopback (debug build): server and demo data {seeded:?}; signed webhook to provisioned account {webhook:?}; \
         webhook, admin link, password set, first key, verify and dashboard {path_done:?}"
    );
}

#[tokio::test]
async fn ended_subscriptions_are_cancelled_or_expired_and_a_link_expires_unused() {
    let clock = engine::Clock::manual(Utc::now());
    let app = clocked_app(clock.clone()).await;
    let t = clock.now().timestamp();
    let sub = |id: &str, created: i64, status: &str, email: &str, sub: &str| {
        json!({ "id": id, "type": "customer.subscription.updated", "created": created, "data": { "object": {
            "id": sub, "status": status, "items": { "data": [{ "price": { "id": "price_demo_pro" } }] }, "metadata": { "email": email } } } })
        .to_string()
    };
    assert_eq!(outcome(send_stripe(&app, &sub("evt_c", t, "canceled", "owner@acme.example", "sub_a"), t).await).await, (200, "applied".into()));
    assert_eq!(license(&app, "acc_acme").await, ("pro".into(), "cancelled".into()));
    assert_eq!(outcome(send_stripe(&app, &sub("evt_e", t, "incomplete_expired", "owner@initech.example", "sub_i"), t).await).await, (200, "applied".into()));
    assert_eq!(license(&app, "acc_initech").await.1, "expired");

    // A purchase for a new email: the sign-in link stops working after 72 hours unused.
    let body = membership("evt_l", "membership.activated", clock.now(), "late@example.com", "plan_demo_starter");
    assert_eq!(outcome(send_whop(&app, &body, "msg_l", t).await).await, (200, "provisioned".into()));
    let user: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'late@example.com'").fetch_one(app.engine.db().pool()).await.expect("user");
    let user = engine::UserId::parse(&user).expect("a user id");
    let (token, expires) = app.engine.issue_signin_link("test", &user).await.expect("link");
    assert_eq!(expires, clock.now() + chrono::Duration::hours(72));
    clock.advance(chrono::Duration::hours(73));
    let err = app.engine.redeem_signin_link(&token, "a-good-password", None).await.expect_err("expired");
    assert!(err.to_string().contains("not valid any more"), "{err}");
    // A new link replaces it and works.
    let (token, _) = app.engine.issue_signin_link("test", &user).await.expect("link");
    let redeemed = app.engine.redeem_signin_link(&token, "a-good-password", None).await.expect("works");
    assert!(redeemed.first_key.is_some(), "the first key is handed over with the first sign-in");
    // A later link (the owner lost the password) ends every session the user had.
    let (token, _) = app.engine.issue_signin_link("test", &user).await.expect("link");
    let again = app.engine.redeem_signin_link(&token, "another-good-password", None).await.expect("works");
    assert!(app.engine.session(&redeemed.session, clock.now()).await.expect("lookup").is_none(), "the earlier session ended");
    assert!(app.engine.session(&again.session, clock.now()).await.expect("lookup").is_some());
    assert!(app.engine.awaiting_first_signin().await.expect("list").iter().all(|w| w.email != "late@example.com"));

    // Raw bodies are dropped after the retention period; the events and outcomes stay.
    clock.advance(chrono::Duration::days(31));
    assert!(app.engine.prune_webhook_bodies(30).await.expect("prune") >= 3);
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider_events WHERE body IS NOT NULL").fetch_one(app.engine.db().pool()).await.expect("n");
    assert_eq!(kept, 0);
    assert_eq!(app.count("provider_events").await, 3);
}

#[tokio::test]
async fn a_buyers_name_loses_its_control_characters_before_it_is_stored() {
    let app = app().await;
    let now = Utc::now();
    let body = membership("evt_esc", "membership.activated", now, "esc@example.com", "plan_demo_pro")
        .replace("Ada Lovelace", "Ada\\u001b[31m Evil\\nCorp\\u0007");
    assert_eq!(outcome(send_whop(&app, &body, "msg_esc", now.timestamp()).await).await, (200, "provisioned".into()));
    let name: String = sqlx::query_scalar("SELECT a.name FROM accounts a JOIN users u ON u.account_id = a.id WHERE u.email = 'esc@example.com'")
        .fetch_one(app.engine.db().pool())
        .await
        .expect("account");
    assert!(!name.chars().any(char::is_control), "{name:?}");
    assert_eq!(name, "Ada[31m EvilCorp");
}

/// A subscription event; `customer.subscription.deleted` is `canceled`, anything else `active`.
fn stripe_subscription(event_id: &str, kind: &str, created: i64, email: &str, sub: &str, price: &str, reference: Option<&str>) -> String {
    let status = if kind == "customer.subscription.deleted" { "canceled" } else { "active" };
    let mut object = json!({ "id": sub, "status": status, "items": { "data": [{ "price": { "id": price } }] }, "metadata": { "email": email } });
    if let Some(reference) = reference {
        object["metadata"]["tollgate_ref"] = json!(reference);
    }
    json!({ "id": event_id, "type": kind, "created": created, "data": { "object": object } }).to_string()
}

async fn plan_of(app: &TestApp, account: &engine::AccountId) -> (String, String) {
    sqlx::query_as("SELECT plan_id, status FROM licenses WHERE account_id = $1").bind(account.as_str()).fetch_one(app.engine.db().pool()).await.expect("license")
}

#[tokio::test]
async fn a_stranger_who_signs_up_with_a_customers_email_receives_nothing_they_pay_for() {
    let app = app().await;
    let t = Utc::now().timestamp();
    // The attacker signs up as BigCo's billing address; nobody proved they own it.
    let (_, attacker) = app.engine.sign_up("billing@bigco.example", "attacker password", "Not BigCo", None, Utc::now()).await.expect("sign up");
    let attacker = attacker.account.expect("account");
    // BigCo pays for Pro with that email: the subscription is not handed to the attacker.
    let paid = stripe_subscription("evt_big", "customer.subscription.created", t, "billing@bigco.example", "sub_big", "price_demo_pro", None);
    assert_eq!(outcome(send_stripe(&app, &paid, t).await).await, (200, "unmatched".into()));
    assert_eq!(plan_of(&app, &attacker).await, ("free".into(), "active".into()));
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'billing@bigco.example'").fetch_one(app.engine.db().pool()).await.expect("n");
    assert_eq!(accounts, 1, "nothing was provisioned either");
    let detail: String = sqlx::query_scalar("SELECT detail FROM provider_events WHERE event_id = 'evt_big'").fetch_one(app.engine.db().pool()).await.expect("detail");
    assert!(detail.contains("has not proved"), "{detail}");

    // An admin attaches it to the right account, with a reason, and it applies there.
    let bigco = engine::AccountId::parse("acc_acme").expect("id");
    let applied = app.engine.attach_billing_event("admin@tollgate.example", engine::billing::Provider::Stripe, "evt_big", &bigco, "BigCo's finance team confirmed by phone").await.expect("attach");
    assert_eq!(applied.as_str(), "applied");
    assert_eq!(plan_of(&app, &bigco).await, ("pro".into(), "active".into()));
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'billing_event.attached' AND target = 'evt_big'").fetch_one(app.engine.db().pool()).await.expect("n");
    assert_eq!(audited, 1);
    // Later events for that subscription follow the link.
    let ended = stripe_subscription("evt_big2", "customer.subscription.deleted", t + 5, "billing@bigco.example", "sub_big", "price_demo_pro", None);
    assert_eq!(outcome(send_stripe(&app, &ended, t + 5).await).await, (200, "applied".into()));
    assert_eq!(plan_of(&app, &bigco).await.0, "free");
    assert_eq!(plan_of(&app, &attacker).await.0, "free", "the attacker never had it");
}

#[tokio::test]
async fn buying_with_a_victims_email_and_cancelling_cannot_downgrade_the_victim() {
    let app = app().await;
    let t = Utc::now().timestamp();
    let (_, victim) = app.engine.sign_up("victim@example.com", "victim password", "Victim Co", None, Utc::now()).await.expect("sign up");
    let victim = victim.account.expect("account");
    let reference = app.engine.checkout_ref(&victim).await.expect("reference");
    // The victim buys Pro through their own checkout link, which carries their reference.
    let bought = stripe_subscription("evt_v1", "customer.subscription.created", t, "victim@example.com", "sub_victim", "price_demo_pro", Some(&reference));
    assert_eq!(outcome(send_stripe(&app, &bought, t).await).await, (200, "applied".into()));
    assert_eq!(plan_of(&app, &victim).await, ("pro".into(), "active".into()));
    // The attacker buys the cheapest plan with the victim's email, then cancels it.
    let cheap = stripe_subscription("evt_a1", "customer.subscription.created", t + 1, "victim@example.com", "sub_attack", "price_demo_starter", None);
    assert_eq!(outcome(send_stripe(&app, &cheap, t + 1).await).await, (200, "unmatched".into()));
    let cancel = stripe_subscription("evt_a2", "customer.subscription.deleted", t + 2, "victim@example.com", "sub_attack", "price_demo_starter", None);
    assert_eq!(outcome(send_stripe(&app, &cancel, t + 2).await).await.1, "unmatched");
    assert_eq!(plan_of(&app, &victim).await, ("pro".into(), "active".into()), "the victim keeps what they pay for");
    // A reference nobody was given links to nothing.
    let forged = stripe_subscription("evt_f", "customer.subscription.created", t + 3, "x@example.com", "sub_f", "price_demo_pro", Some("ref_guessed"));
    assert_eq!(outcome(send_stripe(&app, &forged, t + 3).await).await.1, "unmatched");
}

#[tokio::test]
async fn a_verified_email_still_matches_and_one_ended_subscription_leaves_another_paid_plan() {
    let app = app().await;
    let t = Utc::now().timestamp();
    // owner@acme.example was added by the operator (demo data): a verified email.
    let acme = engine::AccountId::parse("acc_acme").expect("id");
    let first = stripe_subscription("evt_m1", "customer.subscription.created", t, "owner@acme.example", "sub_one", "price_demo_pro", None);
    assert_eq!(outcome(send_stripe(&app, &first, t).await).await, (200, "applied".into()));
    let second = stripe_subscription("evt_m2", "customer.subscription.created", t + 1, "owner@acme.example", "sub_two", "price_demo_pro", None);
    assert_eq!(outcome(send_stripe(&app, &second, t + 1).await).await, (200, "applied".into()));
    // One of the two ends, another fails: the other still pays for Pro.
    let ended = stripe_subscription("evt_m3", "customer.subscription.deleted", t + 2, "owner@acme.example", "sub_one", "price_demo_pro", None);
    assert_eq!(outcome(send_stripe(&app, &ended, t + 2).await).await, (200, "applied".into()));
    assert_eq!(plan_of(&app, &acme).await, ("pro".into(), "active".into()));
    // When the last one ends too, the account goes back to the entry plan.
    let last = stripe_subscription("evt_m4", "customer.subscription.deleted", t + 3, "owner@acme.example", "sub_two", "price_demo_pro", None);
    assert_eq!(outcome(send_stripe(&app, &last, t + 3).await).await, (200, "applied".into()));
    assert_eq!(plan_of(&app, &acme).await.0, "free");
}

#[tokio::test]
async fn a_test_mode_stripe_event_never_changes_a_live_license() {
    let app = app().await;
    let t = Utc::now().timestamp();
    let hooli = engine::AccountId::parse("acc_hooli").expect("id");
    let body = stripe_subscription("evt_test", "customer.subscription.created", t, "owner@hooli.example", "sub_test", "price_demo_pro", None)
        .replacen('{', "{\"livemode\":false,", 1);
    assert_eq!(outcome(send_stripe(&app, &body, t).await).await, (200, "ignored".into()));
    assert_eq!(plan_of(&app, &hooli).await.0, "free", "a test-mode purchase on a live deployment");
    let detail: String = sqlx::query_scalar("SELECT detail FROM provider_events WHERE event_id = 'evt_test'").fetch_one(app.engine.db().pool()).await.expect("detail");
    assert!(detail.contains("test-mode"), "{detail}");
    let live = stripe_subscription("evt_live", "customer.subscription.created", t, "owner@hooli.example", "sub_live", "price_demo_pro", None)
        .replacen('{', "{\"livemode\":true,", 1);
    assert_eq!(outcome(send_stripe(&app, &live, t).await).await, (200, "applied".into()));
    assert_eq!(plan_of(&app, &hooli).await.0, "pro");
}
