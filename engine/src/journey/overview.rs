//! The overview an account sees on its dashboard and through `/users/me/usage`.

use crate::accounts::access::AccountInfo;
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use model::{Aggregation, LicenseView, Overview, Period, PlanView, QuotaStatus};

/// An overview together with the week of daily rollups it was computed from, so that the
/// upgrade suggestions for the same page read that week once, not twice.
#[derive(Debug, Clone)]
pub struct OverviewRead {
    pub overview: Overview,
    /// (meter, day, value) for the 7 days ending on the overview's day.
    pub(crate) week: std::sync::Arc<[(String, NaiveDate, f64)]>,
}

impl Engine {
    /// A meter as the customer's pages show it: `used` of `limit` over its period, hard or
    /// soft, when it resets, and warned from the account's lowest own threshold below the
    /// limit while its plan has `custom_alert_thresholds`. The overview and the live
    /// updates both build meters here.
    pub fn quota_status(&self, info: &AccountInfo, meter: &crate::catalog::Meter, used: f64, limit: &crate::catalog::Limit, now: DateTime<Utc>) -> QuotaStatus {
        let hard = limit.enforcement == crate::catalog::Enforcement::Hard;
        let resets_at = crate::metering::rollups::period_end(limit.period, now);
        let quota = QuotaStatus::new(&meter.key, &meter.name, &meter.unit, used, limit.value, limit.period).with_enforcement(hard, resets_at);
        let own = info.alert_thresholds.get(&meter.key).filter(|_| info.has_feature(super::thresholds::ALERT_FEATURE, now));
        match own.into_iter().flatten().map(|t| t.percent_of(limit.value)).filter(|p| *p < 100.0).reduce(f64::min) {
            Some(lowest) => quota.with_alert_percent((lowest * 100.0).round() / 100.0),
            None => quota,
        }
    }

    /// The account's license, plan, quotas and 7-day series, as of `now`.
    pub async fn overview(&self, account: &AccountId, now: DateTime<Utc>) -> Result<Overview, EngineError> {
        Ok(self.overview_read(account, now).await?.overview)
    }

    /// [`Engine::overview`], keeping the week of rollups for [`Engine::suggestions_for`].
    pub async fn overview_read(&self, account: &AccountId, now: DateTime<Utc>) -> Result<OverviewRead, EngineError> {
        // The license comes from the access cache that every metered call uses: changes
        // made through the engine drop it at once.
        let info = self.access(account).await?;
        let catalog = self.catalog();
        let plan = &*info.plan;

        // One read of the last 7 days' rollups answers the chart, every daily quota and
        // every level set this week; only what it cannot answer is queried on its own.
        let today = now.date_naive();
        let window: Vec<(String, NaiveDate, f64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT meter, day, value, observed_at FROM usage_daily WHERE account_id = $1 AND day >= $2 AND day <= $3",
        )
        .bind(account.as_str())
        .bind(today - Duration::days(6))
        .bind(today)
        .fetch_all(self.db().pool())
        .await?;

        let mut quotas = Vec::with_capacity(plan.limits.len());
        for (meter_key, limit) in &plan.limits {
            let Some(meter) = catalog.meter(meter_key) else { continue };
            let rows = window.iter().filter(|(m, ..)| m == meter_key);
            let from_window = match (meter.aggregation, limit.period) {
                (Aggregation::Last, _) => rows.max_by_key(|(_, day, ..)| *day).map(|(_, _, value, _)| *value),
                (_, Period::Day) => Some(rows.filter(|(_, day, ..)| *day == today).map(|(_, _, value, _)| *value).sum()),
                _ => None,
            };
            let used = match from_window {
                Some(used) => used,
                None => self.current_usage(account, meter, limit.period, now).await?,
            };
            quotas.push(self.quota_status(&info, meter, used, limit, now));
        }

        let chart_rows: Vec<(NaiveDate, f64)> = match catalog.chart_meter() {
            Some(meter) => window.iter().filter(|(m, ..)| *m == meter.key).map(|(_, day, value, _)| (*day, *value)).collect(),
            None => Vec::new(),
        };
        let api_calls_7d = crate::metering::rollups::zero_filled(today, 7, &chart_rows);
        let last_usage_at = match window.iter().map(|(.., observed)| *observed).max() {
            Some(latest) => Some(latest),
            None => self.last_usage_at(account).await?,
        };

        let week = window.iter().map(|(meter, day, value, _)| (meter.clone(), *day, *value)).collect();
        let overview = Overview {
            license: LicenseView {
                account_name: info.account_name.clone(),
                status: info.status,
                seats: u32::try_from(info.seats).unwrap_or(0),
                starts_at: info.starts_at,
                expires_at: info.expires_at,
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
            last_usage_at,
        };
        Ok(OverviewRead { overview, week })
    }
}
