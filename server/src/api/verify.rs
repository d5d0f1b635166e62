//! `POST /api/v1/keys/verify`: the operator's backend asks whether a customer's key may
//! make a call, and charges it in the same decision.

use crate::error::{ApiError, ApiJson};
use app::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use crate::api::extract::Service;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use engine::metering::ledger::ChargeOutcome;
use model::{Entitlement, VerifyCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify))
}

/// A customer's key to verify, and what the call will use.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The customer's API key, as they sent it to you.
    pub key: String,
    /// A feature the call needs; refused with `UPGRADE_REQUIRED` if the plan lacks it.
    pub feature: Option<String>,
    /// The meter to charge; defaults to `api_calls`.
    pub meter: Option<String>,
    /// How much to charge; defaults to 1. Zero checks without charging.
    #[schema(minimum = 0, maximum = 1e12)]
    pub cost: Option<f64>,
}

/// Never shows the customer's key: a logged request must not carry it.
impl std::fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyRequest")
            .field("key", &"[redacted]")
            .field("feature", &self.feature)
            .field("meter", &self.meter)
            .field("cost", &self.cost)
            .finish()
    }
}

/// The customer's rate limit after this call (the tightest window).
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitState {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window is whole again.
    pub reset: u64,
}

/// One decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub valid: bool,
    pub code: VerifyCode,
    /// The key's account; absent when the key is not found.
    pub account: Option<String>,
    pub plan: Option<String>,
    pub meter: String,
    /// What is left of the meter's limit after this call; absent when unlimited.
    pub remaining: Option<f64>,
    pub limit: Option<f64>,
    /// Allowed past a soft limit.
    pub over_soft_limit: bool,
    pub ratelimit: Option<RateLimitState>,
    /// For `UPGRADE_REQUIRED`: the plan that unlocks the feature, and where to upgrade.
    pub entitlement: Option<Entitlement>,
}

/// Verifies a customer's key and records its usage: the one call for the hot path.
///
/// Every outcome is a decision answered 200: read `valid` and `code`. Valid usage is
/// committed before the answer. The `RateLimit` headers describe the customer's limit.
#[utoipa::path(post, path = "/api/v1/keys/verify", tag = "metering",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The decision", body = VerifyResponse),
        (status = 401, description = "No valid service key"),
        (status = 403, description = "Not a service key"),
        (status = 422, description = "Unknown meter or feature, or a bad cost"),
    ),
    security(("service_key" = [])))]
async fn verify(State(state): State<AppState>, _service: Service, ApiJson(body): ApiJson<VerifyRequest>) -> Result<Response, ApiError> {
    let decision = state.engine.verify(&body.key, body.feature.as_deref(), body.meter.as_deref(), body.cost).await?;
    metrics::counter!("tollgate_verify_decisions_total", "code" => decision.code.as_str()).increment(1);
    let charge = decision.charge.as_ref();
    let answer = VerifyResponse {
        valid: decision.valid(),
        code: decision.code,
        account: decision.account.as_ref().map(|a| a.to_string()),
        plan: decision.plan.clone(),
        meter: decision.meter.clone(),
        remaining: charge.and_then(ChargeOutcome::remaining),
        limit: charge.and_then(|c| c.limit.map(|l| l.value)),
        over_soft_limit: charge.is_some_and(|c| c.over_soft_limit),
        ratelimit: decision.rate.tightest().map(|w| RateLimitState { limit: w.limit, remaining: w.remaining, reset: w.reset_secs }),
        entitlement: decision.entitlement.clone(),
    };
    let mut response = ApiJson(answer).into_response();
    crate::error::rate_headers(response.headers_mut(), &decision.rate);
    let retry = match decision.code {
        VerifyCode::RateLimited => Some(decision.rate.retry_after_secs),
        VerifyCode::QuotaExceeded => charge.and_then(|c| c.resets_at).map(|t| super::seconds_until(t, state.engine.now())),
        _ => None,
    };
    if let Some(secs) = retry {
        response.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_customer_key() {
        let request = VerifyRequest { key: "tg_live_plaintextsecret".into(), feature: None, meter: None, cost: None };
        let shown = format!("{request:?}");
        assert!(!shown.contains("plaintextsecret"), "{shown}");
    }
}
