//! The state every server-side handler shares.

use axum::extract::FromRef;
use engine::{AccountId, Engine};
use leptos::prelude::LeptosOptions;

/// Shared by SSR, server functions and the REST handlers.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub leptos_options: LeptosOptions,
    /// The account a visitor sees until sign-in exists (`TOLLGATE_DEMO_ACCOUNT`).
    pub viewer: Option<AccountId>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// The state, from a server function's context.
    pub fn get() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            crate::error::AppError::Internal
        })
    }

    /// The account the current request acts for. Until sign-in exists this is the
    /// configured demo account or the first account; never anything the browser sent.
    pub async fn viewer_account(&self) -> Result<AccountId, engine::EngineError> {
        self.engine.default_viewer(self.viewer.as_ref()).await
    }
}
