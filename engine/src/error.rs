use thiserror::Error;

/// Everything the engine can refuse or fail with. Messages are written for the person
/// who has to act on them.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{field}: {message}")]
    Conflict { field: &'static str, message: String },
    #[error("{0}")]
    LimitReached(String),
    /// Never says whether the email exists.
    #[error("wrong email or password")]
    BadCredentials,
    #[error("sign in to continue")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// The plan does not include a feature; the entitlement says which plan does.
    #[error("{}", .0.message.clone().unwrap_or_else(|| "your plan does not include this feature".into()))]
    UpgradeRequired(Box<model::Entitlement>),
    /// The license does not currently grant its plan.
    #[error("{0}")]
    LicenseInactive(String),
    /// The usage writer could not commit; nothing in the request was recorded.
    #[error("{0}")]
    Ledger(#[from] crate::ledger::LedgerFailure),
    #[error("the license references plan `{0}`, which the catalog does not define")]
    UnknownPlan(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        EngineError::Invalid { field, message: message.into() }
    }
}
