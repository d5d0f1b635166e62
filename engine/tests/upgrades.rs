//! The upgrade journey (`engine::journey`), against a real SQLite file per test: tiers,
//! feature access, requests with their evidence, the admin's answer, and custom alert
//! thresholds.

use model::AlertThreshold;
use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::accounts::NewAccount;
use engine::metering::Recorded;
use engine::{db::Db, AccountId, Catalog, Clock, Engine, EngineConfig, EngineError, RequestId};
use model::{LicenseStatus, RequestKind, RequestStatus, UpgradeRequestView};

struct TestEngine {
    engine: Engine,
    clock: Clock,
    _dir: tempfile::TempDir,
}

/// Tuesday 10 March 2026, noon: far from any month boundary.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).single().expect("valid time")
}

async fn engine() -> TestEngine {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = Db::connect(&url).await.expect("connect and migrate");
    let clock = Clock::manual(start());
    let config = EngineConfig { clock: clock.clone(), ..EngineConfig::default() };
    let engine = Engine::new(db, Catalog::demo().expect("demo catalog"), config);
    TestEngine { engine, clock, _dir: dir }
}

async fn account_with(engine: &Engine, id: &str, plan: &str, status: LicenseStatus) -> AccountId {
    let id = AccountId::parse(id).expect("id");
    let now = engine.now();
    engine
        .create_account(&NewAccount {
            id: id.clone(),
            name: format!("Account {id}"),
            plan_id: plan.into(),
            status,
            seats: 3,
            starts_at: now - Duration::days(60),
            expires_at: Some(now + Duration::days(365)),
        })
        .await
        .expect("create account");
    id
}

async fn account(engine: &Engine, id: &str, plan: &str) -> AccountId {
    account_with(engine, id, plan, LicenseStatus::Active).await
}

async fn record(engine: &Engine, account: &AccountId, meter: &str, quantity: f64, at: DateTime<Utc>, key: &str) {
    let recorded = engine.record_usage(account, meter, quantity, at, key).await.expect("record usage");
    assert_eq!(recorded, Recorded::Accepted, "{meter} {quantity} at {at}");
}

const WHY: &str = "We are about to hit the memories limit every week.";
const EMAIL: &str = "ops@example.com";

async fn request(engine: &Engine, account: &AccountId, tier: &str) -> UpgradeRequestView {
    engine.request_upgrade("owner@example.com", account, tier, WHY, EMAIL).await.expect("request upgrade")
}

/// The field of an `Invalid` error; panics on anything else.
fn invalid_field<T: std::fmt::Debug>(result: Result<T, EngineError>) -> &'static str {
    match result {
        Err(EngineError::Invalid { field, .. }) => field,
        other => panic!("expected EngineError::Invalid, got {other:?}"),
    }
}

/// The field of a `Conflict` error; panics on anything else.
fn conflict_field<T: std::fmt::Debug>(result: Result<T, EngineError>) -> &'static str {
    match result {
        Err(EngineError::Conflict { field, .. }) => field,
        other => panic!("expected EngineError::Conflict, got {other:?}"),
    }
}

async fn count(engine: &Engine, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(engine.db().pool()).await.expect("count")
}

async fn audit_rows(engine: &Engine, account: &AccountId, action: &str) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT actor, target, before, after FROM audit_log WHERE account_id = $1 AND action = $2 ORDER BY at, rowid",
    )
    .bind(account.as_str())
    .bind(action)
    .fetch_all(engine.db().pool())
    .await
    .expect("audit rows")
}

async fn plan_of(engine: &Engine, account: &AccountId) -> String {
    engine.overview(account, engine.now()).await.expect("overview").plan.tier
}

// ---------------------------------------------------------------------------------------
// 1. Validation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_must_name_a_higher_tier() {
    let t = engine().await;
    let free = account(&t.engine, "acc_free", "free").await;
    let starter = account(&t.engine, "acc_starter", "starter").await;
    let e = &t.engine;

    assert_eq!(invalid_field(e.request_upgrade("u", &free, "platinum", WHY, EMAIL).await), "tier", "unknown tier");
    assert_eq!(invalid_field(e.request_upgrade("u", &free, "", WHY, EMAIL).await), "tier", "empty tier");
    assert_eq!(invalid_field(e.request_upgrade("u", &free, "free", WHY, EMAIL).await), "tier", "same tier");
    assert_eq!(invalid_field(e.request_upgrade("u", &starter, "starter", WHY, EMAIL).await), "tier", "same tier");
    assert_eq!(invalid_field(e.request_upgrade("u", &starter, "free", WHY, EMAIL).await), "tier", "lower tier");
    // Plan ids are exact: no case folding.
    assert_eq!(invalid_field(e.request_upgrade("u", &free, "PRO", WHY, EMAIL).await), "tier");

    assert!(e.upgrade_requests().await.expect("list").is_empty(), "nothing stored for a refused request");
    // A tier written with surrounding spaces is still that tier.
    let ok = e.request_upgrade("u", &starter, "  pro ", WHY, EMAIL).await.expect("padded tier id");
    assert_eq!((ok.from_plan.as_str(), ok.to_plan.as_str()), ("starter", "pro"));
}

#[tokio::test]
async fn justification_email_and_control_characters_are_validated() {
    let t = engine().await;
    let a = account(&t.engine, "acc_a", "free").await;
    let e = &t.engine;

    for short in ["", "   ", "too short", "  123456789  "] {
        assert_eq!(invalid_field(e.request_upgrade("u", &a, "pro", short, EMAIL).await), "justification", "{short:?}");
    }
    let long = "x".repeat(2_001);
    assert_eq!(invalid_field(e.request_upgrade("u", &a, "pro", &long, EMAIL).await), "justification", "over 2000 characters");

    for bad in ["", "not-an-email", "a@b", "@example.com", "two words@example.com", "a@example..com"] {
        assert_eq!(invalid_field(e.request_upgrade("u", &a, "pro", WHY, bad).await), "contact_email", "{bad:?}");
    }

    for control in ["please upgrade\u{7} us now", "please\u{0} upgrade us now", "please upgrade us \u{1b}[31m now", "please\u{7f} upgrade us"] {
        assert_eq!(invalid_field(e.request_upgrade("u", &a, "pro", control, EMAIL).await), "justification", "{control:?}");
    }
    assert_eq!(count(e, "SELECT COUNT(*) FROM upgrade_requests WHERE account_id = $1", a.as_str()).await, 0);

    // Exactly ten characters, with a newline and a tab (allowed), after trimming.
    let ok = e.request_upgrade("u", &a, "pro", "  line1\nli\t2  ", " Ops@Example.COM ").await.expect("minimal request");
    assert_eq!(ok.justification, "line1\nli\t2");
    assert_eq!(ok.contact_email, "ops@example.com", "the address is trimmed and lowercased");
}

#[tokio::test]
async fn a_hostile_justification_is_stored_verbatim() {
    let t = engine().await;
    let a = account(&t.engine, "acc_a", "free").await;
    let hostile = "<script>alert(1)</script> please upgrade us & \"now\" 'ok' <b>thanks</b>";

    let view = t.engine.request_upgrade("owner@example.com", &a, "pro", hostile, EMAIL).await.expect("accepted");
    assert_eq!(view.justification, hostile);

    let stored: String = sqlx::query_scalar("SELECT justification FROM upgrade_requests WHERE id = $1")
        .bind(view.id.as_str())
        .fetch_one(t.engine.db().pool())
        .await
        .expect("stored row");
    assert_eq!(stored, hostile, "no HTML escaping or stripping in storage");
    let listed = t.engine.upgrade_requests().await.expect("list");
    assert_eq!(listed[0].justification, hostile);
    let pending = t.engine.pending_request(&a).await.expect("pending").expect("one pending");
    assert_eq!(pending.justification, hostile);
}

// ---------------------------------------------------------------------------------------
// 2. A valid request and its evidence
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_to_pro_is_pending_and_carries_the_usage_evidence() {
    let t = engine().await;
    let e = &t.engine;
    let now = e.now();
    let a = account(e, "acc_a", "free").await;

    // api_calls (sum, 100 a day): 30 today, 20 yesterday, and 7 too long ago to count.
    record(e, &a, "api_calls", 30.0, now - Duration::hours(1), "c-today").await;
    record(e, &a, "api_calls", 20.0, now - Duration::days(1), "c-yesterday").await;
    record(e, &a, "api_calls", 7.0, now - Duration::days(31), "c-old").await;
    // memories (level, 100): 70 three days ago, 85 now -> 85%, a pain point.
    record(e, &a, "memories", 70.0, now - Duration::days(3), "m-old").await;
    record(e, &a, "memories", 85.0, now - Duration::hours(2), "m-now").await;
    // storage_mb (level, 10 MB): 2 MB -> 20%, not a pain point.
    record(e, &a, "storage_mb", 2.0, now - Duration::hours(2), "s-now").await;
    // Two refusals of a Pro feature.
    let info = e.access(&a).await.expect("access");
    for _ in 0..2 {
        assert!(!e.entitlement(&info, "exports").expect("entitlement").allowed);
    }

    let view = e.request_upgrade("owner@example.com", &a, "pro", WHY, EMAIL).await.expect("request");
    assert!(view.id.as_str().starts_with("req_"));
    assert_eq!(view.status, RequestStatus::Pending);
    assert_eq!(view.kind, RequestKind::Upgrade);
    assert_eq!(view.from_plan, "free");
    assert_eq!(view.to_plan, "pro");
    assert_eq!(view.to_plan_name, "Pro");
    assert_eq!(view.account_name, "Account acc_a");
    assert_eq!(view.requested_by, "owner@example.com");
    assert_eq!(view.justification, WHY);
    assert_eq!(view.created_at, now);
    assert_eq!((view.decided_at, view.decline_reason.clone()), (None, None));

    let ev = &view.evidence;
    assert_eq!(ev.days, 30);
    let meter = |key: &str| ev.meters.iter().find(|m| m.meter == key).unwrap_or_else(|| panic!("{key} in evidence"));
    let calls = meter("api_calls");
    assert_eq!(calls.total, 50.0, "the 30-day sum, without the 31-day-old event");
    assert_eq!(calls.peak_day, 30.0);
    assert_eq!(calls.active_days, 2);
    assert_eq!(calls.percent_of_limit, Some(30.0), "today's 30 of 100");
    let memories = meter("memories");
    assert_eq!(memories.total, 85.0, "a level's total is its latest value");
    assert_eq!(memories.peak_day, 85.0);
    assert_eq!(memories.active_days, 2);
    assert_eq!(memories.percent_of_limit, Some(85.0));
    let storage = meter("storage_mb");
    assert_eq!(storage.total, 2.0);
    assert_eq!(storage.percent_of_limit, Some(20.0));

    assert!(
        ev.pain_points.iter().any(|p| p.starts_with("Memories at 85%") && p.contains("Free")),
        "memories at 85% of the Free limit is a pain point: {:?}",
        ev.pain_points
    );
    assert!(!ev.pain_points.iter().any(|p| p.contains("API calls") || p.contains("Storage")), "{:?}", ev.pain_points);
    assert_eq!(ev.refusals, [("exports".to_owned(), 2)]);
    assert!(
        ev.pain_points.iter().any(|p| p.contains("Exports refused 2 times") && p.contains("Pro")),
        "{:?}",
        ev.pain_points
    );

    // The evidence is stored with the request, not recomputed on read.
    record(e, &a, "memories", 99.0, now - Duration::minutes(1), "m-later").await;
    let pending = e.pending_request(&a).await.expect("pending").expect("the request is pending");
    assert_eq!(pending.evidence, view.evidence);
    assert_eq!(pending.id, view.id);
    assert_eq!(e.request_state(&a).await.expect("state"), Some((view.id.clone(), RequestStatus::Pending)));

    let created = audit_rows(e, &a, "upgrade_request.created").await;
    assert_eq!(created, [("owner@example.com".into(), view.id.to_string(), "free".into(), "pro".into())]);
}

#[tokio::test]
async fn an_account_with_no_usage_has_empty_evidence() {
    let t = engine().await;
    let a = account(&t.engine, "acc_a", "free").await;
    let view = request(&t.engine, &a, "starter").await;
    assert!(view.evidence.meters.iter().all(|m| m.total == 0.0 && m.active_days == 0), "{:?}", view.evidence.meters);
    assert!(view.evidence.pain_points.is_empty(), "{:?}", view.evidence.pain_points);
    assert!(view.evidence.refusals.is_empty());
}

#[tokio::test]
async fn a_request_for_the_custom_priced_tier_is_a_sales_request() {
    let t = engine().await;
    let a = account(&t.engine, "acc_a", "pro").await;
    let view = request(&t.engine, &a, "enterprise").await;
    assert_eq!(view.kind, RequestKind::Sales);
    assert_eq!(view.status, RequestStatus::Pending);
    assert_eq!((view.from_plan.as_str(), view.to_plan.as_str(), view.to_plan_name.as_str()), ("pro", "enterprise", "Enterprise"));
    assert_eq!(audit_rows(&t.engine, &a, "sales_request.created").await.len(), 1);
    assert!(audit_rows(&t.engine, &a, "upgrade_request.created").await.is_empty());

    let b = account(&t.engine, "acc_b", "free").await;
    assert_eq!(request(&t.engine, &b, "starter").await.kind, RequestKind::Upgrade);
}

// ---------------------------------------------------------------------------------------
// 3. One pending request per account
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_account_has_at_most_one_pending_request() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_a", "free").await;
    let b = account(e, "acc_b", "free").await;

    let first = request(e, &a, "pro").await;
    t.clock.advance(Duration::minutes(5));
    assert_eq!(conflict_field(e.request_upgrade("u", &a, "pro", WHY, EMAIL).await), "request", "same tier again");
    assert_eq!(conflict_field(e.request_upgrade("u", &a, "enterprise", WHY, EMAIL).await), "request", "another tier");
    match e.request_upgrade("u", &a, "starter", WHY, EMAIL).await {
        Err(EngineError::Conflict { message, .. }) => assert!(message.contains("Pro"), "names the pending tier: {message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(count(e, "SELECT COUNT(*) FROM upgrade_requests WHERE account_id = $1", a.as_str()).await, 1);
    assert_eq!(e.pending_request(&a).await.expect("pending").map(|r| r.id), Some(first.id));

    // Another account is not affected.
    let other = request(e, &b, "starter").await;
    assert_eq!(other.status, RequestStatus::Pending);
    assert_eq!(e.upgrade_requests().await.expect("list").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_requests_for_one_account_leave_exactly_one_pending() {
    let t = engine().await;
    let a = account(&t.engine, "acc_race", "free").await;
    let b = account(&t.engine, "acc_other", "free").await;
    const RACERS: usize = 8;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));

    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let engine = t.engine.clone();
        let account = a.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let tier = if i % 2 == 0 { "pro" } else { "starter" };
            engine.request_upgrade(&format!("user{i}@example.com"), &account, tier, WHY, EMAIL).await
        }));
    }
    let mut won = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(view) => won.push(view),
            Err(EngineError::Conflict { field: "request", .. }) => conflicts += 1,
            Err(other) => panic!("a losing request must be a conflict, got {other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one request wins: {won:?}");
    assert_eq!(conflicts, RACERS - 1);

    let e = &t.engine;
    assert_eq!(count(e, "SELECT COUNT(*) FROM upgrade_requests WHERE account_id = $1 AND status = 'pending'", a.as_str()).await, 1);
    assert_eq!(count(e, "SELECT COUNT(*) FROM upgrade_requests WHERE account_id = $1", a.as_str()).await, 1, "no stray rows");
    assert_eq!(audit_rows(e, &a, "upgrade_request.created").await.len(), 1, "one audit entry, for the winner");
    assert_eq!(e.pending_request(&a).await.expect("pending").map(|r| r.id), Some(won[0].id.clone()));

    // The other account still gets its own.
    assert_eq!(request(e, &b, "pro").await.status, RequestStatus::Pending);
}

// ---------------------------------------------------------------------------------------
// 4. Approving
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn approving_moves_the_account_to_the_requested_tier() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_a", "free").await;
    let exports = |info: &engine::accounts::access::AccountInfo| {
        e.feature_access(info).into_iter().find(|f| f.feature == "exports").expect("exports is a catalog feature")
    };
    assert!(!exports(&e.access(&a).await.expect("access")).allowed);

    let req = request(e, &a, "pro").await;
    t.clock.advance(Duration::hours(2));
    let decided_at = e.now();
    let approved = e.approve_request("admin@example.com", &req.id).await.expect("approve");
    assert_eq!(approved.id, req.id);
    assert_eq!(approved.status, RequestStatus::Approved);
    assert_eq!(approved.decided_at, Some(decided_at));
    assert_eq!(approved.decline_reason, None);

    // The plan changed, and the cached license with it.
    assert_eq!(plan_of(e, &a).await, "pro");
    let info = e.access(&a).await.expect("access");
    assert_eq!(info.plan.id, "pro");
    let exports_now = exports(&info);
    assert!(exports_now.allowed, "{exports_now:?}");
    assert_eq!(exports_now.required_plan, None);

    let history = e.plan_history(&a).await.expect("history");
    let newest = history.first().expect("a plan history entry");
    assert_eq!(newest.from_plan.as_deref(), Some("free"));
    assert_eq!(newest.to_plan, "pro");
    assert_eq!(newest.source, "admin");
    assert_eq!(newest.at, decided_at);
    assert!(newest.reason.contains("admin@example.com"), "{}", newest.reason);

    let approved_rows = audit_rows(e, &a, "upgrade_request.approved").await;
    assert_eq!(approved_rows, [("admin@example.com".into(), req.id.to_string(), "free".into(), "pro".into())]);
    let changed = audit_rows(e, &a, "license.changed").await;
    assert_eq!(changed, [("admin@example.com".into(), req.id.to_string(), "free/active".into(), "pro/active".into())]);

    let status: String = sqlx::query_scalar("SELECT status FROM upgrade_requests WHERE id = $1")
        .bind(req.id.as_str())
        .fetch_one(e.db().pool())
        .await
        .expect("row");
    assert_eq!(status, "approved");
    assert_eq!(e.request_state(&a).await.expect("state"), Some((req.id.clone(), RequestStatus::Approved)));
    let decided_by: Option<String> = sqlx::query_scalar("SELECT decided_by FROM upgrade_requests WHERE id = $1")
        .bind(req.id.as_str())
        .fetch_one(e.db().pool())
        .await
        .expect("row");
    assert_eq!(decided_by.as_deref(), Some("admin@example.com"));

    // A decided request cannot be decided again; an unknown one is not found.
    assert_eq!(conflict_field(e.approve_request("admin2@example.com", &req.id).await), "request");
    assert_eq!(conflict_field(e.decline_request("admin2@example.com", &req.id, "changed my mind").await), "request");
    assert!(matches!(e.approve_request("admin@example.com", &RequestId::parse("req_missing").expect("id")).await, Err(EngineError::NotFound("request"))));
    assert!(matches!(e.decline_request("admin@example.com", &RequestId::parse("req_missing").expect("id"), "no such thing").await, Err(EngineError::NotFound("request"))));
    assert_eq!(e.plan_history(&a).await.expect("history").len(), history.len(), "the second approval changed nothing");
    assert_eq!(audit_rows(e, &a, "upgrade_request.approved").await.len(), 1);
    assert_eq!(plan_of(e, &a).await, "pro");

    // The pending slot is free again.
    assert_eq!(e.pending_request(&a).await.expect("pending"), None);
    t.clock.advance(Duration::hours(1));
    let next = request(e, &a, "enterprise").await;
    assert_eq!((next.from_plan.as_str(), next.kind, next.status), ("pro", RequestKind::Sales, RequestStatus::Pending));
}

// ---------------------------------------------------------------------------------------
// 5. Declining
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn declining_needs_a_reason_and_leaves_the_plan_alone() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_a", "free").await;
    let req = request(e, &a, "pro").await;

    for bad in ["", "   ", "no", "  ok  ", "bad\u{7} reason"] {
        assert_eq!(invalid_field(e.decline_request("admin@example.com", &req.id, bad).await), "reason", "{bad:?}");
    }
    assert_eq!(e.pending_request(&a).await.expect("pending").map(|r| r.id), Some(req.id.clone()), "still pending");

    t.clock.advance(Duration::hours(1));
    let reason = "Your usage fits Starter; ask again next month.";
    let declined = e.decline_request("admin@example.com", &req.id, &format!("  {reason} ")).await.expect("decline");
    assert_eq!(declined.status, RequestStatus::Declined);
    assert_eq!(declined.decline_reason.as_deref(), Some(reason));
    assert_eq!(declined.decided_at, Some(e.now()));

    let notice = e.request_notice(&a).await.expect("notice").expect("a recent decision is shown");
    assert_eq!(notice.id, req.id);
    assert_eq!(notice.status, RequestStatus::Declined);
    assert_eq!(notice.decline_reason.as_deref(), Some(reason));

    assert_eq!(plan_of(e, &a).await, "free");
    assert_eq!(e.access(&a).await.expect("access").plan.id, "free");
    assert!(e.plan_history(&a).await.expect("history").is_empty(), "no plan change");
    assert_eq!(
        audit_rows(e, &a, "upgrade_request.declined").await,
        [("admin@example.com".into(), req.id.to_string(), "pro".into(), reason.into())]
    );

    // Decided: no second answer.
    assert_eq!(conflict_field(e.approve_request("admin@example.com", &req.id).await), "request");
    assert_eq!(plan_of(e, &a).await, "free");

    // The notice stays for 14 days.
    t.clock.advance(Duration::days(13));
    assert!(e.request_notice(&a).await.expect("notice").is_some(), "still shown after 13 days");
    t.clock.advance(Duration::days(2));
    assert_eq!(e.request_notice(&a).await.expect("notice"), None, "gone after 15 days");

    // And the account may ask again; a pending request is the notice.
    t.clock.advance(Duration::minutes(5));
    let again = request(e, &a, "starter").await;
    assert_eq!(e.request_notice(&a).await.expect("notice").map(|r| r.id), Some(again.id));
}

// ---------------------------------------------------------------------------------------
// 6. The admin's inbox
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_inbox_lists_pending_requests_first() {
    let t = engine().await;
    let e = &t.engine;
    let mut ids = Vec::new();
    for name in ["acc_a", "acc_b", "acc_c", "acc_d"] {
        let id = account(e, name, "free").await;
        ids.push(request(e, &id, "pro").await.id);
        t.clock.advance(Duration::minutes(10));
    }
    let [a, b, c, d] = [&ids[0], &ids[1], &ids[2], &ids[3]];
    e.decline_request("admin@example.com", a, "not this time").await.expect("decline a");
    e.approve_request("admin@example.com", c).await.expect("approve c");

    let listed = e.upgrade_requests().await.expect("inbox");
    let order: Vec<&RequestId> = listed.iter().map(|r| &r.id).collect();
    assert_eq!(order, [b, d, c, a], "pending oldest first, then decided newest first");
    let statuses: Vec<RequestStatus> = listed.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RequestStatus::Pending, RequestStatus::Pending, RequestStatus::Approved, RequestStatus::Declined]);
}

// ---------------------------------------------------------------------------------------
// 7. Feature access
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn feature_access_names_the_plan_that_unlocks_each_feature() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_a", "free").await;
    let info = e.access(&a).await.expect("access");
    let access = e.feature_access(&info);
    let get = |feature: &str| access.iter().find(|f| f.feature == feature).unwrap_or_else(|| panic!("{feature} listed"));

    let exports = get("exports");
    assert!(!exports.allowed);
    assert_eq!(exports.required_plan.as_deref(), Some("pro"));
    assert_eq!(exports.required_plan_name.as_deref(), Some("Pro"));
    assert!(!exports.adds.is_empty());
    assert!(exports.adds.iter().any(|line| line.contains("exports")), "{:?}", exports.adds);
    assert!(!exports.license_inactive);

    let alerts = get("custom_alert_thresholds");
    assert!(!alerts.allowed);
    assert_eq!(alerts.required_plan.as_deref(), Some("starter"));

    let enterprise_only = get("sla");
    assert_eq!(enterprise_only.required_plan.as_deref(), Some("enterprise"));

    let basic = get("basic_memory");
    assert!(basic.allowed);
    assert_eq!((basic.required_plan.clone(), basic.adds.len(), basic.license_inactive), (None, 0, false));

    // Every catalog feature is listed once.
    assert_eq!(access.len(), e.catalog().features().len());

    // A view, not a refusal: nothing is counted for the evidence.
    let evidence = e.usage_evidence(&a).await.expect("evidence");
    assert!(evidence.refusals.is_empty(), "{:?}", evidence.refusals);

    // On a suspended license, the plan's own features are there but not usable.
    let s = account_with(e, "acc_s", "pro", LicenseStatus::Suspended).await;
    let info = e.access(&s).await.expect("access");
    let exports = e.feature_access(&info).into_iter().find(|f| f.feature == "exports").expect("exports");
    assert!(!exports.allowed);
    assert!(exports.license_inactive);
    assert_eq!(exports.required_plan, None);
}

// ---------------------------------------------------------------------------------------
// 8. Custom alert thresholds
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn custom_alert_thresholds_need_starter() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_free", "free").await;
    let info = e.access(&a).await.expect("access");
    match e.set_alert_thresholds("owner@example.com", &info, "memories", &[AlertThreshold::percent(50.0)]).await {
        Err(EngineError::UpgradeRequired(entitlement)) => {
            assert_eq!(entitlement.feature, "custom_alert_thresholds");
            assert_eq!(entitlement.required_plan.as_deref(), Some("starter"));
        }
        other => panic!("expected upgrade_required, got {other:?}"),
    }
    assert!(e.alert_thresholds(&a).await.expect("thresholds").is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_custom_alert_threshold_moves_the_warning_point() {
    let t = engine().await;
    let e = &t.engine;
    let now = e.now();
    let a = account(e, "acc_a", "starter").await;
    // memories: 500 of 1,000 -> exactly 50%.
    record(e, &a, "memories", 500.0, now - Duration::hours(2), "m1").await;
    let memories = |o: &model::Overview| o.quotas.iter().find(|q| q.meter == "memories").cloned().expect("memories quota");

    let before = memories(&e.overview(&a, e.now()).await.expect("overview"));
    assert_eq!((before.percent, before.alert_percent), (50.0, 80.0));
    assert!(!before.is_approaching(), "50% is below the default 80%");

    let info = e.access(&a).await.expect("access");
    e.set_alert_thresholds("owner@example.com", &info, "memories", &[AlertThreshold::percent(50.0)]).await.expect("set");
    assert_eq!(e.alert_thresholds(&a).await.expect("thresholds").get("memories"), Some(&vec![AlertThreshold::percent(50.0)]));

    let o = e.overview(&a, e.now()).await.expect("overview");
    let after = memories(&o);
    assert_eq!(after.alert_percent, 50.0);
    assert!(after.is_approaching(), "50% >= the 50% threshold");
    for other in o.quotas.iter().filter(|q| q.meter != "memories") {
        assert_eq!(other.alert_percent, 80.0, "{} keeps the default", other.meter);
    }

    // Just under the threshold is not approaching.
    record(e, &a, "memories", 499.0, now - Duration::hours(1), "m2").await;
    let under = memories(&e.overview(&a, e.now()).await.expect("overview"));
    assert_eq!((under.percent, under.alert_percent), (49.9, 50.0));
    assert!(!under.is_approaching());

    // Setting again replaces; None removes.
    e.set_alert_thresholds("owner@example.com", &info, "memories", &[AlertThreshold::percent(40.0)]).await.expect("replace");
    assert_eq!(e.alert_thresholds(&a).await.expect("thresholds").len(), 1);
    assert_eq!(memories(&e.overview(&a, e.now()).await.expect("overview")).alert_percent, 40.0);
    e.set_alert_thresholds("owner@example.com", &info, "memories", &[]).await.expect("remove");
    assert!(e.alert_thresholds(&a).await.expect("thresholds").is_empty());
    assert_eq!(memories(&e.overview(&a, e.now()).await.expect("overview")).alert_percent, 80.0);

    let set_rows = audit_rows(e, &a, "alert_threshold.set").await;
    let afters: Vec<&str> = set_rows.iter().map(|(_, _, _, after)| after.as_str()).collect();
    assert_eq!(afters, ["50%", "40%", "default"]);
}

#[tokio::test]
async fn alert_threshold_values_and_meters_are_validated() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_a", "starter").await;
    let info = e.access(&a).await.expect("access");

    for bad in [0.0, 0.5, 100.5, 150.0, -10.0, f64::NAN, f64::INFINITY] {
        assert_eq!(invalid_field(e.set_alert_thresholds("o", &info, "memories", &[AlertThreshold::percent(bad)]).await), "thresholds", "{bad}");
    }
    assert_eq!(invalid_field(e.set_alert_thresholds("o", &info, "bandwidth", &[AlertThreshold::percent(50.0)]).await), "meter");
    assert_eq!(invalid_field(e.set_alert_thresholds("o", &info, "", &[AlertThreshold::percent(50.0)]).await), "meter");
    assert!(e.alert_thresholds(&a).await.expect("thresholds").is_empty(), "nothing stored for refused values");

    // The bounds themselves are accepted.
    e.set_alert_thresholds("o", &info, "memories", &[AlertThreshold::percent(1.0)]).await.expect("1%");
    e.set_alert_thresholds("o", &info, "api_calls", &[AlertThreshold::percent(100.0)]).await.expect("100%");
    let thresholds = e.alert_thresholds(&a).await.expect("thresholds");
    assert_eq!((thresholds.get("memories"), thresholds.get("api_calls")), (Some(&vec![AlertThreshold::percent(1.0)]), Some(&vec![AlertThreshold::percent(100.0)])));
}

// ---------------------------------------------------------------------------------------
// 9. Tiers
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tiers_are_listed_in_rank_order_with_their_checkout_links() {
    let t = engine().await;
    let tiers = t.engine.tiers();
    let ids: Vec<&str> = tiers.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["free", "starter", "pro", "enterprise"]);
    let ranks: Vec<u32> = tiers.iter().map(|t| t.rank).collect();
    assert_eq!(ranks, [0, 1, 2, 3]);

    let urls: Vec<Option<&str>> = tiers.iter().map(|t| t.checkout_url.as_deref()).collect();
    assert_eq!(
        urls,
        [None, Some("https://whop.com/checkout/plan_demo_starter"), Some("https://whop.com/checkout/plan_demo_pro"), None]
    );
    let sales_led: Vec<bool> = tiers.iter().map(|t| t.is_sales_led()).collect();
    assert_eq!(sales_led, [false, false, false, true]);

    let free = &tiers[0];
    assert_eq!((free.rate_limit_per_minute, free.rate_limit_per_day), (10, 100));
    let calls = free.limits.iter().find(|l| l.meter == "api_calls").expect("api_calls limit");
    assert_eq!((calls.value, calls.period, calls.soft, calls.name.as_str()), (100.0, model::Period::Day, false, "API calls"));
    let enterprise_memories = tiers[3].limits.iter().find(|l| l.meter == "memories").expect("memories limit");
    assert!(enterprise_memories.soft);
    assert!(tiers[2].features.iter().any(|f| f == "exports"));
    assert!(!tiers[1].features.iter().any(|f| f == "exports"));
}

#[tokio::test]
async fn upgrade_options_bundle_the_tiers_evidence_and_pending_request() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_a", "starter").await;
    let options = e.upgrade_options(&a, "me@example.com").await.expect("options");
    assert_eq!(options.current_tier, "starter");
    assert_eq!(options.contact_email, "me@example.com");
    assert_eq!(options.tiers.len(), 4);
    assert_eq!(options.pending, None);

    let req = request(e, &a, "pro").await;
    let options = e.upgrade_options(&a, "me@example.com").await.expect("options");
    assert_eq!(options.pending.map(|p| p.id), Some(req.id));
}

#[tokio::test]
async fn the_cached_account_page_follows_requests_and_decisions_at_once() {
    let t = engine().await;
    let e = &t.engine;
    let a = account(e, "acc_a", "free").await;
    let page = e.account_page(&a).await.expect("page");
    assert!(page.notice.is_none() && page.plan_history.is_empty(), "nothing yet, and now cached");

    let req = request(e, &a, "pro").await;
    let page = e.account_page(&a).await.expect("page");
    assert_eq!(page.notice.map(|n| (n.id, n.status)), Some((req.id.clone(), RequestStatus::Pending)), "the new request shows without waiting");

    e.decline_request("admin@example.com", &req.id, "Starter fits your usage for now.").await.expect("decline");
    let page = e.account_page(&a).await.expect("page");
    assert_eq!(page.notice.map(|n| n.status), Some(RequestStatus::Declined), "the decision shows without waiting");

    t.clock.advance(Duration::minutes(5));
    let again = request(e, &a, "starter").await;
    assert_eq!(e.account_page(&a).await.expect("page").notice.map(|n| n.id), Some(again.id.clone()));
    e.approve_request("admin@example.com", &again.id).await.expect("approve");
    let page = e.account_page(&a).await.expect("page");
    assert_eq!(page.notice.map(|n| n.status), Some(RequestStatus::Approved));
    assert_eq!(page.plan_history.first().map(|c| c.to_plan.as_str()), Some("starter"), "the plan change is in the history at once");
    assert_eq!(e.overview(&a, e.now()).await.expect("overview").plan.tier, "starter");
}
