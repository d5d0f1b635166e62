//! Usage alerts: which thresholds an account is warned at, noticing a crossing on the hot
//! path, evaluating it (at once, and in an hourly sweep), and the notifications that result.
//!
//! The hot path only notices: a charge that moves a meter across one of the account's
//! thresholds puts the account in a queue (a set, so a busy account is queued once), and
//! [`Engine::run_alert_queue`] evaluates what is queued off the request path. Evaluation
//! reads the account's overview and writes a notification for each threshold it is at or
//! past; the table's unique key (account, subject, threshold, UTC day) is the dedupe, so a
//! crossing repeated, evaluated twice, or re-evaluated after a restart is told once a day.

pub mod mail;
pub mod outbox;
mod settings;
pub mod webhooks;

use crate::accounts::access::AccountInfo;
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Duration, Utc};
use model::{AlertKind, AlertThreshold, LicenseStatus, Notification, QuotaStatus};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;


/// After ingest, an account is evaluated this long after its first queued batch: ingest
/// does not know where a meter stood before, so every batch queues its accounts, and this
/// bounds the evaluations to one per account per interval under a stream of batches.
pub const INGEST_CHECK_DELAY: std::time::Duration = std::time::Duration::from_secs(2);

/// Accounts waiting to be evaluated, each with the time it is due.
#[derive(Default)]
pub(crate) struct AlertQueue {
    pending: Mutex<HashMap<AccountId, Instant>>,
    wake: tokio::sync::Notify,
}

impl AlertQueue {
    /// Queues `account` to be evaluated after `delay`, unless it is queued already (the
    /// earlier time stands).
    fn push(&self, account: &AccountId, delay: std::time::Duration) {
        let due = Instant::now() + delay;
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match pending.get_mut(account) {
            Some(at) if *at <= due => return,
            Some(at) => *at = due,
            None => {
                pending.insert(account.clone(), due);
            }
        }
        drop(pending);
        self.wake.notify_one();
    }

    /// The accounts due now, and when the next one is.
    fn take_due(&self) -> (Vec<AccountId>, Option<Instant>) {
        let now = Instant::now();
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let due: Vec<AccountId> = pending.iter().filter(|(_, at)| **at <= now).map(|(a, _)| a.clone()).collect();
        for account in &due {
            pending.remove(account);
        }
        (due, pending.values().min().copied())
    }
}

/// How long a counted unread number is served from memory. Notifications written or read
/// through this process drop it at once; another process's within this time.
const UNREAD_FRESH: std::time::Duration = std::time::Duration::from_secs(30);
/// Past this many accounts the unread counts are forgotten and counted again.
const UNREAD_ACCOUNTS: usize = 100_000;

/// Unread counts per account: every signed-in page shows one, and a query per page cost
/// the dashboard about 9% of its throughput.
#[derive(Default)]
pub(crate) struct UnreadCounts(Mutex<HashMap<AccountId, (i64, Instant)>>);

impl UnreadCounts {
    fn get(&self, account: &AccountId) -> Option<i64> {
        let counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(account).filter(|(_, at)| at.elapsed() < UNREAD_FRESH).map(|(n, _)| *n)
    }

    fn put(&self, account: &AccountId, count: i64) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= UNREAD_ACCOUNTS {
            counts.clear();
        }
        counts.insert(account.clone(), (count, Instant::now()));
    }

    fn forget(&self, account: &AccountId) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(account);
    }
}

/// Where one meter alerts, as the hot path reads it.
#[derive(Clone, Copy)]
pub(crate) struct AlertPoints<'a> {
    /// The account's own thresholds, while its plan allows them.
    custom: Option<&'a [AlertThreshold]>,
    /// The catalog's percentage otherwise.
    default_percent: f64,
}

/// One alert an evaluation found.
struct Found {
    kind: AlertKind,
    subject: String,
    threshold: f64,
    /// What `threshold` counts: `percent`, `absolute`, `days` or `none`.
    unit: &'static str,
    title: String,
    body: String,
    /// For a quota: usage, limit, percent.
    numbers: Option<(f64, f64, f64)>,
}

impl Engine {
    /// Where a meter alerts the account: its own thresholds while its plan has
    /// `custom_alert_thresholds`, else the catalog's percentage; and always the limit
    /// itself. In no particular order.
    pub fn alert_thresholds_for(&self, info: &AccountInfo, meter: &str, now: DateTime<Utc>) -> Vec<AlertThreshold> {
        let points = self.alert_points(info, meter, now);
        let mut out: Vec<AlertThreshold> = match points.custom {
            Some(custom) => custom.to_vec(),
            None => vec![AlertThreshold::percent(points.default_percent)],
        };
        let limit = AlertThreshold::percent(100.0);
        if !out.contains(&limit) {
            out.push(limit);
        }
        out
    }

    /// Where a meter alerts, borrowed from the cached license: the hot path asks, and
    /// must not allocate.
    pub(crate) fn alert_points<'a>(&self, info: &'a AccountInfo, meter: &str, now: DateTime<Utc>) -> AlertPoints<'a> {
        let custom = info
            .alert_thresholds
            .get(meter)
            .map(Vec::as_slice)
            .filter(|t| !t.is_empty() && info.has_feature(crate::journey::thresholds::ALERT_FEATURE, now));
        let default_percent = self.catalog().meter(meter).map_or(80.0, |m| m.alert_at_percent).min(100.0);
        AlertPoints { custom, default_percent }
    }

    /// Called by a charge with the account's [`Engine::alert_points`]: queues the account
    /// for evaluation when `before` → `after` crosses one of them. A comparison otherwise.
    pub(crate) fn notice_usage(&self, info: &AccountInfo, points: AlertPoints<'_>, before: f64, after: f64, limit: f64) {
        if after <= before || limit <= 0.0 {
            return;
        }
        let crosses = |at: f64| before < at && at <= after;
        let crossed = crosses(limit)
            || match points.custom {
                Some(custom) => custom.iter().any(|t| crosses(t.usage_at(limit))),
                None => crosses(points.default_percent / 100.0 * limit),
            };
        if crossed {
            self.hot.alerts.push(&info.account, std::time::Duration::ZERO);
        }
    }

    /// Queues an account for evaluation after `delay` (ingest uses [`INGEST_CHECK_DELAY`];
    /// a plan change that lowers a limit, none).
    pub fn queue_alert_check(&self, account: &AccountId, delay: std::time::Duration) {
        self.hot.alerts.push(account, delay);
    }

    /// Evaluates queued accounts as they fall due, until `stop` resolves. A burst of
    /// crossings for one account costs one evaluation.
    pub async fn run_alert_queue(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let (due, next) = self.hot.alerts.take_due();
            for account in due {
                if let Err(err) = self.evaluate_alerts(&account).await {
                    tracing::warn!(account = %account, error = %err, "evaluating alerts failed; the hourly sweep will retry");
                }
            }
            let sleep = next.map_or(std::time::Duration::from_secs(3600), |at| at.saturating_duration_since(Instant::now()));
            tokio::select! {
                _ = self.hot.alerts.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = &mut stop => return,
            }
        }
    }

    /// Evaluates every account: the hourly sweep, for whatever the hot path did not see
    /// (a level set by ingest, time passing towards an expiry). Returns how many new
    /// notifications it wrote.
    pub async fn sweep_alerts(&self) -> Result<usize, EngineError> {
        let accounts: Vec<String> = sqlx::query_scalar("SELECT id FROM accounts ORDER BY id").fetch_all(self.db().pool()).await?;
        let mut written = 0;
        for id in accounts {
            let Ok(account) = AccountId::parse(&id) else { continue };
            match self.evaluate_alerts(&account).await {
                Ok(n) => written += n,
                Err(err) => tracing::warn!(account = %account, error = %err, "evaluating alerts failed"),
            }
        }
        Ok(written)
    }

    /// Writes a notification for every threshold the account is at or past now, once per
    /// UTC day. Returns how many were new.
    pub async fn evaluate_alerts(&self, account: &AccountId) -> Result<usize, EngineError> {
        let now = self.now();
        let info = self.access(account).await?;
        let overview = self.overview(account, now).await?;
        let mut found = Vec::new();
        for quota in &overview.quotas {
            // Only the highest threshold reached: one message says where the meter is.
            let reached = self
                .alert_thresholds_for(&info, &quota.meter, now)
                .into_iter()
                .filter(|t| quota.used >= t.usage_at(quota.limit) && (quota.limit > 0.0 || t.absolute || quota.used > 0.0))
                .max_by(|a, b| a.usage_at(quota.limit).total_cmp(&b.usage_at(quota.limit)).then(a.absolute.cmp(&b.absolute).reverse()));
            if let Some(threshold) = reached {
                found.push(quota_alert(quota, threshold));
            }
        }
        let per_day = overview.plan.rate_limit_per_day as f64;
        let today = overview.api_calls_7d.last().map_or(0.0, |d| d.value);
        let requests_percent = self.catalog().alerts.daily_requests_percent;
        if per_day > 0.0 && today / per_day * 100.0 >= requests_percent {
            let percent = (today / per_day * 1000.0).round() / 10.0;
            found.push(Found {
                kind: AlertKind::ThresholdCrossed,
                subject: "daily_requests".into(),
                threshold: requests_percent,
                unit: "percent",
                title: format!("Requests today: {percent}% of the daily limit"),
                body: format!(
                    "{} of {} requests today. Past the limit, requests are refused until 00:00 UTC.",
                    model::quota::format_number(today),
                    model::quota::format_number(per_day)
                ),
                numbers: Some((today, per_day, percent)),
            });
        }
        found.extend(license_alert(&overview.license, now, i64::from(self.catalog().alerts.license_expiry_days)));
        found.extend(self.plan_changes(account, now).await?);

        let day = now.date_naive();
        let webhooks_allowed = info.has_feature(webhooks::WEBHOOKS_FEATURE, now);
        let mut written = 0;
        for alert in found {
            let id = format!("ntf_{}", uuid::Uuid::new_v4().simple());
            // The notification and the messages announcing it commit together.
            let mut tx = self.db().pool().begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO notifications (id, account_id, kind, subject, threshold, threshold_unit, day, title, body, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (account_id, subject, threshold, threshold_unit, day) DO NOTHING",
            )
            .bind(&id)
            .bind(account.as_str())
            .bind(alert.kind.as_str())
            .bind(&alert.subject)
            .bind(alert.threshold)
            .bind(alert.unit)
            .bind(day)
            .bind(&alert.title)
            .bind(&alert.body)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                continue;
            }
            let event = model::AlertEvent {
                kind: alert.kind.as_str().to_owned(),
                timestamp: now,
                data: model::AlertData {
                    account_id: account.as_str().to_owned(),
                    notification_id: Some(id),
                    subject: alert.subject.split(':').next().unwrap_or_default().to_owned(),
                    threshold: alert.threshold,
                    threshold_unit: alert.unit.to_owned(),
                    title: alert.title,
                    body: alert.body,
                    usage: alert.numbers.map(|n| n.0),
                    limit: alert.numbers.map(|n| n.1),
                    percent: alert.numbers.map(|n| n.2),
                    dashboard_url: self.dashboard_url(if alert.kind == AlertKind::PlanChanged { "/plans" } else { "/dashboard" }),
                },
            };
            let queued = self.enqueue_alert(&mut tx, account, &event, webhooks_allowed).await?;
            tx.commit().await?;
            if queued > 0 {
                self.hot.deliveries.notify_one();
            }
            tracing::info!(account = %account, kind = event.kind, subject = %event.data.subject, threshold = event.data.threshold, queued, "alert raised");
            written += 1;
        }
        if written > 0 {
            self.hot.unread.forget(account);
            let unread = self.unread_notifications(account).await?;
            self.live_unread(account, unread);
        }
        Ok(written)
    }

    /// Plan changes of the last day not yet announced; each is its own subject
    /// (`plan:<history id>`), so two changes in a day are two notifications.
    async fn plan_changes(&self, account: &AccountId, now: DateTime<Utc>) -> Result<Vec<Found>, EngineError> {
        let rows: Vec<(String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT h.id, h.from_plan, h.to_plan, h.source FROM plan_history h
             WHERE h.account_id = $1 AND h.at > $2 AND h.from_plan IS NOT NULL AND h.from_plan <> h.to_plan
               AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.account_id = h.account_id AND n.subject = 'plan:' || h.id)
             ORDER BY h.at",
        )
        .bind(account.as_str())
        .bind(now - Duration::days(1))
        .fetch_all(self.db().pool())
        .await?;
        let name = |id: &str| self.catalog().plan(id).map_or_else(|| id.to_owned(), |p| p.name.clone());
        Ok(rows
            .into_iter()
            .map(|(history, from, to, source)| {
                let (from, to) = (name(from.as_deref().unwrap_or_default()), name(&to));
                Found {
                    kind: AlertKind::PlanChanged,
                    subject: format!("plan:{history}"),
                    threshold: 0.0,
                    unit: "none",
                    title: format!("Plan changed to {to}"),
                    body: format!("The account moved from {from} to {to} ({source}). Limits and features follow the new plan now."),
                    numbers: None,
                }
            })
            .collect())
    }

    /// The account's notifications, newest first (the higher threshold first at one time).
    pub async fn notifications(&self, account: &AccountId, limit: u32) -> Result<Vec<Notification>, EngineError> {
        type Row = (String, String, String, f64, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, subject, threshold, threshold_unit, title, body, created_at, read_at FROM notifications
             WHERE account_id = $1 ORDER BY created_at DESC, threshold DESC, id LIMIT $2",
        )
        .bind(account.as_str())
        .bind(i64::from(limit))
        .fetch_all(self.db().pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, kind, subject, threshold, threshold_unit, title, body, created_at, read_at)| {
                Some(Notification { id, kind: AlertKind::parse(&kind)?, subject, threshold, threshold_unit, title, body, created_at, read: read_at.is_some() })
            })
            .collect())
    }

    /// How many of the account's notifications are unread (from memory when counted in the
    /// last 30 seconds and nothing was written or read here since).
    pub async fn unread_notifications(&self, account: &AccountId) -> Result<i64, EngineError> {
        if let Some(count) = self.hot.unread.get(account) {
            return Ok(count);
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL")
            .bind(account.as_str())
            .fetch_one(self.db().pool())
            .await?;
        self.hot.unread.put(account, count);
        Ok(count)
    }

    /// Marks one of the account's notifications read, or all of them; returns how many
    /// changed. Another account's notification is not found.
    pub async fn mark_notifications_read(&self, account: &AccountId, id: Option<&str>) -> Result<u64, EngineError> {
        let now = self.now();
        let done = match id {
            Some(id) => {
                let done = sqlx::query("UPDATE notifications SET read_at = $3 WHERE account_id = $1 AND id = $2 AND read_at IS NULL")
                    .bind(account.as_str())
                    .bind(id)
                    .bind(now)
                    .execute(self.db().pool())
                    .await?;
                // Nothing changed: read already, or not this account's (then not found).
                if done.rows_affected() == 0 {
                    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM notifications WHERE account_id = $1 AND id = $2")
                        .bind(account.as_str())
                        .bind(id)
                        .fetch_optional(self.db().pool())
                        .await?;
                    if exists.is_none() {
                        return Err(EngineError::NotFound("notification"));
                    }
                }
                done
            }
            None => sqlx::query("UPDATE notifications SET read_at = $2 WHERE account_id = $1 AND read_at IS NULL")
                .bind(account.as_str())
                .bind(now)
                .execute(self.db().pool())
                .await?,
        };
        self.hot.unread.forget(account);
        if done.rows_affected() > 0 {
            let unread = self.unread_notifications(account).await?;
            self.live_unread(account, unread);
        }
        Ok(done.rows_affected())
    }
}

fn quota_alert(quota: &QuotaStatus, threshold: AlertThreshold) -> Found {
    let per = match quota.period.per_label() {
        "" => String::new(),
        per => format!(" ({per})"),
    };
    let (kind, title) = if quota.limit_reached() && threshold.usage_at(quota.limit) >= quota.limit {
        (AlertKind::Exceeded, format!("{}: limit reached", quota.name))
    } else if threshold.absolute {
        (AlertKind::ThresholdCrossed, format!("{}: {} reached", quota.name, threshold.label(&quota.unit)))
    } else {
        (AlertKind::ThresholdCrossed, format!("{}: {}% of the limit", quota.name, quota.percent))
    };
    let note = quota.note().map(|n| format!(" {n}")).unwrap_or_default();
    Found {
        kind,
        subject: quota.meter.clone(),
        threshold: threshold.value,
        unit: if threshold.absolute { "absolute" } else { "percent" },
        title,
        body: format!("{} used{per}.{note}", quota.usage_text()),
        numbers: Some((quota.used, quota.limit, quota.percent)),
    }
}

fn license_alert(license: &model::LicenseView, now: DateTime<Utc>, expiry_days: i64) -> Option<Found> {
    let status = license.status;
    if matches!(status, LicenseStatus::PastDue | LicenseStatus::Suspended | LicenseStatus::Expired) {
        return Some(Found {
            kind: AlertKind::LicenseStatusChanged,
            subject: "license".into(),
            threshold: 0.0,
            title: format!("License {}", status.label().to_lowercase()),
            body: match status {
                LicenseStatus::PastDue => "The last payment failed. Update the payment method to keep the plan.".into(),
                LicenseStatus::Suspended => "The license is suspended: metered calls are refused. Contact support.".into(),
                _ => "The license has expired: metered calls are refused. Renew it to continue.".into(),
            },
            unit: "none",
            numbers: None,
        });
    }
    let expires = license.expires_at?;
    let left = expires - now;
    (left > Duration::zero() && left <= Duration::days(expiry_days)).then(|| Found {
        kind: AlertKind::LicenseExpiring,
        subject: "license".into(),
        threshold: expiry_days as f64,
        unit: "days",
        title: format!("License ends in {} day{}", left.num_days().max(1), if left.num_days() > 1 { "s" } else { "" }),
        body: format!("The license ends at {}. Renew it to keep the plan.", expires.format("%H:%M UTC on %-d %b %Y")),
        numbers: None,
    })
}
