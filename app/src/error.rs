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
    /// of the server function's response to match.
    fn from(err: engine::EngineError) -> Self {
        use axum::http::{header, HeaderValue, StatusCode};
        use engine::EngineError as E;
        let (status, error) = match err {
            E::NotFound(what) => (StatusCode::NOT_FOUND, AppError::NotFound(format!("{what} not found"))),
            E::Invalid { field, message } => {
                (StatusCode::UNPROCESSABLE_ENTITY, AppError::Invalid { field: field.into(), message: format!("{field}: {message}") })
            }
            E::Conflict { field, message } => (StatusCode::CONFLICT, AppError::Invalid { field: field.into(), message }),
            E::LimitReached(message) => (StatusCode::CONFLICT, AppError::LimitReached(message)),
            E::BadCredentials => (StatusCode::UNAUTHORIZED, AppError::BadCredentials),
            E::Unauthorized => (StatusCode::UNAUTHORIZED, AppError::Unauthorized),
            E::Forbidden(message) => (StatusCode::FORBIDDEN, AppError::Forbidden(message.into())),
            E::LicenseInactive(message) => (StatusCode::FORBIDDEN, AppError::Forbidden(message)),
            E::UpgradeRequired(entitlement) => {
                let entitlement = *entitlement;
                let message = entitlement.message.unwrap_or_else(|| "your plan does not include this feature".into());
                (StatusCode::FORBIDDEN, AppError::UpgradeRequired {
                    feature: entitlement.feature,
                    required_plan: entitlement.required_plan,
                    required_plan_name: entitlement.required_plan_name,
                    message,
                })
            }
            E::Throttled { retry_after_secs } => {
                (StatusCode::TOO_MANY_REQUESTS, AppError::Throttled { retry_after_secs })
            }
            other => {
                tracing::error!(error = %other, "server function failed");
                (StatusCode::INTERNAL_SERVER_ERROR, AppError::Internal)
            }
        };
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
            if let AppError::Throttled { retry_after_secs } = &error {
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.insert_header(header::RETRY_AFTER, value);
                }
            }
        }
        error
    }
}
