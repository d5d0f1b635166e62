//! What an account may use: the tiers compared, its features, and the gated features of
//! Tollgate's own (usage export, advanced analytics).

use crate::accounts::access::AccountInfo;
use crate::catalog::Enforcement;
use crate::{Engine, EngineError};
use super::suggestions::benefits;
use model::{Aggregation, Entitlement, FeatureAccess, MeterAnalytics, TierLimit, TierView};

/// The periods the usage export offers, in days.
pub const EXPORT_DAYS: [u32; 3] = [7, 30, 90];
/// The periods advanced analytics offers, in days.
pub const ANALYTICS_DAYS: [u32; 2] = [30, 90];

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
}
