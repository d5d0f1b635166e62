//! The plan catalog: meters, plans, their limits, rate limits and features.
//!
//! The catalog is data, loaded from TOML. Every error names the file, the line and the
//! field, so an operator can fix a typo without reading code.

use model::{Aggregation, Period, Price};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;
use toml::Spanned;

/// The built-in catalog used when none is configured.
pub const DEMO_CATALOG: &str = include_str!("demo.toml");

/// What went wrong in a catalog, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    /// The file, or `<built-in demo catalog>`.
    pub source_name: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// The field at fault, e.g. `plans[free].limits.bandwidth`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plan catalog {}", self.source_name)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for CatalogError {}

/// Hard limits refuse; soft limits allow and flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    Hard,
    Soft,
}

/// A meter: what is counted, in what unit, and how events combine.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meter {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub aggregation: Aggregation,
    /// Percent of a limit from which an upgrade is suggested.
    #[serde(default = "default_suggest_at")]
    pub suggest_at_percent: f64,
    /// Percent of a limit at which the account is alerted (besides the limit itself),
    /// unless it sets its own thresholds.
    #[serde(default = "default_alert_at")]
    pub alert_at_percent: f64,
}

fn default_alert_at() -> f64 {
    80.0
}

fn default_suggest_at() -> f64 {
    80.0
}

/// One plan's limit on one meter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub value: f64,
    pub period: Period,
    pub enforcement: Enforcement,
}

/// Requests a plan allows per minute and per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    pub per_minute: u64,
    pub per_day: u64,
}

/// A tier.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub rank: u32,
    pub price: Price,
    pub features: Vec<String>,
    /// Limits in catalog meter order.
    pub limits: Vec<(String, Limit)>,
    pub rate_limits: RateLimits,
    /// Where a customer can buy this tier directly (a Whop or Stripe checkout link).
    pub checkout_url: Option<String>,
}

impl Plan {
    pub fn limit(&self, meter: &str) -> Option<&Limit> {
        self.limits.iter().find(|(key, _)| key == meter).map(|(_, limit)| limit)
    }

    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

/// The whole catalog, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    meters: Vec<Meter>,
    /// Sorted by rank, lowest first.
    plans: Vec<Plan>,
    pub billing_portal_url: String,
    pub billing: Billing,
    pub alerts: AlertDefaults,
}

/// The catalog's `[alerts]`: when the request limit and the license warn. Each meter's own
/// warning point is its `alert_at_percent`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertDefaults {
    /// The daily request limit warns at this percentage (1 to 100).
    #[serde(default = "default_requests_percent")]
    pub daily_requests_percent: f64,
    /// A license is announced this many days before it ends (1 to 90).
    #[serde(default = "default_expiry_days")]
    pub license_expiry_days: u32,
}

impl Default for AlertDefaults {
    fn default() -> Self {
        Self { daily_requests_percent: default_requests_percent(), license_expiry_days: default_expiry_days() }
    }
}

fn default_requests_percent() -> f64 {
    90.0
}

fn default_expiry_days() -> u32 {
    7
}

/// How billing providers' products map to plans, and how lapsed payments are handled.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Billing {
    /// Whop plan (or product) id -> plan id.
    pub whop_plans: BTreeMap<String, String>,
    /// Stripe price (or product) id -> plan id.
    pub stripe_prices: BTreeMap<String, String>,
    /// Days a `past_due` license keeps working before it is suspended.
    pub past_due_grace_days: u32,
}

// ---- the TOML shape, kept apart from the validated types ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    billing: RawBilling,
    #[serde(default)]
    alerts: AlertDefaults,
    meters: Vec<Meter>,
    plans: Vec<Spanned<RawPlan>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBilling {
    #[serde(default)]
    portal_url: String,
    #[serde(default = "default_grace_days")]
    past_due_grace_days: u32,
    #[serde(default)]
    whop: RawProvider,
    #[serde(default)]
    stripe: RawProvider,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    /// Provider plan or price id -> Tollgate plan id.
    #[serde(default, alias = "prices")]
    plans: BTreeMap<String, Spanned<String>>,
}

fn default_grace_days() -> u32 {
    7
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    id: String,
    name: String,
    rank: u32,
    price: Price,
    #[serde(default)]
    features: Vec<String>,
    rate_limits: RateLimits,
    #[serde(default)]
    limits: BTreeMap<String, Spanned<RawLimit>>,
    #[serde(default)]
    checkout_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    value: Spanned<f64>,
    period: Period,
    #[serde(default = "default_enforcement")]
    enforcement: Enforcement,
}

fn default_enforcement() -> Enforcement {
    Enforcement::Hard
}

impl Catalog {
    /// The built-in demo catalog.
    pub fn demo() -> Result<Self, CatalogError> {
        Self::parse(DEMO_CATALOG, "<built-in demo catalog>")
    }

    /// Reads and validates a catalog file.
    pub fn from_file(path: &Path) -> Result<Self, CatalogError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| CatalogError {
            source_name: name.clone(),
            line: None,
            field: None,
            message: format!("cannot read the file: {err}"),
        })?;
        Self::parse(&text, &name)
    }

    /// Parses and validates catalog text; `source_name` is used in error messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, CatalogError> {
        let error = |span: Option<std::ops::Range<usize>>, field: Option<String>, message: String| {
            CatalogError {
                source_name: source_name.to_owned(),
                line: span.map(|s| line_of(text, s.start)),
                field,
                message,
            }
        };

        let raw: RawCatalog = toml::from_str(text).map_err(|err| {
            let span = err.span();
            let field = span.clone().and_then(|s| key_at(text, s.start));
            error(span, field, err.message().trim().to_owned())
        })?;

        if !(1.0..=100.0).contains(&raw.alerts.daily_requests_percent) {
            return Err(error(None, Some("alerts.daily_requests_percent".into()), format!("must be from 1 to 100, got {}", raw.alerts.daily_requests_percent)));
        }
        if !(1..=90).contains(&raw.alerts.license_expiry_days) {
            return Err(error(None, Some("alerts.license_expiry_days".into()), format!("must be from 1 to 90, got {}", raw.alerts.license_expiry_days)));
        }
        let mut meter_keys = HashSet::new();
        for meter in &raw.meters {
            if !is_identifier(&meter.key) {
                return Err(error(None, Some("meters.key".into()), format!(
                    "meter key `{}` must be lowercase letters, digits and underscores",
                    meter.key
                )));
            }
            for (field, percent) in [("suggest_at_percent", meter.suggest_at_percent), ("alert_at_percent", meter.alert_at_percent)] {
                if !(1.0..=100.0).contains(&percent) {
                    return Err(error(None, Some(format!("meters[{}].{field}", meter.key)), format!("must be from 1 to 100, got {percent}")));
                }
            }
            if !meter_keys.insert(meter.key.as_str()) {
                return Err(error(None, Some("meters.key".into()), format!("meter `{}` is defined twice", meter.key)));
            }
        }
        if raw.plans.is_empty() {
            return Err(error(None, Some("plans".into()), "the catalog defines no plans".into()));
        }

        let mut plans = Vec::with_capacity(raw.plans.len());
        let mut plan_ids = HashSet::new();
        let mut ranks = HashSet::new();
        for spanned in raw.plans {
            let span = spanned.span();
            let plan = spanned.into_inner();
            let at = |field: &str| Some(format!("plans[{}].{field}", plan.id));
            if !is_identifier(&plan.id) {
                return Err(error(Some(span), Some("plans.id".into()), format!(
                    "plan id `{}` must be lowercase letters, digits and underscores",
                    plan.id
                )));
            }
            if !plan_ids.insert(plan.id.clone()) {
                return Err(error(Some(span), at("id"), format!("plan `{}` is defined twice", plan.id)));
            }
            if !ranks.insert(plan.rank) {
                return Err(error(Some(span), at("rank"), format!("rank {} is used by another plan", plan.rank)));
            }
            if let Price::Monthly(amount) = plan.price {
                if !amount.is_finite() || amount < 0.0 {
                    return Err(error(Some(span), at("price"), format!("price must be zero or more, got {amount}")));
                }
            }
            if let Some(url) = &plan.checkout_url {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(error(Some(span), at("checkout_url"), format!("checkout_url must be an http(s) URL, got `{url}`")));
                }
            }
            if plan.rate_limits.per_minute == 0 || plan.rate_limits.per_day == 0 {
                return Err(error(Some(span), at("rate_limits"), "rate limits must be at least 1".into()));
            }
            let mut limits = Vec::new();
            for (meter, raw_limit) in &plan.limits {
                if !meter_keys.contains(meter.as_str()) {
                    let mut known: Vec<_> = meter_keys.iter().copied().collect();
                    known.sort_unstable();
                    return Err(error(
                        Some(raw_limit.span()),
                        at(&format!("limits.{meter}")),
                        format!("unknown meter `{meter}`; the catalog's meters are: {}", known.join(", ")),
                    ));
                }
                let value = *raw_limit.get_ref().value.get_ref();
                if !value.is_finite() || value < 0.0 {
                    return Err(error(
                        Some(raw_limit.get_ref().value.span()),
                        at(&format!("limits.{meter}.value")),
                        format!("a limit must be zero or more, got {value}"),
                    ));
                }
            }
            // Keep limits in the catalog's meter order, so every view lists meters alike.
            for meter in &raw.meters {
                if let Some(raw_limit) = plan.limits.get(&meter.key) {
                    let raw_limit = raw_limit.get_ref();
                    limits.push((meter.key.clone(), Limit {
                        value: *raw_limit.value.get_ref(),
                        period: raw_limit.period,
                        enforcement: raw_limit.enforcement,
                    }));
                }
            }
            plans.push(Plan {
                id: plan.id,
                name: plan.name,
                rank: plan.rank,
                price: plan.price,
                features: plan.features,
                limits,
                rate_limits: plan.rate_limits,
                checkout_url: plan.checkout_url,
            });
        }
        plans.sort_by_key(|plan| plan.rank);

        let mut billing = Billing { past_due_grace_days: raw.billing.past_due_grace_days, ..Billing::default() };
        for (provider, raw_map, map) in [
            ("whop", &raw.billing.whop.plans, &mut billing.whop_plans),
            ("stripe", &raw.billing.stripe.plans, &mut billing.stripe_prices),
        ] {
            for (external, plan) in raw_map {
                if !plan_ids.contains(plan.get_ref()) {
                    return Err(error(
                        Some(plan.span()),
                        Some(format!("billing.{provider}.plans.{external}")),
                        format!("unknown plan `{}`", plan.get_ref()),
                    ));
                }
                map.insert(external.clone(), plan.get_ref().clone());
            }
        }

        Ok(Catalog { meters: raw.meters, plans, billing_portal_url: raw.billing.portal_url, billing, alerts: raw.alerts })
    }

    pub fn meters(&self) -> &[Meter] {
        &self.meters
    }

    pub fn meter(&self, key: &str) -> Option<&Meter> {
        self.meters.iter().find(|m| m.key == key)
    }

    /// Plans from the lowest rank to the highest.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// The entry plan, which sign-up and downgrades land on.
    pub fn lowest_plan(&self) -> &Plan {
        // `parse` guarantees at least one plan.
        &self.plans[0]
    }

    /// Whether any plan offers the feature.
    pub fn knows_feature(&self, feature: &str) -> bool {
        self.plans.iter().any(|p| p.has_feature(feature))
    }

    /// Every feature some plan offers, in plan order.
    pub fn features(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.plans.iter().flat_map(|p| p.features.iter()).map(String::as_str).filter(|f| seen.insert(*f)).collect()
    }

    /// The lowest-ranked plan above `current` that includes the feature.
    pub fn plan_unlocking(&self, feature: &str, current: &Plan) -> Option<&Plan> {
        self.plans.iter().find(|p| p.rank > current.rank && p.has_feature(feature))
    }

    pub fn has_higher_tier(&self, plan: &Plan) -> bool {
        self.plans.iter().any(|p| p.rank > plan.rank)
    }

    /// The meter charted as "API calls per day": `api_calls` if the catalog has it,
    /// otherwise its first `sum` meter.
    pub fn chart_meter(&self) -> Option<&Meter> {
        self.meter("api_calls")
            .or_else(|| self.meters.iter().find(|m| m.aggregation == Aggregation::Sum))
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1)
}

/// The key written at the start of the line holding `offset`, if that line is `key = …`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned())
}

#[cfg(test)]
mod tests;
