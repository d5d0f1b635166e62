//! API keys: `tg_<live|test|svc>_<32 base62>`. Only the SHA-256 is stored; the plaintext
//! exists once, in the answer to whoever created the key.
//!
//! Authentication is on the hot path, so verified keys are cached in memory by hash.
//! Revoking or rotating a key drops it from the cache at once.

use super::credentials::KeyName;
use super::{random_base62, sha256_hex};
use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError, KeyId};
use chrono::{DateTime, Duration, Utc};
use model::{ApiKeyView, CreatedKey, KeyKind, KeyScope};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use subtle::ConstantTimeEq;

/// The random part of a key.
const SECRET_CHARS: usize = 32;
/// At most this many usable keys per account.
pub const MAX_ACTIVE_KEYS: i64 = 50;
/// How much of a key is kept to recognise it by: `tg_live_` plus 4 characters.
const PREFIX_SECRET_CHARS: usize = 4;

/// How long a verified key is trusted from memory before it is read again, so a
/// revocation made behind the engine's back (another instance, the database) takes effect
/// within this time. Revocations made through the engine take effect at once.
pub const KEY_CACHE_TTL_SECS: i64 = 30;

/// Who an authenticated key acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrincipal {
    pub key_id: String,
    pub kind: KeyKind,
    /// The customer account; `None` for service keys.
    pub account: Option<AccountId>,
    pub scopes: Vec<KeyScope>,
}

impl KeyPrincipal {
    pub fn may(&self, scope: KeyScope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Why a presented key was refused. Each is a 401 at the HTTP edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRejection {
    #[error("this endpoint needs an API key: send `Authorization: Bearer tg_…`")]
    Missing,
    #[error("the API key is not in the tg_<live|test|svc>_<32 characters> format")]
    Malformed,
    #[error("the API key is not known")]
    Unknown,
    #[error("the API key has been revoked")]
    Revoked,
    #[error("the API key has expired")]
    Expired,
}

/// A verified key, as cached.
#[derive(Debug)]
pub(crate) struct CachedKey {
    hash: [u8; 32],
    principal: KeyPrincipal,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    /// When it was read from the database, by the engine's clock.
    loaded_at: DateTime<Utc>,
    /// Unix seconds of the last `last_used_at` write, so it is written at most once a minute.
    last_written: AtomicI64,
}

/// Verified keys by the SHA-256 of their plaintext.
#[derive(Default)]
pub(crate) struct KeyCache {
    by_hash: RwLock<HashMap<[u8; 32], Arc<CachedKey>>>,
}

impl KeyCache {
    fn get(&self, hash: &[u8; 32]) -> Option<Arc<CachedKey>> {
        self.by_hash.read().unwrap_or_else(|p| p.into_inner()).get(hash).cloned()
    }

    fn insert(&self, entry: Arc<CachedKey>) {
        self.by_hash.write().unwrap_or_else(|p| p.into_inner()).insert(entry.hash, entry);
    }

    fn forget_hash(&self, hash: &[u8; 32]) {
        self.by_hash.write().unwrap_or_else(|p| p.into_inner()).remove(hash);
    }

    fn forget(&self, key_id: &str) {
        self.by_hash.write().unwrap_or_else(|p| p.into_inner()).retain(|_, k| k.principal.key_id != key_id);
    }
}

fn hash_bytes(plaintext: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(plaintext.as_bytes()).into()
}

/// Checks the shape of a presented key before anything else: length first, then format.
fn parse_presented(presented: &str) -> Result<KeyKind, KeyRejection> {
    let len_ok = matches!(presented.len(), 39 | 40);
    if !len_ok || !presented.starts_with("tg_") {
        return Err(KeyRejection::Malformed);
    }
    let rest = &presented[3..];
    let (tag, secret) = rest.split_once('_').ok_or(KeyRejection::Malformed)?;
    let kind = KeyKind::from_tag(tag).ok_or(KeyRejection::Malformed)?;
    if secret.len() != SECRET_CHARS || !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(KeyRejection::Malformed);
    }
    Ok(kind)
}

/// A new key's plaintext, its stored hash and its display prefix.
fn generate(kind: KeyKind) -> (String, String, String) {
    let plaintext = format!("tg_{}_{}", kind.tag(), random_base62(SECRET_CHARS));
    let prefix_len = 4 + kind.tag().len() + PREFIX_SECRET_CHARS;
    let prefix = plaintext[..prefix_len].to_owned();
    let hash = sha256_hex(&plaintext);
    (plaintext, hash, prefix)
}

type KeyRow = (String, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, String);

fn view((id, name, kind, prefix, created_at, last_used_at, expires_at, revoked_at, scopes): KeyRow) -> Result<ApiKeyView, EngineError> {
    let kind = KeyKind::from_tag(&kind).ok_or_else(|| EngineError::Internal(format!("unknown key kind {kind}")))?;
    let scopes = KeyScope::parse_list(&scopes);
    Ok(ApiKeyView { id: KeyId::try_from(id)?, name, kind, prefix, created_at, last_used_at, expires_at, revoked_at, scopes })
}

const KEY_COLUMNS: &str = "id, name, kind, prefix, created_at, last_used_at, expires_at, revoked_at, scopes";

fn stored_scopes(scopes: &[KeyScope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

impl Engine {
    /// Creates a key for an account, or a service key (`account` = `None`, `Service`).
    /// The plaintext is in the answer and nowhere else.
    pub async fn create_key(
        &self,
        actor: &str,
        account: Option<&AccountId>,
        kind: KeyKind,
        name: &KeyName,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<CreatedKey, EngineError> {
        self.create_scoped_key(actor, account, kind, name, expires_at, &[], now).await
    }

    /// [`Engine::create_key`] with scopes beyond metering (customer keys only).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_scoped_key(
        &self,
        actor: &str,
        account: Option<&AccountId>,
        kind: KeyKind,
        name: &KeyName,
        expires_at: Option<DateTime<Utc>>,
        scopes: &[KeyScope],
        now: DateTime<Utc>,
    ) -> Result<CreatedKey, EngineError> {
        if kind == KeyKind::Service && !scopes.is_empty() {
            return Err(EngineError::invalid("scopes", "a service key has every operator right already; scopes are for customer keys"));
        }
        if (kind == KeyKind::Service) != account.is_none() {
            return Err(EngineError::invalid("kind", "service keys belong to no account; customer keys to exactly one"));
        }
        // Key management is rare; one at a time keeps the 50-key bound exact.
        let _guard = self.key_lock().lock().await;
        if let Some(account) = account {
            let active: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
            )
            .bind(account.as_str())
            .bind(now)
            .fetch_one(self.db().pool())
            .await?;
            if active >= MAX_ACTIVE_KEYS {
                return Err(EngineError::LimitReached(format!(
                    "an account can have at most {MAX_ACTIVE_KEYS} active keys; revoke one you no longer use"
                )));
            }
        }
        let (plaintext, hash, prefix) = generate(kind);
        let id = format!("key_{}", uuid::Uuid::new_v4().simple());
        let mut tx = self.db().pool().begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, account_id, kind, key_hash, prefix, name, created_at, expires_at, scopes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(account.map(AccountId::as_str))
        .bind(kind.tag())
        .bind(&hash)
        .bind(&prefix)
        .bind(name.as_str())
        .bind(now)
        .bind(expires_at)
        .bind(stored_scopes(scopes))
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, Entry::new(actor, account, "key.created", now).target(&id).change(None, Some(name.as_str()))).await?;
        tx.commit().await?;
        tracing::info!(key_id = %id, prefix = %prefix, "API key created");
        let key = ApiKeyView {
            id: KeyId::try_from(id)?,
            name: name.as_str().to_owned(),
            kind,
            prefix,
            created_at: now,
            last_used_at: None,
            expires_at,
            revoked_at: None,
            scopes: scopes.to_vec(),
        };
        Ok(CreatedKey { key, plaintext })
    }

    /// The account's keys, newest first. Scoped by the account; never another's.
    pub async fn list_keys(&self, account: &AccountId) -> Result<Vec<ApiKeyView>, EngineError> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at DESC, id"
        ))
        .bind(account.as_str())
        .fetch_all(self.db().pool())
        .await?;
        rows.into_iter().map(view).collect()
    }

    /// Service keys, newest first.
    pub async fn list_service_keys(&self) -> Result<Vec<ApiKeyView>, EngineError> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id IS NULL ORDER BY created_at DESC, id"
        ))
        .fetch_all(self.db().pool())
        .await?;
        rows.into_iter().map(view).collect()
    }

    /// Revokes a service key (admins and the CLI); the very next request with it fails.
    pub async fn revoke_service_key(&self, actor: &str, key_id: &KeyId) -> Result<ApiKeyView, EngineError> {
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND account_id IS NULL AND revoked_at IS NULL")
            .bind(now)
            .bind(key_id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let row: Option<KeyRow> = sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND account_id IS NULL"))
            .bind(key_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let key = row.map(view).transpose()?.ok_or(EngineError::NotFound("service key"))?;
        if done > 0 {
            audit::record(&mut tx, Entry::new(actor, None, "service_key.revoked", now).target(key_id.as_str())).await?;
        }
        tx.commit().await?;
        self.key_cache().forget(key_id.as_str());
        tracing::info!(key_id = %key_id, "service key revoked");
        Ok(key)
    }

    /// One of the account's keys. Another account's key is "not found", never "forbidden",
    /// so ids of other tenants cannot be probed.
    async fn account_key(&self, account: &AccountId, key_id: &KeyId) -> Result<ApiKeyView, EngineError> {
        let row: Option<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND account_id = $2"
        ))
        .bind(key_id.as_str())
        .bind(account.as_str())
        .fetch_optional(self.db().pool())
        .await?;
        row.map(view).transpose()?.ok_or(EngineError::NotFound("key"))
    }

    pub async fn rename_key(&self, actor: &str, account: &AccountId, key_id: &KeyId, name: &KeyName) -> Result<ApiKeyView, EngineError> {
        let before = self.account_key(account, key_id).await?;
        let mut tx = self.db().pool().begin().await?;
        sqlx::query("UPDATE api_keys SET name = $1 WHERE id = $2 AND account_id = $3")
            .bind(name.as_str())
            .bind(key_id.as_str())
            .bind(account.as_str())
            .execute(&mut *tx)
            .await?;
        let entry = Entry::new(actor, Some(account), "key.renamed", self.now()).target(key_id.as_str()).change(Some(&before.name), Some(name.as_str()));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        self.account_key(account, key_id).await
    }

    /// Revokes a key; the very next request with it fails.
    pub async fn revoke_key(&self, actor: &str, account: &AccountId, key_id: &KeyId, now: DateTime<Utc>) -> Result<ApiKeyView, EngineError> {
        let key = self.account_key(account, key_id).await?;
        if key.revoked_at.is_none() {
            let mut tx = self.db().pool().begin().await?;
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND account_id = $3")
                .bind(now)
                .bind(key_id.as_str())
                .bind(account.as_str())
                .execute(&mut *tx)
                .await?;
            audit::record(&mut tx, Entry::new(actor, Some(account), "key.revoked", now).target(key_id.as_str())).await?;
            tx.commit().await?;
            self.key_cache().forget(key_id.as_str());
            tracing::info!(key_id = %key_id, "API key revoked");
        }
        self.account_key(account, key_id).await
    }

    /// Replaces a key with a new one of the same name and kind. The old key stays valid
    /// for `grace` (zero: revoked at once).
    pub async fn rotate_key(
        &self,
        actor: &str,
        account: &AccountId,
        key_id: &KeyId,
        grace: Duration,
        now: DateTime<Utc>,
    ) -> Result<CreatedKey, EngineError> {
        let old = self.account_key(account, key_id).await?;
        if !old.is_active(now) {
            return Err(EngineError::invalid("key", "only an active key can be rotated; create a new one instead"));
        }
        if grace <= Duration::zero() {
            self.revoke_key(actor, account, key_id, now).await?;
        } else {
            let until = now + grace;
            let ends = old.expires_at.map_or(until, |t| t.min(until));
            sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2 AND account_id = $3")
                .bind(ends)
                .bind(key_id.as_str())
                .bind(account.as_str())
                .execute(self.db().pool())
                .await?;
            self.key_cache().forget(key_id.as_str());
        }
        let name = KeyName::parse(&old.name)?;
        let expires_at = old.expires_at.filter(|t| *t > now + grace);
        let created = self.create_scoped_key(actor, Some(account), old.kind, &name, expires_at, &old.scopes, now).await?;
        let mut tx = self.db().pool().begin().await?;
        audit::record(&mut tx, Entry::new(actor, Some(account), "key.rotated", now).target(key_id.as_str()).change(None, Some(created.key.id.as_str()))).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Authenticates a presented key: shape, then the cached lookup, then a constant-time
    /// comparison of the hashes, then revocation and expiry.
    pub async fn authenticate_key(&self, presented: &str, now: DateTime<Utc>) -> Result<KeyPrincipal, KeyRejection> {
        parse_presented(presented)?;
        let hash = hash_bytes(presented);
        let fresh = |entry: &Arc<CachedKey>| (now - entry.loaded_at).num_seconds() < KEY_CACHE_TTL_SECS;
        let entry = match self.key_cache().get(&hash).filter(fresh) {
            Some(entry) => entry,
            None => {
                let Some(entry) = self.load_key(&hash, now).await else {
                    self.key_cache().forget_hash(&hash);
                    return Err(KeyRejection::Unknown);
                };
                self.key_cache().insert(entry.clone());
                entry
            }
        };
        if !bool::from(entry.hash.ct_eq(&hash)) {
            return Err(KeyRejection::Unknown);
        }
        if entry.revoked_at.is_some_and(|t| t <= now) {
            return Err(KeyRejection::Revoked);
        }
        if entry.expires_at.is_some_and(|t| t <= now) {
            return Err(KeyRejection::Expired);
        }
        let last = entry.last_written.load(Ordering::Relaxed);
        if now.timestamp() - last >= 60
            && entry.last_written.compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            let _ = sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&entry.principal.key_id)
                .execute(self.db().pool())
                .await;
        }
        Ok(entry.principal.clone())
    }

    async fn load_key(&self, hash: &[u8; 32], now: DateTime<Utc>) -> Option<Arc<CachedKey>> {
        let hex = super::hex(hash);
        type Row = (String, Option<String>, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, account_id, kind, expires_at, revoked_at, last_used_at, scopes FROM api_keys WHERE key_hash = $1",
        )
        .bind(hex)
        .fetch_optional(self.db().pool())
        .await
        .map_err(|err| tracing::error!(error = %err, "key lookup failed"))
        .ok()?;
        let (key_id, account, kind, expires_at, revoked_at, last_used, scopes) = row?;
        let kind = KeyKind::from_tag(&kind)?;
        let account = account.and_then(|a| AccountId::parse(&a).ok());
        Some(Arc::new(CachedKey {
            hash: *hash,
            principal: KeyPrincipal { key_id, kind, account, scopes: KeyScope::parse_list(&scopes) },
            expires_at,
            revoked_at,
            loaded_at: now,
            last_written: AtomicI64::new(last_used.map_or(0, |t| t.timestamp())),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_format_and_a_short_prefix() {
        for kind in [KeyKind::Live, KeyKind::Test, KeyKind::Service] {
            let (plaintext, hash, prefix) = generate(kind);
            assert_eq!(parse_presented(&plaintext), Ok(kind));
            assert!(plaintext.starts_with(&format!("tg_{}_", kind.tag())));
            assert_eq!(plaintext.len(), 4 + kind.tag().len() + 32);
            assert_eq!(hash, sha256_hex(&plaintext));
            assert_eq!(hash.len(), 64);
            assert!(plaintext.starts_with(&prefix) && prefix.len() < plaintext.len() - 20);
        }
    }

    #[test]
    fn malformed_keys_are_refused_before_any_lookup() {
        let (good, _, _) = generate(KeyKind::Live);
        for bad in [
            "",
            "tg_live_",
            &good[..good.len() - 1],
            &format!("{good}x"),
            &good.replace("tg_live_", "tg_prod_"),
            &good.replace("tg_", "xx_"),
            &format!("tg_live_{}", "!".repeat(32)),
        ] {
            assert_eq!(parse_presented(bad), Err(KeyRejection::Malformed), "{bad:?}");
        }
    }
}
