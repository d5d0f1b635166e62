//! What an account may do right now: its license, its plan and the grants on top of it.
//!
//! Read on every hot-path request, so it is cached in memory. Changes made through the
//! engine drop the cached entry at once; a short time-to-live bounds how stale an entry
//! can be after a change made by another process (the CLI, another instance).

use crate::catalog::{Enforcement, Limit, Plan};
use crate::{AccountId, Engine, EngineError, GrantId};
use chrono::{DateTime, Utc};
pub use model::{Grant, GrantKind};
use model::LicenseStatus;
use std::sync::Arc;
use std::time::Duration;

/// How long a cached license may be served before it is read again.
const TTL: Duration = Duration::from_secs(5);

/// Why an account cannot use its license right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    Expired,
    /// Suspended, cancelled or past due.
    NotActive(LicenseStatus),
}

/// An account's license and grants, as cached.
#[derive(Debug)]
pub struct AccountInfo {
    pub account: AccountId,
    pub account_name: String,
    pub plan: Arc<Plan>,
    pub status: LicenseStatus,
    pub expires_at: Option<DateTime<Utc>>,
    /// For a `past_due` license: until when it keeps working.
    pub grace_ends_at: Option<DateTime<Utc>>,
    pub seats: i64,
    pub starts_at: DateTime<Utc>,
    pub grants: Vec<Grant>,
    /// The account's own alert thresholds per meter, lowest first; applied while the plan
    /// has the `custom_alert_thresholds` feature.
    pub alert_thresholds: std::collections::BTreeMap<String, Vec<model::AlertThreshold>>,
    /// What the customer's pages show beside the license, read on first use and dropped
    /// with the entry.
    page: tokio::sync::OnceCell<AccountPage>,
    /// `upgrade_required` refusals per feature since the given day, for the suggestions.
    pub(crate) refusals: tokio::sync::OnceCell<(chrono::NaiveDate, std::collections::BTreeMap<String, u32>)>,
}

/// The plan history and the request notice, as the customer's pages show them.
#[derive(Debug, Clone)]
pub struct AccountPage {
    pub plan_history: Vec<model::PlanChange>,
    pub notice: Option<model::UpgradeRequestView>,
}

impl AccountInfo {
    /// Whether the license grants its plan at `now`.
    pub fn usable(&self, now: DateTime<Utc>) -> Result<(), Inactive> {
        if self.status == LicenseStatus::Expired || self.expires_at.is_some_and(|t| t <= now) {
            return Err(Inactive::Expired);
        }
        let in_grace = self.status == LicenseStatus::PastDue && self.grace_ends_at.is_some_and(|t| t > now);
        if self.status.is_usable() || in_grace {
            Ok(())
        } else {
            Err(Inactive::NotActive(self.status))
        }
    }

    /// Whether a bypass grant lifts every quota and rate limit.
    pub fn bypass(&self, now: DateTime<Utc>) -> bool {
        self.grants.iter().any(|g| g.kind == GrantKind::Bypass && g.live(now))
    }

    /// The plan's feature, or one granted on top of it.
    pub fn has_feature(&self, feature: &str, now: DateTime<Utc>) -> bool {
        self.plan.has_feature(feature)
            || self.grants.iter().any(|g| g.kind == GrantKind::Feature && g.live(now) && g.feature.as_deref() == Some(feature))
    }

    /// The limit that applies to a meter: the newest live limit grant, else the plan's.
    /// `None` means unlimited. A granted limit keeps the plan's period and enforcement
    /// (hard when the plan has no limit for the meter, with a monthly period).
    pub fn limit(&self, meter: &str, now: DateTime<Utc>) -> Option<Limit> {
        let plan_limit = self.plan.limit(meter).copied();
        let granted = self
            .grants
            .iter()
            .filter(|g| g.kind == GrantKind::Limit && g.live(now) && g.meter.as_deref() == Some(meter))
            .max_by_key(|g| g.created_at);
        match granted {
            None => plan_limit,
            Some(grant) => grant.value.map(|value| {
                let base = plan_limit.unwrap_or(Limit { value, period: model::Period::Month, enforcement: Enforcement::Hard });
                Limit { value, ..base }
            }),
        }
    }
}

/// Cached account information by account (see [`crate::cache`]).
pub(crate) type AccessCache = crate::cache::TtlCache<AccountId, Arc<AccountInfo>>;

pub(crate) fn access_cache() -> AccessCache {
    AccessCache::new(TTL, 100_000)
}

pub(super) type GrantRow = (String, String, Option<String>, Option<f64>, Option<String>, String, Option<DateTime<Utc>>, String, DateTime<Utc>);

pub(super) fn grant_from_row(row: GrantRow) -> Option<Grant> {
    let (id, kind, meter, value, feature, reason, expires_at, created_by, created_at) = row;
    let id = GrantId::try_from(id).ok()?;
    Some(Grant { id, kind: GrantKind::ALL.into_iter().find(|k| k.as_str() == kind)?, meter, value, feature, reason, expires_at, created_by, created_at })
}

const GRANT_COLUMNS: &str = "id, kind, meter, value, feature, reason, expires_at, created_by, created_at";

impl Engine {
    /// The account's license and grants, from the cache when fresh.
    pub async fn access(&self, account: &AccountId) -> Result<Arc<AccountInfo>, EngineError> {
        if let Some(hit) = self.access_cache().get(account) {
            if hit.claim_refresh() {
                let (engine, account) = (self.clone(), account.clone());
                tokio::spawn(async move {
                    if let Err(err) = engine.load_access(&account).await {
                        tracing::warn!(%account, error = %err, "refreshing the cached license failed");
                    }
                });
            }
            return Ok(hit.value);
        }
        self.load_access(account).await
    }

    /// Reads the account's license and grants, and caches them.
    async fn load_access(&self, account: &AccountId) -> Result<Arc<AccountInfo>, EngineError> {
        let generation = self.access_cache().generation(account);
        type LicenseRow = (String, String, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, i64, DateTime<Utc>);
        let row: Option<LicenseRow> = sqlx::query_as(
            "SELECT a.name, l.plan_id, l.status, l.expires_at, l.grace_ends_at, l.seats, l.starts_at
             FROM licenses l JOIN accounts a ON a.id = l.account_id WHERE l.account_id = $1",
        )
        .bind(account.as_str())
        .fetch_optional(self.db().pool())
        .await?;
        let (account_name, plan_id, status, expires_at, grace_ends_at, seats, starts_at) = row.ok_or(EngineError::NotFound("account"))?;
        let plan = self.catalog().plan(&plan_id).ok_or_else(|| EngineError::UnknownPlan(plan_id.clone()))?;
        let status: LicenseStatus = status.parse().map_err(|message| EngineError::Invalid { field: "status", message })?;
        let rows: Vec<GrantRow> = sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at"
        ))
        .bind(account.as_str())
        .fetch_all(self.db().pool())
        .await?;
        let alert_thresholds = self.alert_thresholds(account).await?;
        let info = Arc::new(AccountInfo {
            account: account.clone(),
            account_name,
            plan: Arc::new(plan.clone()),
            status,
            expires_at,
            grace_ends_at,
            seats,
            starts_at,
            grants: rows.into_iter().filter_map(grant_from_row).collect(),
            alert_thresholds,
            page: tokio::sync::OnceCell::new(),
            refusals: tokio::sync::OnceCell::new(),
        });
        self.access_cache().insert(generation, account.clone(), info.clone());
        Ok(info)
    }

    /// The account's plan history and request notice, read once per cached license: the
    /// engine drops the entry when either changes (plan changes, requests and decisions).
    pub async fn account_page(&self, account: &AccountId) -> Result<AccountPage, EngineError> {
        let info = self.access(account).await?;
        let page = info
            .page
            .get_or_try_init(|| async {
                Ok::<_, EngineError>(AccountPage { plan_history: self.plan_history(account).await?, notice: self.request_notice(account).await? })
            })
            .await?;
        Ok(page.clone())
    }
}
