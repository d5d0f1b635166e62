//! Upgrade suggestions, computed by the engine so the reasoning can be tested.
//!
//! Triggers: a meter at or past its threshold (80% unless the catalog says otherwise); the
//! 7-day trend reaching a limit before the period ends; repeated `upgrade_required` refusals
//! in the last 7 days; a license that ends within 7 days. The suggested tier is the smallest
//! one whose limits cover the projected usage with at least 20% headroom.

use crate::catalog::{Catalog, Plan};
use chrono::{DateTime, Datelike, Timelike, Utc};
use model::quota::{format_money, format_number};
use model::{Aggregation, Period, Price, QuotaStatus, RoiEstimate, Trigger, UpgradeSuggestion, Urgency};
use std::collections::BTreeMap;

/// A suggested tier must leave this share of its limit free at the projected usage.
pub const HEADROOM: f64 = 0.20;
/// Refusals of one feature in 7 days that make a suggestion.
pub const REFUSALS_TO_SUGGEST: u32 = 3;
/// A license ending within this many days is suggested for renewal.
pub const EXPIRY_DAYS: i64 = 7;
/// How far ahead a lifetime level is projected.
const LEVEL_HORIZON_DAYS: f64 = 30.0;

/// Everything the suggestions are computed from.
pub struct Input<'a> {
    pub catalog: &'a Catalog,
    pub plan: &'a Plan,
    pub now: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub quotas: &'a [QuotaStatus],
    /// Per meter: growth per day over the last 7 days (a sum meter's daily average; a
    /// level's average daily change).
    pub trend_per_day: &'a BTreeMap<String, f64>,
    /// Per feature: `upgrade_required` refusals in the last 7 days.
    pub refusals: &'a BTreeMap<String, u32>,
}

/// The urgency for a meter at `percent` that reaches its limit in `days_until_limit`.
pub fn urgency(percent: f64, days_until_limit: Option<f64>) -> Urgency {
    let days = days_until_limit.unwrap_or(f64::INFINITY);
    if percent >= 100.0 || days <= 1.0 {
        Urgency::High
    } else if percent >= 90.0 || days <= 7.0 {
        Urgency::Medium
    } else {
        Urgency::Low
    }
}

/// Days left in the period holding `now` (fractional), or the horizon for lifetime limits.
fn days_left(period: Period, now: DateTime<Utc>) -> f64 {
    let into_day = f64::from(now.num_seconds_from_midnight()) / 86_400.0;
    match period {
        Period::Minute => 0.0,
        Period::Day => 1.0 - into_day,
        Period::Month => {
            let days_in_month = crate::metering::rollups::period_end(Period::Month, now)
                .map_or(30.0, |end| (end - now).num_seconds() as f64 / 86_400.0 + f64::from(now.day0()) + into_day);
            days_in_month - f64::from(now.day0()) - into_day
        }
        Period::Lifetime => LEVEL_HORIZON_DAYS,
    }
}

/// A meter's usage projected to the end of its period (lifetime: 30 days ahead), and the
/// days until it reaches the limit at the current trend.
pub fn project(quota: &QuotaStatus, trend_per_day: f64, now: DateTime<Utc>) -> (f64, Option<f64>) {
    let left = days_left(quota.period, now);
    let rate = trend_per_day.max(0.0);
    let projected = quota.used + rate * left;
    let until = if quota.used >= quota.limit {
        Some(0.0)
    } else if rate > 0.0 {
        Some((quota.limit - quota.used) / rate)
    } else {
        None
    };
    (projected, until)
}

fn monthly_price(plan: &Plan) -> Option<f64> {
    match plan.price {
        Price::Monthly(amount) => Some(amount),
        Price::Custom(_) => None,
    }
}

/// What `to` adds over `from`: higher limits, higher rate limits, new features.
pub fn benefits(catalog: &Catalog, from: &Plan, to: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for meter in catalog.meters() {
        let (before, after) = (from.limit(&meter.key), to.limit(&meter.key));
        match (before, after) {
            (Some(b), Some(a)) if a.value > b.value => out.push(format!(
                "{}: {} → {} {}{}",
                meter.name,
                format_number(b.value),
                format_number(a.value),
                meter.unit,
                match a.period.per_label() {
                    "" => String::new(),
                    per => format!(" {per}"),
                }
            )),
            (Some(_), None) => out.push(format!("{}: unlimited", meter.name)),
            _ => {}
        }
    }
    if to.rate_limits.per_minute > from.rate_limits.per_minute {
        out.push(format!(
            "Rate limit: {} → {} requests per minute",
            format_number(from.rate_limits.per_minute as f64),
            format_number(to.rate_limits.per_minute as f64)
        ));
    }
    let added: Vec<&str> = to.features.iter().filter(|f| !from.has_feature(f)).map(String::as_str).collect();
    if !added.is_empty() {
        out.push(format!("Adds {}", added.join(", ").replace('_', " ")));
    }
    out
}

/// The smallest tier above `current` with at least 20% headroom for every projected meter;
/// the top tier when none has.
pub fn tier_for<'a>(catalog: &'a Catalog, current: &Plan, projected: &BTreeMap<String, f64>) -> Option<&'a Plan> {
    let higher: Vec<&Plan> = catalog.plans().iter().filter(|p| p.rank > current.rank).collect();
    higher
        .iter()
        .find(|plan| {
            projected.iter().all(|(meter, usage)| match plan.limit(meter) {
                None => true,
                Some(limit) => *usage <= limit.value * (1.0 - HEADROOM),
            })
        })
        .or_else(|| higher.last())
        .copied()
}

/// The ROI of moving to `to`, from usage the current plan blocks or bills over.
pub fn roi(current: &Plan, to: &Plan, quota: &QuotaStatus, projected: f64) -> Option<RoiEstimate> {
    let (now_price, new_price) = (monthly_price(current)?, monthly_price(to)?);
    let over = (projected - quota.limit).max(0.0);
    if over <= 0.0 {
        return None;
    }
    let (per_month, scale) = match quota.period {
        Period::Day => (over * 30.0, "a day, times 30 days"),
        Period::Minute => (over * 60.0 * 24.0 * 30.0, "a minute, over a month"),
        Period::Month | Period::Lifetime => (over, "this period"),
    };
    let extra = new_price - now_price;
    let cost_per_unit = extra / per_month;
    // In cents: per unit when a unit costs a cent or more, else per 10, 100, 1,000, … units.
    let mut batch = 1.0_f64;
    while cost_per_unit * batch < 0.01 && batch < 1e9 {
        batch *= 10.0;
    }
    let each = if batch == 1.0 { "each of those".to_owned() } else { format!("each {} of those", format_number(batch)) };
    let explanation = format!(
        "At your current rate, {} {} over the {} limit of {} ({}) would be blocked: {} a month. \
         {} costs {} more a month, so {each} is {}.",
        format_number(over.round()),
        quota.unit,
        current.name,
        format_number(quota.limit),
        scale,
        format_number(per_month.round()),
        to.name,
        format_money(extra),
        format_money(cost_per_unit * batch)
    );
    Some(RoiEstimate { extra_cost_per_month: extra, unblocked_per_month: per_month, cost_per_unit, unit: quota.unit.clone(), explanation })
}

/// Every suggestion for the account, the most urgent first.
pub fn suggest(input: &Input<'_>) -> Vec<UpgradeSuggestion> {
    let Input { catalog, plan, now, .. } = *input;
    let mut out = Vec::new();
    let is_top = !catalog.has_higher_tier(plan);

    // Usage: one suggestion for all the meters that call for it.
    let mut projected_all = BTreeMap::new();
    let mut triggers = Vec::new();
    let mut worst = (Urgency::Low, None::<(QuotaStatus, f64)>);
    for quota in input.quotas.iter().filter(|q| q.limit > 0.0) {
        let trend = input.trend_per_day.get(&quota.meter).copied().unwrap_or(0.0);
        let (projected, until) = project(quota, trend, now);
        projected_all.insert(quota.meter.clone(), projected.max(quota.used));
        let threshold = catalog.meter(&quota.meter).map_or(80.0, |m| m.suggest_at_percent);
        let near = quota.percent >= threshold;
        let heading_over = projected >= quota.limit;
        if !(near || heading_over) {
            continue;
        }
        if near {
            triggers.push(Trigger::NearLimit { meter: quota.meter.clone(), percent: quota.percent });
        }
        if heading_over && !near {
            triggers.push(Trigger::Projected { meter: quota.meter.clone(), projected, days_until_limit: until });
        }
        let level = urgency(quota.percent, until);
        if worst.1.is_none() || level > worst.0 {
            worst = (level, Some((quota.clone(), projected)));
        }
    }
    if let (false, Some((quota, projected))) = (is_top || triggers.is_empty(), worst.1.clone()) {
        if let Some(target) = tier_for(catalog, plan, &projected_all) {
            let meter_name = catalog.meter(&quota.meter).map_or(quota.meter.clone(), |m| m.name.clone());
            let reason = if quota.used >= quota.limit {
                format!("{meter_name} is at its limit ({} of {}).", format_number(quota.used), format_number(quota.limit))
            } else if quota.percent >= 80.0 {
                format!("{meter_name} is at {:.0}% of your {} plan's limit.", quota.percent, plan.name)
            } else {
                format!("At your 7-day rate, {meter_name} will pass your {} plan's limit before the period ends.", plan.name)
            };
            out.push(UpgradeSuggestion {
                reason,
                triggers,
                current_tier: plan.id.clone(),
                suggested_tier: target.id.clone(),
                suggested_tier_name: target.name.clone(),
                benefits: benefits(catalog, plan, target),
                urgency: worst.0,
                roi: roi(plan, target, &quota, projected),
            });
        }
    }

    // Features the plan keeps refusing.
    if !is_top {
        for (feature, count) in input.refusals.iter().filter(|(_, n)| **n >= REFUSALS_TO_SUGGEST) {
            let Some(target) = catalog.plan_unlocking(feature, plan) else { continue };
            if out.iter().any(|s| s.suggested_tier == target.id) {
                if let Some(s) = out.iter_mut().find(|s| s.suggested_tier == target.id) {
                    s.triggers.push(Trigger::RepeatedRefusals { feature: feature.clone(), count: *count });
                }
                continue;
            }
            out.push(UpgradeSuggestion {
                reason: format!("`{feature}` was refused {count} times this week: it is part of the {} plan.", target.name),
                triggers: vec![Trigger::RepeatedRefusals { feature: feature.clone(), count: *count }],
                current_tier: plan.id.clone(),
                suggested_tier: target.id.clone(),
                suggested_tier_name: target.name.clone(),
                benefits: benefits(catalog, plan, target),
                urgency: if *count >= 10 { Urgency::Medium } else { Urgency::Low },
                roi: None,
            });
        }
    }

    // A license about to end: renew (the same tier).
    if let Some(expires) = input.expires_at.filter(|t| *t > now) {
        let days = (expires - now).num_days();
        if days < EXPIRY_DAYS {
            out.push(UpgradeSuggestion {
                reason: format!("Your license ends in {} day{}.", days, if days == 1 { "" } else { "s" }),
                triggers: vec![Trigger::ExpiringSoon { days }],
                current_tier: plan.id.clone(),
                suggested_tier: plan.id.clone(),
                suggested_tier_name: plan.name.clone(),
                benefits: vec!["Keep every feature and limit you have now".into()],
                urgency: if days <= 2 { Urgency::High } else { Urgency::Medium },
                roi: None,
            });
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.urgency));
    out
}

/// The growth per day of a meter from its last 7 daily rollups, oldest first.
pub fn trend(aggregation: Aggregation, days: &[f64]) -> f64 {
    match aggregation {
        Aggregation::Sum | Aggregation::Max => {
            // Today is partial: the 6 full days before it set the rate.
            let full = &days[..days.len().saturating_sub(1)];
            if full.is_empty() { 0.0 } else { full.iter().sum::<f64>() / full.len() as f64 }
        }
        // From the first day with a level to the last.
        Aggregation::Last => match (days.iter().position(|v| *v > 0.0), days.last()) {
            (Some(first), Some(last)) if first + 1 < days.len() => (last - days[first]) / (days.len() - 1 - first) as f64,
            _ => 0.0,
        },
    }
}

impl crate::Engine {
    /// The account's upgrade suggestions, the most urgent first.
    pub async fn suggestions(&self, account: &crate::AccountId) -> Result<Vec<UpgradeSuggestion>, crate::EngineError> {
        let read = self.overview_read(account, self.now()).await?;
        self.suggestions_for(account, &read).await
    }

    /// The suggestions for an overview already read (the dashboard has one), from the same
    /// week of rollups.
    pub async fn suggestions_for(&self, account: &crate::AccountId, read: &crate::OverviewRead) -> Result<Vec<UpgradeSuggestion>, crate::EngineError> {
        self.flush_refusals().await?;
        let overview = &read.overview;
        let now = overview.generated_at;
        let plan = self.catalog().plan(&overview.plan.tier).ok_or_else(|| crate::EngineError::UnknownPlan(overview.plan.tier.clone()))?;
        let today = now.date_naive();
        let first = today - chrono::Duration::days(6);
        let rows = &read.week;
        let mut trend_per_day = BTreeMap::new();
        for meter in self.catalog().meters() {
            let mut days = [0.0; 7];
            for (_, day, value) in rows.iter().filter(|(m, ..)| *m == meter.key) {
                if let Ok(i) = usize::try_from((*day - first).num_days()) {
                    if let Some(slot) = days.get_mut(i) {
                        *slot = *value;
                    }
                }
            }
            trend_per_day.insert(meter.key.clone(), trend(meter.aggregation, &days));
        }
        let refusals = self.refusals_since(account, first).await?;
        Ok(suggest(&Input {
            catalog: self.catalog(),
            plan,
            now,
            expires_at: overview.license.expires_at,
            quotas: &overview.quotas,
            trend_per_day: &trend_per_day,
            refusals: &refusals,
        }))
    }

}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).single().expect("time")
    }

    fn catalog() -> Catalog {
        Catalog::demo().expect("demo")
    }

    fn quota(meter: &str, used: f64, limit: f64, period: Period) -> QuotaStatus {
        QuotaStatus::new(meter, meter, "units", used, limit, period)
    }

    fn run(plan: &str, quotas: &[QuotaStatus], trends: &[(&str, f64)], refusals: &[(&str, u32)], expires: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Vec<UpgradeSuggestion> {
        let catalog = catalog();
        let plan = catalog.plan(plan).expect("plan").clone();
        let trend_per_day = trends.iter().map(|(m, v)| ((*m).to_owned(), *v)).collect();
        let refusals = refusals.iter().map(|(f, n)| ((*f).to_owned(), *n)).collect();
        suggest(&Input { catalog: &catalog, plan: &plan, now, expires_at: expires, quotas, trend_per_day: &trend_per_day, refusals: &refusals })
    }

    #[test]
    fn a_meter_at_80_percent_suggests_the_next_tier_with_headroom() {
        // Starter: 1,000 memories (lifetime). 800 used, flat trend: Pro (10,000) fits.
        let s = run("starter", &[quota("memories", 800.0, 1_000.0, Period::Lifetime)], &[], &[], None, at(22, 12));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].suggested_tier, "pro");
        assert!(matches!(&s[0].triggers[0], Trigger::NearLimit { meter, .. } if meter == "memories"));
        assert!(s[0].reason.contains("80%"), "{}", s[0].reason);
        assert!(s[0].benefits.iter().any(|b| b.contains("1,000 → 10,000")), "{:?}", s[0].benefits);
        assert!(s[0].benefits.iter().any(|b| b.contains("exports")), "{:?}", s[0].benefits);
        // 79% with no growth: nothing.
        assert!(run("starter", &[quota("memories", 790.0, 1_000.0, Period::Lifetime)], &[], &[], None, at(22, 12)).is_empty());
    }

    #[test]
    fn a_trend_that_reaches_the_limit_before_the_period_ends_triggers() {
        // Starter: 5,000 API calls a day. At noon 2,000 used, 6,000 a day: 5,000 by the end.
        let q = quota("api_calls", 2_000.0, 5_000.0, Period::Day);
        let s = run("starter", std::slice::from_ref(&q), &[("api_calls", 6_000.0)], &[], None, at(22, 12));
        assert_eq!(s.len(), 1, "{s:?}");
        match &s[0].triggers[0] {
            Trigger::Projected { projected, days_until_limit, .. } => {
                assert_eq!(*projected, 5_000.0);
                assert_eq!(*days_until_limit, Some(0.5));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s[0].urgency, Urgency::High, "the limit is half a day away");
        // A slower trend does not.
        assert!(run("starter", &[q], &[("api_calls", 5_000.0)], &[], None, at(22, 12)).is_empty());
    }

    #[test]
    fn headroom_picks_the_smallest_tier_that_leaves_20_percent_free() {
        let c = catalog();
        let free = c.plan("free").expect("free");
        let pick = |calls: f64| tier_for(&c, free, &BTreeMap::from([("api_calls".to_owned(), calls)])).map(|p| p.id.clone());
        // Starter allows 5,000 a day: 4,000 leaves exactly 20%; 4,001 does not.
        assert_eq!(pick(4_000.0).as_deref(), Some("starter"));
        assert_eq!(pick(4_001.0).as_deref(), Some("pro"));
        assert_eq!(pick(40_000.0).as_deref(), Some("pro"));
        assert_eq!(pick(40_001.0).as_deref(), Some("enterprise"));
        assert_eq!(pick(5_000_000.0).as_deref(), Some("enterprise"), "the top tier when nothing has the headroom");
    }

    #[test]
    fn the_top_tier_gets_no_upgrade_suggestion() {
        let s = run("enterprise", &[quota("api_calls", 999_000.0, 1_000_000.0, Period::Day)], &[("api_calls", 2_000_000.0)], &[("exports", 9)], None, at(22, 12));
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn urgency_boundaries() {
        assert_eq!(urgency(89.99, None), Urgency::Low);
        assert_eq!(urgency(90.0, None), Urgency::Medium);
        assert_eq!(urgency(99.99, None), Urgency::Medium);
        assert_eq!(urgency(100.0, None), Urgency::High);
        assert_eq!(urgency(50.0, Some(7.01)), Urgency::Low);
        assert_eq!(urgency(50.0, Some(7.0)), Urgency::Medium);
        assert_eq!(urgency(50.0, Some(1.01)), Urgency::Medium);
        assert_eq!(urgency(50.0, Some(1.0)), Urgency::High);
    }

    #[test]
    fn repeated_refusals_and_expiry_trigger() {
        let s = run("free", &[], &[], &[("exports", 3), ("tags", 2)], None, at(22, 12));
        assert_eq!(s.len(), 1, "two refusals are not enough: {s:?}");
        assert_eq!(s[0].suggested_tier, "pro", "exports is a Pro feature");
        assert!(matches!(&s[0].triggers[0], Trigger::RepeatedRefusals { feature, count: 3 } if feature == "exports"));

        let s = run("pro", &[], &[], &[], Some(at(24, 12)), at(22, 12));
        assert_eq!(s.len(), 1);
        assert!(matches!(s[0].triggers[0], Trigger::ExpiringSoon { days: 2 }));
        assert_eq!((s[0].suggested_tier.as_str(), s[0].urgency), ("pro", Urgency::High));
        assert!(run("pro", &[], &[], &[], Some(at(30, 12)), at(22, 12)).is_empty(), "8 days away: not yet");
    }

    #[test]
    fn the_roi_is_the_extra_price_over_the_usage_it_unblocks() {
        // Starter ($10) at 5,000 a day, projected 6,000: 1,000 a day blocked, 30,000 a month.
        // Pro costs $20 more: $20 / 30,000 = $0.000667 a call.
        let c = catalog();
        let (starter, pro) = (c.plan("starter").expect("s"), c.plan("pro").expect("p"));
        let q = quota("api_calls", 3_000.0, 5_000.0, Period::Day);
        let r = roi(starter, pro, &q, 6_000.0).expect("an estimate");
        assert_eq!(r.extra_cost_per_month, 20.0);
        assert_eq!(r.unblocked_per_month, 30_000.0);
        assert!((r.cost_per_unit - 20.0 / 30_000.0).abs() < 1e-12);
        assert!(r.explanation.contains("1,000") && r.explanation.contains("30,000") && r.explanation.contains("$20"), "{}", r.explanation);
        assert!(r.explanation.ends_with("so each 100 of those is $0.07."), "in cents, per a round number of calls: {}", r.explanation);
        // Whole units, and a price per unit in cents when a unit costs that much.
        let storage = quota("storage_mb", 90.0, 100.0, Period::Month);
        let r = roi(starter, pro, &storage, 132.5).expect("an estimate");
        assert!(r.explanation.contains("33 MB") || r.explanation.contains("33 units"), "{}", r.explanation);
        assert!(r.explanation.ends_with("so each of those is $0.62."), "{}", r.explanation);
        assert!(roi(starter, pro, &q, 4_000.0).is_none(), "nothing blocked, no estimate");
        assert!(roi(pro, c.plan("enterprise").expect("e"), &q, 9_000.0).is_none(), "a custom price has no estimate");
    }

    #[test]
    fn trends_use_full_days_for_counters_and_the_change_for_levels() {
        assert_eq!(trend(Aggregation::Sum, &[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 5.0]), 35.0);
        assert_eq!(trend(Aggregation::Last, &[0.0, 100.0, 110.0, 120.0, 130.0, 140.0, 150.0]), 10.0, "50 more over the 5 days since it began");
        assert_eq!(trend(Aggregation::Last, &[0.0; 7]), 0.0);
    }
}
