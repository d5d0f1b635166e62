//! Where an account's alerts go besides the dashboard: email on or off, and to whom.

use crate::audit::{self, Entry};
use crate::auth::Email;
use crate::{AccountId, Engine, EngineError};
use model::AlertSettings;
use sqlx::SqliteConnection;

impl Engine {
    /// The account's alert channels, with who gets the emails now.
    pub async fn alert_settings(&self, account: &AccountId) -> Result<AlertSettings, EngineError> {
        let mut conn = self.db().pool().acquire().await?;
        let (email_enabled, email_to) = stored(&mut conn, account).await?;
        let recipients = if email_enabled { self.alert_recipients(&mut conn, account).await? } else { Vec::new() };
        Ok(AlertSettings { email_enabled, email_to, email_available: self.config.delivery.mailer.is_some(), recipients })
    }

    /// Saves the account's email settings: on or off, and an address instead of the
    /// owners' (`None` or empty: the owners).
    pub async fn set_alert_settings(&self, actor: &str, account: &AccountId, email_enabled: bool, email_to: Option<&str>) -> Result<AlertSettings, EngineError> {
        let email_to = match email_to.map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => Some(Email::parse(raw).map_err(|_| EngineError::invalid("email_to", "the alert address must be an email address, as in alerts@example.com"))?),
            None => None,
        };
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        sqlx::query(
            "INSERT INTO alert_settings (account_id, email_enabled, email_to, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id) DO UPDATE SET email_enabled = excluded.email_enabled, email_to = excluded.email_to, updated_at = excluded.updated_at",
        )
        .bind(account.as_str())
        .bind(email_enabled)
        .bind(email_to.as_ref().map(Email::as_str))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let after = format!("email {}{}", if email_enabled { "on" } else { "off" }, email_to.as_ref().map(|e| format!(" to {}", e.as_str())).unwrap_or_default());
        audit::record(&mut tx, Entry::new(actor, Some(account), "alert_settings.changed", now).change(None, Some(&after))).await?;
        tx.commit().await?;
        self.alert_settings(account).await
    }

    /// Who gets the account's alert emails: its alert address, or else its owners.
    pub(crate) async fn alert_recipients(&self, conn: &mut SqliteConnection, account: &AccountId) -> Result<Vec<String>, EngineError> {
        let (enabled, to) = stored(conn, account).await?;
        if !enabled {
            return Ok(Vec::new());
        }
        if let Some(to) = to {
            return Ok(vec![to]);
        }
        Ok(sqlx::query_scalar("SELECT email FROM users WHERE account_id = $1 AND role = 'owner' ORDER BY email")
            .bind(account.as_str())
            .fetch_all(conn)
            .await?)
    }
}

async fn stored(conn: &mut SqliteConnection, account: &AccountId) -> Result<(bool, Option<String>), EngineError> {
    let row: Option<(bool, Option<String>)> = sqlx::query_as("SELECT email_enabled, email_to FROM alert_settings WHERE account_id = $1")
        .bind(account.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(row.unwrap_or((true, None)))
}
