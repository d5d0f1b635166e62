//! `POST /api/v1/quotas/{meter}/consume`: consume a quota atomically; refused with nothing
//! consumed when the limit would be passed.

use crate::error::{ApiError, ApiJson, ApiPath};
use app::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use crate::api::extract::Caller;
use axum::extract::State;
use chrono::{DateTime, Utc};
use model::Period;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(consume))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumeRequest {
    /// Required with a service key; a customer key consumes from its own account.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub account_id: Option<String>,
    /// Defaults to 1. More than zero for a counted meter; zero or more for a level.
    #[schema(exclusive_minimum = 0, maximum = 1e12)]
    pub quantity: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumeResponse {
    pub allowed: bool,
    pub account_id: String,
    pub meter: String,
    /// The meter's value over the limit's period, after this consumption.
    pub used: f64,
    /// Absent when unlimited.
    pub limit: Option<f64>,
    pub remaining: Option<f64>,
    pub period: Option<Period>,
    /// When the period starts again (absent for lifetime limits and levels).
    pub resets_at: Option<DateTime<Utc>>,
    /// Allowed past a soft limit.
    pub over_soft_limit: bool,
}

/// Checks a quota and consumes from it, atomically.
///
/// A hard limit that would be passed consumes nothing and is answered 429
/// `quota_exceeded` with `Retry-After` set to the period's reset. A soft limit allows the
/// request and marks it `over_soft_limit`.
#[utoipa::path(post, path = "/api/v1/quotas/{meter}/consume", tag = "metering",
    params(("meter" = String, Path, description = "A meter of the catalog, e.g. api_calls")),
    request_body = ConsumeRequest,
    responses(
        (status = 200, description = "Consumed", body = ConsumeResponse),
        (status = 401, description = "No valid key"),
        (status = 403, description = "The license is not active, or another account was named"),
        (status = 404, description = "No such account"),
        (status = 422, description = "Unknown meter, a bad quantity, or `account_id` missing (with a service key) or malformed"),
        (status = 429, description = "`quota_exceeded` (nothing consumed) or `rate_limited`"),
    ),
    security(("service_key" = []), ("customer_key" = [])))]
async fn consume(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(meter): ApiPath<String>,
    ApiJson(body): ApiJson<ConsumeRequest>,
) -> Result<ApiJson<ConsumeResponse>, ApiError> {
    let account = caller.account(body.account_id.as_deref())?;
    let info = state.engine.access(&account).await?;
    let consumption = state.engine.consume(&info, &meter, body.quantity.unwrap_or(1.0)).await?;
    let outcome = consumption.outcome;
    let period = outcome.limit.map(|l| l.period);
    if !outcome.allowed {
        let limit = outcome.limit.map(|l| l.value);
        let retry_after_secs = outcome.resets_at.map(|t| super::seconds_until(t, state.engine.now()));
        let when = match outcome.resets_at {
            Some(t) => format!("it resets at {}", t.to_rfc3339()),
            None => "it does not reset; upgrade for a higher limit".to_owned(),
        };
        return Err(ApiError::QuotaExceeded {
            message: format!(
                "the {} limit of {} for `{}` would be exceeded ({} used); nothing was consumed, and {when}",
                period.map_or("", |p| p.per_label()).trim_start_matches("per "),
                limit.unwrap_or_default(),
                consumption.meter,
                outcome.used,
            ),
            details: json!({
                "meter": consumption.meter,
                "used": outcome.used,
                "limit": limit,
                "remaining": outcome.remaining(),
                "period": period,
                "resets_at": outcome.resets_at,
                "upgrade_url": state.engine.billing_portal_url(),
            }),
            retry_after_secs,
        });
    }
    Ok(ApiJson(ConsumeResponse {
        allowed: true,
        account_id: account.to_string(),
        meter: consumption.meter,
        used: outcome.used,
        limit: outcome.limit.map(|l| l.value),
        remaining: outcome.remaining(),
        period,
        resets_at: outcome.resets_at,
        over_soft_limit: outcome.over_soft_limit,
    }))
}
