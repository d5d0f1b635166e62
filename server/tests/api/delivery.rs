//! Alerts leaving the server, to real servers on loopback: email to an SMTP server,
//! signed webhooks to an HTTP receiver that checks every signature itself, retries and
//! the delivery log, a 410, the guard against private destinations, secret rolls, and
//! password reset by email.

use crate::helpers::*;
use crate::sinks::{verifies, Receiver, SmtpSink};
use chrono::{TimeZone, Utc};
use engine::alerts::mail::Mailer;
use engine::alerts::webhooks::NetPolicy;
use serde_json::{json, Value};
use std::time::Duration;

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

[[plans]]
id = "team"
name = "Team"
rank = 1
price = 4900
features = ["basic", "webhooks", "custom_alert_thresholds"]
rate_limits = { per_minute = 100000, per_day = 10000000 }
limits.api_calls = { value = 10, period = "day", enforcement = "hard" }
limits.seats_used = { value = 4, period = "lifetime", enforcement = "hard" }

[[plans]]
id = "big"
name = "Big"
rank = 2
price = 9900
features = ["basic", "webhooks", "custom_alert_thresholds"]
rate_limits = { per_minute = 100000, per_day = 10000000 }
limits.api_calls = { value = 100, period = "day", enforcement = "hard" }
limits.seats_used = { value = 40, period = "lifetime", enforcement = "hard" }
"#;

/// Short waits between attempts, so retries happen within a test.
const QUICK_RETRIES: [Duration; 4] = [Duration::ZERO, Duration::from_millis(200), Duration::from_millis(200), Duration::from_millis(200)];

fn delivery(smtp: Option<&SmtpSink>, allow_loopback: bool) -> engine::DeliveryConfig {
    engine::DeliveryConfig {
        mailer: smtp.map(|s| Mailer::new(&s.url(), "Tollgate <alerts@tollgate.test>").expect("mailer")),
        net_policy: NetPolicy { allow: if allow_loopback { vec!["127.0.0.1/32".parse().expect("net")] } else { Vec::new() } },
        retry_schedule: QUICK_RETRIES.to_vec(),
    }
}

async fn app_with(delivery: engine::DeliveryConfig, clock: Option<engine::Clock>) -> TestApp {
    spawn_app_full(TestOptions { catalog: Some(CATALOG.into()), delivery: Some(delivery), clock, ..Default::default() }, |_| {}).await
}

/// A live key of `account` with the `manage_webhooks` scope.
async fn webhook_key(app: &TestApp, account: &str, kind: model::KeyKind) -> String {
    let name = engine::auth::KeyName::parse("hooks").expect("name");
    let account = engine::AccountId::parse(account).expect("id");
    app.engine
        .create_scoped_key("test", Some(&account), kind, &name, None, &[model::KeyScope::ManageWebhooks], app.engine.now())
        .await
        .expect("key")
        .plaintext
}

async fn register(app: &TestApp, key: &str, url: &str) -> (String, String) {
    let response = app.post_json(key, "/api/v1/users/me/webhooks", &json!({"url": url})).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    let secret = body["secret"].as_str().expect("a secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (body["endpoint"]["id"].as_str().expect("id").to_owned(), secret)
}

async fn consume(app: &TestApp, key: &str, quantity: f64) {
    let response = app.post_json(key, "/api/v1/quotas/api_calls/consume", &json!({"quantity": quantity})).await;
    assert_eq!(response.status(), 200);
}

async fn delivery_log(app: &TestApp, key: &str) -> Vec<Value> {
    let response = app.get_with_key(key, "/api/v1/users/me/deliveries").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["deliveries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_crossing_emails_the_numbers_and_a_link_once_a_day() {
    let smtp = SmtpSink::start().await;
    let clock = engine::Clock::manual(Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).single().expect("time"));
    let app = app_with(delivery(Some(&smtp), false), Some(clock.clone())).await;
    app.account("acc_mail", "small").await;
    let account = engine::AccountId::parse("acc_mail").expect("id");
    let owner = engine::auth::Email::parse("owner@mail.test").expect("email");
    let password = engine::auth::Password::parse("owner-password-1").expect("password");
    app.engine.create_user(&owner, &password, model::Role::Owner, Some(&account)).await.expect("owner");
    let key = app.customer_key("acc_mail").await;

    consume(&app, &key, 7.0).await;
    consume(&app, &key, 1.0).await; // 8 of 10: 80%
    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1, "one email for the crossing");
    let mail = &mails[0];
    assert_eq!(mail.to, ["owner@mail.test"], "alerts go to the owners by default");
    assert_eq!(mail.from, "alerts@tollgate.test");
    assert_eq!(mail.header("Subject").as_deref(), Some("API calls: 80% of the limit"));
    assert!(mail.data.contains("8 / 10 calls used (per day)."), "{}", mail.data);
    assert!(mail.data.contains(&format!("{}/dashboard", app.base)), "a link to the dashboard: {}", mail.data);
    assert!(mail.data.contains("text/html") && mail.data.contains("text/plain"), "both parts: {}", mail.data);

    // More use below the next threshold sends nothing more.
    consume(&app, &key, 1.0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1);

    // Another address, set in the settings, gets the next one: the limit.
    app.engine.set_alert_settings("test", &account, true, Some("ops@mail.test")).await.expect("settings");
    consume(&app, &key, 1.0).await; // 10 of 10
    let mails = smtp.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to, ["ops@mail.test"]);
    assert_eq!(mails[1].header("Subject").as_deref(), Some("API calls: limit reached"));

    // Evaluated again and again the same day: nothing more.
    for _ in 0..10 {
        app.engine.evaluate_alerts(&account).await.expect("evaluate");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 2, "once a day per threshold");

    // The next UTC day, the same crossing is told once more.
    clock.set(Utc.with_ymd_and_hms(2026, 3, 11, 9, 0, 0).single().expect("time"));
    consume(&app, &key, 8.0).await;
    let mails = smtp.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 3);
    assert_eq!(mails[2].header("Subject").as_deref(), Some("API calls: 80% of the limit"));

    // Email off: the limit reached that day is on the dashboard only.
    app.engine.set_alert_settings("test", &account, false, None).await.expect("settings");
    consume(&app, &key, 2.0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 3);
    let log = delivery_log(&app, &key).await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log.iter().all(|d| d["state"] == "delivered" && d["channel"] == "email"), "{log:?}");
    let list: Value = app.get_with_key(&key, "/api/v1/users/me/notifications").await.json().await.expect("json");
    assert_eq!(list["notifications"].as_array().map(Vec::len), Some(4), "{list}");
}

#[tokio::test]
async fn a_temporary_smtp_failure_is_retried_until_accepted() {
    let smtp = SmtpSink::start_failing(2).await;
    let app = app_with(delivery(Some(&smtp), false), None).await;
    app.account("acc_retry", "small").await;
    let account = engine::AccountId::parse("acc_retry").expect("id");
    app.engine.set_alert_settings("test", &account, true, Some("ops@retry.test")).await.expect("settings");
    let key = app.customer_key("acc_retry").await;
    consume(&app, &key, 8.0).await;
    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = delivery_log(&app, &key).await;
    let outcomes: Vec<(&str, Option<u64>)> = log[0]["attempts"].as_array().expect("attempts").iter().map(|a| (a["outcome"].as_str().unwrap_or(""), a["status"].as_u64())).collect();
    assert_eq!(outcomes, [("retry", Some(451)), ("retry", Some(451)), ("delivered", Some(250))]);
}

#[tokio::test]
async fn webhooks_are_signed_retried_with_one_id_and_logged() {
    let receiver = Receiver::start(&[500, 500, 200]).await;
    let app = app_with(delivery(None, true), None).await;
    app.account("acc_hook", "team").await;
    let manager = webhook_key(&app, "acc_hook", model::KeyKind::Live).await;
    let (endpoint, secret) = register(&app, &manager, &receiver.url("/hooks/tollgate")).await;
    let key = app.customer_key("acc_hook").await;

    consume(&app, &key, 8.0).await;
    let got = receiver.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3, "two failures and a success");
    let id = got[0].header("webhook-id");
    assert!(id.starts_with("msg_"), "{id}");
    for request in &got {
        assert_eq!(request.header("webhook-id"), id, "one id for every attempt");
        assert!(verifies(&secret, request), "the signature verifies: {request:?}");
        assert!(!verifies("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", request), "and not with another secret");
        let timestamp: i64 = request.header("webhook-timestamp").parse().expect("a timestamp");
        assert!((timestamp - Utc::now().timestamp()).abs() < 30);
        assert_eq!(request.header("content-type"), "application/json");
    }
    let event: Value = serde_json::from_str(&got[2].body).expect("json body");
    assert_eq!(event["type"], "quota.threshold_crossed");
    assert_eq!((event["data"]["usage"].as_f64(), event["data"]["limit"].as_f64(), event["data"]["percent"].as_f64()), (Some(8.0), Some(10.0), Some(80.0)));
    assert_eq!(event["data"]["subject"], "api_calls");
    assert_eq!(event["data"]["account_id"], "acc_hook");
    assert_eq!(event["data"]["dashboard_url"], format!("{}/dashboard", app.base));

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3, "nothing after the success");
    let log = delivery_log(&app, &key).await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0]["id"].as_str(), log[0]["state"].as_str()), (Some(id.as_str()), Some("delivered")));
    let attempts: Vec<(u64, &str)> = log[0]["attempts"].as_array().expect("attempts").iter().map(|a| (a["status"].as_u64().unwrap_or(0), a["outcome"].as_str().unwrap_or(""))).collect();
    assert_eq!(attempts, [(500, "retry"), (500, "retry"), (200, "delivered")]);
    // The log of one endpoint, and no secret anywhere in the listing.
    let listed = app.get_with_key(&key, "/api/v1/users/me/webhooks").await.text().await.expect("body");
    assert!(listed.contains(&endpoint) && !listed.contains(&secret), "{listed}");
}

#[tokio::test]
async fn a_410_disables_the_endpoint() {
    let receiver = Receiver::start(&[410]).await;
    let app = app_with(delivery(None, true), None).await;
    app.account("acc_gone", "team").await;
    let manager = webhook_key(&app, "acc_gone", model::KeyKind::Live).await;
    let (endpoint, _) = register(&app, &manager, &receiver.url("/gone")).await;
    let response = app.post_json(&manager, &format!("/api/v1/users/me/webhooks/{endpoint}/test"), &json!({})).await;
    assert_eq!(response.status(), 202);
    receiver.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listed: Value = app.get_with_key(&manager, "/api/v1/users/me/webhooks").await.json().await.expect("json");
    assert_eq!(listed["endpoints"][0]["enabled"], false, "{listed}");
    assert!(listed["endpoints"][0]["disabled_reason"].as_str().is_some_and(|r| r.contains("410")), "{listed}");
    let log = delivery_log(&app, &manager).await;
    assert_eq!((log[0]["state"].as_str(), log[0]["attempts"][0]["outcome"].as_str()), (Some("failed"), Some("disabled")));
    // Nothing more goes to it.
    let (status, code, message) = error_code(app.post_json(&manager, &format!("/api/v1/users/me/webhooks/{endpoint}/test"), &json!({})).await).await;
    assert_eq!((status.as_u16(), code.as_str()), (422, "invalid"), "{message}");
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn bad_destinations_and_callers_are_refused_and_nothing_is_saved() {
    let app = app_with(delivery(None, false), None).await;
    app.account("acc_team", "team").await;
    app.account("acc_small", "small").await;
    let manager = webhook_key(&app, "acc_team", model::KeyKind::Live).await;
    for (url, says) in [
        ("not a url", "is not a URL"),
        ("ftp://example.com/hook", "`ftp:` URLs are not accepted"),
        ("http://127.0.0.1:9/hook", "private, loopback or link-local"),
        ("https://10.0.0.7/hook", "private, loopback or link-local"),
        ("https://169.254.169.254/latest/meta-data/", "private, loopback or link-local"),
        ("https://localhost/hook", "private, loopback or link-local"),
        ("https://[::1]/hook", "private, loopback or link-local"),
        ("http://93.184.216.34/hook", "use an https:// URL"),
        ("https://u:p@93.184.216.34/hook", "credentials"),
    ] {
        let (status, code, message) = error_code(app.post_json(&manager, "/api/v1/users/me/webhooks", &json!({"url": url})).await).await;
        assert_eq!((status.as_u16(), code.as_str()), (422, "invalid"), "{url}: {message}");
        assert!(message.contains(says), "{url}: {message}");
    }
    let (status, _, message) = error_code(app.post_json(&manager, "/api/v1/users/me/webhooks", &json!({"url": "https://93.184.216.34/x", "events": ["quota.nope"]})).await).await;
    assert_eq!(status, 422);
    assert!(message.contains("`quota.nope` is not an event type"), "{message}");
    let (status, _, _) = error_code(app.post_json(&manager, "/api/v1/users/me/webhooks", &json!({"url": 5})).await).await;
    assert_eq!(status, 422);

    // A plan without webhooks is shown the upgrade.
    let small = webhook_key(&app, "acc_small", model::KeyKind::Live).await;
    let (status, code, _) = error_code(app.post_json(&small, "/api/v1/users/me/webhooks", &json!({"url": "https://93.184.216.34/x"})).await).await;
    assert_eq!((status.as_u16(), code.as_str()), (403, "upgrade_required"));
    // A key without the scope, a test key, and a service key may not register one.
    let plain = app.customer_key("acc_team").await;
    let (status, _, message) = error_code(app.post_json(&plain, "/api/v1/users/me/webhooks", &json!({"url": "https://93.184.216.34/x"})).await).await;
    assert_eq!(status, 403, "{message}");
    assert!(message.contains("manage_webhooks"), "{message}");
    let test_key = webhook_key(&app, "acc_team", model::KeyKind::Test).await;
    let (status, _, message) = error_code(app.post_json(&test_key, "/api/v1/users/me/webhooks", &json!({"url": "https://93.184.216.34/x"})).await).await;
    assert_eq!(status, 403, "{message}");
    let service = app.service_key().await;
    assert_eq!(app.post_json(&service, "/api/v1/users/me/webhooks", &json!({"url": "https://93.184.216.34/x"})).await.status(), 403);
    // Settings: a bad address is refused.
    let response = app.client.put(format!("{}/api/v1/users/me/alert-settings", app.base)).bearer_auth(&manager).json(&json!({"email_enabled": true, "email_to": "not-an-address"})).send().await.expect("request");
    let (status, _, message) = error_code(response).await;
    assert_eq!(status, 422);
    assert!(message.contains("email address"), "{message}");
    assert_eq!(app.count("webhook_endpoints").await, 0);
    assert_eq!(app.count("alert_settings").await, 0);
    // Without a mail server, the settings say email is off.
    let settings: Value = app.get_with_key(&plain, "/api/v1/users/me/alert-settings").await.json().await.expect("json");
    assert_eq!(settings["email_available"], false);
}

#[tokio::test]
async fn one_account_cannot_see_or_touch_anothers_endpoints() {
    let receiver = Receiver::start(&[]).await;
    let app = app_with(delivery(None, true), None).await;
    app.account("acc_one", "team").await;
    app.account("acc_two", "team").await;
    let one = webhook_key(&app, "acc_one", model::KeyKind::Live).await;
    let two = webhook_key(&app, "acc_two", model::KeyKind::Live).await;
    let (endpoint, _) = register(&app, &one, &receiver.url("/one")).await;
    app.post_json(&one, &format!("/api/v1/users/me/webhooks/{endpoint}/test"), &json!({})).await;
    receiver.wait_for(1, Duration::from_secs(5)).await;

    let listed: Value = app.get_with_key(&two, "/api/v1/users/me/webhooks").await.json().await.expect("json");
    assert_eq!(listed["endpoints"], json!([]));
    assert!(delivery_log(&app, &two).await.is_empty());
    for (method, path) in [("DELETE", format!("/api/v1/users/me/webhooks/{endpoint}")), ("POST", format!("/api/v1/users/me/webhooks/{endpoint}/roll")), ("POST", format!("/api/v1/users/me/webhooks/{endpoint}/test"))] {
        let request = app.client.request(method.parse().expect("method"), format!("{}{path}", app.base)).bearer_auth(&two);
        let request = if method == "POST" { request.json(&json!({})) } else { request };
        assert_eq!(request.send().await.expect("request").status(), 404, "{method} {path}");
    }
    assert_eq!(app.count("webhook_endpoints").await, 1);
    let response = app.client.delete(format!("{}/api/v1/users/me/webhooks/{endpoint}", app.base)).bearer_auth(&one).send().await.expect("request");
    assert_eq!(response.status(), 204);
    assert_eq!(app.count("webhook_endpoints").await, 0);
}

#[tokio::test]
async fn a_rolled_secret_and_the_old_one_both_sign_for_a_day() {
    let receiver = Receiver::start(&[]).await;
    let app = app_with(delivery(None, true), None).await;
    app.account("acc_roll", "team").await;
    let manager = webhook_key(&app, "acc_roll", model::KeyKind::Live).await;
    let (endpoint, old) = register(&app, &manager, &receiver.url("/roll")).await;
    let rolled: Value = app.post_json(&manager, &format!("/api/v1/users/me/webhooks/{endpoint}/roll"), &json!({})).await.json().await.expect("json");
    let new = rolled["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    app.post_json(&manager, &format!("/api/v1/users/me/webhooks/{endpoint}/test"), &json!({})).await;
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2, "{:?}", got[0]);
    assert!(verifies(&new, &got[0]) && verifies(&old, &got[0]));
    let event: Value = serde_json::from_str(&got[0].body).expect("json");
    assert_eq!(event["type"], "webhook.test");
}

/// The link in a reset email, from the message text.
fn reset_token(mail: &crate::sinks::Mail) -> String {
    let at = mail.data.find("/reset-password?token=").expect("a reset link") + "/reset-password?token=".len();
    mail.data[at..].chars().take_while(char::is_ascii_alphanumeric).collect()
}

#[tokio::test]
async fn a_password_reset_arrives_works_once_and_never_says_who_has_an_account() {
    let smtp = SmtpSink::start().await;
    let app = app_with(delivery(Some(&smtp), false), None).await;
    app.account("acc_reset", "small").await;
    let account = engine::AccountId::parse("acc_reset").expect("id");
    let email = engine::auth::Email::parse("forgetful@reset.test").expect("email");
    let password = engine::auth::Password::parse("the-old-password").expect("password");
    app.engine.create_user(&email, &password, model::Role::Owner, Some(&account)).await.expect("user");
    let before = app.sign_in("forgetful@reset.test", "the-old-password").await;

    let known = app.server_fn(None, "session/forgot", &[("email", "forgetful@reset.test")]).await;
    assert_eq!(known.status(), 200);
    let known = known.text().await.expect("body");
    let unknown = app.server_fn(None, "session/forgot", &[("email", "nobody@reset.test")]).await;
    assert_eq!(unknown.status(), 200);
    let unknown = unknown.text().await.expect("body");
    assert_eq!(known.replace("forgetful", "X"), unknown.replace("nobody", "X"), "the same answer either way");

    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1, "only the address with an account gets an email");
    assert_eq!(mails[0].to, ["forgetful@reset.test"]);
    let token = reset_token(&mails[0]);
    assert_eq!(token.len(), 43);

    let used = app.server_fn(None, "session/reset", &[("token", &token), ("password", "a-brand-new-password")]).await;
    assert!(used.status().is_redirection() || used.status().is_success(), "{}", used.status());
    assert!(session_cookie(used.headers()).is_some(), "signed in");
    app.sign_in("forgetful@reset.test", "a-brand-new-password").await;
    let old = app.server_fn(None, "session/sign_in", &[("email", "forgetful@reset.test"), ("password", "the-old-password")]).await;
    assert!(session_cookie(old.headers()).is_none(), "the old password is gone");
    assert!(app.get_as(&before, "/api/v1/users/me/notifications").await.status() == 401, "the earlier session is signed out");

    let again = app.server_fn(None, "session/reset", &[("token", &token), ("password", "yet-another-password")]).await;
    let text = again.text().await.expect("body");
    assert!(text.contains("not valid any more"), "a used link fails: {text}");
    // A welcome link's page does not take a reset token.
    let other = app.server_fn(None, "session/redeem_link", &[("token", &token), ("password", "yet-another-password")]).await;
    assert!(other.text().await.expect("body").contains("not valid any more"));
}

#[tokio::test]
async fn without_a_mail_server_reset_is_refused_plainly() {
    let app = app_with(delivery(None, false), None).await;
    let response = app.server_fn(None, "session/forgot", &[("email", "someone@reset.test")]).await;
    let text = response.text().await.expect("body");
    assert!(text.contains("sends no email"), "{text}");
}

#[tokio::test]
async fn the_openapi_document_describes_the_events_sent() {
    let app = app_with(delivery(None, false), None).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.expect("json");
    for kind in ["quota.threshold_crossed", "quota.exceeded", "license.expiring", "license.status_changed", "plan.changed", "webhook.test"] {
        assert_eq!(doc["webhooks"][kind]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/AlertEvent", "{kind}");
    }
    assert!(doc["components"]["schemas"]["AlertEvent"]["properties"]["data"].is_object());
    assert!(doc["paths"]["/api/v1/users/me/webhooks"]["post"].is_object());
}

#[tokio::test]
async fn several_thresholds_an_amount_among_them_each_alert_once_by_every_channel() {
    let receiver = Receiver::start(&[]).await;
    let app = app_with(delivery(None, true), None).await;
    app.account("acc_many", "team").await;
    let account = engine::AccountId::parse("acc_many").expect("id");
    let manager = webhook_key(&app, "acc_many", model::KeyKind::Live).await;
    register(&app, &manager, &receiver.url("/many")).await;
    let info = app.engine.access(&account).await.expect("access");
    let thresholds = model::AlertThreshold::parse_list("30%, 5").expect("valid");
    app.engine.set_alert_thresholds("test", &info, "api_calls", &thresholds).await.expect("set");
    let key = app.customer_key("acc_many").await;

    consume(&app, &key, 2.0).await; // 20%: nothing
    consume(&app, &key, 1.0).await; // 30%
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    consume(&app, &key, 2.0).await; // 5 calls: the amount
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2);
    consume(&app, &key, 1.0).await; // 6: nothing new
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.received().len(), 2, "no threshold between 5 calls and the limit");
    consume(&app, &key, 4.0).await; // 10: the limit, always
    let got = receiver.wait_for(3, Duration::from_secs(5)).await;
    let events: Vec<Value> = got.iter().map(|r| serde_json::from_str(&r.body).expect("json")).collect();
    let seen: Vec<(&str, f64, &str)> = events
        .iter()
        .map(|e| (e["type"].as_str().unwrap_or(""), e["data"]["threshold"].as_f64().unwrap_or(-1.0), e["data"]["threshold_unit"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(seen, [("quota.threshold_crossed", 30.0, "percent"), ("quota.threshold_crossed", 5.0, "absolute"), ("quota.exceeded", 100.0, "percent")]);
    assert_eq!(events[1]["data"]["title"], "API calls: 5 calls reached");
    let list: Value = app.get_with_key(&key, "/api/v1/users/me/notifications").await.json().await.expect("json");
    assert_eq!(list["notifications"].as_array().map(Vec::len), Some(3), "{list}");

    // Thresholds that make no sense are refused, and the saved ones stay.
    for bad in ["0%", "150%", "-3", "1e13", "1%,2%,3%,4%,5%,6%"] {
        let parsed = model::AlertThreshold::parse_list(bad);
        assert!(parsed.is_err(), "{bad}");
    }
    let absurd = [model::AlertThreshold::percent(500.0)];
    assert!(app.engine.set_alert_thresholds("test", &info, "api_calls", &absurd).await.is_err());
    assert_eq!(app.engine.alert_thresholds(&account).await.expect("read")["api_calls"], thresholds);
}

#[tokio::test]
async fn a_plan_change_is_announced_once_with_plan_changed() {
    let receiver = Receiver::start(&[]).await;
    let app = app_with(delivery(None, true), None).await;
    app.account("acc_up", "team").await;
    let account = engine::AccountId::parse("acc_up").expect("id");
    let manager = webhook_key(&app, "acc_up", model::KeyKind::Live).await;
    let created: Value = app.post_json(&manager, "/api/v1/users/me/webhooks", &json!({"url": receiver.url("/plan"), "events": ["plan.changed"]})).await.json().await.expect("json");
    assert_eq!(created["endpoint"]["events"], json!(["plan.changed"]));
    // The endpoint takes only plan.changed: a quota crossing is not sent to it.
    let key = app.customer_key("acc_up").await;
    consume(&app, &key, 8.0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty(), "{:?}", receiver.received());

    // An upgrade, approved by an admin, moves the account to Big.
    let request = app.engine.request_upgrade("owner@up.test", &account, "big", "We need more calls for the launch next week.", "owner@up.test").await.expect("request");
    app.engine.approve_request("admin@tollgate.test", &request.id).await.expect("approve");
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let event: Value = serde_json::from_str(&got[0].body).expect("json");
    assert_eq!((event["type"].as_str(), event["data"]["title"].as_str()), (Some("plan.changed"), Some("Plan changed to Big")));
    assert_eq!(event["data"]["dashboard_url"], format!("{}/plans", app.base));
    // Evaluated again: told once.
    app.engine.evaluate_alerts(&account).await.expect("again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    let list: Value = app.get_with_key(&key, "/api/v1/users/me/notifications").await.json().await.expect("json");
    let plan: Vec<&Value> = list["notifications"].as_array().expect("list").iter().filter(|n| n["kind"] == "plan.changed").collect();
    assert_eq!(plan.len(), 1, "{list}");
}
