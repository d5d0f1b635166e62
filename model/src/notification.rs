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
    /// The account moved to another plan.
    #[serde(rename = "plan.changed")]
    PlanChanged,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [Self::ThresholdCrossed, Self::Exceeded, Self::LicenseExpiring, Self::LicenseStatusChanged, Self::PlanChanged];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThresholdCrossed => "quota.threshold_crossed",
            Self::Exceeded => "quota.exceeded",
            Self::LicenseExpiring => "license.expiring",
            Self::LicenseStatusChanged => "license.status_changed",
            Self::PlanChanged => "plan.changed",
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
    /// The threshold crossed, counted in `threshold_unit`.
    pub threshold: f64,
    /// `percent` (of the limit), `absolute` (an amount of the meter's unit), `days` (ahead
    /// of an expiry) or `none`.
    #[serde(default = "percent_unit")]
    pub threshold_unit: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

fn percent_unit() -> String {
    "percent".into()
}

/// The body of every outgoing webhook and the facts of every alert email: Standard
/// Webhooks' `{type, timestamp, data}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The event type; a test event from the settings page has `webhook.test`.
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: DateTime<Utc>,
    pub data: AlertData,
}

/// What an alert says.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertData {
    pub account_id: String,
    /// The dashboard notification this event announces (absent for a test event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
    /// The meter's key, `daily_requests`, `license` or `plan`.
    pub subject: String,
    /// The threshold crossed, counted in `threshold_unit`.
    pub threshold: f64,
    /// `percent` (of the limit), `absolute` (an amount of the meter's unit), `days` (ahead
    /// of an expiry) or `none`.
    pub threshold_unit: String,
    pub title: String,
    pub body: String,
    /// For quota events: the usage, the limit and the usage as a percentage of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// Where the customer sees it.
    pub dashboard_url: String,
}

/// An HTTPS endpoint the account registered for outgoing webhooks. Its secret is shown
/// once, when it is created or rolled.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    #[cfg_attr(feature = "openapi", schema(pattern = "^we_[0-9a-f]{32}$"))]
    pub id: String,
    pub url: String,
    /// The event types it receives; empty means every type.
    pub events: Vec<String>,
    /// False once disabled: by its owner, or by a `410 Gone` answer.
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An endpoint with its signing secret: the answer to creating it or rolling its secret,
/// and the only time the secret is shown.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of the signing key (Standard Webhooks).
    pub secret: String,
}

/// One message on its way to an email address or an endpoint, with every attempt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// The message id: the `webhook-id` header, the same on every attempt.
    pub id: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address, or the endpoint's URL.
    pub target: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// One try at delivering a message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub at: DateTime<Utc>,
    /// The HTTP status or SMTP reply code; absent when nothing answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// `delivered`, `retry`, `failed` or `disabled`.
    pub outcome: String,
    /// The start of the answer, or what went wrong.
    pub detail: String,
}

/// Where a meter warns: a percentage of its limit, or an absolute amount of its unit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertThreshold {
    pub value: f64,
    /// True: `value` is an amount of the meter's unit; false: a percentage of its limit.
    #[serde(default)]
    pub absolute: bool,
}

/// An account may set this many thresholds per meter.
pub const MAX_THRESHOLDS_PER_METER: usize = 5;
/// The largest absolute threshold accepted.
pub const MAX_ABSOLUTE_THRESHOLD: f64 = 1e12;

impl AlertThreshold {
    pub fn percent(value: f64) -> Self {
        Self { value, absolute: false }
    }

    pub fn absolute(value: f64) -> Self {
        Self { value, absolute: true }
    }

    /// The usage at which it fires, for a meter whose limit is `limit`.
    pub fn usage_at(&self, limit: f64) -> f64 {
        if self.absolute { self.value } else { self.value / 100.0 * limit }
    }

    /// As a percentage of `limit` (an absolute amount over a zero limit is past it).
    pub fn percent_of(&self, limit: f64) -> f64 {
        match (self.absolute, limit > 0.0) {
            (false, _) => self.value,
            (true, true) => self.value / limit * 100.0,
            (true, false) => f64::INFINITY,
        }
    }

    /// "80%" or "500 calls".
    pub fn label(&self, unit: &str) -> String {
        if self.absolute {
            format!("{} {unit}", crate::quota::format_number(self.value))
        } else {
            format!("{}%", crate::quota::format_number(self.value))
        }
    }

    /// Checks a threshold: a percentage from 1 to 100, or an amount above zero.
    pub fn check(&self) -> Result<(), String> {
        if !self.value.is_finite() {
            return Err("a threshold must be a number".into());
        }
        if self.absolute && !(self.value > 0.0 && self.value <= MAX_ABSOLUTE_THRESHOLD) {
            return Err(format!("an amount must be above 0 and at most {}", crate::quota::format_number(MAX_ABSOLUTE_THRESHOLD)));
        }
        if !self.absolute && !(1.0..=100.0).contains(&self.value) {
            return Err("a percentage must be from 1 to 100".into());
        }
        Ok(())
    }

    /// Reads a list such as `50%, 80%, 1000`: a number with `%` is a percentage of the
    /// limit, a bare number an amount of the meter's unit. Sorted, without repeats, at
    /// most [`MAX_THRESHOLDS_PER_METER`]; empty means "the defaults".
    pub fn parse_list(raw: &str) -> Result<Vec<AlertThreshold>, String> {
        let mut out: Vec<AlertThreshold> = Vec::new();
        // "50 %" is "50%".
        let mut raw = raw.to_owned();
        while raw.contains(" %") {
            raw = raw.replace(" %", "%");
        }
        for word in raw.split([',', ';', ' ']).map(str::trim).filter(|w| !w.is_empty()) {
            let (number, absolute) = match word.strip_suffix('%') {
                Some(n) => (n.trim(), false),
                None => (word, true),
            };
            let value: f64 = number.replace('_', "").parse().map_err(|_| {
                format!("`{}` is not a threshold: write a percentage such as 80% or an amount such as 1000", word.chars().take(20).collect::<String>())
            })?;
            let threshold = AlertThreshold { value, absolute };
            threshold.check()?;
            if !out.contains(&threshold) {
                out.push(threshold);
            }
        }
        if out.len() > MAX_THRESHOLDS_PER_METER {
            return Err(format!("at most {MAX_THRESHOLDS_PER_METER} thresholds per meter"));
        }
        out.sort_by(|a, b| (a.absolute, a.value).partial_cmp(&(b.absolute, b.value)).unwrap_or(std::cmp::Ordering::Equal));
        Ok(out)
    }
}

/// Where an account's alerts go besides the dashboard.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSettings {
    /// Alerts by email. Has no effect while the server has no mail server.
    pub email_enabled: bool,
    /// The address alerts go to instead of the account's owners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_to: Option<String>,
    /// Whether this server sends email at all (`TOLLGATE_SMTP_URL`).
    pub email_available: bool,
    /// Who gets alert emails now.
    pub recipients: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_lists_read_percentages_and_amounts_and_refuse_nonsense() {
        let list = AlertThreshold::parse_list("80%, 50 %  1000, 80%").expect("valid");
        assert_eq!(list, [AlertThreshold::percent(50.0), AlertThreshold::percent(80.0), AlertThreshold::absolute(1000.0)]);
        assert_eq!(AlertThreshold::parse_list("  ").expect("empty"), []);
        for (raw, says) in [
            ("0%", "from 1 to 100"),
            ("101%", "from 1 to 100"),
            ("-5", "above 0"),
            ("1e20", "at most"),
            ("NaN", "must be a number"),
            ("lots", "is not a threshold"),
            ("10%,20%,30%,40%,50%,60%", "at most 5"),
        ] {
            let err = AlertThreshold::parse_list(raw).expect_err(raw);
            assert!(err.contains(says), "{raw}: {err}");
        }
        assert_eq!(AlertThreshold::absolute(250.0).percent_of(1000.0), 25.0);
        assert_eq!(AlertThreshold::percent(80.0).usage_at(1000.0), 800.0);
        assert_eq!(AlertThreshold::absolute(1500.0).label("calls"), "1,500 calls");
    }

    #[test]
    fn kinds_round_trip_through_their_wire_names() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::json!(kind.as_str())));
        }
        assert_eq!(AlertKind::parse("quota.other"), None);
    }
}
