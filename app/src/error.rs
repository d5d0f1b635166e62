//! The error every server function returns, typed so the UI can react to its kind.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function can fail with. The message is for people; internal causes
/// are logged on the server and never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// There is no account to show.
    #[error("{0}")]
    NotFound(String),
    /// The server failed; the details are in its log.
    #[error("the server could not complete the request; try again in a moment")]
    Internal,
    /// The request did not reach the server or its answer could not be read.
    #[error("could not reach the server ({0}); check your connection and retry")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(match value {
            ServerFnErrorErr::Request(msg) | ServerFnErrorErr::Response(msg) => msg,
            other => other.to_string(),
        })
    }
}

#[cfg(feature = "ssr")]
impl From<engine::EngineError> for AppError {
    fn from(err: engine::EngineError) -> Self {
        match err {
            engine::EngineError::NotFound(what) => AppError::NotFound(format!("no {what} to show")),
            other => {
                tracing::error!(error = %other, "server function failed");
                AppError::Internal
            }
        }
    }
}
