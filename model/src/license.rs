//! Licenses and plans as the customer sees them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a license stands. `Active` and `Trialing` grant the plan's features, and so does
/// `PastDue` until its grace period ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    Active,
    Trialing,
    PastDue,
    Suspended,
    Expired,
    Cancelled,
}

impl LicenseStatus {
    pub const ALL: [LicenseStatus; 6] = [
        Self::Active,
        Self::Trialing,
        Self::PastDue,
        Self::Suspended,
        Self::Expired,
        Self::Cancelled,
    ];

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Trialing => "trialing",
            Self::PastDue => "past_due",
            Self::Suspended => "suspended",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status in words, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Trialing => "Trial",
            Self::PastDue => "Payment past due",
            Self::Suspended => "Suspended",
            Self::Expired => "Expired",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Whether the license currently grants its plan.
    pub fn is_usable(self) -> bool {
        matches!(self, Self::Active | Self::Trialing)
    }
}

impl fmt::Display for LicenseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LicenseStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown license status `{s}`"))
    }
}

/// A plan's monthly price: a fixed amount in whole currency units, or "talk to us".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Price {
    Monthly(f64),
    Custom(CustomPrice),
}

/// The literal `"custom"`, so a price reads `30` or `"custom"` in TOML and JSON alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomPrice {
    Custom,
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Price::Monthly(amount) if amount.fract() == 0.0 => write!(f, "${amount:.0}/mo"),
            Price::Monthly(amount) => write!(f, "${amount:.2}/mo"),
            Price::Custom(_) => f.write_str("Custom"),
        }
    }
}

/// The plan part of what an account sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    /// The plan id, which doubles as its tier name: `free`, `pro`, …
    pub tier: String,
    pub name: String,
    pub rank: u32,
    pub price: Price,
    pub features: Vec<String>,
    pub rate_limit_per_minute: u64,
    pub rate_limit_per_day: u64,
    /// Whether a higher tier exists, so the UI can offer an upgrade.
    pub has_higher_tier: bool,
}

/// The license part of what an account sees. Carries no license id or key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenseView {
    pub account_name: String,
    pub status: LicenseStatus,
    pub seats: u32,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_wire_spelling() {
        for status in LicenseStatus::ALL {
            assert_eq!(status.as_str().parse::<LicenseStatus>(), Ok(status));
            let json = serde_json::to_string(&status).expect("serialize");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!("paused".parse::<LicenseStatus>().is_err());
    }

    #[test]
    fn only_active_and_trialing_licenses_are_usable() {
        let usable: Vec<_> = LicenseStatus::ALL.into_iter().filter(|s| s.is_usable()).collect();
        assert_eq!(usable, vec![LicenseStatus::Active, LicenseStatus::Trialing]);
    }

    #[test]
    fn price_reads_a_number_or_custom() {
        let fixed: Price = serde_json::from_str("30").expect("number");
        let custom: Price = serde_json::from_str("\"custom\"").expect("custom");
        assert_eq!(fixed.to_string(), "$30/mo");
        assert_eq!(custom.to_string(), "Custom");
        assert!(serde_json::from_str::<Price>("\"cheap\"").is_err());
    }
}

/// One account in an operator's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: crate::AccountId,
    pub name: String,
    pub plan: String,
    pub status: LicenseStatus,
    pub seats: u32,
    pub expires_at: Option<DateTime<Utc>>,
}
