//! The rollup tables: the SQL that folds a change into them, and the reads a page or a
//! quota decision makes of them. A leaf: it knows the tables and the catalog's meters only.

use crate::catalog::Meter;
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, TimeDelta, Utc};
use model::{Aggregation, DayCount, Period};
use std::sync::OnceLock;

/// The first day of the UTC month holding `day`.
pub fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// When the period holding `now` ends.
pub fn period_end(period: Period, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    match period {
        Period::Minute => now.duration_trunc(TimeDelta::minutes(1)).ok().map(|m| m + TimeDelta::minutes(1)),
        Period::Day => now.date_naive().succ_opt().and_then(midnight),
        Period::Month => midnight(month_start(month_start(now.date_naive()) + Duration::days(32))),
        Period::Lifetime => None,
    }
}

/// `days` consecutive days ending with `today`, oldest first, with the value of each day
/// taken from `rows` and zero where a day has no row.
pub fn zero_filled(today: NaiveDate, days: u32, rows: &[(NaiveDate, f64)]) -> Vec<DayCount> {
    (0..days)
        .rev()
        .map(|back| {
            let day = today - Duration::days(i64::from(back));
            let value = rows.iter().filter(|(d, _)| *d == day).map(|(_, v)| *v).sum();
            DayCount { day, value }
        })
        .collect()
}

/// The upsert that folds one change into a rollup row, by aggregation. Portable SQL:
/// `ON CONFLICT … DO UPDATE` and `CASE` work alike in SQLite and PostgreSQL. Built once.
pub(crate) fn rollup_sql(table: Rollup, aggregation: Aggregation) -> &'static str {
    static STATEMENTS: OnceLock<Vec<String>> = OnceLock::new();
    let statements = STATEMENTS.get_or_init(|| {
        let build = |(table, bucket): (&str, &str), aggregation: Aggregation| {
            let newer = format!("excluded.observed_at >= {table}.observed_at");
            let value = match aggregation {
                Aggregation::Sum => format!("{table}.value + excluded.value"),
                // A level is replaced only by a newer one, so late events cannot roll it back.
                Aggregation::Last => format!("CASE WHEN {newer} THEN excluded.value ELSE {table}.value END"),
                Aggregation::Max => format!("CASE WHEN excluded.value > {table}.value THEN excluded.value ELSE {table}.value END"),
            };
            format!(
                "INSERT INTO {table} (account_id, meter, {bucket}, value, observed_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (account_id, meter, {bucket}) DO UPDATE SET value = {value},
                 observed_at = CASE WHEN {newer} THEN excluded.observed_at ELSE {table}.observed_at END"
            )
        };
        Rollup::ALL
            .iter()
            .flat_map(|table| AGGREGATIONS.iter().map(move |aggregation| build(table.names(), *aggregation)))
            .collect()
    });
    let row = Rollup::ALL.iter().position(|t| *t == table).unwrap_or(0);
    let column = AGGREGATIONS.iter().position(|a| *a == aggregation).unwrap_or(0);
    &statements[row * AGGREGATIONS.len() + column]
}

const AGGREGATIONS: [Aggregation; 3] = [Aggregation::Sum, Aggregation::Last, Aggregation::Max];

/// The rollup tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rollup {
    Minute,
    Daily,
    Monthly,
}

impl Rollup {
    const ALL: [Rollup; 3] = [Rollup::Minute, Rollup::Daily, Rollup::Monthly];

    /// The table and its bucket column.
    pub(crate) fn names(self) -> (&'static str, &'static str) {
        match self {
            Rollup::Minute => ("usage_minutely", "minute"),
            Rollup::Daily => ("usage_daily", "day"),
            Rollup::Monthly => ("usage_monthly", "month"),
        }
    }
}

impl Engine {
    /// The meter's value over the limit's period, as of `now`.
    pub(crate) async fn current_usage(
        &self,
        account: &AccountId,
        meter: &Meter,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<f64, EngineError> {
        let pool = self.db().pool();
        let today = now.date_naive();
        let value: Option<f64> = match (meter.aggregation, period) {
            // A level is a level, whatever the period: the newest one counts.
            (Aggregation::Last, _) => sqlx::query_scalar(
                "SELECT value FROM usage_daily WHERE account_id = $1 AND meter = $2 ORDER BY day DESC LIMIT 1",
            )
            .bind(account.as_str())
            .bind(&meter.key)
            .fetch_optional(pool)
            .await?,
            (aggregation, Period::Minute) => {
                let _ = aggregation;
                sqlx::query_scalar("SELECT value FROM usage_minutely WHERE account_id = $1 AND meter = $2 AND minute = $3")
                    .bind(account.as_str())
                    .bind(&meter.key)
                    .bind(now.duration_trunc(chrono::TimeDelta::minutes(1)).unwrap_or(now))
                    .fetch_optional(pool)
                    .await?
            }
            (_, Period::Day) => sqlx::query_scalar(
                "SELECT value FROM usage_daily WHERE account_id = $1 AND meter = $2 AND day = $3",
            )
            .bind(account.as_str())
            .bind(&meter.key)
            .bind(today)
            .fetch_optional(pool)
            .await?,
            (_, Period::Month) => sqlx::query_scalar(
                "SELECT value FROM usage_monthly WHERE account_id = $1 AND meter = $2 AND month = $3",
            )
            .bind(account.as_str())
            .bind(&meter.key)
            .bind(month_start(today))
            .fetch_optional(pool)
            .await?,
            (aggregation, Period::Lifetime) => {
                let sql = if aggregation == Aggregation::Sum {
                    "SELECT SUM(value) FROM usage_monthly WHERE account_id = $1 AND meter = $2"
                } else {
                    "SELECT MAX(value) FROM usage_monthly WHERE account_id = $1 AND meter = $2"
                };
                sqlx::query_scalar(sql).bind(account.as_str()).bind(&meter.key).fetch_one(pool).await?
            }
        };
        Ok(value.unwrap_or(0.0))
    }

    /// Daily values of a meter for the `days` days ending today, zero-filled.
    pub async fn daily_series(
        &self,
        account: &AccountId,
        meter_key: &str,
        days: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<DayCount>, EngineError> {
        let today = now.date_naive();
        let first = today - Duration::days(i64::from(days.saturating_sub(1)));
        let rows: Vec<(NaiveDate, f64)> = sqlx::query_as(
            "SELECT day, value FROM usage_daily WHERE account_id = $1 AND meter = $2 AND day >= $3 AND day <= $4",
        )
        .bind(account.as_str())
        .bind(meter_key)
        .bind(first)
        .bind(today)
        .fetch_all(self.db().pool())
        .await?;
        Ok(zero_filled(today, days, &rows))
    }

    /// The account's daily usage of every meter over the last `days` days, as CSV
    /// (`day,meter,value`, oldest first, zero-filled).
    pub async fn usage_csv(&self, account: &AccountId, days: u32) -> Result<String, EngineError> {
        let now = self.now();
        let mut out = String::from("day,meter,value\n");
        let mut series = Vec::new();
        for meter in self.catalog().meters() {
            series.push((meter.key.clone(), self.daily_series(account, &meter.key, days, now).await?));
        }
        for i in 0..days as usize {
            for (meter, days) in &series {
                if let Some(d) = days.get(i) {
                    out.push_str(&format!("{},{},{}\n", d.day, meter, d.value));
                }
            }
        }
        Ok(out)
    }

    /// API calls (the chart meter) recorded in the current minute.
    pub async fn calls_this_minute(&self, account: &AccountId) -> Result<f64, EngineError> {
        let Some(meter) = self.catalog().chart_meter() else { return Ok(0.0) };
        let now = self.now();
        let minute = now.duration_trunc(chrono::TimeDelta::minutes(1)).unwrap_or(now);
        let value: Option<f64> =
            sqlx::query_scalar("SELECT value FROM usage_minutely WHERE account_id = $1 AND meter = $2 AND minute = $3")
                .bind(account.as_str())
                .bind(&meter.key)
                .bind(minute)
                .fetch_optional(self.db().pool())
                .await?;
        Ok(value.unwrap_or(0.0))
    }

    /// Deletes per-minute rollups older than two days; they serve only minute periods.
    pub async fn prune_minute_rollups(&self) -> Result<u64, EngineError> {
        let cutoff = self.now() - Duration::days(2);
        Ok(sqlx::query("DELETE FROM usage_minutely WHERE minute < $1").bind(cutoff).execute(self.db().pool()).await?.rows_affected())
    }

    /// When usage was last recorded for the account.
    pub(crate) async fn last_usage_at(&self, account: &AccountId) -> Result<Option<DateTime<Utc>>, EngineError> {
        Ok(sqlx::query_scalar("SELECT MAX(observed_at) FROM usage_daily WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_one(self.db().pool())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn periods_end_at_the_next_utc_boundary() {
        use chrono::TimeZone;
        let at = |y, mo, d, h, mi, s| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("valid time");
        let now = at(2026, 12, 31, 23, 59, 30);
        assert_eq!(period_end(Period::Minute, now), Some(at(2027, 1, 1, 0, 0, 0)));
        assert_eq!(period_end(Period::Day, now), Some(at(2027, 1, 1, 0, 0, 0)));
        assert_eq!(period_end(Period::Month, now), Some(at(2027, 1, 1, 0, 0, 0)));
        assert_eq!(period_end(Period::Month, at(2028, 2, 10, 8, 0, 0)), Some(at(2028, 3, 1, 0, 0, 0)));
        assert_eq!(period_end(Period::Day, at(2028, 2, 28, 8, 0, 0)), Some(at(2028, 2, 29, 0, 0, 0)));
        assert_eq!(period_end(Period::Lifetime, now), None);
    }

    #[test]
    fn the_seven_day_series_is_zero_filled_across_a_month_boundary() {
        let rows = [(day(2026, 2, 27), 5.0), (day(2026, 3, 1), 7.0), (day(2026, 3, 3), 11.0), (day(2026, 2, 20), 99.0)];
        let series = zero_filled(day(2026, 3, 3), 7, &rows);
        let days: Vec<_> = series.iter().map(|c| c.day).collect();
        assert_eq!(days, [
            day(2026, 2, 25), day(2026, 2, 26), day(2026, 2, 27), day(2026, 2, 28),
            day(2026, 3, 1), day(2026, 3, 2), day(2026, 3, 3),
        ]);
        let values: Vec<_> = series.iter().map(|c| c.value).collect();
        assert_eq!(values, [0.0, 0.0, 5.0, 0.0, 7.0, 0.0, 11.0], "the row outside the window is ignored");
    }

    #[test]
    fn the_series_crosses_a_leap_day_and_a_year_end() {
        let leap = zero_filled(day(2028, 3, 1), 3, &[(day(2028, 2, 29), 1.0)]);
        assert_eq!(leap.iter().map(|c| c.day).collect::<Vec<_>>(), [day(2028, 2, 28), day(2028, 2, 29), day(2028, 3, 1)]);
        assert_eq!(leap[1].value, 1.0);
        let year = zero_filled(day(2027, 1, 2), 7, &[]);
        assert_eq!(year.first().map(|c| c.day), Some(day(2026, 12, 27)));
        assert!(year.iter().all(|c| c.value == 0.0));
    }

    #[test]
    fn month_start_is_the_first_of_the_utc_month() {
        assert_eq!(month_start(day(2026, 11, 22)), day(2026, 11, 1));
        assert_eq!(month_start(day(2026, 1, 1)), day(2026, 1, 1));
    }
}
