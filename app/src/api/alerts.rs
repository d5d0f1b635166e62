//! The alert settings page: where alerts go (email, webhook endpoints), each meter's
//! thresholds, and the delivery log. Anyone of the account may read them; owners change
//! them. The account is the session's.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::api::keys::owner;
use leptos::prelude::*;
use model::{AlertSettings, AlertThreshold, DeliveryView, WebhookEndpoint, WebhookEndpointWithSecret};
use serde::{Deserialize, Serialize};

/// How many deliveries the page lists.
pub const LOG_SHOWN: u32 = 20;

/// One meter's thresholds, as the page shows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeterThresholds {
    pub meter: String,
    pub name: String,
    pub unit: String,
    pub limit: f64,
    /// The account's own, lowest first; empty when it uses the default.
    pub custom: Vec<AlertThreshold>,
    /// The catalog's warning percentage.
    pub default_percent: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertView {
    pub settings: AlertSettings,
    pub meters: Vec<MeterThresholds>,
    pub endpoints: Vec<WebhookEndpoint>,
    pub event_types: Vec<String>,
    pub deliveries: Vec<DeliveryView>,
    /// Whether the viewer may change them (an owner).
    pub can_manage: bool,
}

#[server(endpoint = "alerts/page")]
pub async fn alert_page() -> Result<AlertView, AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    let account = viewer.account()?;
    let now = state.engine.now();
    let info = state.engine.access(account).await?;
    let overview = state.engine.overview(account, now).await?;
    let meters = overview
        .quotas
        .iter()
        .map(|q| MeterThresholds {
            meter: q.meter.clone(),
            name: q.name.clone(),
            unit: q.unit.clone(),
            limit: q.limit,
            custom: info.alert_thresholds.get(&q.meter).cloned().unwrap_or_default(),
            default_percent: state.engine.catalog().meter(&q.meter).map_or(80.0, |m| m.alert_at_percent),
        })
        .collect();
    Ok(AlertView {
        settings: state.engine.alert_settings(account).await?,
        meters,
        endpoints: state.engine.webhook_endpoints(account).await?,
        event_types: engine::alerts::webhooks::event_types().into_iter().map(str::to_owned).collect(),
        deliveries: state.engine.deliveries(account, None, LOG_SHOWN).await?,
        can_manage: viewer.role.allows(model::Role::Owner),
    })
}

/// Turns alert emails on or off (`email_enabled` present: on) and sets their address
/// (empty: the owners).
#[server(endpoint = "alerts/email")]
pub async fn save_email_settings(email_enabled: Option<String>, email_to: String) -> Result<AlertSettings, AppError> {
    let (state, viewer, account) = owner()?;
    Ok(state.engine.set_alert_settings(&viewer.email, &account, email_enabled.is_some(), Some(&email_to)).await?)
}

/// Registers an endpoint; the answer carries its secret, shown once.
#[server(endpoint = "alerts/webhooks/add")]
pub async fn add_webhook(url: String) -> Result<WebhookEndpointWithSecret, AppError> {
    let (state, viewer, account) = owner()?;
    Ok(state.engine.create_webhook_endpoint(&viewer.email, &account, &url, &[]).await?)
}

/// Gives an endpoint a new secret, shown once; the old one signs beside it for a day.
#[server(endpoint = "alerts/webhooks/roll")]
pub async fn roll_webhook(id: String) -> Result<WebhookEndpointWithSecret, AppError> {
    let (state, viewer, account) = owner()?;
    Ok(state.engine.roll_webhook_secret(&viewer.email, &account, &id).await?)
}

/// Turns an endpoint off (`enabled` = `false`) or on.
#[server(endpoint = "alerts/webhooks/enable")]
pub async fn enable_webhook(id: String, enabled: String) -> Result<(), AppError> {
    let (state, viewer, account) = owner()?;
    state.engine.set_webhook_enabled(&viewer.email, &account, &id, enabled == "true").await?;
    Ok(())
}

#[server(endpoint = "alerts/webhooks/delete")]
pub async fn delete_webhook(id: String) -> Result<(), AppError> {
    let (state, viewer, account) = owner()?;
    Ok(state.engine.delete_webhook_endpoint(&viewer.email, &account, &id).await?)
}

/// Sends a `webhook.test` event through the delivery queue.
#[server(endpoint = "alerts/webhooks/test")]
pub async fn test_webhook(id: String) -> Result<String, AppError> {
    let (state, _, account) = owner()?;
    Ok(state.engine.send_test_webhook(&account, &id).await?)
}
