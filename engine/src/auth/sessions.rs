//! Server-side sessions. The browser holds a random token in an HttpOnly cookie; the
//! database holds only its SHA-256, with an idle and an absolute expiry.

use super::credentials::{hash_password, verify_password, Email, Password};
use super::{random_base62, sha256_hex};
use crate::accounts::{insert_account, NewAccount, Source};
use crate::audit::{self, Entry};
use super::users::{insert_user, NewUser};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Duration, Utc};
use model::{LicenseStatus, Role, SessionUser};
use std::fmt;
use std::net::IpAddr;
use crate::cache::{Hit, TtlCache};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { idle: Duration::hours(12), absolute: Duration::days(14) }
    }
}

/// The secret a session cookie carries. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> Self {
        Self(random_base62(43))
    }

    pub fn from_cookie(value: &str) -> Option<Self> {
        (value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// Who a request comes from, resolved on the server from the session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    /// The customer account; `None` for operator staff without one.
    pub account: Option<AccountId>,
    pub account_name: Option<String>,
    session_hash: String,
}

impl Viewer {
    /// What the browser may know about the viewer.
    pub fn public(&self) -> SessionUser {
        SessionUser { email: self.email.clone(), role: self.role, account_name: self.account_name.clone() }
    }

    /// The viewer's account, or a refusal for staff without one.
    pub fn account(&self) -> Result<&AccountId, EngineError> {
        self.account.as_ref().ok_or(EngineError::Forbidden("this user has no customer account"))
    }

    /// Refuses unless the viewer's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), EngineError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(EngineError::Forbidden(match needed {
                Role::Admin => "only operator staff (admins) can do this",
                Role::Owner => "only the account's owners can do this",
                Role::Member => "you do not have access to this",
            }))
        }
    }
}

type ViewerRow = (String, String, String, Option<String>, Option<String>, DateTime<Utc>, DateTime<Utc>);

/// How long a session read from the database may be served from memory.
const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Live sessions read in the last few seconds, by token hash, so that a page load and
/// the server functions it renders cost no session query. Ending a session through the
/// engine (sign-out, password change) drops it here at once; the short time-to-live bounds
/// how long a session ended by another process (another instance, the CLI) is honoured.
/// Refresh-ahead and the race with sign-out are handled by [`crate::cache`].
pub(crate) struct SessionCache(TtlCache<String, CachedSession>);

#[derive(Clone)]
struct CachedSession {
    viewer: Viewer,
    last_seen: DateTime<Utc>,
    expires: DateTime<Utc>,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self(TtlCache::new(SESSION_TTL, 10_000))
    }
}

impl SessionCache {
    fn get(&self, hash: &str) -> Option<Hit<CachedSession>> {
        self.0.get(hash)
    }

    fn generation(&self, hash: &str) -> u64 {
        self.0.generation(hash)
    }

    /// Stores a read that began at `generation`, unless the session was ended since.
    fn insert(&self, generation: u64, viewer: &Viewer, last_seen: DateTime<Utc>, expires: DateTime<Utc>) {
        let cached = CachedSession { viewer: viewer.clone(), last_seen, expires };
        self.0.insert(generation, viewer.session_hash.clone(), cached);
    }

    fn forget(&self, hash: &str) {
        self.0.forget(hash);
    }

    pub(crate) fn forget_user(&self, user_id: &str) {
        self.0.forget_where(|c| c.viewer.user_id == user_id);
    }
}

impl Engine {
    /// Checks the email and password and starts a session. Failures are throttled per email
    /// and per client address, and never reveal whether the email exists.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(SessionToken, Viewer), EngineError> {
        let email = Email::parse(email).map_err(|_| EngineError::BadCredentials)?;
        if password.chars().count() > super::credentials::PASSWORD_MAX_CHARS {
            return Err(EngineError::BadCredentials);
        }
        let throttled = |wait: std::time::Duration| EngineError::Throttled { retry_after_secs: wait.as_secs().max(1) };
        self.throttle().check(email.as_str(), client).map_err(throttled)?;
        // One check per email at a time: parallel guesses wait for the failure count.
        let _checking = self.throttle().begin(email.as_str()).ok_or(EngineError::Throttled { retry_after_secs: 1 })?;

        let row: Option<(String, String)> = sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(self.db().pool())
            .await?;
        let (user_id, hash) = match row {
            Some((id, hash)) => (Some(id), Some(hash)),
            None => (None, None),
        };
        let matches = verify_password(password, hash).await?;
        let Some(user_id) = user_id.filter(|_| matches) else {
            self.throttle().record_failure(email.as_str(), client).map_err(throttled)?;
            tracing::info!(email = %email, "sign-in failed");
            return Err(EngineError::BadCredentials);
        };
        self.throttle().record_success(email.as_str(), client);
        let token = self.start_session(&user_id, now).await?;
        let viewer = self.session(&token, now).await?.ok_or(EngineError::Unauthorized)?;
        tracing::info!(email = %email, role = viewer.role.as_str(), "signed in");
        Ok((token, viewer))
    }

    /// Creates an account on the entry plan with its first owner, and signs them in.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        account_name: &str,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(SessionToken, Viewer), EngineError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        let name = account_name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(EngineError::invalid("account name", "use 1 to 100 characters, such as your company's name"));
        }
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(self.db().pool())
            .await?;
        if taken.is_some() {
            return Err(EngineError::Conflict {
                field: "email",
                message: "this email already has a user; sign in instead".into(),
            });
        }
        let account = crate::ids::new_account_id();
        let new = NewAccount {
            id: account.clone(),
            name: name.to_owned(),
            plan_id: self.catalog().lowest_plan().id.clone(),
            status: LicenseStatus::Active,
            seats: 1,
            starts_at: now,
            expires_at: None,
        };
        // Each well-formed sign-up costs a password hash: limited per client address.
        self.throttle().sign_up(client).map_err(|wait| EngineError::Throttled { retry_after_secs: wait.as_secs().max(1) })?;
        let password_hash = hash_password(&password).await?;
        // The account, its license, its owner and the audit entry commit together: a
        // failure leaves nothing behind (a lost race for the email is a conflict).
        let mut tx = self.db().pool().begin().await?;
        insert_account(&mut tx, &new, Source::MANUAL).await?;
        let owner = NewUser { account: Some(&account), email: &email, password_hash, role: Role::Owner, awaiting_first_signin: false, email_verified: false, at: now };
        let user_id = insert_user(&mut tx, &owner).await?;
        let entry = Entry::new(email.as_str(), Some(&account), "user.created", now).target(email.as_str()).change(None, Some(Role::Owner.as_str()));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        let token = self.start_session(&user_id, now).await?;
        let viewer = self.session(&token, now).await?.ok_or(EngineError::Unauthorized)?;
        Ok((token, viewer))
    }

    pub(crate) async fn start_session(&self, user_id: &str, now: DateTime<Utc>) -> Result<SessionToken, EngineError> {
        let token = SessionToken::generate();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(token.hash())
        .bind(user_id)
        .bind(now)
        .bind(now + self.session_config().absolute)
        .execute(self.db().pool())
        .await?;
        Ok(token)
    }

    /// The viewer behind a session token, if the session is live. Refreshes its idle
    /// timer at most once a minute, so reading pages does not write on every request.
    pub async fn session(&self, token: &SessionToken, now: DateTime<Utc>) -> Result<Option<Viewer>, EngineError> {
        let idle = self.session_config().idle;
        if let Some(hit) = self.session_cache().get(&token.hash()) {
            let cached = &hit.value;
            if cached.expires > now && cached.last_seen + idle > now && now - cached.last_seen <= Duration::minutes(1) {
                if hit.claim_refresh() {
                    let (engine, token) = (self.clone(), token.clone());
                    tokio::spawn(async move {
                        if let Err(err) = engine.session_from_db(&token, now).await {
                            tracing::warn!(error = %err, "refreshing a cached session failed");
                        }
                    });
                }
                return Ok(Some(hit.value.viewer));
            }
        }
        self.session_from_db(token, now).await
    }

    /// Reads the session from the database, ends it if it has expired, touches its idle
    /// timer at most once a minute, and caches it.
    async fn session_from_db(&self, token: &SessionToken, now: DateTime<Utc>) -> Result<Option<Viewer>, EngineError> {
        let hash = token.hash();
        let generation = self.session_cache().generation(&hash);
        let idle = self.session_config().idle;
        let row: Option<ViewerRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.role, u.account_id, a.name, s.last_seen_at, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN accounts a ON a.id = u.account_id
             WHERE s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(self.db().pool())
        .await?;
        let Some((user_id, email, role, account, account_name, last_seen, expires)) = row else { return Ok(None) };
        if expires <= now || last_seen + idle <= now {
            self.end_session_by_hash(&hash).await?;
            return Ok(None);
        }
        let mut last_seen = last_seen;
        if now - last_seen > Duration::minutes(1) {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(self.db().pool())
                .await?;
            last_seen = now;
        }
        let role = role.parse().map_err(|message| EngineError::Invalid { field: "role", message })?;
        let account = account.map(|id| AccountId::parse(&id)).transpose()?;
        let viewer = Viewer { user_id, email, role, account, account_name, session_hash: hash };
        self.session_cache().insert(generation, &viewer, last_seen, expires);
        Ok(Some(viewer))
    }

    /// Deletes sessions past their idle or absolute expiry; returns how many. Lookups already
    /// refuse them; this keeps the table from growing.
    pub async fn prune_sessions(&self, now: DateTime<Utc>) -> Result<u64, EngineError> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(now - self.session_config().idle)
            .execute(self.db().pool())
            .await?;
        Ok(result.rows_affected())
    }

    /// Ends the viewer's session (sign-out).
    pub async fn end_session(&self, viewer: &Viewer) -> Result<(), EngineError> {
        self.end_session_by_hash(&viewer.session_hash).await
    }

    async fn end_session_by_hash(&self, hash: &str) -> Result<(), EngineError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(hash).execute(self.db().pool()).await?;
        self.session_cache().forget(hash);
        Ok(())
    }

    /// Changes the viewer's password. The current session ends and a new one starts (a
    /// new id); with `end_others`, every other session of the user ends too.
    pub async fn change_password(
        &self,
        viewer: &Viewer,
        current: &str,
        new: &str,
        end_others: bool,
        now: DateTime<Utc>,
    ) -> Result<SessionToken, EngineError> {
        let new = Password::parse(new)?;
        let stored: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(&viewer.user_id)
            .fetch_optional(self.db().pool())
            .await?;
        if !verify_password(current, stored).await? {
            return Err(EngineError::invalid("current password", "the current password is not right"));
        }
        let hash = hash_password(&new).await?;
        let mut tx = self.db().pool().begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(&viewer.user_id)
            .execute(&mut *tx)
            .await?;
        if end_others {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&viewer.user_id).execute(&mut *tx).await?;
        } else {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&viewer.session_hash).execute(&mut *tx).await?;
        }
        audit::record(&mut tx, Entry::new(&viewer.email, viewer.account.as_ref(), "user.password_changed", now).target(&viewer.email)).await?;
        tx.commit().await?;
        self.session_cache().forget_user(&viewer.user_id);
        self.start_session(&viewer.user_id, now).await
    }
}

#[cfg(test)]
mod tests {

    fn viewer(user: &str, hash: &str) -> Viewer {
        Viewer { user_id: user.into(), email: format!("{user}@example.com"), role: Role::Owner, account: None, account_name: None, session_hash: hash.into() }
    }

    #[test]
    fn a_session_read_before_a_sign_out_is_not_cached_after_it() {
        let cache = SessionCache::default();
        let now = Utc::now();
        let later = now + Duration::hours(1);

        let before = cache.generation("h1");
        cache.insert(before, &viewer("u1", "h1"), now, later);
        assert!(cache.get("h1").is_some(), "a read with no sign-out in between is cached");

        // A read begins, a sign-out of another session lands, then the read finishes.
        let read_began = cache.generation("h2");
        cache.forget("h2");
        cache.insert(read_began, &viewer("u2", "h2"), now, later);
        assert!(cache.get("h2").is_none(), "the ended session is not put back");

        let read_began = cache.generation("h1");
        cache.forget_user("u1");
        assert!(cache.get("h1").is_none(), "a password change drops every session of the user");
        cache.insert(read_began, &viewer("u1", "h1"), now, later);
        assert!(cache.get("h1").is_none());

        cache.insert(cache.generation("h3"), &viewer("u1", "h3"), now, later);
        let hit = cache.get("h3").expect("a fresh read is cached");
        assert!(!hit.due, "not due for a refresh while young");
    }

    use super::*;

    #[test]
    fn tokens_are_long_random_and_redacted() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(SessionToken::from_cookie(a.expose()), Some(a.clone()));
        assert_eq!(format!("{a:?}"), "SessionToken(<redacted>)");
        assert!(SessionToken::from_cookie("short").is_none());
        assert!(SessionToken::from_cookie(&"'".repeat(43)).is_none());
    }
}
