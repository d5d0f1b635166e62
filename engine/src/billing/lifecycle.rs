//! The license lifecycle: what happens when time passes rather than when an event arrives.
//!
//! - A license past its `expires_at` becomes `expired`.
//! - A `past_due` license whose grace period has ended becomes `suspended`.
//! - A membership cancelled at period end drops to the entry plan once the period ends.
//!
//! Each transition is one transaction with its plan history and audit entry, and is applied
//! only if the row still says what was read (so two runs never apply one twice).

use crate::accounts::license::{self, Terms};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use model::{LicenseStatus, PlanChange};
use serde::Serialize;

/// The account's billing: where to manage it, and what changed when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BillingView {
    /// The provider's own page for this membership, else the catalog's portal.
    pub portal_url: String,
    pub provider: Option<String>,
    pub cancel_at_period_end: bool,
    pub period_end: Option<DateTime<Utc>>,
    pub history: Vec<PlanChange>,
}

impl Engine {
    /// Applies every transition due at `now`; returns how many were applied.
    pub async fn run_license_lifecycle(&self) -> Result<usize, EngineError> {
        let now = self.now();
        let mut applied = 0;
        let expired: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT account_id, plan_id, status FROM licenses WHERE expires_at IS NOT NULL AND expires_at <= $1
             AND status IN ('active', 'trialing', 'past_due')",
        )
        .bind(now)
        .fetch_all(self.db().pool())
        .await?;
        for (account, plan, status) in expired {
            applied += self.transition(&account, (&plan, &status), (&plan, LicenseStatus::Expired), "the license reached its expiry date", now).await?;
        }
        let lapsed: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT account_id, plan_id, status FROM licenses WHERE status = 'past_due' AND grace_ends_at IS NOT NULL AND grace_ends_at <= $1",
        )
        .bind(now)
        .fetch_all(self.db().pool())
        .await?;
        for (account, plan, status) in lapsed {
            applied += self.transition(&account, (&plan, &status), (&plan, LicenseStatus::Suspended), "the payment grace period ended", now).await?;
        }
        let ending: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT l.account_id, l.plan_id, l.status FROM billing_links b JOIN licenses l ON l.account_id = b.account_id
             WHERE b.cancel_at_period_end AND b.period_end IS NOT NULL AND b.period_end <= $1",
        )
        .bind(now)
        .fetch_all(self.db().pool())
        .await?;
        let entry = self.catalog().lowest_plan().id.clone();
        for (account, plan, status) in ending {
            if plan != entry {
                applied += self.transition(&account, (&plan, &status), (&entry, LicenseStatus::Active), "cancelled at the end of the billing period", now).await?;
            }
            sqlx::query("UPDATE billing_links SET cancel_at_period_end = FALSE WHERE account_id = $1 AND period_end <= $2")
                .bind(&account)
                .bind(now)
                .execute(self.db().pool())
                .await?;
        }
        Ok(applied)
    }

    async fn transition(&self, account: &str, from: (&str, &str), to: (&str, LicenseStatus), reason: &str, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let id = AccountId::parse(account)?;
        let from = Terms::new(from.0, from.1.parse().map_err(|message| EngineError::Invalid { field: "status", message })?);
        let to = Terms::new(to.0, to.1);
        let mut tx = self.db().pool().begin().await?;
        let change = license::Change {
            account: &id,
            from: from.clone(),
            to: to.clone(),
            grace_ends_at: None,
            source: "lifecycle",
            license_source: None,
            external_id: None,
            actor: "lifecycle",
            target: reason,
            reason: reason.to_owned(),
            at: now,
        };
        if !license::write(&mut tx, &change).await? {
            return Ok(0);
        }
        tx.commit().await?;
        self.license_changed(&id);
        tracing::info!(account, %from, %to, reason, "license transition");
        Ok(1)
    }

    /// Where the account manages its billing, and its plan history.
    pub async fn billing(&self, account: &AccountId) -> Result<BillingView, EngineError> {
        type LinkRow = (String, Option<String>, bool, Option<DateTime<Utc>>);
        let link: Option<LinkRow> = sqlx::query_as(
            "SELECT provider, manage_url, cancel_at_period_end, period_end FROM billing_links WHERE account_id = $1 ORDER BY last_event_at DESC LIMIT 1",
        )
        .bind(account.as_str())
        .fetch_optional(self.db().pool())
        .await?;
        let history = self.plan_history(account).await?;
        let (provider, manage_url, cancel_at_period_end, period_end) = match link {
            Some((provider, url, cancel, end)) => (Some(provider), url, cancel, end),
            None => (None, None, false, None),
        };
        Ok(BillingView {
            portal_url: manage_url.unwrap_or_else(|| self.billing_portal_url().to_owned()),
            provider,
            cancel_at_period_end,
            period_end,
            history,
        })
    }

    /// Drops raw webhook bodies older than `keep_days` (the events and outcomes stay).
    pub async fn prune_webhook_bodies(&self, keep_days: i64) -> Result<u64, EngineError> {
        let cutoff = self.now() - chrono::Duration::days(keep_days);
        Ok(sqlx::query("UPDATE provider_events SET body = NULL WHERE body IS NOT NULL AND received_at < $1")
            .bind(cutoff)
            .execute(self.db().pool())
            .await?
            .rows_affected())
    }
}
