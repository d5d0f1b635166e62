//! Users: created by sign-up, the CLI or demo mode; passwords only as argon2id hashes.

use super::credentials::{hash_password, Email, Password};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use model::Role;

impl Engine {
    /// Adds a user. Customers (`member`, `owner`) need an account; admins may have none.
    pub async fn create_user(
        &self,
        email: &Email,
        password: &Password,
        role: Role,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<String, EngineError> {
        if role != Role::Admin && account.is_none() {
            return Err(EngineError::invalid("account", "members and owners belong to an account"));
        }
        let hash = hash_password(password).await?;
        let id = format!("usr_{}", uuid::Uuid::new_v4().simple());
        let result = sqlx::query(
            "INSERT INTO users (id, account_id, email, password_hash, role, created_at, password_changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(account.map(AccountId::as_str))
        .bind(email.as_str())
        .bind(hash)
        .bind(role.as_str())
        .bind(now)
        .execute(self.db().pool())
        .await;
        match result {
            Ok(_) => {
                self.audit("cli", account, "user.created", Some(email.as_str()), None, Some(role.as_str())).await?;
                Ok(id)
            }
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(EngineError::Conflict { field: "email", message: "a user with this email already exists".into() })
            }
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => Err(EngineError::NotFound("account")),
            Err(err) => Err(err.into()),
        }
    }

    /// Records who did what, for the audit log.
    pub(crate) async fn audit(
        &self,
        actor: &str,
        account: Option<&AccountId>,
        action: &str,
        target: Option<&str>,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), EngineError> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, account_id, action, target, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(Utc::now())
        .bind(actor)
        .bind(account.map(AccountId::as_str))
        .bind(action)
        .bind(target)
        .bind(before)
        .bind(after)
        .execute(self.db().pool())
        .await?;
        Ok(())
    }
}
