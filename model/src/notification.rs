//! What an account is told about its usage and license: the dashboard's notifications.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a notification is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertKind {
    /// A meter (or the daily request limit) reached one of its warning thresholds.
    #[serde(rename = "quota.threshold_crossed")]
    ThresholdCrossed,
    /// A meter reached its limit.
    #[serde(rename = "quota.exceeded")]
    Exceeded,
    /// The license ends within a week.
    #[serde(rename = "license.expiring")]
    LicenseExpiring,
    /// The license is past due, suspended or expired.
    #[serde(rename = "license.status_changed")]
    LicenseStatusChanged,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [Self::ThresholdCrossed, Self::Exceeded, Self::LicenseExpiring, Self::LicenseStatusChanged];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThresholdCrossed => "quota.threshold_crossed",
            Self::Exceeded => "quota.exceeded",
            Self::LicenseExpiring => "license.expiring",
            Self::LicenseStatusChanged => "license.status_changed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// One notification, as the account's dashboard and REST API show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub kind: AlertKind,
    /// The meter's key, `daily_requests`, or `license`.
    pub subject: String,
    /// The threshold crossed: a percentage of the limit (days ahead for an expiry).
    pub threshold: f64,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_wire_names() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::json!(kind.as_str())));
        }
        assert_eq!(AlertKind::parse("quota.other"), None);
    }
}
