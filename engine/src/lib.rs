//! The license authority.
//!
//! Owns the database and every rule about plans, licenses and usage. The web layer
//! (server functions and REST handlers) only adapts requests to the calls here.
//!
//! Where each capability lives:
//!
//! | capability | module |
//! |---|---|
//! | settings (secrets redacted in `Debug`) | [`config`] |
//! | the database: pool, migrations | [`db`] |
//! | the audit log (its only writer) | [`audit`] |
//! | accounts: creation, the license and its history, the hot-path cache, grants | [`accounts`] |
//! | users, sessions, sign-in links, throttling, API keys | [`auth`] |
//! | verify, consume, entitlements, ingest; the ledger, rollups, rate limits | [`metering`] |
//! | Whop and Stripe webhooks, the license lifecycle | [`billing`] |
//! | the dashboard's overview, suggestions, features, upgrade requests, thresholds | [`journey`] |
//! | usage alerts: thresholds, evaluation, notifications; email, webhooks, the delivery queue | [`alerts`] |
//! | live updates for open pages | [`live`] |
//! | the plan catalog | [`catalog`] |
//! | demo data and the load-test generator | [`demo`] |
//! | the engine's clock (the only source of "now") | [`Clock`] |

pub mod accounts;
pub mod alerts;
pub(crate) mod audit;
pub mod auth;
pub mod billing;
mod cache;
pub mod catalog;
mod clock;
pub mod config;
pub mod db;
pub mod demo;
mod error;
pub mod ids;
pub mod journey;
pub mod live;
pub mod metering;

pub use catalog::Catalog;
pub use clock::Clock;
pub use config::{DeliveryConfig, EngineConfig, DEFAULT_SERVICE_RATE_PER_SECOND};
pub use error::EngineError;
pub use ids::{AccountId, GrantId, KeyId, RequestId, UserId};
pub use journey::overview::OverviewRead;
pub use metering::ratelimit::{RateDecision, Window};

use std::sync::Arc;

/// In-memory state of the hot path: cached licenses, rate limiters, the usage writer.
struct HotState {
    access: accounts::access::AccessCache,
    rates: metering::ratelimit::RateLimits,
    ledger: std::sync::OnceLock<metering::ledger::Ledger>,
    /// One billing event at a time: they queue here, in order, instead of in SQLite's
    /// busy handler, which sleeps in growing steps (measured: p99 569 ms at 16 concurrent
    /// webhooks without it).
    billing: tokio::sync::Mutex<()>,
    /// `upgrade_required` refusals not yet written: (account, feature, day) -> count.
    refusals: std::sync::Mutex<RefusalCounts>,
    /// Accounts whose usage crossed an alert threshold, waiting to be evaluated.
    alerts: alerts::AlertQueue,
    /// Unread notification counts, for every page's badge.
    unread: alerts::UnreadCounts,
    /// Accounts whose open pages follow their changes.
    live: live::LiveHub,
    /// Wakes the delivery worker when a message is queued.
    deliveries: tokio::sync::Notify,
    /// The client outgoing webhooks are sent with, built on first use.
    webhook_client: std::sync::OnceLock<reqwest::Client>,
}

/// Refusals not yet written: (account, feature, day) -> count.
type RefusalCounts = std::collections::HashMap<(String, String, chrono::NaiveDate), u32>;

/// In-memory state of authentication: throttling and the key cache.
struct AuthState {
    throttle: auth::SignInThrottle,
    keys: auth::keys::KeyCache,
    sessions: auth::sessions::SessionCache,
    key_lock: tokio::sync::Mutex<()>,
}

/// A handle to the engine; cheap to clone and share across tasks.
#[derive(Clone)]
pub struct Engine {
    db: db::Db,
    catalog: Arc<Catalog>,
    config: Arc<EngineConfig>,
    auth: Arc<AuthState>,
    hot: Arc<HotState>,
}

impl Engine {
    pub fn new(db: db::Db, catalog: Catalog, config: EngineConfig) -> Self {
        let auth = AuthState {
            throttle: auth::SignInThrottle::new(),
            keys: auth::keys::KeyCache::default(),
            sessions: auth::sessions::SessionCache::default(),
            key_lock: tokio::sync::Mutex::new(()),
        };
        let hot = HotState {
            access: accounts::access::access_cache(),
            rates: metering::ratelimit::RateLimits::new(&catalog, config.service_rate_per_second),
            ledger: std::sync::OnceLock::new(),
            billing: tokio::sync::Mutex::new(()),
            refusals: std::sync::Mutex::new(std::collections::HashMap::new()),
            alerts: alerts::AlertQueue::default(),
            unread: alerts::UnreadCounts::default(),
            live: live::LiveHub::default(),
            deliveries: tokio::sync::Notify::new(),
            webhook_client: std::sync::OnceLock::new(),
        };
        Self { db, catalog: Arc::new(catalog), config: Arc::new(config), auth: Arc::new(auth), hot: Arc::new(hot) }
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    pub fn clock(&self) -> &Clock {
        &self.config.clock
    }

    pub(crate) fn access_cache(&self) -> &accounts::access::AccessCache {
        &self.hot.access
    }

    pub(crate) fn refusal_counts(&self) -> &std::sync::Mutex<RefusalCounts> {
        &self.hot.refusals
    }

    pub(crate) fn billing_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.hot.billing
    }

    pub(crate) fn rate_limits(&self) -> &metering::ratelimit::RateLimits {
        &self.hot.rates
    }

    /// The usage writer, started on first use on the current tokio runtime.
    pub(crate) fn ledger(&self) -> &metering::ledger::Ledger {
        self.hot.ledger.get_or_init(|| metering::ledger::Ledger::start(self.db.pool().clone(), self.config.clock.clone()))
    }

    /// The secrets a provider's webhooks may be signed with (none: not configured).
    pub fn webhook_secrets(&self, provider: billing::Provider) -> &[String] {
        match provider {
            billing::Provider::Whop => &self.config.whop_webhook_secrets,
            billing::Provider::Stripe => &self.config.stripe_webhook_secrets,
        }
    }

    /// Whether Stripe live-mode events are the ones acted on (else test-mode ones).
    pub fn stripe_live(&self) -> bool {
        self.config.stripe_live
    }

    pub fn ingest_window(&self) -> metering::IngestWindow {
        self.config.ingest_window
    }

    /// Drops in-memory state nobody needs any more (idle rate-limit keys).
    pub fn shrink(&self) {
        self.hot.rates.shrink();
        self.shrink_live();
        self.auth.throttle.shrink();
    }

    pub(crate) fn throttle(&self) -> &auth::SignInThrottle {
        &self.auth.throttle
    }

    pub(crate) fn key_cache(&self) -> &auth::keys::KeyCache {
        &self.auth.keys
    }

    pub(crate) fn session_cache(&self) -> &auth::sessions::SessionCache {
        &self.auth.sessions
    }

    pub(crate) fn key_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.auth.key_lock
    }

    pub fn session_config(&self) -> auth::SessionConfig {
        self.config.sessions
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn db(&self) -> &db::Db {
        &self.db
    }

    /// Where customers change their plan.
    pub fn billing_portal_url(&self) -> &str {
        self.config.billing_portal_url.as_deref().unwrap_or(&self.catalog.billing_portal_url)
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> Result<(), EngineError> {
        self.db.ping().await
    }
}
