//! The license: the only code that changes an account's plan or status. Each change writes
//! the license, one plan-history row and one audit entry, in the caller's transaction.

use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use model::{LicenseStatus, PlanChange};
use sqlx::SqliteConnection;

/// A plan and a status: what a license grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Terms {
    pub plan: String,
    pub status: LicenseStatus,
}

impl Terms {
    pub(crate) fn new(plan: impl Into<String>, status: LicenseStatus) -> Self {
        Self { plan: plan.into(), status }
    }

    /// Reads the account's current terms in the caller's transaction.
    pub(crate) async fn read(tx: &mut SqliteConnection, account: &AccountId) -> Result<Self, EngineError> {
        let (plan, status): (String, String) = sqlx::query_as("SELECT plan_id, status FROM licenses WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(EngineError::NotFound("account"))?;
        let status = status.parse().map_err(|message| EngineError::Invalid { field: "status", message })?;
        Ok(Self { plan, status })
    }
}

impl std::fmt::Display for Terms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.plan, self.status)
    }
}

/// One change of an account's terms and why it happened.
#[derive(Debug, Clone)]
pub(crate) struct Change<'a> {
    pub account: &'a AccountId,
    /// The terms as the caller read them; the change applies only if they still hold.
    pub from: Terms,
    pub to: Terms,
    /// For a `past_due` license, until when it keeps working (kept when `None` and the
    /// status stays `past_due`); cleared for every other status.
    pub grace_ends_at: Option<DateTime<Utc>>,
    /// The plan history's source: `whop`, `stripe`, `admin` or `lifecycle`.
    pub source: &'a str,
    /// Sets the license's own source (`admin`, a provider), when it changes hands.
    pub license_source: Option<&'a str>,
    /// Sets the provider's subscription or membership id.
    pub external_id: Option<&'a str>,
    /// The audit entry's actor and target.
    pub actor: &'a str,
    pub target: &'a str,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Applies `change` if the license still has its `from` terms. Returns whether it did.
/// The caller commits, then drops the account's cached license
/// ([`Engine::license_changed`]).
pub(crate) async fn write(tx: &mut SqliteConnection, change: &Change<'_>) -> Result<bool, EngineError> {
    let updated = sqlx::query(
        "UPDATE licenses SET plan_id = $1, status = $2,
           grace_ends_at = CASE WHEN $2 = 'past_due' THEN COALESCE($3, grace_ends_at) ELSE NULL END,
           source = COALESCE($4, source), external_id = COALESCE($5, external_id), updated_at = $6
         WHERE account_id = $7 AND plan_id = $8 AND status = $9",
    )
    .bind(&change.to.plan)
    .bind(change.to.status.as_str())
    .bind(change.grace_ends_at)
    .bind(change.license_source)
    .bind(change.external_id)
    .bind(change.at)
    .bind(change.account.as_str())
    .bind(&change.from.plan)
    .bind(change.from.status.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO plan_history (id, account_id, at, from_plan, to_plan, from_status, to_status, source, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(format!("ph_{}", uuid::Uuid::new_v4().simple()))
    .bind(change.account.as_str())
    .bind(change.at)
    .bind(&change.from.plan)
    .bind(&change.to.plan)
    .bind(change.from.status.as_str())
    .bind(change.to.status.as_str())
    .bind(change.source)
    .bind(&change.reason)
    .execute(&mut *tx)
    .await?;
    let (before, after) = (change.from.to_string(), change.to.to_string());
    let entry = Entry::new(change.actor, Some(change.account), "license.changed", change.at)
        .target(change.target)
        .change(Some(&before), Some(&after));
    audit::record(tx, entry).await?;
    Ok(true)
}

impl Engine {
    /// Drops the account's cached license after a committed change, so the hot path reads
    /// the new terms on its next request.
    pub(crate) fn license_changed(&self, account: &AccountId) {
        self.access_cache().forget(account);
        // A lower limit, a lapsed status or the change itself may be news for the account.
        self.queue_alert_check(account, std::time::Duration::ZERO);
        self.live_reread(account);
    }

    /// The account's plan history, newest first.
    pub async fn plan_history(&self, account: &AccountId) -> Result<Vec<PlanChange>, EngineError> {
        type Row = (DateTime<Utc>, Option<String>, String, Option<String>, String, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT at, from_plan, to_plan, from_status, to_status, source, reason FROM plan_history WHERE account_id = $1 ORDER BY at DESC, id LIMIT 100",
        )
        .bind(account.as_str())
        .fetch_all(self.db().pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, from_plan, to_plan, from_status, to_status, source, reason)| PlanChange { at, from_plan, to_plan, from_status, to_status, source, reason })
            .collect())
    }
}
