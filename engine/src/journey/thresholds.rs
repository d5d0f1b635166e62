//! Custom alert thresholds: an account's own warning points per meter (percentages of the
//! limit or amounts of the unit, up to five), a gated feature of Tollgate's own. The hot
//! path reads them with the cached license.

use crate::accounts::access::AccountInfo;
use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError};
use model::AlertThreshold;
use std::collections::BTreeMap;

/// The feature that lets an account set its own alert thresholds.
pub const ALERT_FEATURE: &str = "custom_alert_thresholds";

impl Engine {
    /// The account's own alert thresholds, by meter, each list as stored (percentages
    /// first, then amounts, each ascending).
    pub async fn alert_thresholds(&self, account: &AccountId) -> Result<BTreeMap<String, Vec<AlertThreshold>>, EngineError> {
        let rows: Vec<(String, f64, bool)> = sqlx::query_as("SELECT meter, value, absolute FROM alert_rules WHERE account_id = $1 ORDER BY meter, absolute, value")
            .bind(account.as_str())
            .fetch_all(self.db().pool())
            .await?;
        let mut out: BTreeMap<String, Vec<AlertThreshold>> = BTreeMap::new();
        for (meter, value, absolute) in rows {
            out.entry(meter).or_default().push(AlertThreshold { value, absolute });
        }
        Ok(out)
    }

    /// Replaces the account's alert thresholds for a meter (an empty list: back to the
    /// catalog's default). Needs the `custom_alert_thresholds` feature.
    pub async fn set_alert_thresholds(&self, actor: &str, info: &AccountInfo, meter: &str, thresholds: &[AlertThreshold]) -> Result<(), EngineError> {
        self.require_feature(info, ALERT_FEATURE)?;
        if self.catalog().meter(meter).is_none() {
            return Err(EngineError::invalid("meter", format!("unknown meter `{meter}`")));
        }
        if thresholds.len() > model::notification::MAX_THRESHOLDS_PER_METER {
            return Err(EngineError::invalid("thresholds", format!("at most {} thresholds per meter", model::notification::MAX_THRESHOLDS_PER_METER)));
        }
        for threshold in thresholds {
            threshold.check().map_err(|message| EngineError::invalid("thresholds", message))?;
        }
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        sqlx::query("DELETE FROM alert_rules WHERE account_id = $1 AND meter = $2").bind(info.account.as_str()).bind(meter).execute(&mut *tx).await?;
        for threshold in thresholds {
            sqlx::query("INSERT INTO alert_rules (account_id, meter, value, absolute) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(info.account.as_str())
                .bind(meter)
                .bind(threshold.value)
                .bind(threshold.absolute)
                .execute(&mut *tx)
                .await?;
        }
        let unit = self.catalog().meter(meter).map(|m| m.unit.clone()).unwrap_or_default();
        let after = if thresholds.is_empty() { "default".to_owned() } else { thresholds.iter().map(|t| t.label(&unit)).collect::<Vec<_>>().join(", ") };
        let entry = Entry::new(actor, Some(&info.account), "alert_threshold.set", now).target(meter).change(None, Some(&after));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        self.access_cache().forget(&info.account);
        Ok(())
    }
}
