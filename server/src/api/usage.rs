//! `POST /api/v1/usage`: usage events in, one or a batch, each counted exactly once by its
//! idempotency key.

use crate::error::{ApiError, ApiJson};
use app::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use crate::api::extract::Caller;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::metering::{EventResult, RawEvent, Scope};
use model::EventStatus;
use serde::{Deserialize, Serialize};
use chrono::{DateTime, Utc};
use serde_json::json;
use utoipa::ToSchema;

/// The largest ingest body (a batch of up to 1,000 events).
pub const INGEST_BODY_LIMIT: usize = 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ingest))
}

/// One usage event.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageEvent {
    /// Unique per account: a retry with the same key counts once. 1 to 255 characters, none
    /// of them a control character.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$")]
    pub idempotency_key: String,
    /// Required with a service key; a customer key writes only to its own account.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub account_id: Option<String>,
    pub meter: String,
    /// Greater than zero for counted (`sum`) meters; zero or more for levels (`last`), which
    /// only a service key reports.
    #[schema(minimum = 0, maximum = 1e12)]
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

/// A refusal: the error envelope, and the per-event results when the body was read.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON built in `ingest`
pub struct IngestRefusal {
    pub error: crate::error::ErrorBody,
    pub results: Option<Vec<IngestResult>>,
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
        (status = 403, description = "A customer key named another account"),
        (status = 409, description = "A single event reused an idempotency key with a different payload", body = IngestRefusal),
        (status = 413, description = "The body is over 1 MiB"),
        (status = 422, description = "Rejected: the reasons are in the results (absent when the body is not events at all)", body = IngestRefusal),
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
        Caller::Customer { account, .. } => {
            // As for consume: naming another account is refused as a whole, before anything
            // is counted. The engine itself answers such events one by one (its contract,
            // held by engine/tests/hostile_input.rs); the refusal is the API's.
            let other = events.iter().any(|e| matches!(&e.account_id, Some(serde_json::Value::String(id)) if id != account.as_str()));
            if other {
                return Err(ApiError::Forbidden("a customer key writes only to its own account; leave account_id out".into()));
            }
            Scope::Account(account.clone())
        }
    };
    let results = state.engine.ingest(&scope, events).await?;
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
    value["error"] = crate::error::error_object(code, &message.unwrap_or_default());
    Ok((status, axum::Json(value)).into_response())
}
