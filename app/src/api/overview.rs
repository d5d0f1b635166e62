use crate::error::AppError;
use leptos::prelude::*;
use model::{Overview, PlanChange, UpgradeSuggestion};
use serde::{Deserialize, Serialize};

/// The dashboard's data: the overview and the chart built from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub overview: Overview,
    /// The 7-day chart as an ECharts option (JSON), built with charming on the server.
    pub chart_option: String,
    /// Plan and status changes, newest first (fetched with the rest: one round trip).
    pub plan_history: Vec<PlanChange>,
    /// Which plan fits the usage, and why; the most urgent first.
    pub suggestions: Vec<UpgradeSuggestion>,
}

/// The signed-in viewer's overview: license, plan, quotas and the 7-day series.
#[server(endpoint = "overview")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    let account = viewer.account().map_err(AppError::from)?;
    let read = state.engine.overview_read(account, state.engine.now()).await?;
    load_dashboard(&state, account, read).await
}

/// The dashboard's data from the account's overview; also what the server loads before
/// rendering `/dashboard` ([`crate::pages::preload`]).
#[cfg(feature = "ssr")]
pub async fn load_dashboard(
    state: &crate::state::AppState,
    account: &engine::AccountId,
    read: engine::OverviewRead,
) -> Result<Dashboard, AppError> {
    let chart_option = crate::components::chart::daily_bar_option(&read.overview.api_calls_7d, "API calls");
    let plan_history = state.engine.account_page(account).await?.plan_history;
    let suggestions = state.engine.suggestions_for(account, &read).await?;
    Ok(Dashboard { overview: read.overview, chart_option, plan_history, suggestions })
}
