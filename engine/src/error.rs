//! Everything the engine can refuse or fail with, and the one table that says what each
//! means over HTTP. The REST API's envelope and the server functions' `AppError` both
//! read their status, code, field and message from here, so the two cannot disagree.

use thiserror::Error;

/// Everything the engine can refuse or fail with. Messages are written for the person
/// who has to act on them.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A named thing the request asked about does not exist (a feature, say); the
    /// message lists what does.
    #[error("{message}")]
    Unknown { field: &'static str, message: String },
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{field}: {message}")]
    Conflict { field: &'static str, message: String },
    #[error("{0}")]
    LimitReached(String),
    /// The request carries more than one request may (too many events, say).
    #[error("{0}")]
    TooLarge(String),
    /// Never says whether the email exists.
    #[error("wrong email or password")]
    BadCredentials,
    #[error("sign in to continue")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// Too much expensive work (password hashing) is in flight; nothing was done.
    #[error("the server is busy; try again in {retry_after_secs} seconds")]
    Busy { retry_after_secs: u64 },
    /// The plan does not include a feature; the entitlement says which plan does.
    #[error("{}", .0.message.clone().unwrap_or_else(|| "your plan does not include this feature".into()))]
    UpgradeRequired(Box<model::Entitlement>),
    /// The license does not currently grant its plan.
    #[error("{0}")]
    LicenseInactive(String),
    /// The usage writer could not commit; nothing in the request was recorded.
    #[error("{0}")]
    Ledger(#[from] crate::metering::ledger::LedgerFailure),
    #[error("the license references plan `{0}`, which the catalog does not define")]
    UnknownPlan(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What an internal failure tells the client; the cause goes to the log only.
pub const INTERNAL_MESSAGE: &str = "the server could not complete the request; try again later";

impl EngineError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        EngineError::Invalid { field, message: message.into() }
    }

    /// The HTTP status: the one table, read by the REST API and the server functions.
    pub fn status(&self) -> u16 {
        match self {
            EngineError::NotFound(_) | EngineError::Unknown { .. } => 404,
            EngineError::Invalid { .. } => 422,
            EngineError::Conflict { .. } | EngineError::LimitReached(_) => 409,
            EngineError::TooLarge(_) => 413,
            EngineError::BadCredentials | EngineError::Unauthorized => 401,
            EngineError::Forbidden(_) | EngineError::UpgradeRequired(_) | EngineError::LicenseInactive(_) => 403,
            EngineError::Throttled { .. } => 429,
            EngineError::Ledger(_) | EngineError::Busy { .. } => 503,
            EngineError::UnknownPlan(_) | EngineError::Database(_) | EngineError::Migration(_) | EngineError::Internal(_) => 500,
        }
    }

    /// The machine-readable code of the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotFound(_) | EngineError::Unknown { .. } => "not_found",
            EngineError::Invalid { .. } => "invalid",
            EngineError::Conflict { .. } | EngineError::LimitReached(_) => "conflict",
            EngineError::TooLarge(_) => "payload_too_large",
            EngineError::BadCredentials | EngineError::Unauthorized => "unauthorized",
            EngineError::Forbidden(_) => "forbidden",
            EngineError::UpgradeRequired(_) => "upgrade_required",
            EngineError::LicenseInactive(_) => "license_inactive",
            EngineError::Throttled { .. } => "rate_limited",
            EngineError::Ledger(_) | EngineError::Busy { .. } => "unavailable",
            EngineError::UnknownPlan(_) | EngineError::Database(_) | EngineError::Migration(_) | EngineError::Internal(_) => "internal",
        }
    }

    /// The field the error is about, for an inline message.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            EngineError::Invalid { field, .. } | EngineError::Conflict { field, .. } | EngineError::Unknown { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether the cause is the server's, to be logged and never shown.
    pub fn is_internal(&self) -> bool {
        self.status() == 500
    }

    /// Seconds to wait before retrying, where the error says.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            EngineError::Throttled { retry_after_secs } | EngineError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The message a client is shown.
    pub fn public_message(&self) -> String {
        match self {
            EngineError::Invalid { field, message } => format!("{field}: {message}"),
            EngineError::Conflict { message, .. } => message.clone(),
            EngineError::Ledger(_) => "usage could not be recorded right now; nothing was counted, so the request can be retried".into(),
            internal if internal.is_internal() => INTERNAL_MESSAGE.into(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_one_status_code_and_message() {
        let cases = [
            (EngineError::NotFound("key"), 404, "not_found", "key not found"),
            (EngineError::Unknown { field: "feature", message: "unknown feature `x`".into() }, 404, "not_found", "unknown feature `x`"),
            (EngineError::invalid("name", "too long"), 422, "invalid", "name: too long"),
            (EngineError::Conflict { field: "email", message: "taken".into() }, 409, "conflict", "taken"),
            (EngineError::TooLarge("split it".into()), 413, "payload_too_large", "split it"),
            (EngineError::Unauthorized, 401, "unauthorized", "sign in to continue"),
            (EngineError::Throttled { retry_after_secs: 7 }, 429, "rate_limited", "too many attempts; try again in 7 seconds"),
            (EngineError::Busy { retry_after_secs: 1 }, 503, "unavailable", "the server is busy; try again in 1 seconds"),
            (EngineError::Internal("secret detail".into()), 500, "internal", INTERNAL_MESSAGE),
            (EngineError::UnknownPlan("gold".into()), 500, "internal", INTERNAL_MESSAGE),
        ];
        for (error, status, code, message) in cases {
            assert_eq!((error.status(), error.code(), error.public_message().as_str()), (status, code, message), "{error:?}");
        }
        assert_eq!(EngineError::Conflict { field: "email", message: String::new() }.field(), Some("email"), "a conflict keeps its field");
        assert!(!EngineError::Internal("secret detail".into()).public_message().contains("secret"));
    }
}
