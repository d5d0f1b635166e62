//! Server functions: the secure proxy between the browser and the engine.

use crate::error::AppError;
use leptos::prelude::*;
use model::Overview;

/// The signed-in viewer's overview: license, plan, quotas and the 7-day series.
#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let state = crate::state::AppState::get()?;
    let account = state.viewer_account().await?;
    Ok(state.engine.overview(&account, chrono::Utc::now()).await?)
}
