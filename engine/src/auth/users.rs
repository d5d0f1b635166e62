//! Users: created by sign-up, the CLI, demo mode or billing provisioning, through
//! [`insert_user`]; passwords only as argon2id hashes.

use super::credentials::{hash_password, Email, Password};
use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use model::Role;
use sqlx::SqliteConnection;

/// A user to insert, with the password already hashed (hashing is slow; it happens
/// before the transaction opens).
#[derive(Debug)]
pub(crate) struct NewUser<'a> {
    pub account: Option<&'a AccountId>,
    pub email: &'a Email,
    pub password_hash: String,
    pub role: Role,
    /// Provisioned by a billing provider: the owner sets a password through a link.
    pub awaiting_first_signin: bool,
    /// Whether the email is known to be the user's: provisioned by the billing provider,
    /// or added by the operator. A self-signed-up email is not, and no provider event is
    /// ever matched to it.
    pub email_verified: bool,
    pub at: DateTime<Utc>,
}

/// The one way a user is created, inside the caller's transaction. Returns the user's id.
pub(crate) async fn insert_user(tx: &mut SqliteConnection, user: &NewUser<'_>) -> Result<String, EngineError> {
    if user.role != Role::Admin && user.account.is_none() {
        return Err(EngineError::invalid("account", "members and owners belong to an account"));
    }
    let id = format!("usr_{}", uuid::Uuid::new_v4().simple());
    let result = sqlx::query(
        "INSERT INTO users (id, account_id, email, password_hash, role, created_at, password_changed_at, awaiting_first_signin, email_verified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
    )
    .bind(&id)
    .bind(user.account.map(AccountId::as_str))
    .bind(user.email.as_str())
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.at)
    .bind(user.awaiting_first_signin)
    .bind(user.email_verified.then_some(user.at))
    .execute(tx)
    .await;
    match result {
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(EngineError::Conflict { field: "email", message: "a user with this email already exists".into() })
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => Err(EngineError::NotFound("account")),
        Err(err) => Err(err.into()),
    }
}

impl Engine {
    /// Adds a user (the CLI and demo mode). Customers (`member`, `owner`) need an account;
    /// admins may have none.
    pub async fn create_user(&self, email: &Email, password: &Password, role: Role, account: Option<&AccountId>) -> Result<String, EngineError> {
        if role != Role::Admin && account.is_none() {
            return Err(EngineError::invalid("account", "members and owners belong to an account"));
        }
        let password_hash = hash_password(password).await?;
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        // The operator added this user: the operator vouches for the email.
        let user = NewUser { account, email, password_hash, role, awaiting_first_signin: false, email_verified: true, at: now };
        let id = insert_user(&mut tx, &user).await?;
        let entry = Entry::new("cli", account, "user.created", now).target(email.as_str()).change(None, Some(role.as_str()));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(id)
    }
}
