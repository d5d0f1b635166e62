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
        }
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
    fn a_zero_limit_is_exceeded_only_once_used() {
        assert_eq!(QuotaLevel::from_percent(percent_of(0.0, 0.0)), QuotaLevel::Ok);
        assert_eq!(QuotaLevel::from_percent(percent_of(1.0, 0.0)), QuotaLevel::Exceeded);
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
