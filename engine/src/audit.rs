//! The audit log: who did what to which account, and when.
//!
//! [`record`] is the only writer. It runs inside the caller's transaction, so an entry
//! exists exactly when the change it describes was committed; its time is the engine's
//! clock, passed in by the caller with the change.

use crate::{AccountId, EngineError};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// One audit entry, built by the code that makes the change.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    actor: &'a str,
    account: Option<&'a AccountId>,
    action: &'a str,
    target: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
    at: DateTime<Utc>,
}

impl<'a> Entry<'a> {
    pub(crate) fn new(actor: &'a str, account: Option<&'a AccountId>, action: &'a str, at: DateTime<Utc>) -> Self {
        Self { actor, account, action, target: None, before: None, after: None, at }
    }

    /// What the action was done to (a key id, a request id, an email).
    pub(crate) fn target(mut self, target: &'a str) -> Self {
        self.target = Some(target);
        self
    }

    /// The value before and after, where the action changed one.
    pub(crate) fn change(mut self, before: Option<&'a str>, after: Option<&'a str>) -> Self {
        self.before = before;
        self.after = after;
        self
    }
}

/// Writes `entry` in the caller's transaction.
pub(crate) async fn record(tx: &mut SqliteConnection, entry: Entry<'_>) -> Result<(), EngineError> {
    sqlx::query("INSERT INTO audit_log (id, at, actor, account_id, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(format!("aud_{}", uuid::Uuid::new_v4().simple()))
        .bind(entry.at)
        .bind(entry.actor)
        .bind(entry.account.map(AccountId::as_str))
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.before)
        .bind(entry.after)
        .execute(tx)
        .await?;
    Ok(())
}
