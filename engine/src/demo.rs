//! Accounts with believable history: the demo data and the load-test generator.

use crate::auth::{Email, Password};
use crate::metering::rollups::month_start;
use crate::accounts::NewAccount;
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use model::{Aggregation, LicenseStatus, Role};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::QueryBuilder;
use std::collections::BTreeMap;

/// How an account's usage looks over time, as fractions of its plan's limits.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Average weekday API calls, as a fraction of the daily limit.
    calls: f64,
    /// Today's calls so far, as a fraction of the daily limit.
    calls_today: f64,
    /// Storage level now, as a fraction of the limit.
    storage: f64,
    /// Stored items now, as a fraction of the limit.
    memories: f64,
}

/// One demo account and the usage it shows today.
#[derive(Clone, Copy)]
struct DemoAccount {
    id: &'static str,
    name: &'static str,
    plan: &'static str,
    status: LicenseStatus,
    seats: u32,
    expires_in_days: Option<i64>,
    shape: Shape,
}

/// Every tier and every state the dashboard can show; the first is the default viewer.
const DEMO_ACCOUNTS: [DemoAccount; 10] = [
    // The default viewer: a free account approaching its item limit.
    DemoAccount { id: "acc_initech", name: "Initech", plan: "free", status: LicenseStatus::Active, seats: 1, expires_in_days: None,
        shape: Shape { calls: 0.55, calls_today: 0.42, storage: 0.52, memories: 0.81 } },
    DemoAccount { id: "acc_acme", name: "Acme Corp", plan: "pro", status: LicenseStatus::Active, seats: 12, expires_in_days: Some(200),
        shape: Shape { calls: 0.30, calls_today: 0.22, storage: 0.35, memories: 0.41 } },
    DemoAccount { id: "acc_globex", name: "Globex", plan: "starter", status: LicenseStatus::Active, seats: 5, expires_in_days: Some(120),
        shape: Shape { calls: 0.62, calls_today: 0.48, storage: 0.93, memories: 0.66 } },
    DemoAccount { id: "acc_hooli", name: "Hooli", plan: "free", status: LicenseStatus::Active, seats: 1, expires_in_days: None,
        shape: Shape { calls: 0.80, calls_today: 1.0, storage: 0.70, memories: 1.12 } },
    DemoAccount { id: "acc_umbrella", name: "Umbrella", plan: "starter", status: LicenseStatus::Suspended, seats: 3, expires_in_days: Some(60),
        shape: Shape { calls: 0.20, calls_today: 0.0, storage: 0.45, memories: 0.30 } },
    DemoAccount { id: "acc_tyrell", name: "Tyrell", plan: "pro", status: LicenseStatus::Expired, seats: 8, expires_in_days: Some(-3),
        shape: Shape { calls: 0.15, calls_today: 0.0, storage: 0.25, memories: 0.20 } },
    DemoAccount { id: "acc_wayne", name: "Wayne Enterprises", plan: "enterprise", status: LicenseStatus::Active, seats: 250, expires_in_days: Some(330),
        shape: Shape { calls: 0.12, calls_today: 0.09, storage: 0.40, memories: 0.55 } },
    DemoAccount { id: "acc_stark", name: "Stark Industries", plan: "pro", status: LicenseStatus::Trialing, seats: 20, expires_in_days: Some(10),
        shape: Shape { calls: 0.45, calls_today: 0.30, storage: 0.15, memories: 0.12 } },
    DemoAccount { id: "acc_wonka", name: "Wonka", plan: "starter", status: LicenseStatus::PastDue, seats: 2, expires_in_days: Some(25),
        shape: Shape { calls: 0.35, calls_today: 0.20, storage: 0.60, memories: 0.58 } },
    DemoAccount { id: "acc_cyberdyne", name: "Cyberdyne", plan: "starter", status: LicenseStatus::Cancelled, seats: 4, expires_in_days: Some(-10),
        shape: Shape { calls: 0.10, calls_today: 0.0, storage: 0.30, memories: 0.25 } },
];

/// A demo user's sign-in details; demo mode prints them at start.
#[derive(Debug, Clone, Copy)]
pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
    pub role: Role,
    pub account: Option<&'static str>,
}

/// The demo users: an owner and a member of the default viewer's account, the owners of a
/// second account (to show tenants apart) and of a free account over its limits (to walk
/// the upgrade journey), and an operator admin.
pub const DEMO_LOGINS: [DemoLogin; 6] = [
    DemoLogin { email: "owner@initech.example", password: "initech-owner-demo", role: Role::Owner, account: Some("acc_initech") },
    DemoLogin { email: "member@initech.example", password: "initech-member-demo", role: Role::Member, account: Some("acc_initech") },
    DemoLogin { email: "owner@acme.example", password: "acme-owner-demo", role: Role::Owner, account: Some("acc_acme") },
    DemoLogin { email: "owner@hooli.example", password: "hooli-owner-demo", role: Role::Owner, account: Some("acc_hooli") },
    DemoLogin { email: "owner@globex.example", password: "globex-owner-demo", role: Role::Owner, account: Some("acc_globex") },
    DemoLogin { email: "admin@tollgate.example", password: "tollgate-admin-demo", role: Role::Admin, account: None },
];

impl Engine {
    /// Whether the demo admin exists here with its published password: then this database
    /// holds demo data, and anyone who read the README could sign in as its admin.
    pub async fn has_published_demo_admin(&self) -> Result<bool, EngineError> {
        let Some(admin) = DEMO_LOGINS.iter().find(|l| l.role == Role::Admin) else { return Ok(false) };
        let stored: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
            .bind(admin.email)
            .fetch_optional(self.db().pool())
            .await?;
        match stored {
            Some(hash) => crate::auth::credentials::verify_password(admin.password, Some(hash)).await,
            None => Ok(false),
        }
    }

    /// Seeds the demo accounts: every tier and every state the dashboard can show, with
    /// 35 days of history. Returns their ids, the default viewer first.
    pub async fn seed_demo(&self, now: DateTime<Utc>) -> Result<Vec<AccountId>, EngineError> {
        let days = 35;
        let mut ids = Vec::with_capacity(DEMO_ACCOUNTS.len());
        for (index, demo) in DEMO_ACCOUNTS.iter().enumerate() {
            let DemoAccount { id, name, plan, status, seats, expires_in_days, shape } = *demo;
            let id = AccountId::parse(id)?;
            // Earlier accounts are older, so the first one is the default viewer.
            let starts_at = now - Duration::days(days + 30 - index as i64);
            self.create_account(&NewAccount {
                id: id.clone(),
                name: name.to_owned(),
                plan_id: plan.to_owned(),
                status,
                seats,
                starts_at,
                expires_at: expires_in_days.map(|d| now + Duration::days(d)),
            })
            .await?;
            let active_until = if status.is_usable() || status == LicenseStatus::PastDue { 0 } else { 3 };
            self.write_history(&id, plan, shape, days as u32, active_until, now, index as u64).await?;
            ids.push(id);
        }
        for login in DEMO_LOGINS {
            let email = Email::parse(login.email)?;
            let password = Password::parse(login.password)?;
            let account = login.account.map(AccountId::parse).transpose()?;
            self.create_user(&email, &password, login.role, account.as_ref()).await?;
        }
        Ok(ids)
    }

    /// Adds `accounts` generated accounts across the tiers, each with `days` of history.
    pub async fn generate(&self, accounts: u32, days: u32, now: DateTime<Utc>, seed: u64) -> Result<(), EngineError> {
        let mut rng = StdRng::seed_from_u64(seed);
        let plans: Vec<String> = self.catalog().plans().iter().map(|p| p.id.clone()).collect();
        for n in 0..accounts {
            // Most accounts are on the lower tiers, as in any SaaS.
            let roll: f64 = rng.gen();
            let tier = if roll < 0.5 { 0 } else if roll < 0.8 { 1 } else if roll < 0.95 { 2 } else { 3 };
            let plan = &plans[tier.min(plans.len() - 1)];
            let status = match rng.gen_range(0..20) {
                0 => LicenseStatus::Suspended,
                1 => LicenseStatus::Expired,
                2 => LicenseStatus::PastDue,
                3 => LicenseStatus::Trialing,
                _ => LicenseStatus::Active,
            };
            let id = AccountId::parse(&format!("acc_gen_{n:05}_{seed}"))?;
            self.create_account(&NewAccount {
                id: id.clone(),
                name: format!("Generated {n:05}"),
                plan_id: plan.clone(),
                status,
                seats: rng.gen_range(1..50),
                starts_at: now - Duration::days(i64::from(days) + 1),
                expires_at: Some(now + Duration::days(rng.gen_range(-10..365))),
            })
            .await?;
            let shape = Shape {
                calls: rng.gen_range(0.05..0.9),
                calls_today: rng.gen_range(0.0..0.9),
                storage: rng.gen_range(0.05..1.0),
                memories: rng.gen_range(0.05..1.05),
            };
            self.write_history(&id, plan, shape, days, 0, now, seed.wrapping_mul(1_000_003).wrapping_add(u64::from(n)))
                .await?;
        }
        Ok(())
    }

    /// Writes `days` of daily and monthly rollups ending today. API calls follow a weekday
    /// shape with noise and never pass a hard daily limit; levels grow towards today's.
    /// The last `idle_days` have no API calls (a license that stopped working).
    #[expect(clippy::too_many_arguments, reason = "a private helper whose callers name every argument")]
    async fn write_history(
        &self,
        account: &AccountId,
        plan_id: &str,
        shape: Shape,
        days: u32,
        idle_days: u32,
        now: DateTime<Utc>,
        seed: u64,
    ) -> Result<(), EngineError> {
        let catalog = self.catalog();
        let plan = catalog.plan(plan_id).ok_or_else(|| EngineError::UnknownPlan(plan_id.to_owned()))?;
        let mut rng = StdRng::seed_from_u64(seed);
        let today = now.date_naive();
        let mut daily: Vec<(&str, NaiveDate, f64, DateTime<Utc>)> = Vec::new();
        let mut monthly: BTreeMap<(&str, NaiveDate), (f64, DateTime<Utc>)> = BTreeMap::new();

        for meter in catalog.meters() {
            let limit = plan.limit(&meter.key).map_or(100.0, |l| l.value);
            for back in (0..days).rev() {
                let day = today - Duration::days(i64::from(back));
                let observed = if back == 0 { now } else { end_of(day) };
                let value = match meter.aggregation {
                    Aggregation::Sum if back < idle_days => 0.0,
                    Aggregation::Sum if back == 0 => (shape.calls_today * limit).round(),
                    Aggregation::Sum => {
                        let weekday = match day.weekday() {
                            Weekday::Sat => 0.45,
                            Weekday::Sun => 0.35,
                            _ => 1.0,
                        };
                        let trend = 0.85 + 0.15 * (1.0 - f64::from(back) / f64::from(days.max(1)));
                        let noise = rng.gen_range(0.85..1.15);
                        (shape.calls * weekday * trend * noise * limit).round().min(limit)
                    }
                    Aggregation::Last | Aggregation::Max => {
                        let target = if meter.key.contains("storage") { shape.storage } else { shape.memories };
                        let progress = 1.0 - f64::from(back) / f64::from(days.max(1));
                        let level = target * limit * (0.6 + 0.4 * progress);
                        let level = if back == 0 { target * limit } else { level * rng.gen_range(0.98..1.0) };
                        if meter.unit == "MB" { (level * 10.0).round() / 10.0 } else { level.round() }
                    }
                };
                if value == 0.0 && meter.aggregation == Aggregation::Sum {
                    continue;
                }
                daily.push((meter.key.as_str(), day, value, observed));
                let entry = monthly.entry((meter.key.as_str(), month_start(day))).or_insert((0.0, observed));
                entry.0 = match meter.aggregation {
                    Aggregation::Sum => entry.0 + value,
                    Aggregation::Last => value,
                    Aggregation::Max => entry.0.max(value),
                };
                entry.1 = observed;
            }
        }

        let mut tx = self.db().pool().begin().await?;
        // SQLite binds at most 32,766 parameters a statement; 5 a row leaves ample room.
        for chunk in daily.chunks(1_000) {
            let mut insert = QueryBuilder::new("INSERT INTO usage_daily (account_id, meter, day, value, observed_at) ");
            insert.push_values(chunk, |mut row, (meter, day, value, observed)| {
                row.push_bind(account.as_str()).push_bind(*meter).push_bind(*day).push_bind(*value).push_bind(*observed);
            });
            insert.build().execute(&mut *tx).await?;
        }
        let monthly: Vec<_> = monthly.into_iter().collect();
        for chunk in monthly.chunks(1_000) {
            let mut insert = QueryBuilder::new("INSERT INTO usage_monthly (account_id, meter, month, value, observed_at) ");
            insert.push_values(chunk, |mut row, ((meter, month), (value, observed))| {
                row.push_bind(account.as_str()).push_bind(*meter).push_bind(*month).push_bind(*value).push_bind(*observed);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(23, 0, 0).map_or_else(Utc::now, |t| t.and_utc())
}
