//! Crash safety of usage ingest, with the real binary: several clients ingest while the
//! server is killed with SIGKILL mid-stream, twenty times over. Clients retry whatever was
//! not acknowledged, with the same idempotency keys, as a real client would.
//!
//! At the end the stored events are exactly the acknowledged ones: nothing acknowledged is
//! lost (every acknowledged key is stored) and nothing is doubled (each counts once, and
//! the rollups agree with the events).

use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CYCLES: usize = 20;
const CLIENTS: usize = 4;
const BATCH: usize = 5;

mod support;
use support::{free_port, tollgate, Running};

fn run(database: &str, args: &[&str]) -> String {
    let output = tollgate().args(args).arg("--database").arg(database).output().expect("run tollgate");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

async fn start(database: &str, port: u16, client: &reqwest::Client) -> Running {
    start_with(database, port, client, &[]).await
}

async fn start_with(database: &str, port: u16, client: &reqwest::Client, env: &[(&str, &str)]) -> Running {
    support::serve(database, port, client, &[], env).await
}

/// Events not yet acknowledged, and the keys that were.
#[derive(Default)]
struct Ledger {
    pending: Vec<Vec<String>>,
    acked: HashSet<String>,
    next: usize,
}

/// Sends batches until told to stop; a batch that gets no 2xx answer goes back to pending.
async fn client(id: usize, url: String, key: String, book: Arc<Mutex<Ledger>>, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    while !stop.load(Ordering::Relaxed) {
        let batch = {
            let mut book = book.lock().expect("lock");
            match book.pending.pop() {
                Some(batch) => batch,
                None => {
                    let n = book.next;
                    book.next += 1;
                    (0..BATCH).map(|i| format!("c{id}-{n}-{i}")).collect()
                }
            }
        };
        let events: Vec<Value> =
            batch.iter().map(|k| json!({ "idempotency_key": k, "account_id": "acc_crash", "meter": "api_calls", "quantity": 1 })).collect();
        let answer = http.post(&url).bearer_auth(&key).json(&json!({ "events": events })).send().await;
        let acked = match answer {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(body) => {
                    let statuses: Vec<_> = body["results"].as_array().map(|a| a.iter().map(|r| r["status"].clone()).collect()).unwrap_or_default();
                    assert!(statuses.iter().all(|s| s == "accepted" || s == "duplicate"), "{body}");
                    statuses.len() == batch.len()
                }
                Err(_) => false,
            },
            Ok(r) => panic!("unexpected status {}", r.status()),
            Err(_) => false,
        };
        if acked {
            book.lock().expect("lock").acked.extend(batch);
        } else {
            book.lock().expect("lock").pending.push(batch);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_and_nothing_is_doubled_across_twenty_sigkills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.db");
    let database = format!("sqlite://{}", path.display());
    run(&database, &["account", "create", "--id", "acc_crash", "--name", "Crash", "--plan", "pro"]);
    let key = run(&database, &["key", "create", "--service", "--name", "crash"]);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/api/v1/usage");
    let http = reqwest::Client::new();
    let book = Arc::new(Mutex::new(Ledger::default()));

    for cycle in 0..=CYCLES {
        let mut server = start(&database, port, &http).await;
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> =
            (0..CLIENTS).map(|id| tokio::spawn(client(id, url.clone(), key.clone(), book.clone(), stop.clone()))).collect();
        if cycle < CYCLES {
            // Mid-stream: 150–450 ms of traffic, then SIGKILL.
            tokio::time::sleep(Duration::from_millis(150 + (cycle as u64 * 97) % 300)).await;
            server.0.kill().expect("SIGKILL");
            let _ = server.0.wait();
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.store(true, Ordering::Relaxed);
        } else {
            // The last run: let the clients drain what is pending, then stop.
            tokio::time::sleep(Duration::from_millis(300)).await;
            stop.store(true, Ordering::Relaxed);
        }
        for c in clients {
            c.await.expect("client task");
        }
        if cycle == CYCLES {
            // Anything still pending is sent once more, now that the server stays up.
            let pending: Vec<Vec<String>> = std::mem::take(&mut book.lock().expect("lock").pending);
            for batch in pending {
                let events: Vec<Value> =
                    batch.iter().map(|k| json!({ "idempotency_key": k, "account_id": "acc_crash", "meter": "api_calls", "quantity": 1 })).collect();
                let r = http.post(&url).bearer_auth(&key).json(&json!({ "events": events })).send().await.expect("send");
                assert!(r.status().is_success());
                book.lock().expect("lock").acked.extend(batch);
            }
            drop(server);
        }
    }

    let acked = {
        let book = book.lock().expect("lock");
        assert!(book.pending.is_empty());
        book.acked.clone()
    };
    assert!(acked.len() > 500, "enough traffic to mean something: {}", acked.len());
    let pool = sqlx::SqlitePool::connect(&database).await.expect("open");
    let stored: Vec<String> = sqlx::query_scalar("SELECT idempotency_key FROM usage_events WHERE account_id = 'acc_crash'")
        .fetch_all(&pool)
        .await
        .expect("events");
    let stored: HashSet<String> = stored.into_iter().collect();
    assert_eq!(stored.len(), acked.len(), "stored events equal acknowledged events");
    assert!(acked.iter().all(|k| stored.contains(k)), "every acknowledged event is stored");
    for table in ["usage_daily", "usage_monthly"] {
        let total: f64 = sqlx::query_scalar(&format!("SELECT COALESCE(SUM(value), 0) FROM {table} WHERE account_id = 'acc_crash' AND meter = 'api_calls'"))
            .fetch_one(&pool)
            .await
            .expect("rollup");
        assert_eq!(total, acked.len() as f64, "{table} agrees with the events");
    }
    eprintln!("{} events acknowledged and stored across {CYCLES} SIGKILLs", acked.len());
}

/// A webhook whose transaction commits, then the process dies before answering (the fault
/// switch aborts it at exactly that point, as a `kill -9` would). The provider retries the
/// same event after the restart: it is a duplicate, and the purchase happened once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_webhook_commit_and_the_answer_then_a_retry_has_one_effect() {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("webhook.db").display());
    let port = free_port();
    let http = reqwest::Client::new();
    let secret = "ws_crash_secret";
    let body = json!({ "id": "evt_crash", "type": "membership.activated", "timestamp": chrono::Utc::now().to_rfc3339(),
        "data": { "id": "mem_crash", "status": "active", "plan": { "id": "plan_demo_pro" },
                  "user": { "email": "crash@example.com", "name": "Crash" } } })
    .to_string();
    let send = |http: reqwest::Client, body: String| async move {
        let ts = chrono::Utc::now().timestamp();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(format!("msg_crash.{ts}.{body}").as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        http.post(format!("http://127.0.0.1:{port}/api/webhooks/whop"))
            .header("webhook-id", "msg_crash")
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", format!("v1,{sig}"))
            .body(body)
            .send()
            .await
    };

    let mut server = start_with(&database, port, &http, &[
        ("TOLLGATE_WHOP_WEBHOOK_SECRET", secret),
        ("TOLLGATE_FAULT_ABORT_AFTER_WEBHOOK_COMMIT", "1"),
    ])
    .await;
    assert!(send(http.clone(), body.clone()).await.is_err(), "the server died before answering");
    let status = server.0.wait().expect("wait");
    assert!(!status.success(), "aborted: {status}");

    let _server = start_with(&database, port, &http, &[("TOLLGATE_WHOP_WEBHOOK_SECRET", secret)]).await;
    let retry = send(http.clone(), body.clone()).await.expect("answered");
    assert_eq!(retry.status(), 200);
    let answer: Value = retry.json().await.expect("json");
    assert_eq!(answer["outcome"], "duplicate", "the first delivery had committed: {answer}");

    let pool = sqlx::SqlitePool::connect(&database).await.expect("open");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'crash@example.com'").fetch_one(&pool).await.expect("n");
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM plan_history").fetch_one(&pool).await.expect("n");
    let plan: String = sqlx::query_scalar("SELECT l.plan_id FROM licenses l JOIN users u ON u.account_id = l.account_id WHERE u.email = 'crash@example.com'")
        .fetch_one(&pool)
        .await
        .expect("plan");
    assert_eq!((users, history, plan.as_str()), (1, 1, "pro"));
}
