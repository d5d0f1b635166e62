//! The upgrade journey: the tiers compared, what the account may use, and its requests
//! for a higher plan.

use crate::license::Price;
use crate::quota::Period;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One meter's limit on a tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierLimit {
    pub meter: String,
    pub name: String,
    pub unit: String,
    pub value: f64,
    pub period: Period,
    /// `soft`: usage over it is allowed (and billed); `hard`: refused.
    pub soft: bool,
}

/// A tier as the comparison table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierView {
    pub id: String,
    pub name: String,
    pub rank: u32,
    pub price: Price,
    pub features: Vec<String>,
    pub limits: Vec<TierLimit>,
    pub rate_limit_per_minute: u64,
    pub rate_limit_per_day: u64,
    /// Where to buy it directly (Whop or Stripe checkout), when the catalog says.
    pub checkout_url: Option<String>,
}

impl TierView {
    /// A custom-priced tier is sold by sales, not by a self-service request.
    pub fn is_sales_led(&self) -> bool {
        matches!(self.price, Price::Custom(_))
    }
}

/// A feature, and whether the account's plan includes it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureAccess {
    pub feature: String,
    pub allowed: bool,
    /// When not allowed: the lowest plan that includes it.
    pub required_plan: Option<String>,
    pub required_plan_name: Option<String>,
    /// When not allowed: what that plan adds over the current one, in words.
    pub adds: Vec<String>,
    /// When not allowed because the license is inactive rather than the plan.
    pub license_inactive: bool,
}

/// `feature_name` -> "Feature name".
pub fn feature_label(feature: &str) -> String {
    let spaced = feature.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// To a priced tier: an admin approves and the plan changes.
    Upgrade,
    /// To a custom-priced tier: a conversation with sales.
    Sales,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Upgrade => "upgrade",
            RequestKind::Sales => "sales",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Declined,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Declined => "declined",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Pending => "Pending",
            RequestStatus::Approved => "Approved",
            RequestStatus::Declined => "Declined",
        }
    }
}

impl std::str::FromStr for RequestStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "declined" => Ok(Self::Declined),
            other => Err(format!("unknown request status `{other}`")),
        }
    }
}

/// One meter over the last 30 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterEvidence {
    pub meter: String,
    pub name: String,
    pub unit: String,
    /// Summed over 30 days (counters) or the latest level (gauges).
    pub total: f64,
    /// The busiest day's value.
    pub peak_day: f64,
    /// Days with any usage.
    pub active_days: u32,
    /// Now, against the current plan's limit.
    pub percent_of_limit: Option<f64>,
    /// Counters: "30-day total"; gauges: "current level".
    pub summary: String,
}

/// What a request carries about the account's usage, computed on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageEvidence {
    pub days: u32,
    pub meters: Vec<MeterEvidence>,
    /// Features the plan refused in the last 30 days, with counts.
    pub refusals: Vec<(String, u32)>,
    /// In words: meters near or over their limits, repeated refusals.
    pub pain_points: Vec<String>,
}

/// A request, as its account and the admin see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradeRequestView {
    pub id: crate::RequestId,
    pub kind: RequestKind,
    pub account_name: String,
    pub from_plan: String,
    pub to_plan: String,
    pub to_plan_name: String,
    pub justification: String,
    pub contact_email: String,
    pub requested_by: String,
    pub evidence: UsageEvidence,
    pub status: RequestStatus,
    pub decline_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Everything the upgrade modal needs, in one round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradeOptions {
    pub tiers: Vec<TierView>,
    pub current_tier: String,
    pub contact_email: String,
    pub evidence: UsageEvidence,
    pub pending: Option<UpgradeRequestView>,
}

/// One meter over the analytics window (the `advanced_analytics` feature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterAnalytics {
    pub meter: String,
    pub name: String,
    pub unit: String,
    /// Counters sum; levels show the latest value.
    pub is_level: bool,
    pub days: Vec<crate::usage::DayCount>,
    pub total: f64,
    pub average: f64,
    pub peak: f64,
    /// The current limit, with its period in words.
    pub limit: Option<(f64, String)>,
}
