//! Upgrade suggestions: which plan fits the account's usage, and why.

use serde::{Deserialize, Serialize};

/// How soon the account will feel the limit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Medium,
    High,
}

impl Urgency {
    /// In words, so colour is never the only signal.
    pub fn label(self) -> &'static str {
        match self {
            Urgency::Low => "Low urgency",
            Urgency::Medium => "Medium urgency",
            Urgency::High => "High urgency",
        }
    }
}

/// What a suggestion was triggered by.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A meter at or past its suggestion threshold.
    NearLimit { meter: String, percent: f64 },
    /// The 7-day trend reaches the limit before the period ends.
    Projected { meter: String, projected: f64, days_until_limit: Option<f64> },
    /// The plan refused a feature several times in 7 days.
    RepeatedRefusals { feature: String, count: u32 },
    /// The license ends soon.
    ExpiringSoon { days: i64 },
}

/// An estimate of what the upgrade is worth, with how it was computed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoiEstimate {
    /// Extra cost per month of the suggested plan.
    pub extra_cost_per_month: f64,
    /// Usage per month the current plan would block (hard limit) or bill over (soft).
    pub unblocked_per_month: f64,
    /// `extra_cost_per_month / unblocked_per_month`.
    pub cost_per_unit: f64,
    pub unit: String,
    /// The arithmetic, in words.
    pub explanation: String,
}

/// One suggestion.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradeSuggestion {
    /// Why, in words.
    pub reason: String,
    pub triggers: Vec<Trigger>,
    pub current_tier: String,
    /// The smallest tier that covers the projected usage with 20% headroom (for an
    /// expiring license: the current tier, to renew).
    pub suggested_tier: String,
    pub suggested_tier_name: String,
    /// What the suggested tier adds, from the catalog.
    pub benefits: Vec<String>,
    pub urgency: Urgency,
    pub roi: Option<RoiEstimate>,
}
