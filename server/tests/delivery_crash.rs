//! Outgoing webhooks survive a crash, with the real binary: the receiver fails the first
//! attempt, the server is killed with SIGKILL before the retry, and started again. The
//! message is still delivered, once: one success, every attempt with the same
//! `webhook-id`, and nothing sent after the success.

use serde_json::{json, Value};
use std::time::Duration;

mod support;
use support::{free_port, Running};

#[path = "api/sinks.rs"]
mod sinks;
use sinks::{verifies, Receiver};

async fn start(database: &str, port: u16, client: &reqwest::Client) -> Running {
    let env = [("TOLLGATE_WEBHOOK_ALLOW_NETS", "127.0.0.1/32"), ("TOLLGATE_DELIVERY_RETRY_SECS", "0,3,3,3")];
    support::serve(database, port, client, &["--demo"], &env).await
}

#[tokio::test]
async fn a_webhook_is_delivered_once_across_a_sigkill_between_attempts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("crash.db").display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(30)).build().expect("client");
    let receiver = Receiver::start(&[500, 200]).await;

    let mut server = start(&database, port, &client).await;
    // The demo's pro account (it has `webhooks`), by its owner's session.
    let signed_in = client
        .post(format!("{base}/api/session/sign_in"))
        .header("origin", &base)
        .form(&[("email", "owner@acme.example"), ("password", "acme-owner-demo")])
        .send()
        .await
        .expect("sign in");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tg_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let created: Value = client
        .post(format!("{base}/api/v1/users/me/webhooks"))
        .header("origin", &base)
        .header("cookie", &cookie)
        .json(&json!({"url": receiver.url("/crash")}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    let (endpoint, secret) = (created["endpoint"]["id"].as_str().expect("id").to_owned(), created["secret"].as_str().expect("secret").to_owned());
    let test = client
        .post(format!("{base}/api/v1/users/me/webhooks/{endpoint}/test"))
        .header("origin", &base)
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .expect("test event");
    assert_eq!(test.status(), 202);

    // The first attempt fails; the retry is due three seconds later. Kill the server
    // between the two, once the failure is recorded.
    assert_eq!(receiver.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.0.kill().expect("SIGKILL");
    server.0.wait().expect("reaped");
    drop(server);

    let _server = start(&database, port, &client).await;
    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 2, "the retry after the restart");
    // Nothing more comes once it succeeded.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2, "delivered exactly once: {got:?}");
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"), "one id for every attempt");
    assert!(got.iter().all(|r| verifies(&secret, r)), "every attempt is signed with the endpoint's secret");

    let log: Value = client
        .get(format!("{base}/api/v1/users/me/deliveries"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("json");
    let delivery = &log["deliveries"][0];
    assert_eq!(delivery["state"], "delivered", "{log}");
    let outcomes: Vec<&str> = delivery["attempts"].as_array().expect("attempts").iter().filter_map(|a| a["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["retry", "delivered"], "{log}");
}
