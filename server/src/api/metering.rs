//! The metering API the operator's backend calls: key verification, usage ingest, quota
//! consumption, entitlements, and grants on top of plans.

use super::{ApiError, ApiJson};
use crate::auth::{Caller, Service};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use engine::ledger::ChargeOutcome;
use engine::metering::{EventResult, RawEvent, Scope};
use engine::{AccountId, EngineError};
use model::{Entitlement, EventStatus, Grant, NewGrant, Period, VerifyCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest ingest body: room for 1,000 events with modest properties.
pub const INGEST_BODY_LIMIT: usize = 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(ingest))
        .routes(routes!(consume))
        .routes(routes!(entitlement))
        .routes(routes!(create_grant, list_grants))
        .routes(routes!(revoke_grant))
}

// ---- keys/verify ----

/// A customer's key to verify, and what the call will use.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The customer's API key, as they sent it to you.
    pub key: String,
    /// A feature the call needs; refused with `UPGRADE_REQUIRED` if the plan lacks it.
    pub feature: Option<String>,
    /// The meter to charge; defaults to `api_calls`.
    pub meter: Option<String>,
    /// How much to charge; defaults to 1. Zero checks without charging.
    pub cost: Option<f64>,
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
    super::limits::rate_headers(response.headers_mut(), &decision.rate);
    let retry = match decision.code {
        VerifyCode::RateLimited => Some(decision.rate.retry_after_secs),
        VerifyCode::QuotaExceeded => charge.and_then(|c| c.resets_at).map(|t| seconds_until(t, state.engine.now())),
        _ => None,
    };
    if let Some(secs) = retry {
        response.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    Ok(response)
}

fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((at - now).num_seconds()).unwrap_or(0).max(1)
}

// ---- usage ingest ----

/// One usage event.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageEvent {
    /// Unique per account: a retry with the same key counts once.
    pub idempotency_key: String,
    /// Required with a service key; a customer key writes only to its own account.
    pub account_id: Option<String>,
    pub meter: String,
    /// Greater than zero for counted (`sum`) meters; zero or more for levels (`last`).
    pub quantity: f64,
    /// RFC 3339; defaults to now. At most 5 minutes ahead and 35 days back.
    pub timestamp: Option<DateTime<Utc>>,
    /// Free-form attributes, at most 4 KB.
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Up to 1,000 events.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageBatch {
    pub events: Vec<UsageEvent>,
}

/// One event or a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum IngestRequest {
    Batch(UsageBatch),
    One(UsageEvent),
}

/// What became of one event, in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResult {
    pub idempotency_key: Option<String>,
    pub status: EventStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResponse {
    pub results: Vec<IngestResult>,
}

impl From<EventResult> for IngestResult {
    fn from(r: EventResult) -> Self {
        Self { idempotency_key: r.idempotency_key, status: r.status, reason: r.reason }
    }
}

/// The body as parsed: a batch under `events`, or the fields of one event.
#[derive(Deserialize)]
struct IngestBody {
    #[serde(default)]
    events: Option<Vec<RawEvent>>,
    #[serde(flatten)]
    one: RawEvent,
}

/// Records usage: one event or a batch of up to 1,000, each with an idempotency key.
///
/// Accepted events are committed before the answer. A batch is answered 200 with a result
/// per event (422 if every event was rejected). A single event that conflicts with an
/// earlier one under the same key is answered 409; a rejected one 422.
#[utoipa::path(post, path = "/api/v1/usage", tag = "metering",
    request_body = IngestRequest,
    responses(
        (status = 200, description = "Per-event results", body = IngestResponse),
        (status = 400, description = "The body is not valid JSON"),
        (status = 401, description = "No valid key"),
        (status = 409, description = "A single event reused an idempotency key with a different payload", body = IngestResponse),
        (status = 413, description = "The body is over 1 MiB"),
        (status = 422, description = "Rejected: the reasons are in the results", body = IngestResponse),
        (status = 429, description = "Rate limit reached"),
    ),
    security(("service_key" = []), ("customer_key" = [])))]
async fn ingest(State(state): State<AppState>, caller: Caller, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let too_large = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|len| len > INGEST_BODY_LIMIT);
    if too_large {
        return Err(ApiError::TooLarge(INGEST_BODY_LIMIT));
    }
    let bytes = axum::body::to_bytes(body, INGEST_BODY_LIMIT).await.map_err(|_| ApiError::TooLarge(INGEST_BODY_LIMIT))?;
    let parsed: IngestBody = serde_json::from_slice(&bytes).map_err(|err| match err.classify() {
        serde_json::error::Category::Data => {
            ApiError::Invalid { field: "body".into(), message: format!("the body must be one event or {{\"events\": [...]}}: {err}") }
        }
        _ => ApiError::BadRequest(format!("the body is not valid JSON: {err}")),
    })?;
    let (events, single) = match parsed.events {
        Some(events) => (events, false),
        None => (vec![parsed.one], true),
    };
    let scope = match &caller {
        Caller::Service { .. } => Scope::Service,
        Caller::Customer { account, .. } => Scope::Account(account.clone()),
    };
    let results = state.engine.ingest(&scope, events).await.map_err(|err| match err {
        EngineError::Invalid { field: "events", message } => ApiError::TooLarge413(message),
        other => other.into(),
    })?;
    let all_rejected = !results.is_empty() && results.iter().all(|r| r.status == EventStatus::Rejected);
    let first = results.first().map(|r| (r.status, r.reason.clone()));
    let body = IngestResponse { results: results.into_iter().map(IngestResult::from).collect() };
    let (status, code, message) = match first {
        Some((EventStatus::Conflict, reason)) if single => (StatusCode::CONFLICT, "conflict", reason),
        Some((EventStatus::Rejected, reason)) if single => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", reason),
        _ if all_rejected => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("every event was rejected; see results".into())),
        _ => return Ok(ApiJson(body).into_response()),
    };
    let mut value = json!(body);
    value["error"] = json!({ "code": code, "message": message.unwrap_or_default() });
    Ok((status, axum::Json(value)).into_response())
}

// ---- quotas ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumeRequest {
    /// Required with a service key; a customer key consumes from its own account.
    pub account_id: Option<String>,
    /// Defaults to 1.
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
        (status = 422, description = "Unknown meter or a bad quantity"),
        (status = 429, description = "`quota_exceeded` (nothing consumed) or `rate_limited`"),
    ),
    security(("service_key" = []), ("customer_key" = [])))]
async fn consume(
    State(state): State<AppState>,
    caller: Caller,
    Path(meter): Path<String>,
    ApiJson(body): ApiJson<ConsumeRequest>,
) -> Result<ApiJson<ConsumeResponse>, ApiError> {
    let account = caller.account(body.account_id.as_deref())?;
    let info = state.engine.access(&account).await?;
    let consumption = state.engine.consume(&info, &meter, body.quantity.unwrap_or(1.0)).await?;
    let outcome = consumption.outcome;
    let period = outcome.limit.map(|l| l.period);
    if !outcome.allowed {
        let limit = outcome.limit.map(|l| l.value);
        let retry_after_secs = outcome.resets_at.map(|t| seconds_until(t, state.engine.now()));
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

// ---- entitlements ----

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// Required with a service key; a customer key asks for its own account.
    pub account_id: Option<String>,
}

/// Whether the account may use a feature; if not, the plan that unlocks it and where to
/// upgrade. Always 200 for a known feature: read `allowed`.
#[utoipa::path(get, path = "/api/v1/entitlements/{feature}", tag = "metering",
    params(("feature" = String, Path, description = "A feature of the catalog"), AccountQuery),
    responses(
        (status = 200, description = "Allowed, or `upgrade_required` with `required_plan` and `upgrade_url`", body = Entitlement),
        (status = 401, description = "No valid key"),
        (status = 404, description = "No plan offers this feature"),
    ),
    security(("service_key" = []), ("customer_key" = [])))]
async fn entitlement(
    State(state): State<AppState>,
    caller: Caller,
    Path(feature): Path<String>,
    Query(query): Query<AccountQuery>,
) -> Result<ApiJson<Entitlement>, ApiError> {
    let account = caller.account(query.account_id.as_deref())?;
    let info = state.engine.access(&account).await?;
    let answer = state.engine.entitlement(&info, &feature).map_err(|err| match err {
        EngineError::Invalid { field: "feature", message } => ApiError::NotFound(message),
        other => other.into(),
    })?;
    Ok(ApiJson(answer))
}

// ---- grants ----

/// Grants an account an override on top of its plan: a temporary higher limit, an extra
/// feature, or a bypass of every limit. Recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/grants", tag = "grants",
    params(("account_id" = String, Path)),
    request_body = NewGrant,
    responses(
        (status = 201, description = "Granted; applies at once", body = Grant),
        (status = 403, description = "Not a service key"),
        (status = 404, description = "No such account"),
        (status = 422, description = "Unknown meter or feature, or a bad value"),
    ),
    security(("service_key" = [])))]
async fn create_grant(
    State(state): State<AppState>,
    service: Service,
    Path(account): Path<String>,
    ApiJson(grant): ApiJson<NewGrant>,
) -> Result<(StatusCode, ApiJson<Grant>), ApiError> {
    let account = AccountId::parse(&account)?;
    let created = state.engine.create_grant(&service.key_id, &account, grant).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// The account's grants in force.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/grants", tag = "grants",
    params(("account_id" = String, Path)),
    responses((status = 200, body = Vec<Grant>), (status = 403, description = "Not a service key"), (status = 404, description = "No such account")),
    security(("service_key" = [])))]
async fn list_grants(State(state): State<AppState>, _service: Service, Path(account): Path<String>) -> Result<ApiJson<Vec<Grant>>, ApiError> {
    let account = AccountId::parse(&account)?;
    Ok(ApiJson(state.engine.list_grants(&account).await?))
}

/// Withdraws a grant at once.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/grants/{grant_id}", tag = "grants",
    params(("account_id" = String, Path), ("grant_id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 403, description = "Not a service key"), (status = 404, description = "No such grant")),
    security(("service_key" = [])))]
async fn revoke_grant(
    State(state): State<AppState>,
    service: Service,
    Path((account, grant)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let account = AccountId::parse(&account)?;
    state.engine.revoke_grant(&service.key_id, &account, &grant).await?;
    Ok(StatusCode::NO_CONTENT)
}
