//! The overview an account sees on its dashboard and through `/users/me/usage`.

use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use model::{LicenseStatus, LicenseView, Overview, PlanView, QuotaStatus};

type LicenseRow = (String, String, String, i64, DateTime<Utc>, Option<DateTime<Utc>>);

impl Engine {
    /// The account's license, plan, quotas and 7-day series, as of `now`.
    pub async fn overview(&self, account: &AccountId, now: DateTime<Utc>) -> Result<Overview, EngineError> {
        let row: Option<LicenseRow> = sqlx::query_as(
            "SELECT a.name, l.plan_id, l.status, l.seats, l.starts_at, l.expires_at
             FROM licenses l JOIN accounts a ON a.id = l.account_id WHERE l.account_id = $1",
        )
        .bind(account.as_str())
        .fetch_optional(self.db().pool())
        .await?;
        let (account_name, plan_id, status, seats, starts_at, expires_at) = row.ok_or(EngineError::NotFound("account"))?;
        let status: LicenseStatus = status.parse().map_err(|message| EngineError::Invalid { field: "status", message })?;

        let catalog = self.catalog();
        let plan = catalog.plan(&plan_id).ok_or_else(|| EngineError::UnknownPlan(plan_id.clone()))?;

        let mut quotas = Vec::with_capacity(plan.limits.len());
        for (meter_key, limit) in &plan.limits {
            let Some(meter) = catalog.meter(meter_key) else { continue };
            let used = self.current_usage(account, meter, limit.period, now).await?;
            quotas.push(QuotaStatus::new(&meter.key, &meter.name, &meter.unit, used, limit.value, limit.period));
        }

        let api_calls_7d = match catalog.chart_meter() {
            Some(meter) => self.daily_series(account, &meter.key, 7, now).await?,
            None => crate::usage::zero_filled(now.date_naive(), 7, &[]),
        };

        Ok(Overview {
            license: LicenseView {
                account_name,
                status,
                seats: u32::try_from(seats).unwrap_or(0),
                starts_at,
                expires_at,
            },
            plan: PlanView {
                tier: plan.id.clone(),
                name: plan.name.clone(),
                rank: plan.rank,
                price: plan.price,
                features: plan.features.clone(),
                rate_limit_per_minute: plan.rate_limits.per_minute,
                rate_limit_per_day: plan.rate_limits.per_day,
                has_higher_tier: catalog.has_higher_tier(plan),
            },
            quotas,
            api_calls_7d,
            billing_portal_url: self.billing_portal_url().to_owned(),
            generated_at: now,
            last_usage_at: self.last_usage_at(account).await?,
        })
    }

    /// The account a signed-out viewer sees until sign-in exists: the configured one if it
    /// exists, else the first account created.
    pub async fn default_viewer(&self, preferred: Option<&AccountId>) -> Result<AccountId, EngineError> {
        if let Some(id) = preferred {
            let found: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(self.db().pool())
                .await?;
            if found.is_some() {
                return Ok(id.clone());
            }
        }
        let first: Option<String> = sqlx::query_scalar("SELECT id FROM accounts ORDER BY created_at, id LIMIT 1")
            .fetch_optional(self.db().pool())
            .await?;
        first.map(|id| AccountId::parse(&id)).transpose()?.ok_or(EngineError::NotFound("account"))
    }
}
