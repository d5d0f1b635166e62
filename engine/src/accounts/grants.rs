//! Grants: overrides on top of an account's plan (a higher limit, an extra feature, the
//! bypass), each with a reason, an optional expiry and an audit entry.

use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError, GrantId};
pub use model::{Grant, GrantKind, NewGrant};

impl Engine {
    /// Grants an account an override on top of its plan, and records who did it.
    pub async fn create_grant(&self, actor: &str, account: &AccountId, grant: NewGrant) -> Result<Grant, EngineError> {
        let now = self.now();
        self.access(account).await?;
        let foreign = match grant.kind {
            GrantKind::Limit => grant.feature.is_some().then_some("feature"),
            GrantKind::Feature => grant.meter.as_ref().map(|_| "meter").or(grant.value.map(|_| "value")),
            GrantKind::Bypass => grant.meter.as_ref().map(|_| "meter").or(grant.value.map(|_| "value")).or(grant.feature.as_ref().map(|_| "feature")),
        };
        if let Some(field) = foreign {
            return Err(EngineError::invalid(field, format!("a {} grant takes no {field}", grant.kind.as_str())));
        }
        match grant.kind {
            GrantKind::Limit => {
                let meter = grant.meter.as_deref().ok_or(EngineError::invalid("meter", "a limit grant names a meter"))?;
                if self.catalog().meter(meter).is_none() {
                    return Err(EngineError::invalid("meter", format!("unknown meter `{meter}`")));
                }
                if let Some(value) = grant.value {
                    if !value.is_finite() || value < 0.0 {
                        return Err(EngineError::invalid("value", "a limit must be a finite number, zero or more"));
                    }
                }
            }
            GrantKind::Feature => {
                let feature = grant.feature.as_deref().ok_or(EngineError::invalid("feature", "a feature grant names a feature"))?;
                if !self.catalog().knows_feature(feature) {
                    return Err(EngineError::invalid("feature", format!("unknown feature `{feature}`")));
                }
            }
            GrantKind::Bypass => {}
        }
        if grant.expires_at.is_some_and(|t| t <= now) {
            return Err(EngineError::invalid("expires_at", "must be in the future"));
        }
        if !model::grant::grant_reason_ok(&grant.reason) {
            return Err(EngineError::invalid("reason", "at most 500 characters, and no control characters but new lines and tabs"));
        }
        let created = Grant {
            id: crate::ids::new_id("grant"),
            kind: grant.kind,
            meter: grant.meter.filter(|_| grant.kind == GrantKind::Limit),
            value: grant.value.filter(|_| grant.kind == GrantKind::Limit),
            feature: grant.feature.filter(|_| grant.kind == GrantKind::Feature),
            reason: grant.reason,
            expires_at: grant.expires_at,
            created_by: actor.to_owned(),
            created_at: now,
        };
        let mut tx = self.db().pool().begin().await?;
        sqlx::query(
            "INSERT INTO grants (id, account_id, kind, meter, value, feature, reason, expires_at, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(created.id.as_str())
        .bind(account.as_str())
        .bind(created.kind.as_str())
        .bind(&created.meter)
        .bind(created.value)
        .bind(&created.feature)
        .bind(&created.reason)
        .bind(created.expires_at)
        .bind(&created.created_by)
        .bind(created.created_at)
        .execute(&mut *tx)
        .await?;
        let after = serde_json::to_string(&created).ok();
        let entry = Entry::new(actor, Some(account), "grant.created", now).target(created.id.as_str()).change(None, after.as_deref());
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        self.access_cache().forget(account);
        Ok(created)
    }

    /// The account's grants that are neither revoked nor expired.
    pub async fn list_grants(&self, account: &AccountId) -> Result<Vec<Grant>, EngineError> {
        let now = self.now();
        Ok(self.access(account).await?.grants.iter().filter(|g| g.live(now)).cloned().collect())
    }

    /// Withdraws a grant at once.
    pub async fn revoke_grant(&self, actor: &str, account: &AccountId, grant_id: &GrantId) -> Result<(), EngineError> {
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let done = sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(grant_id.as_str())
            .bind(account.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if done == 0 {
            return Err(EngineError::NotFound("grant"));
        }
        audit::record(&mut tx, Entry::new(actor, Some(account), "grant.revoked", now).target(grant_id.as_str())).await?;
        tx.commit().await?;
        self.access_cache().forget(account);
        Ok(())
    }
}
