//! The upgrade journey: the tiers compared, what the account may use, the evidence a
//! request carries, the requests themselves and the admin's answer, and custom alert
//! thresholds (a gated feature of Tollgate's own).

use crate::access::AccountInfo;
use crate::auth::Email;
use crate::billing::audit_in;
use crate::catalog::{Enforcement, Plan};
use crate::suggestions::benefits;
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use model::quota::format_number;
use model::upgrade::MeterEvidence;
use model::{
    Aggregation, Entitlement, FeatureAccess, MeterAnalytics, LicenseStatus, Price, RequestKind, RequestStatus, TierLimit, TierView,
    UpgradeOptions, UpgradeRequestView, UsageEvidence,
};
use std::collections::BTreeMap;

/// The evidence window a request carries.
pub const EVIDENCE_DAYS: u32 = 30;
/// A decided request stays on the customer's dashboard this long.
pub const NOTICE_DAYS: i64 = 14;
/// The periods the usage export offers, in days.
pub const EXPORT_DAYS: [u32; 3] = [7, 30, 90];
/// The periods advanced analytics offers, in days.
pub const ANALYTICS_DAYS: [u32; 2] = [30, 90];
/// The feature that lets an account set its own alert thresholds.
pub const ALERT_FEATURE: &str = "custom_alert_thresholds";
const JUSTIFICATION_MIN: usize = 10;
const JUSTIFICATION_MAX: usize = 2_000;
const REASON_MAX: usize = 1_000;

type RequestRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
);

const REQUEST_COLUMNS: &str = "r.id, r.kind, r.from_plan, r.to_plan, r.justification, r.contact_email, r.requested_by,
     r.evidence, r.status, r.decline_reason, r.created_at, r.decided_at, a.name";

fn text_of(raw: &str, field: &'static str, min: usize, max: usize, what: &str) -> Result<String, EngineError> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars < min {
        return Err(EngineError::invalid(field, format!("{what} (at least {min} characters)")));
    }
    if chars > max {
        return Err(EngineError::invalid(field, format!("keep it under {max} characters (this is {chars})")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(EngineError::invalid(field, "remove the control characters"));
    }
    Ok(text.to_owned())
}

impl Engine {
    /// Every tier, lowest first, as the comparison table shows it.
    pub fn tiers(&self) -> Vec<TierView> {
        let catalog = self.catalog();
        catalog
            .plans()
            .iter()
            .map(|plan| TierView {
                id: plan.id.clone(),
                name: plan.name.clone(),
                rank: plan.rank,
                price: plan.price,
                features: plan.features.clone(),
                limits: plan
                    .limits
                    .iter()
                    .filter_map(|(key, limit)| {
                        let meter = catalog.meter(key)?;
                        Some(TierLimit {
                            meter: key.clone(),
                            name: meter.name.clone(),
                            unit: meter.unit.clone(),
                            value: limit.value,
                            period: limit.period,
                            soft: limit.enforcement == Enforcement::Soft,
                        })
                    })
                    .collect(),
                rate_limit_per_minute: plan.rate_limits.per_minute,
                rate_limit_per_day: plan.rate_limits.per_day,
                checkout_url: plan.checkout_url.clone(),
            })
            .collect()
    }

    /// Every feature of the catalog and whether the account may use it now. Unlike
    /// [`Engine::entitlement`] this is a view, so nothing is counted as a refusal.
    pub fn feature_access(&self, info: &AccountInfo) -> Vec<FeatureAccess> {
        let now = self.now();
        let usable = info.usable(now).is_ok();
        self.catalog()
            .features()
            .into_iter()
            .map(|feature| {
                let has = info.has_feature(feature, now);
                let unlocking = (!has).then(|| self.catalog().plan_unlocking(feature, &info.plan)).flatten();
                FeatureAccess {
                    feature: feature.to_owned(),
                    allowed: has && usable,
                    required_plan: unlocking.map(|p| p.id.clone()),
                    required_plan_name: unlocking.map(|p| p.name.clone()),
                    adds: unlocking.map(|p| benefits(self.catalog(), &info.plan, p)).unwrap_or_default(),
                    license_inactive: has && !usable,
                }
            })
            .collect()
    }

    /// Refuses with `upgrade_required` (and counts the refusal) unless the account's plan
    /// includes the feature now.
    pub fn require_feature(&self, info: &AccountInfo, feature: &str) -> Result<(), EngineError> {
        let entitlement: Entitlement = self.entitlement(info, feature)?;
        if entitlement.allowed {
            Ok(())
        } else if entitlement.code == Some(model::Refusal::LicenseInactive) {
            Err(EngineError::LicenseInactive(entitlement.message.unwrap_or_default()))
        } else {
            Err(EngineError::UpgradeRequired(Box::new(entitlement)))
        }
    }

    /// The `exports` feature: the account's daily usage as CSV for 7, 30 or 90 days.
    pub async fn export_usage(&self, info: &AccountInfo, days: u32) -> Result<String, EngineError> {
        if !EXPORT_DAYS.contains(&days) {
            return Err(EngineError::invalid("days", "choose 7, 30 or 90 days"));
        }
        self.require_feature(info, "exports")?;
        self.usage_csv(&info.account, days).await
    }

    /// The `advanced_analytics` feature: every meter over 30 or 90 days, with its total
    /// (or current level), daily average, busiest day and limit.
    pub async fn analytics(&self, info: &AccountInfo, days: u32) -> Result<Vec<MeterAnalytics>, EngineError> {
        if !ANALYTICS_DAYS.contains(&days) {
            return Err(EngineError::invalid("days", "choose 30 or 90 days"));
        }
        self.require_feature(info, "advanced_analytics")?;
        let now = self.now();
        let mut out = Vec::new();
        for meter in self.catalog().meters() {
            let series = self.daily_series(&info.account, &meter.key, days, now).await?;
            let values: Vec<f64> = series.iter().map(|d| d.value).collect();
            let is_level = meter.aggregation != Aggregation::Sum;
            let total = if is_level { values.iter().rev().find(|v| **v > 0.0).copied().unwrap_or(0.0) } else { values.iter().sum() };
            let average = if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 };
            out.push(MeterAnalytics {
                meter: meter.key.clone(),
                name: meter.name.clone(),
                unit: meter.unit.clone(),
                is_level,
                total,
                average: (average * 10.0).round() / 10.0,
                peak: values.iter().copied().fold(0.0, f64::max),
                limit: info.limit(&meter.key, now).map(|l| (l.value, l.period.per_label().to_owned())),
                days: series,
            });
        }
        Ok(out)
    }

    /// The account's last 30 days, summarised, with its current pain points.
    pub async fn usage_evidence(&self, account: &AccountId) -> Result<UsageEvidence, EngineError> {
        self.flush_refusals().await?;
        let now = self.now();
        let overview = self.overview(account, now).await?;
        let first = now.date_naive() - Duration::days(i64::from(EVIDENCE_DAYS) - 1);
        let rows: Vec<(String, NaiveDate, f64)> =
            sqlx::query_as("SELECT meter, day, value FROM usage_daily WHERE account_id = $1 AND day >= $2 ORDER BY day")
                .bind(account.as_str())
                .bind(first)
                .fetch_all(self.db().pool())
                .await?;
        let refusals: Vec<(String, i64)> = sqlx::query_as(
            "SELECT feature, SUM(refusals) FROM feature_refusals WHERE account_id = $1 AND day >= $2 GROUP BY feature ORDER BY feature",
        )
        .bind(account.as_str())
        .bind(first)
        .fetch_all(self.db().pool())
        .await?;
        let catalog = self.catalog();
        let plan = catalog.plan(&overview.plan.tier).ok_or_else(|| EngineError::UnknownPlan(overview.plan.tier.clone()))?;

        let mut meters = Vec::new();
        let mut pain_points = Vec::new();
        for meter in catalog.meters() {
            let values: Vec<f64> = rows.iter().filter(|(m, ..)| *m == meter.key).map(|(_, _, v)| *v).collect();
            let peak_day = values.iter().copied().fold(0.0, f64::max);
            let (total, summary) = match meter.aggregation {
                Aggregation::Sum => {
                    let total: f64 = values.iter().sum();
                    (total, format!("{} {} in {EVIDENCE_DAYS} days", format_number(total), meter.unit))
                }
                Aggregation::Max => (peak_day, format!("{} {} at the peak", format_number(peak_day), meter.unit)),
                Aggregation::Last => {
                    let level = values.last().copied().unwrap_or(0.0);
                    (level, format!("{} {} now", format_number(level), meter.unit))
                }
            };
            let quota = overview.quotas.iter().find(|q| q.meter == meter.key);
            if let Some(q) = quota.filter(|q| q.percent >= meter.suggest_at_percent) {
                pain_points.push(format!("{} at {}% of the {} limit ({})", meter.name, q.percent, plan.name, q.usage_text()));
            }
            meters.push(MeterEvidence {
                meter: meter.key.clone(),
                name: meter.name.clone(),
                unit: meter.unit.clone(),
                total,
                peak_day,
                active_days: u32::try_from(values.iter().filter(|v| **v > 0.0).count()).unwrap_or(u32::MAX),
                percent_of_limit: quota.map(|q| q.percent),
                summary,
            });
        }
        let refusals: Vec<(String, u32)> =
            refusals.into_iter().map(|(f, n)| (f, u32::try_from(n).unwrap_or(u32::MAX))).collect();
        for (feature, count) in &refusals {
            let needs = catalog.plan_unlocking(feature, plan).map(|p| format!(" (part of {})", p.name)).unwrap_or_default();
            pain_points.push(format!("{} refused {count} times in {EVIDENCE_DAYS} days{needs}", model::upgrade::feature_label(feature)));
        }
        if overview.license.status != LicenseStatus::Active {
            pain_points.push(format!("The license is {}", overview.license.status.label().to_lowercase()));
        }
        Ok(UsageEvidence { days: EVIDENCE_DAYS, meters, refusals, pain_points })
    }

    /// What the upgrade modal shows: the tiers, the evidence, the prefilled contact, and any
    /// pending request.
    pub async fn upgrade_options(&self, account: &AccountId, contact_email: &str) -> Result<UpgradeOptions, EngineError> {
        let info = self.access(account).await?;
        Ok(UpgradeOptions {
            tiers: self.tiers(),
            current_tier: info.plan.id.clone(),
            contact_email: contact_email.to_owned(),
            evidence: self.usage_evidence(account).await?,
            pending: self.pending_request(account).await?,
        })
    }

    /// Creates a request for a higher tier: an upgrade for a priced tier, a sales request
    /// for a custom-priced one. At most one request per account is pending.
    pub async fn request_upgrade(
        &self,
        requested_by: &str,
        account: &AccountId,
        to_plan: &str,
        justification: &str,
        contact_email: &str,
    ) -> Result<UpgradeRequestView, EngineError> {
        let info = self.access(account).await?;
        let catalog = self.catalog();
        let target = catalog
            .plan(to_plan.trim())
            .filter(|p| p.rank > info.plan.rank)
            .ok_or_else(|| EngineError::invalid("tier", format!("choose a plan above your current plan ({})", info.plan.name)))?;
        let kind = match target.price {
            Price::Custom(_) => RequestKind::Sales,
            Price::Monthly(_) => RequestKind::Upgrade,
        };
        let what = match kind {
            RequestKind::Upgrade => "tell us in a few words what you need the upgrade for",
            RequestKind::Sales => "tell sales in a few words what you need",
        };
        let justification = text_of(justification, "justification", JUSTIFICATION_MIN, JUSTIFICATION_MAX, what)?;
        let contact = Email::parse(contact_email.trim())
            .map_err(|_| EngineError::invalid("contact_email", "enter an email address we can reach you at, like you@example.com"))?;
        if let Some(pending) = self.pending_request(account).await? {
            return Err(pending_conflict(&pending));
        }
        let evidence = self.usage_evidence(account).await?;
        let evidence_json = serde_json::to_string(&evidence).map_err(|e| EngineError::Internal(e.to_string()))?;
        let id = format!("req_{}", uuid::Uuid::new_v4().simple());
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO upgrade_requests (id, account_id, kind, from_plan, to_plan, justification, contact_email, requested_by, evidence, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10)",
        )
        .bind(&id)
        .bind(account.as_str())
        .bind(kind.as_str())
        .bind(&info.plan.id)
        .bind(&target.id)
        .bind(&justification)
        .bind(contact.as_str())
        .bind(requested_by)
        .bind(&evidence_json)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Another request won the race for the one pending slot.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                return match self.pending_request(account).await? {
                    Some(pending) => Err(pending_conflict(&pending)),
                    None => Err(EngineError::Conflict { field: "request", message: "another request was just made; reload to see it".into() }),
                };
            }
            Err(e) => return Err(e.into()),
        }
        audit_in(&mut tx, requested_by, account, &format!("{}_request.created", kind.as_str()), &id, &info.plan.id, &target.id, now).await?;
        tx.commit().await?;
        self.access_cache().forget(account);
        tracing::info!(account = %account, to = %target.id, kind = kind.as_str(), "upgrade request");
        self.request(&id).await
    }

    async fn request(&self, id: &str) -> Result<UpgradeRequestView, EngineError> {
        let row: Option<RequestRow> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM upgrade_requests r JOIN accounts a ON a.id = r.account_id WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db().pool())
        .await?;
        self.request_view(row.ok_or(EngineError::NotFound("request"))?)
    }

    fn request_view(&self, row: RequestRow) -> Result<UpgradeRequestView, EngineError> {
        let (id, kind, from_plan, to_plan, justification, contact_email, requested_by, evidence, status, decline_reason, created_at, decided_at, account_name) = row;
        let evidence: UsageEvidence = serde_json::from_str(&evidence).map_err(|e| EngineError::Internal(format!("request evidence: {e}")))?;
        Ok(UpgradeRequestView {
            id,
            kind: if kind == "sales" { RequestKind::Sales } else { RequestKind::Upgrade },
            account_name,
            from_plan,
            to_plan_name: self.catalog().plan(&to_plan).map_or_else(|| to_plan.clone(), |p| p.name.clone()),
            to_plan,
            justification,
            contact_email,
            requested_by,
            evidence,
            status: status.parse().map_err(|message| EngineError::Invalid { field: "status", message })?,
            decline_reason,
            created_at,
            decided_at,
        })
    }

    /// The account's pending request, if any.
    pub async fn pending_request(&self, account: &AccountId) -> Result<Option<UpgradeRequestView>, EngineError> {
        let row: Option<RequestRow> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM upgrade_requests r JOIN accounts a ON a.id = r.account_id
             WHERE r.account_id = $1 AND r.status = 'pending'"
        ))
        .bind(account.as_str())
        .fetch_optional(self.db().pool())
        .await?;
        row.map(|r| self.request_view(r)).transpose()
    }

    /// What the customer's dashboard says about requests: the pending one, or the one
    /// decided in the last 14 days.
    pub async fn request_notice(&self, account: &AccountId) -> Result<Option<UpgradeRequestView>, EngineError> {
        let since = self.now() - Duration::days(NOTICE_DAYS);
        let row: Option<RequestRow> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM upgrade_requests r JOIN accounts a ON a.id = r.account_id
             WHERE r.account_id = $1 AND (r.status = 'pending' OR r.decided_at >= $2)
             ORDER BY r.status = 'pending' DESC, r.created_at DESC LIMIT 1"
        ))
        .bind(account.as_str())
        .bind(since)
        .fetch_optional(self.db().pool())
        .await?;
        row.map(|r| self.request_view(r)).transpose()
    }

    /// The state of the account's newest request, cheaply, so a waiting dashboard can
    /// notice the admin's answer: `(id, status)`.
    pub async fn request_state(&self, account: &AccountId) -> Result<Option<(String, RequestStatus)>, EngineError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, status FROM upgrade_requests WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1")
                .bind(account.as_str())
                .fetch_optional(self.db().pool())
                .await?;
        row.map(|(id, status)| Ok((id, status.parse().map_err(|message| EngineError::Invalid { field: "status", message })?)))
            .transpose()
    }

    /// Every request for the admin's inbox: pending first (oldest first), then the rest,
    /// newest first.
    pub async fn upgrade_requests(&self) -> Result<Vec<UpgradeRequestView>, EngineError> {
        let rows: Vec<RequestRow> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM upgrade_requests r JOIN accounts a ON a.id = r.account_id
             ORDER BY r.status = 'pending' DESC,
                      CASE WHEN r.status = 'pending' THEN r.created_at END ASC,
                      r.created_at DESC
             LIMIT 500"
        ))
        .fetch_all(self.db().pool())
        .await?;
        rows.into_iter().map(|r| self.request_view(r)).collect()
    }

    /// Approves a pending request: the account moves to the requested tier at once, with
    /// its plan history and audit entries, all in one transaction.
    pub async fn approve_request(&self, admin: &str, id: &str) -> Result<UpgradeRequestView, EngineError> {
        let _one_at_a_time = self.billing_lock().lock().await;
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let (account, to_plan) = decide(&mut tx, id, RequestStatus::Approved, admin, None, now).await?;
        let account = AccountId::parse(&account)?;
        let target: &Plan = self.catalog().plan(&to_plan).ok_or_else(|| EngineError::UnknownPlan(to_plan.clone()))?;
        let (plan, status): (String, String) = sqlx::query_as("SELECT plan_id, status FROM licenses WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let current_rank = self.catalog().plan(&plan).map_or(0, |p| p.rank);
        if current_rank >= target.rank {
            // The plan rose since the request (a purchase, another approval): approving
            // must never move the account down. The transaction is dropped, so the
            // request stays pending for the admin to decline.
            return Err(EngineError::Conflict {
                field: "request",
                message: format!("the account is already on `{plan}`, at or above `{}`; decline the request instead", target.id),
            });
        }
        {
            sqlx::query("UPDATE licenses SET plan_id = $1, source = 'admin', updated_at = $2 WHERE account_id = $3")
                .bind(&target.id)
                .bind(now)
                .bind(account.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO plan_history (id, account_id, at, from_plan, to_plan, from_status, to_status, source, reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, 'admin', $7)",
            )
            .bind(format!("ph_{}", uuid::Uuid::new_v4().simple()))
            .bind(account.as_str())
            .bind(now)
            .bind(&plan)
            .bind(&target.id)
            .bind(&status)
            .bind(format!("upgrade request approved by {admin}"))
            .execute(&mut *tx)
            .await?;
            audit_in(&mut tx, admin, &account, "license.changed", id, &format!("{plan}/{status}"), &format!("{}/{status}", target.id), now).await?;
        }
        audit_in(&mut tx, admin, &account, "upgrade_request.approved", id, &plan, &target.id, now).await?;
        tx.commit().await?;
        self.access_cache().forget(&account);
        tracing::info!(%account, request = id, to = %target.id, "upgrade request approved");
        self.request(id).await
    }

    /// Declines a pending request with a reason the customer sees.
    pub async fn decline_request(&self, admin: &str, id: &str, reason: &str) -> Result<UpgradeRequestView, EngineError> {
        let reason = text_of(reason, "reason", 3, REASON_MAX, "give the customer a reason")?;
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let (account, to_plan) = decide(&mut tx, id, RequestStatus::Declined, admin, Some(&reason), now).await?;
        let account = AccountId::parse(&account)?;
        audit_in(&mut tx, admin, &account, "upgrade_request.declined", id, &to_plan, &reason, now).await?;
        tx.commit().await?;
        self.access_cache().forget(&account);
        self.request(id).await
    }

    /// The account's own alert thresholds, by meter (percent of the limit).
    pub async fn alert_thresholds(&self, account: &AccountId) -> Result<BTreeMap<String, f64>, EngineError> {
        let rows: Vec<(String, f64)> = sqlx::query_as("SELECT meter, percent FROM alert_thresholds WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_all(self.db().pool())
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Sets (or with `None`, removes) the account's alert threshold for a meter. Needs
    /// the `custom_alert_thresholds` feature.
    pub async fn set_alert_threshold(&self, actor: &str, info: &AccountInfo, meter: &str, percent: Option<f64>) -> Result<(), EngineError> {
        self.require_feature(info, ALERT_FEATURE)?;
        if self.catalog().meter(meter).is_none() {
            return Err(EngineError::invalid("meter", format!("unknown meter `{meter}`")));
        }
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        match percent {
            Some(p) if !(1.0..=100.0).contains(&p) || !p.is_finite() => {
                return Err(EngineError::invalid("percent", "choose a percentage from 1 to 100"));
            }
            Some(p) => {
                sqlx::query(
                    "INSERT INTO alert_thresholds (account_id, meter, percent) VALUES ($1, $2, $3)
                     ON CONFLICT (account_id, meter) DO UPDATE SET percent = excluded.percent",
                )
                .bind(info.account.as_str())
                .bind(meter)
                .bind(p)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM alert_thresholds WHERE account_id = $1 AND meter = $2")
                    .bind(info.account.as_str())
                    .bind(meter)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let after = percent.map(|p| p.to_string()).unwrap_or_else(|| "default".into());
        audit_in(&mut tx, actor, &info.account, "alert_threshold.set", meter, "", &after, now).await?;
        tx.commit().await?;
        self.access_cache().forget(&info.account);
        Ok(())
    }
}

fn pending_conflict(pending: &UpgradeRequestView) -> EngineError {
    EngineError::Conflict {
        field: "request",
        message: format!(
            "you already have a pending request for {} (sent {}); you will see the answer on your dashboard",
            pending.to_plan_name,
            pending.created_at.format("%b %-d")
        ),
    }
}

/// Marks a pending request decided; `(account_id, to_plan)`. A request already decided
/// (or unknown) is refused, so two admins cannot both act on it.
async fn decide(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: &str,
    status: RequestStatus,
    admin: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(String, String), EngineError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "UPDATE upgrade_requests SET status = $1, decided_by = $2, decided_at = $3, decline_reason = $4
         WHERE id = $5 AND status = 'pending' RETURNING account_id, to_plan",
    )
    .bind(status.as_str())
    .bind(admin)
    .bind(now)
    .bind(reason)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some(row) => Ok(row),
        None => {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT status FROM upgrade_requests WHERE id = $1").bind(id).fetch_optional(&mut **tx).await?;
            match exists {
                Some(status) => Err(EngineError::Conflict { field: "request", message: format!("this request was already {status}") }),
                None => Err(EngineError::NotFound("request")),
            }
        }
    }
}
