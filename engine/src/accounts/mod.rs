//! Accounts and what they may do: creation (one path for sign-up, the CLI, demo data and
//! billing provisioning), the license and its history, the hot-path cache, grants.

pub mod access;
pub mod grants;
pub mod license;

use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use model::{AccountSummary, LicenseStatus};
use sqlx::SqliteConnection;

/// A new account and its license.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub name: String,
    pub plan_id: String,
    pub status: LicenseStatus,
    pub seats: u32,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where a new license came from: `manual` (sign-up, the CLI, demo data) or a billing
/// provider with the subscription it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub name: &'a str,
    pub external_id: Option<&'a str>,
}

impl Source<'static> {
    pub(crate) const MANUAL: Self = Source { name: "manual", external_id: None };
}

/// The one way an account is created: the account row and its license, inside the
/// caller's transaction.
pub(crate) async fn insert_account(tx: &mut SqliteConnection, new: &NewAccount, source: Source<'_>) -> Result<(), EngineError> {
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(new.id.as_str())
        .bind(&new.name)
        .bind(new.starts_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO licenses (id, account_id, plan_id, status, seats, starts_at, expires_at, source, external_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6)",
    )
    .bind(format!("lic_{}", uuid::Uuid::new_v4().simple()))
    .bind(new.id.as_str())
    .bind(&new.plan_id)
    .bind(new.status.as_str())
    .bind(i64::from(new.seats))
    .bind(new.starts_at)
    .bind(new.expires_at)
    .bind(source.name)
    .bind(source.external_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Engine {
    /// Lists every account with its plan and status, oldest first (operators only).
    pub async fn list_accounts(&self) -> Result<Vec<AccountSummary>, EngineError> {
        type Row = (String, String, String, String, i64, Option<DateTime<Utc>>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.id, a.name, l.plan_id, l.status, l.seats, l.expires_at
             FROM accounts a JOIN licenses l ON l.account_id = a.id ORDER BY a.created_at, a.id",
        )
        .fetch_all(self.db().pool())
        .await?;
        rows.into_iter()
            .map(|(id, name, plan, status, seats, expires_at)| {
                let status = status.parse().map_err(|message| EngineError::Invalid { field: "status", message })?;
                Ok(AccountSummary { id: AccountId::try_from(id)?, name, plan, status, seats: u32::try_from(seats).unwrap_or(0), expires_at })
            })
            .collect()
    }

    /// Creates an account with its license (the CLI and demo data).
    pub async fn create_account(&self, new: &NewAccount) -> Result<(), EngineError> {
        if self.catalog().plan(&new.plan_id).is_none() {
            return Err(EngineError::UnknownPlan(new.plan_id.clone()));
        }
        let mut tx = self.db().pool().begin().await?;
        insert_account(&mut tx, new, Source::MANUAL).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the database holds no accounts yet.
    pub async fn is_empty(&self) -> Result<bool, EngineError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(self.db().pool()).await?;
        Ok(count == 0)
    }
}
