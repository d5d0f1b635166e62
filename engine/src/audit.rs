//! The audit log: who did what to which account, and when.
//!
//! [`record`] is the only writer. It runs inside the caller's transaction, so an entry
//! exists exactly when the change it describes was committed; its time is the engine's
//! clock, passed in by the caller with the change.
//!
//! The log is a hash chain: each entry is sealed with the SHA-256 of the entry before it and
//! of its own fields ([`seal`]), in the order SQLite wrote them (`rowid`; one writer at a
//! time, so the order is the commit order). The database refuses to delete an entry or to
//! change a sealed one (triggers), and [`Engine::verify_audit`] walks the chain and names
//! the first entry that does not match.

use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
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

/// Writes `entry` in the caller's transaction, sealed onto the chain.
pub(crate) async fn record(tx: &mut SqliteConnection, entry: Entry<'_>) -> Result<(), EngineError> {
    let id = format!("aud_{}", uuid::Uuid::new_v4().simple());
    // The insert takes the database's write lock first, so the entry before this one
    // cannot change until this transaction ends.
    let rowid = sqlx::query("INSERT INTO audit_log (id, at, actor, account_id, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&id)
        .bind(entry.at)
        .bind(entry.actor)
        .bind(entry.account.map(AccountId::as_str))
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.before)
        .bind(entry.after)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
    let fields = Fields {
        id: &id,
        at: entry.at,
        actor: entry.actor,
        account: entry.account.map(AccountId::as_str),
        action: entry.action,
        target: entry.target,
        before: entry.before,
        after: entry.after,
    };
    seal(tx, rowid, &fields).await
}

/// An entry's fields, as hashed.
struct Fields<'a> {
    id: &'a str,
    at: DateTime<Utc>,
    actor: &'a str,
    account: Option<&'a str>,
    action: &'a str,
    target: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

/// SHA-256, in hex, of the previous entry's hash and this entry's fields, as a JSON array
/// (so no two different entries serialise alike).
fn chain_hash(prev: Option<&str>, f: &Fields<'_>) -> String {
    let canonical = serde_json::json!([prev, f.id, f.at.to_rfc3339_opts(SecondsFormat::Nanos, true), f.actor, f.account, f.action, f.target, f.before, f.after]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Seals the entry at `rowid` onto the chain: the hash of the entry before it, and its own.
async fn seal(tx: &mut SqliteConnection, rowid: i64, fields: &Fields<'_>) -> Result<(), EngineError> {
    let prev: Option<Option<String>> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE rowid < $1 ORDER BY rowid DESC LIMIT 1")
        .bind(rowid)
        .fetch_optional(&mut *tx)
        .await?;
    let prev = prev.flatten();
    let hash = chain_hash(prev.as_deref(), fields);
    sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE rowid = $3").bind(prev).bind(hash).bind(rowid).execute(&mut *tx).await?;
    Ok(())
}

type Row = (i64, String, DateTime<Utc>, String, Option<String>, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
const ROW: &str = "SELECT rowid, id, at, actor, account_id, action, target, before, after, prev_hash, hash FROM audit_log";

/// Seals entries written before the chain existed, oldest first. Run when the database
/// is opened; a no-op once every entry is sealed.
pub(crate) async fn seal_unsealed(pool: &sqlx::SqlitePool) -> Result<u64, EngineError> {
    let mut tx = pool.begin().await?;
    let rows: Vec<Row> = sqlx::query_as(&format!("{ROW} WHERE hash IS NULL ORDER BY rowid")).fetch_all(&mut *tx).await?;
    for (rowid, id, at, actor, account, action, target, before, after, _, _) in &rows {
        let fields = Fields {
            id,
            at: *at,
            actor,
            account: account.as_deref(),
            action,
            target: target.as_deref(),
            before: before.as_deref(),
            after: after.as_deref(),
        };
        seal(&mut tx, *rowid, &fields).await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// What [`Engine::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    /// Entries walked.
    pub entries: u64,
    /// The first entry that breaks the chain, and how; `None` when it is whole.
    pub broken: Option<(String, String)>,
}

impl Engine {
    /// Walks the audit chain from the first entry: each must carry the hash of the one
    /// before it, and its own hash must match its fields.
    pub async fn verify_audit(&self) -> Result<AuditCheck, EngineError> {
        use futures_util::TryStreamExt;
        let sql = format!("{ROW} ORDER BY rowid");
        let mut rows = sqlx::query_as::<_, Row>(&sql).fetch(self.db().pool());
        let mut prev: Option<String> = None;
        let mut entries = 0;
        while let Some((_, id, at, actor, account, action, target, before, after, prev_hash, hash)) = rows.try_next().await? {
            entries += 1;
            let fields = Fields {
                id: &id,
                at,
                actor: &actor,
                account: account.as_deref(),
                action: &action,
                target: target.as_deref(),
                before: before.as_deref(),
                after: after.as_deref(),
            };
            let problem = if hash.is_none() {
                Some("it is not sealed".to_owned())
            } else if prev_hash != prev {
                Some("it does not follow the entry before it: an entry was removed or inserted".to_owned())
            } else if hash.as_deref() != Some(chain_hash(prev.as_deref(), &fields).as_str()) {
                Some("its fields do not match its hash: it was altered".to_owned())
            } else {
                None
            };
            if let Some(problem) = problem {
                let described = format!("entry #{entries} ({id}, {action} at {}): {problem}", at.to_rfc3339());
                return Ok(AuditCheck { entries, broken: Some((id, described)) });
            }
            prev = hash;
        }
        Ok(AuditCheck { entries, broken: None })
    }
}
