//! The upgrade journey's server functions: the license context, the gated features
//! (export, analytics, alert thresholds), the upgrade request and the public plans.
//! Every gate the UI shows is enforced here again: the UI gate only shapes the page.

use crate::error::AppError;
use leptos::prelude::*;
use model::{
    FeatureAccess, MeterAnalytics, LicenseView, PlanView, QuotaStatus, RequestStatus, TierView, UpgradeOptions, UpgradeRequestView,
};
use serde::{Deserialize, Serialize};

/// The signed-in account's license, entitlements and quotas: the app-wide license
/// context. Carries no license id or key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLicense {
    pub license: LicenseView,
    pub plan: PlanView,
    pub quotas: Vec<QuotaStatus>,
    /// Each locked feature names the plan that unlocks it; what that plan adds is in
    /// `adds_by_plan`, once per plan rather than once per feature.
    pub features: Vec<FeatureAccess>,
    pub adds_by_plan: Vec<(String, Vec<String>)>,
    /// The pending request, or one decided in the last 14 days.
    pub notice: Option<UpgradeRequestView>,
    pub billing_portal_url: String,
}

impl AccountLicense {
    /// A feature's access, with what its unlocking plan adds.
    pub fn feature(&self, feature: &str) -> Option<FeatureAccess> {
        let mut access = self.features.iter().find(|f| f.feature == feature)?.clone();
        if let Some(plan) = &access.required_plan {
            access.adds = self.adds_by_plan.iter().find(|(p, _)| p == plan).map(|(_, adds)| adds.clone()).unwrap_or_default();
        }
        Some(access)
    }
}

#[cfg(feature = "ssr")]
fn customer() -> Result<(crate::state::AppState, engine::auth::Viewer, engine::AccountId), AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    let account = viewer.account()?.clone();
    Ok((state, viewer, account))
}

/// The license context's data; `None` when nobody (or an admin without an account) is
/// signed in.
#[server(endpoint = "license")]
pub async fn get_license() -> Result<Option<AccountLicense>, AppError> {
    let state = crate::state::AppState::get()?;
    let Some(account) = crate::state::current_viewer().and_then(|v| v.account) else { return Ok(None) };
    let read = state.engine.overview_read(&account, state.engine.now()).await?;
    load_license(&state, &account, &read).await.map(Some)
}

/// The license context from the account's overview; also what the server loads before
/// rendering the pages that read it ([`crate::pages::preload`]).
#[cfg(feature = "ssr")]
pub async fn load_license(
    state: &crate::state::AppState,
    account: &engine::AccountId,
    read: &engine::OverviewRead,
) -> Result<AccountLicense, AppError> {
    let overview = &read.overview;
    let info = state.engine.access(account).await?;
    let mut features = state.engine.feature_access(&info);
    let mut adds_by_plan: Vec<(String, Vec<String>)> = Vec::new();
    for access in &mut features {
        let adds = std::mem::take(&mut access.adds);
        if let Some(plan) = &access.required_plan {
            if !adds_by_plan.iter().any(|(p, _)| p == plan) {
                adds_by_plan.push((plan.clone(), adds));
            }
        }
    }
    Ok(AccountLicense {
        license: overview.license.clone(),
        plan: overview.plan.clone(),
        quotas: overview.quotas.clone(),
        features,
        adds_by_plan,
        notice: state.engine.account_page(account).await?.notice,
        billing_portal_url: overview.billing_portal_url.clone(),
    })
}

/// The newest request's id and status: polled cheaply while one is pending.
#[server(endpoint = "license/request_state")]
pub async fn request_state() -> Result<Option<(model::RequestId, RequestStatus)>, AppError> {
    let (state, _, account) = customer()?;
    Ok(state.engine.request_state(&account).await?)
}

/// Every tier, for the public plans page and the comparison table.
#[server(endpoint = "plans")]
pub async fn get_plans() -> Result<Vec<TierView>, AppError> {
    Ok(crate::state::AppState::get()?.engine.tiers())
}

/// The upgrade modal's data: tiers, the 30-day evidence, the prefilled contact email.
#[server(endpoint = "upgrade/options")]
pub async fn get_upgrade_options() -> Result<UpgradeOptions, AppError> {
    let (state, viewer, account) = customer()?;
    Ok(state.engine.upgrade_options(&account, &viewer.email).await?)
}

/// Asks for a higher tier (a sales request for a custom-priced one). The evidence is
/// computed on the server, never taken from the browser. Owners only.
#[server(endpoint = "upgrade/request")]
pub async fn request_upgrade(tier: String, justification: String, contact_email: String) -> Result<UpgradeRequestView, AppError> {
    let (state, viewer, account) = customer()?;
    viewer.require(model::Role::Owner)?;
    Ok(state.engine.request_upgrade(&viewer.email, &account, &tier, &justification, &contact_email).await?)
}

/// The account's daily usage as CSV: needs `exports`.
#[server(endpoint = "export/usage")]
pub async fn export_usage(days: u32) -> Result<String, AppError> {
    let (state, _, account) = customer()?;
    let info = state.engine.access(&account).await?;
    Ok(state.engine.export_usage(&info, days).await?)
}

/// One meter over the analytics window, with its chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterSeries {
    #[serde(flatten)]
    pub analytics: MeterAnalytics,
    /// The chart, as an ECharts option built on the server.
    pub chart_option: String,
}

/// Advanced analytics: every meter over 30 or 90 days. Needs `advanced_analytics`.
#[server(endpoint = "analytics")]
pub async fn get_analytics(days: u32) -> Result<Vec<MeterSeries>, AppError> {
    let (state, _, account) = customer()?;
    let info = state.engine.access(&account).await?;
    let meters = state.engine.analytics(&info, days).await?;
    Ok(meters
        .into_iter()
        .map(|analytics| MeterSeries { chart_option: crate::components::chart::daily_bar_option(&analytics.days, &analytics.name), analytics })
        .collect())
}

/// Sets the alert thresholds of a meter from a list such as `50%, 80%, 1000` (empty: back
/// to the default). Needs `custom_alert_thresholds`; owners only.
#[server(endpoint = "alerts/set")]
pub async fn set_alert_threshold(meter: String, thresholds: String) -> Result<(), AppError> {
    let (state, viewer, account) = customer()?;
    viewer.require(model::Role::Owner)?;
    let thresholds = model::AlertThreshold::parse_list(&thresholds)
        .map_err(|message| AppError::from(engine::EngineError::Invalid { field: "thresholds", message }))?;
    let info = state.engine.access(&account).await?;
    Ok(state.engine.set_alert_thresholds(&viewer.email, &info, &meter, &thresholds).await?)
}

/// Every upgrade and sales request, pending first (admins only).
#[server(endpoint = "admin/requests")]
pub async fn list_upgrade_requests() -> Result<Vec<UpgradeRequestView>, AppError> {
    let (state, _) = crate::api::admin::admin()?;
    Ok(state.engine.upgrade_requests().await?)
}

/// Approves a request: the plan changes at once (admins only).
#[server(endpoint = "admin/requests/approve")]
pub async fn approve_request(id: model::RequestId) -> Result<UpgradeRequestView, AppError> {
    let (state, viewer) = crate::api::admin::admin()?;
    Ok(state.engine.approve_request(&viewer.email, &id).await?)
}

/// Declines a request with a reason the customer sees (admins only).
#[server(endpoint = "admin/requests/decline")]
pub async fn decline_request(id: model::RequestId, reason: String) -> Result<UpgradeRequestView, AppError> {
    let (state, viewer) = crate::api::admin::admin()?;
    Ok(state.engine.decline_request(&viewer.email, &id, &reason).await?)
}
