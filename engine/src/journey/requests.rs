//! Upgrade requests: the evidence a request carries, the requests themselves and the
//! admin's answer, which moves the license through [`crate::accounts::license`].

use crate::accounts::license::{self, Terms};
use crate::auth::Email;
use crate::audit::{self, Entry};
use crate::catalog::Plan;
use crate::{AccountId, Engine, EngineError, RequestId};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use model::quota::format_number;
use model::upgrade::MeterEvidence;
use model::{
    Aggregation, LicenseStatus, Price, RequestKind, RequestStatus,
    UpgradeOptions, UpgradeRequestView, UsageEvidence,
};

/// The evidence window a request carries.
pub const EVIDENCE_DAYS: u32 = 30;
/// A decided request stays on the customer's dashboard this long.
pub const NOTICE_DAYS: i64 = 14;
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
        // Each checkout link carries the account's reference, so the purchase it leads to is
        // linked to this account and no other, whatever email the buyer types.
        let reference = self.checkout_ref(account).await?;
        let mut tiers = self.tiers();
        for tier in &mut tiers {
            tier.checkout_url = tier.checkout_url.take().map(|url| crate::billing::checkout_link(&url, &reference));
        }
        Ok(UpgradeOptions {
            tiers,
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
        let action = format!("{}_request.created", kind.as_str());
        let entry = Entry::new(requested_by, Some(account), &action, now).target(&id).change(Some(&info.plan.id), Some(&target.id));
        audit::record(&mut tx, entry).await?;
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
            id: RequestId::try_from(id)?,
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
    pub async fn request_state(&self, account: &AccountId) -> Result<Option<(RequestId, RequestStatus)>, EngineError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, status FROM upgrade_requests WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1")
                .bind(account.as_str())
                .fetch_optional(self.db().pool())
                .await?;
        row.map(|(id, status)| Ok((RequestId::try_from(id)?, status.parse().map_err(|message| EngineError::Invalid { field: "status", message })?)))
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
    pub async fn approve_request(&self, admin: &str, id: &RequestId) -> Result<UpgradeRequestView, EngineError> {
        let id = id.as_str();
        let _one_at_a_time = self.billing_lock().lock().await;
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let (account, to_plan) = decide(&mut tx, id, RequestStatus::Approved, admin, None, now).await?;
        let account = AccountId::parse(&account)?;
        let target: &Plan = self.catalog().plan(&to_plan).ok_or_else(|| EngineError::UnknownPlan(to_plan.clone()))?;
        let current = Terms::read(&mut tx, &account).await?;
        let plan = current.plan.clone();
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
        let to = Terms::new(target.id.clone(), current.status);
        let change = license::Change {
            account: &account,
            from: current,
            to,
            grace_ends_at: None,
            source: "admin",
            license_source: Some("admin"),
            external_id: None,
            actor: admin,
            target: id,
            reason: format!("upgrade request approved by {admin}"),
            at: now,
        };
        license::write(&mut tx, &change).await?;
        let entry = Entry::new(admin, Some(&account), "upgrade_request.approved", now).target(id).change(Some(&plan), Some(&target.id));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        self.license_changed(&account);
        tracing::info!(%account, request = id, to = %target.id, "upgrade request approved");
        self.request(id).await
    }

    /// Declines a pending request with a reason the customer sees.
    pub async fn decline_request(&self, admin: &str, id: &RequestId, reason: &str) -> Result<UpgradeRequestView, EngineError> {
        let id = id.as_str();
        let reason = text_of(reason, "reason", 3, REASON_MAX, "give the customer a reason")?;
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let (account, to_plan) = decide(&mut tx, id, RequestStatus::Declined, admin, Some(&reason), now).await?;
        let account = AccountId::parse(&account)?;
        let entry = Entry::new(admin, Some(&account), "upgrade_request.declined", now).target(id).change(Some(&to_plan), Some(&reason));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        self.access_cache().forget(&account);
        self.request(id).await
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
