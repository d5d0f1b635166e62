//! Sign-in links: how an owner created by a purchase sets a password and gets in, and how
//! anyone who forgot a password sets a new one.
//!
//! An admin issues a welcome link (shown once; only its SHA-256 is stored). It works once,
//! within [`LINK_LIFETIME`]. Using it sets the password, signs the owner in, and creates
//! the account's first API key if it has none, shown on that page and nowhere else.
//!
//! A password reset link is asked for with an email address and sent to it; it works once,
//! within [`RESET_LIFETIME`]. Asking answers the same whether or not the address has an
//! account, and in the same time: the lookup and the email happen after the answer.

use super::credentials::{hash_password, KeyName};
use super::{random_base62, sha256_hex, Email, Password, SessionToken};
use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError, UserId};
use chrono::{DateTime, Duration, Utc};
use model::{AwaitingSignIn, CreatedKey, KeyKind};

/// How long a sign-in link works.
pub const LINK_LIFETIME: Duration = Duration::hours(72);
/// How long a password reset link works.
pub const RESET_LIFETIME: Duration = Duration::hours(1);
/// Reset emails one address gets in an hour, so the form cannot flood an inbox.
pub const RESETS_PER_HOUR: i64 = 3;

/// What a sign-in link is for; a link works only for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Welcome,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Welcome => "welcome",
            Purpose::Reset => "reset",
        }
    }
}

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
        sqlx::query("DELETE FROM signin_links WHERE user_id = $1 AND used_at IS NULL AND purpose = 'welcome'").bind(user_id.as_str()).execute(&mut *tx).await?;
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

    /// Uses a link for its purpose: sets the password, ends the user's other sessions and
    /// starts one. An unknown, used, expired or other-purpose link gets the same answer.
    async fn redeem(&self, token: &str, password: &str, client: Option<std::net::IpAddr>, purpose: Purpose) -> Result<(SessionToken, Option<AccountId>, String), EngineError> {
        let now = self.now();
        self.throttle().redemption(client).map_err(|wait| EngineError::Throttled { retry_after_secs: wait.as_secs().max(1) })?;
        let password = Password::parse(password)?;
        let refused = || EngineError::invalid("link", "this link is not valid any more: it was used, replaced or expired; ask for a new one");
        if token.len() != 43 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(refused());
        }
        let usable: Option<String> = sqlx::query_scalar("SELECT user_id FROM signin_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND purpose = $3")
            .bind(sha256_hex(token))
            .bind(now)
            .bind(purpose.as_str())
            .fetch_optional(self.db().pool())
            .await?;
        if usable.is_none() {
            return Err(refused());
        }
        let hash = hash_password(&password).await?;
        let mut tx = self.db().pool().begin().await?;
        // Claim the link first: of two racing uses, only one updates the row.
        let claimed: Option<(String, Option<String>, String)> = sqlx::query_as(
            "UPDATE signin_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 AND purpose = $3
             RETURNING user_id, (SELECT account_id FROM users WHERE users.id = signin_links.user_id), (SELECT email FROM users WHERE users.id = signin_links.user_id)",
        )
        .bind(now)
        .bind(sha256_hex(token))
        .bind(purpose.as_str())
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
        let action = if purpose == Purpose::Reset { "password.reset" } else { "signin_link.used" };
        audit::record(&mut tx, Entry::new(&email, account.as_ref(), action, now).target(&user_id)).await?;
        tx.commit().await?;
        self.session_cache().forget_user(&user_id);
        let session = self.start_session(&user_id, now).await?;
        Ok((session, account, email))
    }

    /// Whether this server can send password reset emails.
    pub fn password_reset_available(&self) -> bool {
        self.config.delivery.mailer.is_some()
    }

    /// Asks for a password reset link for `email`. The answer is the same, and as quick,
    /// whether or not the address has an account: the lookup and the email happen in the
    /// background. Throttled per client address, and to [`RESETS_PER_HOUR`] per address.
    pub async fn request_password_reset(&self, email: &str, client: Option<std::net::IpAddr>) -> Result<(), EngineError> {
        if !self.password_reset_available() {
            return Err(EngineError::Forbidden("this server sends no email, so passwords cannot be reset by email; ask an admin for a sign-in link"));
        }
        let email = Email::parse(email)?;
        self.throttle().redemption(client).map_err(|wait| EngineError::Throttled { retry_after_secs: wait.as_secs().max(1) })?;
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(err) = engine.send_password_reset(&email).await {
                tracing::warn!(error = %err, "a password reset email could not be sent");
            }
        });
        Ok(())
    }

    async fn send_password_reset(&self, email: &Email) -> Result<(), EngineError> {
        let Some(mailer) = &self.config.delivery.mailer else { return Ok(()) };
        let now = self.now();
        let user: Option<(String, Option<String>)> = sqlx::query_as("SELECT id, account_id FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(self.db().pool())
            .await?;
        let Some((user_id, account)) = user else { return Ok(()) };
        let account = account.map(|a| AccountId::parse(&a)).transpose()?;
        let recent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signin_links WHERE user_id = $1 AND purpose = 'reset' AND created_at > $2")
            .bind(&user_id)
            .bind(now - Duration::hours(1))
            .fetch_one(self.db().pool())
            .await?;
        if recent >= RESETS_PER_HOUR {
            tracing::info!(user = %user_id, "password reset refused: {RESETS_PER_HOUR} sent in the last hour");
            return Ok(());
        }
        let token = random_base62(43);
        let mut tx = self.db().pool().begin().await?;
        // One live reset link per user: the newest.
        sqlx::query("UPDATE signin_links SET expires_at = $2 WHERE user_id = $1 AND used_at IS NULL AND purpose = 'reset' AND expires_at > $2")
            .bind(&user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO signin_links (token_hash, user_id, created_by, created_at, expires_at, purpose) VALUES ($1, $2, $3, $4, $5, 'reset')")
            .bind(sha256_hex(&token))
            .bind(&user_id)
            .bind(email.as_str())
            .bind(now)
            .bind(now + RESET_LIFETIME)
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, Entry::new(email.as_str(), account.as_ref(), "password.reset_requested", now).target(&user_id)).await?;
        tx.commit().await?;
        let link = self.dashboard_url(&format!("/reset-password?token={token}"));
        let message = crate::alerts::mail::compose(
            email.as_str(),
            "Reset your Tollgate password",
            &[
                "Someone (we hope you) asked to reset the password for this address.",
                "The link works once, within an hour. If you did not ask, ignore this email: your password stays as it is.",
            ],
            "Choose a new password",
            &link,
        );
        mailer.send(&message).await.map_err(|f| EngineError::Internal(f.message))?;
        tracing::info!(user = %user_id, "password reset email sent");
        Ok(())
    }

    /// Uses a password reset link: sets the new password, signs every other session out
    /// and starts a new one.
    pub async fn reset_password(&self, token: &str, password: &str, client: Option<std::net::IpAddr>) -> Result<SessionToken, EngineError> {
        Ok(self.redeem(token, password, client, Purpose::Reset).await?.0)
    }

    /// Uses a link: sets the password, signs the user in, and hands over the first key.
    /// An unknown, used or expired link gets the same answer.
    /// Throttled per client address; the link is looked up before the (costly) password
    /// hash, so a stream of made-up tokens never reaches argon2.
    pub async fn redeem_signin_link(&self, token: &str, password: &str, client: Option<std::net::IpAddr>) -> Result<Redeemed, EngineError> {
        let (session, account, email) = self.redeem(token, password, client, Purpose::Welcome).await?;
        let now = self.now();
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
