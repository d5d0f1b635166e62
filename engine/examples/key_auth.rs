//! The cost of authenticating an API key, per call: the format check, the SHA-256, the
//! cached lookup and the constant-time comparison. `cargo run --release -p engine --example key_auth`
//!
//! A benchmark, not a test: it prints the distribution and asserts nothing.

use chrono::Utc;
use engine::auth::KeyName;
use engine::accounts::NewAccount;
use engine::{db::Db, AccountId, Catalog, Engine, EngineConfig};
use model::{KeyKind, LicenseStatus};
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    let engine = Engine::new(db, Catalog::demo()?, EngineConfig::default());
    let now = Utc::now();
    let account = AccountId::parse("acc_bench")?;
    engine
        .create_account(&NewAccount {
            id: account.clone(),
            name: "Bench".into(),
            plan_id: "pro".into(),
            status: LicenseStatus::Active,
            seats: 1,
            starts_at: now,
            expires_at: None,
        })
        .await?;
    let mut keys = Vec::new();
    for n in 0..50 {
        let name = KeyName::parse(&format!("k{n}"))?;
        keys.push(engine.create_key("bench", Some(&account), KeyKind::Live, &name, None, now).await?.plaintext);
    }
    let first = Instant::now();
    engine.authenticate_key(&keys[0], now).await?;
    println!("first use (database lookup, then cached): {:?}", first.elapsed());

    let rounds = 200_000;
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let key = &keys[i % keys.len()];
        let started = Instant::now();
        let principal = engine.authenticate_key(key, now).await;
        samples.push(started.elapsed().as_nanos() as u64);
        if principal.is_err() {
            return Err("a valid key was refused".into());
        }
    }
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
    let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64 / 1000.0;
    println!("{rounds} cached authentications: mean {mean:.2} µs, p50 {:.2} µs, p99 {:.2} µs, p99.9 {:.2} µs, max {:.2} µs",
        pct(0.50), pct(0.99), pct(0.999), pct(1.0));
    Ok(())
}
