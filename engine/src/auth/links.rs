//! Sign-in links: how an owner created by a purchase sets a password and gets in.
//!
//! An admin issues a link (shown once; only its SHA-256 is stored). It works once, within
//! [`LINK_LIFETIME`]. Using it sets the password, signs the owner in, and creates the
//! account's first API key if it has none, shown on that page and nowhere else.

use super::credentials::{hash_password, KeyName};
use super::{random_base62, sha256_hex, Password, SessionToken};
use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError, UserId};
use chrono::{DateTime, Duration, Utc};
use model::{AwaitingSignIn, CreatedKey, KeyKind};

/// How long a sign-in link works.
pub const LINK_LIFETIME: Duration = Duration::hours(72);

/// What using a link gives.
#[derive(Debug)]
pub struct Redeemed {
    pub session: SessionToken,
    /// The account's first API key, when it had none.
    pub first_key: Option<CreatedKey>,
}

impl Engine {
    /// Owners created by a purchase who have not signed in yet.
    pub async fn awaiting_first_signin(&self) -> Result<Vec<AwaitingSignIn>, EngineError> {
        let rows: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT u.id, u.email, a.name, u.created_at FROM users u JOIN accounts a ON a.id = u.account_id
             WHERE u.awaiting_first_signin ORDER BY u.created_at DESC LIMIT 200",
        )
        .fetch_all(self.db().pool())
        .await?;
        rows.into_iter()
            .map(|(user_id, email, account_name, created_at)| Ok(AwaitingSignIn { user_id: UserId::try_from(user_id)?, email, account_name, created_at }))
            .collect()
    }

    /// Issues a sign-in link token for a user, replacing any unused one. The plaintext is
    /// in the answer only.
    pub async fn issue_signin_link(&self, actor: &str, user_id: &UserId) -> Result<(String, DateTime<Utc>), EngineError> {
        let now = self.now();
        let user: Option<(Option<String>, String)> = sqlx::query_as("SELECT account_id, role FROM users WHERE id = $1")
            .bind(user_id.as_str())
            .fetch_optional(self.db().pool())
            .await?;
        let (account, role) = user.ok_or(EngineError::NotFound("user"))?;
        // A link signs its holder in as the user: one admin must not become another.
        if role == model::Role::Admin.as_str() {
            return Err(EngineError::Forbidden("a sign-in link cannot be issued for an admin; admins reset passwords with the CLI"));
        }
        let account = account.map(|a| AccountId::parse(&a)).transpose()?;
        let token = random_base62(43);
        let expires_at = now + LINK_LIFETIME;
        let mut tx = self.db().pool().begin().await?;
        sqlx::query("DELETE FROM signin_links WHERE user_id = $1 AND used_at IS NULL").bind(user_id.as_str()).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO signin_links (token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256_hex(&token))
            .bind(user_id.as_str())
            .bind(actor)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, Entry::new(actor, account.as_ref(), "signin_link.issued", now).target(user_id.as_str())).await?;
        tx.commit().await?;
        Ok((token, expires_at))
    }

    /// Uses a link: sets the password, signs the user in, and hands over the first key.
    /// An unknown, used or expired link gets the same answer.
    /// Throttled per client address; the link is looked up before the (costly) password
    /// hash, so a stream of made-up tokens never reaches argon2.
    pub async fn redeem_signin_link(&self, token: &str, password: &str, client: Option<std::net::IpAddr>) -> Result<Redeemed, EngineError> {
        let now = self.now();
        self.throttle().redemption(client).map_err(|wait| EngineError::Throttled { retry_after_secs: wait.as_secs().max(1) })?;
        let password = Password::parse(password)?;
        let refused = || EngineError::invalid("link", "this sign-in link is not valid any more: it was used, replaced or expired; ask for a new one");
        if token.len() != 43 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(refused());
        }
        let usable: Option<String> = sqlx::query_scalar("SELECT user_id FROM signin_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(sha256_hex(token))
            .bind(now)
            .fetch_optional(self.db().pool())
            .await?;
        if usable.is_none() {
            return Err(refused());
        }
        let hash = hash_password(&password).await?;
        let mut tx = self.db().pool().begin().await?;
        // Claim the link first: of two racing uses, only one updates the row.
        let claimed: Option<(String, Option<String>, String)> = sqlx::query_as(
            "UPDATE signin_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING user_id, (SELECT account_id FROM users WHERE users.id = signin_links.user_id), (SELECT email FROM users WHERE users.id = signin_links.user_id)",
        )
        .bind(now)
        .bind(sha256_hex(token))
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, account, email) = claimed.ok_or_else(refused)?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, awaiting_first_signin = FALSE WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        // Whoever held a session for this user before the link was used is signed out.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&user_id).execute(&mut *tx).await?;
        let account = account.map(|a| AccountId::parse(&a)).transpose()?;
        audit::record(&mut tx, Entry::new(&email, account.as_ref(), "signin_link.used", now).target(&user_id)).await?;
        tx.commit().await?;
        self.session_cache().forget_user(&user_id);
        let session = self.start_session(&user_id, now).await?;
        let first_key = match &account {
            Some(account) if self.list_keys(account).await?.is_empty() => {
                let name = KeyName::parse("First key")?;
                Some(self.create_key(&email, Some(account), KeyKind::Live, &name, None, now).await?)
            }
            _ => None,
        };
        Ok(Redeemed { session, first_key })
    }
}
