//! Custom alert thresholds: an account's own warning percentage per meter, a gated
//! feature of Tollgate's own. The hot path reads them with the cached license.

use crate::accounts::access::AccountInfo;
use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError};
use std::collections::BTreeMap;

/// The feature that lets an account set its own alert thresholds.
pub const ALERT_FEATURE: &str = "custom_alert_thresholds";

impl Engine {
    /// The account's own alert thresholds, by meter (percent of the limit).
    pub async fn alert_thresholds(&self, account: &AccountId) -> Result<BTreeMap<String, f64>, EngineError> {
        let rows: Vec<(String, f64)> = sqlx::query_as("SELECT meter, percent FROM alert_thresholds WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_all(self.db().pool())
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Sets (or with `None`, removes) the account's alert threshold for a meter. Needs
    /// the `custom_alert_thresholds` feature.
    pub async fn set_alert_threshold(&self, actor: &str, info: &AccountInfo, meter: &str, percent: Option<f64>) -> Result<(), EngineError> {
        self.require_feature(info, ALERT_FEATURE)?;
        if self.catalog().meter(meter).is_none() {
            return Err(EngineError::invalid("meter", format!("unknown meter `{meter}`")));
        }
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        match percent {
            Some(p) if !(1.0..=100.0).contains(&p) || !p.is_finite() => {
                return Err(EngineError::invalid("percent", "choose a percentage from 1 to 100"));
            }
            Some(p) => {
                sqlx::query(
                    "INSERT INTO alert_thresholds (account_id, meter, percent) VALUES ($1, $2, $3)
                     ON CONFLICT (account_id, meter) DO UPDATE SET percent = excluded.percent",
                )
                .bind(info.account.as_str())
                .bind(meter)
                .bind(p)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM alert_thresholds WHERE account_id = $1 AND meter = $2")
                    .bind(info.account.as_str())
                    .bind(meter)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let after = percent.map(|p| p.to_string()).unwrap_or_else(|| "default".into());
        let entry = Entry::new(actor, Some(&info.account), "alert_threshold.set", now).target(meter).change(Some(""), Some(&after));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        self.access_cache().forget(&info.account);
        Ok(())
    }
}
