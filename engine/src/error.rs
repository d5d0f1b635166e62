use thiserror::Error;

/// Everything the engine can refuse or fail with.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("the license references plan `{0}`, which the catalog does not define")]
    UnknownPlan(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}
