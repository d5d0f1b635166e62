//! The error every server function returns, typed so the UI can react to its kind:
//! "sign in again", "not allowed", an inline field message, or "try again later".

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function can fail with. Messages are for people; internal causes are
/// logged on the server and never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session, or it has ended.
    #[error("your session has ended; sign in again")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A field the person can fix.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    LimitReached(String),
    /// The plan does not include the feature; `required_plan` does.
    #[error("{message}")]
    UpgradeRequired { feature: String, required_plan: Option<String>, required_plan_name: Option<String>, message: String },
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// The server is at capacity for expensive work (password checks); nothing was done.
    #[error("the server is busy; try again in {retry_after_secs} seconds")]
    Busy { retry_after_secs: u64 },
    /// The server failed; the details are in its log.
    #[error("the server could not complete the request; try again in a moment")]
    Internal,
    /// The request did not reach the server or its answer could not be read.
    #[error("could not reach the server ({0}); check your connection and retry")]
    Transport(String),
}

impl AppError {
    /// The field this error is about, for inline messages.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Bad or missing arguments: someone called the endpoint by hand.
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                #[cfg(feature = "ssr")]
                if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(axum::http::StatusCode::BAD_REQUEST);
                }
                AppError::Invalid { field: "request".into(), message: format!("the request is malformed: {msg}") }
            }
            ServerFnErrorErr::Request(msg) | ServerFnErrorErr::Response(msg) => AppError::Transport(msg),
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<engine::EngineError> for AppError {
    /// Maps engine refusals to typed errors, and sets the HTTP status (and `Retry-After`)
    /// of the server function's response from the engine's one table
    /// ([`engine::EngineError::status`]), the same one the REST API reads.
    fn from(err: engine::EngineError) -> Self {
        use axum::http::{header, HeaderValue, StatusCode};
        use engine::EngineError as E;
        let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = err.retry_after_secs();
        if err.is_internal() || matches!(err, E::Ledger(_)) {
            tracing::error!(error = %err, "server function failed");
        }
        let message = err.public_message();
        let error = match err {
            E::NotFound(_) | E::Unknown { .. } => AppError::NotFound(message),
            E::Invalid { field, .. } | E::Conflict { field, .. } => AppError::Invalid { field: field.into(), message },
            E::TooLarge(_) => AppError::Invalid { field: "request".into(), message },
            E::LimitReached(_) => AppError::LimitReached(message),
            E::BadCredentials => AppError::BadCredentials,
            E::Unauthorized => AppError::Unauthorized,
            E::Forbidden(_) | E::LicenseInactive(_) => AppError::Forbidden(message),
            E::UpgradeRequired(entitlement) => {
                let entitlement = *entitlement;
                AppError::UpgradeRequired {
                    feature: entitlement.feature,
                    required_plan: entitlement.required_plan,
                    required_plan_name: entitlement.required_plan_name,
                    message,
                }
            }
            E::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            E::Busy { retry_after_secs } => AppError::Busy { retry_after_secs },
            E::Ledger(_) | E::UnknownPlan(_) | E::Database(_) | E::Migration(_) | E::Internal(_) => AppError::Internal,
        };
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
            if let Some(secs) = retry_after {
                if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                    response.insert_header(header::RETRY_AFTER, value);
                }
            }
        }
        error
    }
}
