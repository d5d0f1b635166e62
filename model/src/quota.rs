//! Meters, limits and how close an account is to them.

use serde::{Deserialize, Serialize};

/// How a meter's events combine.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// A counter that resets each period (API calls).
    Sum,
    /// A gauge holding the current level (storage, stored items).
    Last,
    /// The highest value seen in the period.
    Max,
}

/// The window a limit applies to. Periods are computed in UTC.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Minute,
    Day,
    Month,
    Lifetime,
}

impl Period {
    /// "per day", "per month", … or nothing for a lifetime limit.
    pub fn per_label(self) -> &'static str {
        match self {
            Period::Minute => "per minute",
            Period::Day => "per day",
            Period::Month => "per month",
            Period::Lifetime => "",
        }
    }
}

/// How close a meter is to its limit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaLevel {
    /// Below 75%.
    Ok,
    /// From 75%.
    Warning,
    /// From 90%, up to and including 100%.
    Critical,
    /// Above 100%.
    Exceeded,
}

/// Percent from which a meter shows "approaching the limit".
pub const APPROACHING_PERCENT: f64 = 80.0;

impl QuotaLevel {
    /// The level for a percentage of the limit used.
    pub fn from_percent(percent: f64) -> Self {
        if percent > 100.0 {
            Self::Exceeded
        } else if percent >= 90.0 {
            Self::Critical
        } else if percent >= 75.0 {
            Self::Warning
        } else {
            Self::Ok
        }
    }

    /// The level in words, so colour is never the only signal.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Warning => "Warning",
            Self::Critical => "Critical",
            Self::Exceeded => "Limit exceeded",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Critical => "critical",
            Self::Exceeded => "exceeded",
        }
    }
}

/// One meter against its limit, for one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaStatus {
    pub meter: String,
    /// The meter's display name, e.g. "Storage".
    pub name: String,
    /// The unit in words, e.g. "MB" or "items".
    pub unit: String,
    pub used: f64,
    pub limit: f64,
    pub period: Period,
    /// Used over limit, in percent, rounded to two decimals. Not capped at 100.
    pub percent: f64,
    pub level: QuotaLevel,
    /// The percentage from which the account is warned: 80 unless the account set its
    /// own (the `custom_alert_thresholds` feature).
    #[serde(default = "default_alert_percent")]
    pub alert_percent: f64,
    /// A hard limit refuses requests once reached; a soft one lets usage continue over it.
    #[serde(default = "hard_by_default")]
    pub hard: bool,
    /// When the period starts again; none for a lifetime limit.
    #[serde(default)]
    pub resets_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn hard_by_default() -> bool {
    true
}

fn default_alert_percent() -> f64 {
    APPROACHING_PERCENT
}

impl QuotaStatus {
    /// Builds a status, computing the percentage and the level.
    pub fn new(
        meter: impl Into<String>,
        name: impl Into<String>,
        unit: impl Into<String>,
        used: f64,
        limit: f64,
        period: Period,
    ) -> Self {
        let percent = percent_of(used, limit);
        Self {
            meter: meter.into(),
            name: name.into(),
            unit: unit.into(),
            used,
            limit,
            period,
            percent,
            level: QuotaLevel::from_percent(percent),
            alert_percent: APPROACHING_PERCENT,
            hard: true,
            resets_at: None,
        }
    }

    /// The same status for a soft limit (or a hard one), resetting at `resets_at`.
    pub fn with_enforcement(mut self, hard: bool, resets_at: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        self.hard = hard;
        self.resets_at = resets_at;
        self
    }

    /// Whether the usage is at or past the limit (any use of a zero limit).
    pub fn limit_reached(&self) -> bool {
        if self.limit <= 0.0 { self.used > 0.0 } else { self.used >= self.limit }
    }

    /// What the meter means for the customer, once there is something to say: the limit
    /// reached and requests refused (until the reset, or until an upgrade for a lifetime
    /// limit), usage continuing over a soft limit, or the limit approaching.
    pub fn note(&self) -> Option<String> {
        let reached = self.limit_reached();
        if reached && self.hard {
            let until = match self.resets_at {
                Some(at) => format!("until the limit resets at {}", at.format("%H:%M UTC on %-d %b")),
                None => "until you upgrade".to_owned(),
            };
            return Some(format!("Limit reached: requests that need more are refused {until}."));
        }
        if reached {
            return Some(format!(
                "Over the limit: usage continues and is counted past {} {}.",
                format_number(self.limit),
                self.unit
            ));
        }
        self.is_approaching().then(|| "Approaching the limit: consider upgrading before requests are refused.".to_owned())
    }

    /// The same status, warned from `percent` instead of the default.
    pub fn with_alert_percent(mut self, percent: f64) -> Self {
        self.alert_percent = percent;
        self
    }

    /// Whether the meter has reached the point where the UI warns of the limit.
    pub fn is_approaching(&self) -> bool {
        self.percent >= self.alert_percent
    }

    /// The meter written out, e.g. "19 / 100 items" or "3.2 / 10 MB".
    pub fn usage_text(&self) -> String {
        format!("{} / {} {}", format_number(self.used), format_number(self.limit), self.unit)
    }
}

/// Used over limit in percent, to two decimals. A zero limit is 0% when unused and
/// "infinitely" over (reported as 100% + used) otherwise, so the level is `Exceeded`.
pub fn percent_of(used: f64, limit: f64) -> f64 {
    if limit <= 0.0 {
        return if used > 0.0 { 100.0 + used } else { 0.0 };
    }
    (used / limit * 10_000.0).round() / 100.0
}

/// Dollars for people: "$20", "$1,250", "$0.63", "$12.50"; cents only when there are some.
pub fn format_money(value: f64) -> String {
    let cents = (value * 100.0).round() as i64;
    let whole = format_number((cents / 100) as f64);
    match cents % 100 {
        0 => format!("${whole}"),
        rest => format!("${whole}.{:02}", rest.abs()),
    }
}

/// A number for people: thousands separated, at most one decimal, no trailing ".0".
pub fn format_number(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    let whole = rounded.trunc() as i64;
    let tenths = ((rounded - whole as f64).abs() * 10.0).round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if rounded < 0.0 { "-" } else { "" };
    if tenths == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{tenths}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_change_exactly_at_75_90_and_above_100_percent() {
        let cases = [
            (0.0, QuotaLevel::Ok),
            (74.99, QuotaLevel::Ok),
            (75.0, QuotaLevel::Warning),
            (89.99, QuotaLevel::Warning),
            (90.0, QuotaLevel::Critical),
            (100.0, QuotaLevel::Critical),
            (100.01, QuotaLevel::Exceeded),
            (250.0, QuotaLevel::Exceeded),
        ];
        for (percent, level) in cases {
            assert_eq!(QuotaLevel::from_percent(percent), level, "at {percent}%");
        }
    }

    #[test]
    fn a_status_derives_percent_and_level_from_used_and_limit() {
        let status = QuotaStatus::new("memories", "Memories", "items", 19.0, 100.0, Period::Lifetime);
        assert_eq!(status.percent, 19.0);
        assert_eq!(status.level, QuotaLevel::Ok);
        assert_eq!(status.usage_text(), "19 / 100 items");

        let status = QuotaStatus::new("storage_mb", "Storage", "MB", 3.2, 50.0, Period::Lifetime);
        assert_eq!(status.percent, 6.4);

        let near = QuotaStatus::new("api_calls", "API calls", "calls", 4_500.0, 5_000.0, Period::Day);
        assert_eq!(near.level, QuotaLevel::Critical);
        assert!(near.is_approaching());
        assert_eq!(near.usage_text(), "4,500 / 5,000 calls");

        let over = QuotaStatus::new("memories", "Memories", "items", 112.0, 100.0, Period::Lifetime);
        assert_eq!(over.level, QuotaLevel::Exceeded);
        assert_eq!(over.percent, 112.0);
    }

    #[test]
    fn the_note_says_whether_requests_are_refused_and_until_when() {
        use chrono::TimeZone;
        let midnight = chrono::Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).single();
        let ok = QuotaStatus::new("api_calls", "API calls", "calls", 10.0, 100.0, Period::Day);
        assert_eq!(ok.note(), None);
        let near = QuotaStatus::new("api_calls", "API calls", "calls", 85.0, 100.0, Period::Day).with_enforcement(true, midnight);
        assert!(near.note().is_some_and(|n| n.starts_with("Approaching the limit")));
        for used in [100.0, 112.0] {
            let full = QuotaStatus::new("api_calls", "API calls", "calls", used, 100.0, Period::Day).with_enforcement(true, midnight);
            assert_eq!(
                full.note().as_deref(),
                Some("Limit reached: requests that need more are refused until the limit resets at 00:00 UTC on 4 Dec.")
            );
        }
        let lifetime = QuotaStatus::new("memories", "Memories", "items", 100.0, 100.0, Period::Lifetime);
        assert_eq!(lifetime.note().as_deref(), Some("Limit reached: requests that need more are refused until you upgrade."));
        let soft = QuotaStatus::new("storage_mb", "Storage", "MB", 11_000.0, 10_240.0, Period::Lifetime).with_enforcement(false, None);
        assert_eq!(soft.note().as_deref(), Some("Over the limit: usage continues and is counted past 10,240 MB."));
        // A zero limit is reached by any use.
        let zero = QuotaStatus::new("memories", "Memories", "items", 1.0, 0.0, Period::Lifetime);
        assert!(zero.note().is_some_and(|n| n.starts_with("Limit reached")));
    }

    #[test]
    fn a_zero_limit_is_exceeded_only_once_used() {
        assert_eq!(QuotaLevel::from_percent(percent_of(0.0, 0.0)), QuotaLevel::Ok);
        assert_eq!(QuotaLevel::from_percent(percent_of(1.0, 0.0)), QuotaLevel::Exceeded);
    }

    #[test]
    fn money_is_in_dollars_and_cents() {
        assert_eq!(format_money(20.0), "$20");
        assert_eq!(format_money(1_250.0), "$1,250");
        assert_eq!(format_money(0.625), "$0.63");
        assert_eq!(format_money(12.5), "$12.50");
        assert_eq!(format_money(0.004), "$0");
    }

    #[test]
    fn numbers_are_grouped_and_trimmed() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(999.0), "999");
        assert_eq!(format_number(1_000.0), "1,000");
        assert_eq!(format_number(1_000_000.0), "1,000,000");
        assert_eq!(format_number(3.24), "3.2");
        assert_eq!(format_number(10_240.5), "10,240.5");
    }
}
