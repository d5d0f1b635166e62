//! The license authority.
//!
//! Owns the database and every rule about plans, licenses and usage. The web layer
//! (server functions and REST handlers) only adapts requests to the calls here.

pub mod auth;
pub mod catalog;
pub mod db;
mod error;
pub mod ids;
pub mod overview;
pub mod seed;
pub mod usage;

pub use catalog::Catalog;
pub use error::EngineError;
pub use ids::AccountId;

use std::sync::Arc;

/// Settings the engine needs beyond its catalog.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Overrides the catalog's billing portal link when set.
    pub billing_portal_url: Option<String>,
    pub sessions: auth::SessionConfig,
}

/// In-memory state of authentication: throttling and the key cache.
struct AuthState {
    throttle: auth::SignInThrottle,
    keys: auth::keys::KeyCache,
    key_lock: tokio::sync::Mutex<()>,
}

/// A handle to the engine; cheap to clone and share across tasks.
#[derive(Clone)]
pub struct Engine {
    db: db::Db,
    catalog: Arc<Catalog>,
    config: Arc<EngineConfig>,
    auth: Arc<AuthState>,
}

impl Engine {
    pub fn new(db: db::Db, catalog: Catalog, config: EngineConfig) -> Self {
        let auth = AuthState {
            throttle: auth::SignInThrottle::new(),
            keys: auth::keys::KeyCache::default(),
            key_lock: tokio::sync::Mutex::new(()),
        };
        Self { db, catalog: Arc::new(catalog), config: Arc::new(config), auth: Arc::new(auth) }
    }

    pub(crate) fn throttle(&self) -> &auth::SignInThrottle {
        &self.auth.throttle
    }

    pub(crate) fn key_cache(&self) -> &auth::keys::KeyCache {
        &self.auth.keys
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
