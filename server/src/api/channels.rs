//! Where an account's alerts go: its outgoing webhook endpoints
//! (`/api/v1/users/me/webhooks`), the delivery log (`/api/v1/users/me/deliveries`) and
//! its email settings (`/api/v1/users/me/alert-settings`). Anyone of the account may read
//! them; changing them takes an owner or a live key with the `manage_webhooks` scope.

use crate::api::extract::{Customer, WebhookManager};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use model::{AlertSettings, DeliveryView, WebhookEndpoint, WebhookEndpointWithSecret};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, delete))
        .routes(routes!(roll))
        .routes(routes!(test))
        .routes(routes!(deliveries))
        .routes(routes!(settings, save_settings))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    /// Oldest first.
    pub endpoints: Vec<WebhookEndpoint>,
    /// The event types an endpoint can take.
    pub event_types: Vec<String>,
}

/// The account's webhook endpoints (never their secrets), and the event types.
#[utoipa::path(get, path = "/api/v1/users/me/webhooks", tag = "alerts",
    responses((status = 200, body = EndpointList), (status = 401, description = "No valid key or session")),
    security(("customer_key" = [])))]
async fn list(State(state): State<AppState>, customer: Customer) -> Result<ApiJson<EndpointList>, ApiError> {
    let endpoints = state.engine.webhook_endpoints(&customer.account).await?;
    let event_types = engine::alerts::webhooks::event_types().into_iter().map(str::to_owned).collect();
    Ok(ApiJson(EndpointList { endpoints, event_types }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// An `https://` URL on the public internet (`http://` only for networks the
    /// operator allowed with `TOLLGATE_WEBHOOK_ALLOW_NETS`).
    #[schema(max_length = 2048)]
    pub url: String,
    /// The event types to send; absent or empty means every type.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Registers an endpoint (plan feature `webhooks`). The answer carries its signing secret,
/// this once.
#[utoipa::path(post, path = "/api/v1/users/me/webhooks", tag = "alerts", request_body = NewEndpoint,
    responses(
        (status = 201, body = WebhookEndpointWithSecret),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "The plan has no `webhooks`, or the caller may not manage webhooks"),
        (status = 422, description = "The URL is not an HTTPS URL on the public internet, or an event type is unknown"),
        (status = 409, description = "The account has 10 endpoints already"),
    ),
    security(("customer_key" = [])))]
async fn create(
    State(state): State<AppState>,
    manager: WebhookManager,
    ApiJson(body): ApiJson<NewEndpoint>,
) -> Result<(StatusCode, ApiJson<WebhookEndpointWithSecret>), ApiError> {
    let created = state.engine.create_webhook_endpoint(&manager.actor, &manager.account, &body.url, &body.events).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChange {
    /// False stops deliveries to it; true starts them again (after a `410` disabled it).
    pub enabled: bool,
}

/// Turns an endpoint on or off.
#[utoipa::path(patch, path = "/api/v1/users/me/webhooks/{id}", tag = "alerts", params(("id" = String, Path)), request_body = EndpointChange,
    responses(
        (status = 200, body = WebhookEndpoint),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "The caller may not manage webhooks"),
        (status = 404, description = "No such endpoint in this account"),
    ),
    security(("customer_key" = [])))]
async fn update(
    State(state): State<AppState>,
    manager: WebhookManager,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<EndpointChange>,
) -> Result<ApiJson<WebhookEndpoint>, ApiError> {
    Ok(ApiJson(state.engine.set_webhook_enabled(&manager.actor, &manager.account, &id, body.enabled).await?))
}

/// Deletes an endpoint, and what is still queued for it.
#[utoipa::path(delete, path = "/api/v1/users/me/webhooks/{id}", tag = "alerts", params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "The caller may not manage webhooks"),
        (status = 404, description = "No such endpoint in this account"),
    ),
    security(("customer_key" = [])))]
async fn delete(State(state): State<AppState>, manager: WebhookManager, ApiPath(id): ApiPath<String>) -> Result<StatusCode, ApiError> {
    state.engine.delete_webhook_endpoint(&manager.actor, &manager.account, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives an endpoint a new secret, shown this once. For 24 hours both the old and the new
/// secret sign every message (two `v1,` signatures), so the receiver can switch over.
#[utoipa::path(post, path = "/api/v1/users/me/webhooks/{id}/roll", tag = "alerts", params(("id" = String, Path)),
    responses(
        (status = 200, body = WebhookEndpointWithSecret),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "The caller may not manage webhooks"),
        (status = 404, description = "No such endpoint in this account"),
    ),
    security(("customer_key" = [])))]
async fn roll(State(state): State<AppState>, manager: WebhookManager, ApiPath(id): ApiPath<String>) -> Result<ApiJson<WebhookEndpointWithSecret>, ApiError> {
    Ok(ApiJson(state.engine.roll_webhook_secret(&manager.actor, &manager.account, &id).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// The message id (its `webhook-id`); follow it in the delivery log.
    pub delivery_id: String,
}

/// Sends a `webhook.test` event to an endpoint, through the same queue as alerts.
#[utoipa::path(post, path = "/api/v1/users/me/webhooks/{id}/test", tag = "alerts", params(("id" = String, Path)),
    responses(
        (status = 202, body = Queued),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "The caller may not manage webhooks"),
        (status = 404, description = "No such endpoint in this account"),
        (status = 422, description = "The endpoint is disabled"),
    ),
    security(("customer_key" = [])))]
async fn test(State(state): State<AppState>, manager: WebhookManager, ApiPath(id): ApiPath<String>) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let delivery_id = state.engine.send_test_webhook(&manager.account, &id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { delivery_id })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only the messages to this endpoint.
    pub endpoint: Option<String>,
    /// How many, newest first: 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryLog {
    /// Newest first, each with its attempts.
    pub deliveries: Vec<DeliveryView>,
}

/// The delivery log: every email and webhook message, with each attempt's status,
/// latency and the start of the answer.
#[utoipa::path(get, path = "/api/v1/users/me/deliveries", tag = "alerts", params(DeliveryQuery),
    responses(
        (status = 200, body = DeliveryLog),
        (status = 401, description = "No valid key or session"),
        (status = 422, description = "`limit` is not from 1 to 200"),
    ),
    security(("customer_key" = [])))]
async fn deliveries(State(state): State<AppState>, customer: Customer, ApiQuery(query): ApiQuery<DeliveryQuery>) -> Result<ApiJson<DeliveryLog>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::Invalid { field: "limit".into(), message: "limit must be from 1 to 200".into() });
    }
    let deliveries = state.engine.deliveries(&customer.account, query.endpoint.as_deref(), limit).await?;
    Ok(ApiJson(DeliveryLog { deliveries }))
}

/// Where the account's alert emails go, and whether this server sends email at all.
#[utoipa::path(get, path = "/api/v1/users/me/alert-settings", tag = "alerts",
    responses((status = 200, body = AlertSettings), (status = 401, description = "No valid key or session")),
    security(("customer_key" = [])))]
async fn settings(State(state): State<AppState>, customer: Customer) -> Result<ApiJson<AlertSettings>, ApiError> {
    Ok(ApiJson(state.engine.alert_settings(&customer.account).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertSettingsChange {
    pub email_enabled: bool,
    /// An address to send alerts to instead of the account's owners; absent, null or
    /// empty: the owners.
    #[schema(max_length = 254)]
    pub email_to: Option<String>,
}

/// Turns alert emails on or off and chooses their address.
#[utoipa::path(put, path = "/api/v1/users/me/alert-settings", tag = "alerts", request_body = AlertSettingsChange,
    responses(
        (status = 200, body = AlertSettings),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "The caller may not change alert settings"),
        (status = 422, description = "`email_to` is not an email address"),
    ),
    security(("customer_key" = [])))]
async fn save_settings(
    State(state): State<AppState>,
    manager: WebhookManager,
    ApiJson(body): ApiJson<AlertSettingsChange>,
) -> Result<ApiJson<AlertSettings>, ApiError> {
    Ok(ApiJson(state.engine.set_alert_settings(&manager.actor, &manager.account, body.email_enabled, body.email_to.as_deref()).await?))
}
