//! The viewer's own usage and license, as JSON:
//! `GET /api/v1/users/me/usage`, `GET /api/license/status`, `GET /api/license/quotas`.
//! Shapes follow the design notes; no license id or key ever appears. The account is the
//! signed-in session's or the customer key's, never one named in the request.

use crate::error::{ApiError, ApiQuery};
use crate::api::extract::Customer;
use app::state::AppState;
use axum::extract::State;
use axum::response::Redirect;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use model::{LicenseStatus, Overview, Period, Price, QuotaLevel};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/api/license/status", get(license_status))
        .route("/api/license/quotas", get(license_quotas))
}

/// The documented `/api/v1` part.
pub fn v1_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(usage)).routes(routes!(billing)).routes(routes!(suggestions)).routes(routes!(usage_csv))
}

async fn overview(state: &AppState, customer: &Customer) -> Result<Overview, ApiError> {
    Ok(state.engine.overview(&customer.account, state.engine.now()).await?)
}

/// `GET /api/v1/users/me/usage`, the shape of the usage-dashboard notes, generalised to
/// the catalog's meters.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageResponse {
    pub plan: UsagePlan,
    /// Each meter's current value, plus `api_calls_today`, `api_calls_7d` (oldest first),
    /// `api_calls_7d_days` and `rpm_current` (API calls in the current minute).
    #[schema(value_type = Object)]
    pub usage: BTreeMap<String, serde_json::Value>,
    /// `<meter>_percent` for each limited meter.
    #[schema(value_type = Object)]
    pub quotas: BTreeMap<String, serde_json::Value>,
    pub generated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsagePlan {
    pub name: String,
    pub tier: String,
    /// Each meter's limit, plus `rpm` and `daily_requests` from the rate limits.
    pub limits: BTreeMap<String, f64>,
}

/// The account's plan, usage and quotas: the usage dashboard's numbers, as JSON. Calls to
/// this endpoint are not counted as API calls.
#[utoipa::path(get, path = "/api/v1/users/me/usage", tag = "account",
    responses((status = 200, body = UsageResponse), (status = 401, description = "No valid key or session"), (status = 429, description = "Rate limit reached")),
    security(("customer_key" = [])))]
async fn usage(State(state): State<AppState>, customer: Customer) -> Result<Json<UsageResponse>, ApiError> {
    let o = overview(&state, &customer).await?;
    let rpm_current = state.engine.calls_this_minute(&customer.account).await?;
    let mut limits: BTreeMap<String, f64> = o.quotas.iter().map(|q| (q.meter.clone(), q.limit)).collect();
    limits.insert("rpm".into(), o.plan.rate_limit_per_minute as f64);
    limits.insert("daily_requests".into(), o.plan.rate_limit_per_day as f64);

    let mut usage: BTreeMap<String, serde_json::Value> =
        o.quotas.iter().map(|q| (q.meter.clone(), q.used.into())).collect();
    let today = o.api_calls_7d.last().map_or(0.0, |d| d.value);
    usage.insert("api_calls_today".into(), today.into());
    usage.insert("api_calls_7d".into(), o.api_calls_7d.iter().map(|d| d.value).collect::<Vec<_>>().into());
    usage.insert("rpm_current".into(), rpm_current.into());
    usage.insert("api_calls_7d_days".into(), o.api_calls_7d.iter().map(|d| d.day.to_string()).collect::<Vec<_>>().into());

    let quotas = o.quotas.iter().map(|q| (format!("{}_percent", q.meter), q.percent.into())).collect();
    Ok(Json(UsageResponse {
        plan: UsagePlan { name: o.plan.name, tier: o.plan.tier, limits },
        usage,
        quotas,
        generated_at: o.generated_at,
    }))
}

/// One meter in the license view.
#[derive(Debug, Serialize)]
pub struct QuotaView {
    pub used: f64,
    pub limit: f64,
    pub percent: f64,
    pub level: QuotaLevel,
    pub unit: String,
    pub period: Period,
}

/// `GET /api/license/status`, the license notes' shape without the license id.
#[derive(Debug, Serialize)]
pub struct LicenseStatusResponse {
    pub account_name: String,
    pub status: LicenseStatus,
    pub status_label: &'static str,
    pub tier: String,
    pub plan_name: String,
    pub price: Price,
    pub features: Vec<String>,
    pub seats: u32,
    /// The notes' name for seats.
    pub max_nodes: u32,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub quotas: BTreeMap<String, QuotaView>,
    pub billing_portal_url: String,
}

fn quota_views(o: &Overview) -> BTreeMap<String, QuotaView> {
    o.quotas
        .iter()
        .map(|q| {
            (q.meter.clone(), QuotaView {
                used: q.used,
                limit: q.limit,
                percent: q.percent,
                level: q.level,
                unit: q.unit.clone(),
                period: q.period,
            })
        })
        .collect()
}

async fn license_status(State(state): State<AppState>, customer: Customer) -> Result<Json<LicenseStatusResponse>, ApiError> {
    let o = overview(&state, &customer).await?;
    Ok(Json(LicenseStatusResponse {
        quotas: quota_views(&o),
        account_name: o.license.account_name,
        status: o.license.status,
        status_label: o.license.status.label(),
        tier: o.plan.tier,
        plan_name: o.plan.name,
        price: o.plan.price,
        features: o.plan.features,
        seats: o.license.seats,
        max_nodes: o.license.seats,
        starts_at: o.license.starts_at,
        expires_at: o.license.expires_at,
        billing_portal_url: o.billing_portal_url,
    }))
}

async fn license_quotas(State(state): State<AppState>, customer: Customer) -> Result<Json<BTreeMap<String, QuotaView>>, ApiError> {
    let o = overview(&state, &customer).await?;
    Ok(Json(quota_views(&o)))
}

/// `GET /api/v1/users/me/billing`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingResponse {
    /// The billing provider's page for this account's membership, else the catalog's portal.
    pub portal_url: String,
    pub provider: Option<String>,
    pub cancel_at_period_end: bool,
    pub period_end: Option<DateTime<Utc>>,
    /// Newest first.
    pub plan_history: Vec<model::PlanChange>,
}

/// Where the account manages its billing, and its plan history.
#[utoipa::path(get, path = "/api/v1/users/me/billing", tag = "account",
    responses((status = 200, body = BillingResponse), (status = 401, description = "No valid key or session")),
    security(("customer_key" = [])))]
async fn billing(State(state): State<AppState>, customer: Customer) -> Result<Json<BillingResponse>, ApiError> {
    let view = state.engine.billing(&customer.account).await?;
    Ok(Json(BillingResponse {
        portal_url: view.portal_url,
        provider: view.provider,
        cancel_at_period_end: view.cancel_at_period_end,
        period_end: view.period_end,
        plan_history: view.history,
    }))
}

/// What the account's usage suggests: which plan fits, and why. The most urgent first.
#[utoipa::path(get, path = "/api/v1/users/me/suggestions", tag = "account",
    responses((status = 200, body = Vec<model::UpgradeSuggestion>), (status = 401, description = "No valid key or session")),
    security(("customer_key" = [])))]
async fn suggestions(State(state): State<AppState>, customer: Customer) -> Result<Json<Vec<model::UpgradeSuggestion>>, ApiError> {
    Ok(Json(state.engine.suggestions(&customer.account).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// 7, 30 or 90 (default 30).
    pub days: Option<u32>,
}

/// The account's daily usage as CSV (`day,meter,value`). Part of the `exports` feature: a
/// plan without it is answered 403 `upgrade_required` with the plan that unlocks it.
#[utoipa::path(get, path = "/api/v1/users/me/usage.csv", tag = "account", params(ExportQuery),
    responses(
        (status = 200, description = "CSV, one row per day and meter", content_type = "text/csv", body = String),
        (status = 403, description = "`upgrade_required`: the plan lacks `exports`; the error names `required_plan` and `upgrade_url`", body = crate::error::ErrorEnvelope),
        (status = 401, description = "No valid key or session"),
        (status = 422, description = "`days` is not 7, 30 or 90"),
    ),
    security(("customer_key" = [])))]
async fn usage_csv(State(state): State<AppState>, customer: Customer, ApiQuery(query): ApiQuery<ExportQuery>) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let days = query.days.unwrap_or(30);
    let info = state.engine.access(&customer.account).await?;
    let csv = state.engine.export_usage(&info, days).await?;
    let disposition = format!("attachment; filename=\"usage-{days}d.csv\"");
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (axum::http::header::CONTENT_DISPOSITION, disposition)], csv).into_response())
}
