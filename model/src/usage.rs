//! What an account sees of its own usage.

use crate::{LicenseView, PlanView, QuotaStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One day's total for a `sum` meter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub value: f64,
}

/// Everything the dashboard shows, fetched in one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub license: LicenseView,
    pub plan: PlanView,
    /// One entry per meter the plan limits, in catalog order.
    pub quotas: Vec<QuotaStatus>,
    /// API calls per day, oldest first, ending today (UTC), zero-filled: always 7 entries.
    pub api_calls_7d: Vec<DayCount>,
    /// Where the customer goes to change their plan.
    pub billing_portal_url: String,
    /// When this overview was computed.
    pub generated_at: DateTime<Utc>,
    /// When usage for this account was last recorded, if ever.
    pub last_usage_at: Option<DateTime<Utc>>,
}
