//! `upgrade_required` refusals, counted per account, feature and day for the "repeated
//! refusals" suggestion. Counted in memory on the hot path and written in one
//! transaction every few seconds, so a flood of refusals never competes with the usage
//! writer for the database.

use std::collections::BTreeMap;

impl crate::Engine {
    /// The account's refusals per feature since `first`: kept beside its cached license, which
    /// [`crate::Engine::flush_refusals`] drops when it writes new ones.
    pub(super) async fn refusals_since(&self, account: &crate::AccountId, first: chrono::NaiveDate) -> Result<BTreeMap<String, u32>, crate::EngineError> {
        let info = self.access(account).await?;
        let (since, cached) = info.refusals.get_or_try_init(|| async { Ok::<_, crate::EngineError>((first, self.read_refusals(account, first).await?)) }).await?;
        if *since == first {
            return Ok(cached.clone());
        }
        self.read_refusals(account, first).await
    }

    async fn read_refusals(&self, account: &crate::AccountId, first: chrono::NaiveDate) -> Result<BTreeMap<String, u32>, crate::EngineError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT feature, SUM(refusals) FROM feature_refusals WHERE account_id = $1 AND day >= $2 GROUP BY feature",
        )
        .bind(account.as_str())
        .bind(first)
        .fetch_all(self.db().pool())
        .await?;
        Ok(rows.into_iter().map(|(f, n)| (f, u32::try_from(n).unwrap_or(u32::MAX))).collect())
    }

    /// Counts an `upgrade_required` refusal, for the "repeated refusals" suggestion. Counted
    /// in memory and written in one transaction by [`crate::Engine::flush_refusals`], so a flood of
    /// refusals never competes with the usage writer for the database.
    pub(crate) fn record_refusal(&self, account: &crate::AccountId, feature: &str) {
        let key = (account.to_string(), feature.to_owned(), self.now().date_naive());
        let mut counts = self.refusal_counts().lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(key).or_insert(0) += 1;
    }

    /// Writes the refusals counted since the last flush (the jobs call it every 10 seconds;
    /// suggestions call it before reading).
    pub async fn flush_refusals(&self) -> Result<(), crate::EngineError> {
        let counts = std::mem::take(&mut *self.refusal_counts().lock().unwrap_or_else(|p| p.into_inner()));
        if counts.is_empty() {
            return Ok(());
        }
        let accounts: std::collections::BTreeSet<String> = counts.keys().map(|(account, ..)| account.clone()).collect();
        let mut tx = self.db().pool().begin().await?;
        for ((account, feature, day), n) in counts {
            sqlx::query(
                "INSERT INTO feature_refusals (account_id, feature, day, refusals) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id, feature, day) DO UPDATE SET refusals = feature_refusals.refusals + excluded.refusals",
            )
            .bind(account)
            .bind(feature)
            .bind(day)
            .bind(i64::from(n))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        for account in accounts.iter().filter_map(|a| crate::AccountId::parse(a).ok()) {
            self.access_cache().forget(&account);
        }
        Ok(())
    }
}
