//! The overview and metering, against a real SQLite file per test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::accounts::NewAccount;
use engine::metering::Recorded;
use engine::{db::Db, AccountId, Catalog, Engine, EngineConfig};
use model::{LicenseStatus, QuotaLevel};

struct TestEngine {
    engine: Engine,
    _dir: tempfile::TempDir,
}

async fn engine() -> TestEngine {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("nested/folder/t.db").display());
    let db = Db::connect(&url).await.expect("connect creates the folder and migrates");
    let engine = Engine::new(db, Catalog::demo().expect("demo"), EngineConfig::default());
    TestEngine { engine, _dir: dir }
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid time")
}

async fn account(engine: &Engine, id: &str, plan: &str, now: DateTime<Utc>) -> AccountId {
    let id = AccountId::parse(id).expect("id");
    engine
        .create_account(&NewAccount {
            id: id.clone(),
            name: format!("Account {id}"),
            plan_id: plan.into(),
            status: LicenseStatus::Active,
            seats: 3,
            starts_at: now - Duration::days(40),
            expires_at: Some(now + Duration::days(30)),
        })
        .await
        .expect("create account");
    id
}

#[tokio::test]
async fn recorded_usage_shows_in_the_overview_quotas_and_series() {
    let t = engine().await;
    let now = at(2026, 3, 2, 12);
    let a = account(&t.engine, "acc_a", "free", now).await;

    for i in 0..19 {
        let r = t.engine.record_usage(&a, "api_calls", 1.0, now - Duration::minutes(i), &format!("call-{i}")).await;
        assert_eq!(r.expect("record"), Recorded::Accepted);
    }
    // Yesterday, across the month boundary.
    t.engine.record_usage(&a, "api_calls", 40.0, at(2026, 2, 28, 9), "feb").await.expect("feb");
    t.engine.record_usage(&a, "memories", 80.0, now - Duration::hours(2), "m1").await.expect("m1");
    t.engine.record_usage(&a, "memories", 76.0, now - Duration::hours(1), "m2").await.expect("m2");
    // Out of order: an older level does not overwrite a newer one.
    t.engine.record_usage(&a, "memories", 99.0, now - Duration::hours(3), "m0").await.expect("m0");

    let o = t.engine.overview(&a, now).await.expect("overview");
    assert_eq!(o.plan.tier, "free");
    assert_eq!(o.license.seats, 3);
    assert_eq!(o.license.account_name, "Account acc_a");
    let calls = o.quotas.iter().find(|q| q.meter == "api_calls").expect("api_calls quota");
    assert_eq!((calls.used, calls.limit, calls.percent, calls.level), (19.0, 100.0, 19.0, QuotaLevel::Ok));
    let memories = o.quotas.iter().find(|q| q.meter == "memories").expect("memories quota");
    assert_eq!((memories.used, memories.level), (76.0, QuotaLevel::Warning));
    let values: Vec<_> = o.api_calls_7d.iter().map(|d| d.value).collect();
    assert_eq!(values, [0.0, 0.0, 0.0, 0.0, 40.0, 0.0, 19.0]);
    assert_eq!(o.api_calls_7d.last().map(|d| d.day), Some(now.date_naive()));
    assert_eq!(o.last_usage_at, Some(now));
}

#[tokio::test]
async fn a_repeated_idempotency_key_counts_once() {
    let t = engine().await;
    let now = at(2026, 5, 5, 5);
    let a = account(&t.engine, "acc_a", "starter", now).await;
    assert_eq!(t.engine.record_usage(&a, "api_calls", 5.0, now, "k").await.expect("first"), Recorded::Accepted);
    assert_eq!(t.engine.record_usage(&a, "api_calls", 5.0, now, "k").await.expect("again"), Recorded::Duplicate);
    let o = t.engine.overview(&a, now).await.expect("overview");
    assert_eq!(o.quotas[0].used, 5.0);
}

#[tokio::test]
async fn accounts_never_see_each_others_usage() {
    let t = engine().await;
    let now = at(2026, 5, 5, 5);
    let a = account(&t.engine, "acc_a", "free", now).await;
    let b = account(&t.engine, "acc_b", "pro", now).await;
    t.engine.record_usage(&b, "api_calls", 500.0, now, "same-key").await.expect("b");
    t.engine.record_usage(&a, "api_calls", 1.0, now, "same-key").await.expect("a: keys are per account");
    assert_eq!(t.engine.overview(&a, now).await.expect("a").quotas[0].used, 1.0);
    assert_eq!(t.engine.overview(&b, now).await.expect("b").quotas[0].used, 500.0);
}

#[tokio::test]
async fn bad_usage_is_refused_and_changes_nothing() {
    let t = engine().await;
    let now = at(2026, 5, 5, 5);
    let a = account(&t.engine, "acc_a", "free", now).await;
    assert!(t.engine.record_usage(&a, "bandwidth", 1.0, now, "x").await.is_err());
    assert!(t.engine.record_usage(&a, "api_calls", f64::NAN, now, "y").await.is_err());
    assert!(t.engine.record_usage(&a, "api_calls", -1.0, now, "z").await.is_err());
    assert!(t.engine.overview(&a, now).await.expect("overview").quotas.iter().all(|q| q.used == 0.0));
    let missing = AccountId::parse("acc_missing").expect("id");
    assert!(matches!(t.engine.overview(&missing, now).await, Err(engine::EngineError::NotFound(_))));
}

#[tokio::test]
async fn the_demo_seed_covers_every_state_and_level() {
    let t = engine().await;
    let now = Utc::now();
    let ids = t.engine.seed_demo(now).await.expect("seed");
    assert!(ids.len() >= 8);
    assert_eq!(ids[0].as_str(), "acc_initech", "the demo owner's account comes first");

    let mut statuses = Vec::new();
    let mut levels = Vec::new();
    let mut tiers = Vec::new();
    for id in &ids {
        let o = t.engine.overview(id, now).await.expect("overview");
        statuses.push(o.license.status);
        tiers.push(o.plan.tier.clone());
        levels.extend(o.quotas.iter().map(|q| q.level));
        let history_days = t.engine.daily_series(id, "memories", 31, now).await.expect("series");
        assert!(history_days.iter().all(|d| d.value > 0.0), "30 days of history for {id}");
    }
    for status in [LicenseStatus::Active, LicenseStatus::Suspended, LicenseStatus::Expired] {
        assert!(statuses.contains(&status), "{status:?} among {statuses:?}");
    }
    for tier in ["free", "starter", "pro", "enterprise"] {
        assert!(tiers.iter().any(|t| t == tier), "{tier} seeded");
    }
    for level in [QuotaLevel::Ok, QuotaLevel::Warning, QuotaLevel::Critical, QuotaLevel::Exceeded] {
        assert!(levels.contains(&level), "{level:?} among the demo accounts");
    }
    let viewer = t.engine.overview(&ids[0], now).await.expect("viewer overview");
    assert!(viewer.quotas.iter().any(|q| (80.0..90.0).contains(&q.percent)), "the default viewer is near 80%");
}

#[tokio::test]
async fn levels_older_than_a_week_and_monthly_limits_are_still_read() {
    let t = engine().await;
    let now = at(2026, 3, 20, 12);
    let a = account(&t.engine, "acc_a", "free", now).await;
    // A level set three weeks ago, and nothing since: the window misses it, the fallback not.
    t.engine.record_usage(&a, "memories", 64.0, now - Duration::days(21), "old").await.expect("old");
    t.engine.record_usage(&a, "api_calls", 7.0, now - Duration::days(10), "old-calls").await.expect("calls");
    let o = t.engine.overview(&a, now).await.expect("overview");
    let memories = o.quotas.iter().find(|q| q.meter == "memories").expect("memories");
    assert_eq!(memories.used, 64.0);
    let calls = o.quotas.iter().find(|q| q.meter == "api_calls").expect("calls");
    assert_eq!(calls.used, 0.0, "a daily limit counts today only");
    assert!(o.api_calls_7d.iter().all(|d| d.value == 0.0));
    assert_eq!(o.last_usage_at, Some(now - Duration::days(10)));
}

#[tokio::test]
async fn rollups_sum_counters_and_keep_the_newest_level_per_day_and_month() {
    let t = engine().await;
    let now = at(2026, 4, 15, 12);
    let a = account(&t.engine, "acc_a", "pro", now).await;
    for (i, hours) in [3, 1, 2].into_iter().enumerate() {
        let at = now - Duration::hours(hours);
        t.engine.record_usage(&a, "api_calls", 10.0, at, &format!("c{i}")).await.expect("calls");
        t.engine.record_usage(&a, "storage_mb", 100.0 + hours as f64, at, &format!("s{i}")).await.expect("level");
    }
    let daily: Vec<(String, f64)> = sqlx::query_as("SELECT meter, value FROM usage_daily ORDER BY meter")
        .fetch_all(t.engine.db().pool()).await.expect("daily");
    assert_eq!(daily, [("api_calls".into(), 30.0), ("storage_mb".into(), 101.0)], "sum, and the newest level (1 h ago)");
    let monthly: Vec<(String, f64)> = sqlx::query_as("SELECT meter, value FROM usage_monthly ORDER BY meter")
        .fetch_all(t.engine.db().pool()).await.expect("monthly");
    assert_eq!(monthly, daily);
}
