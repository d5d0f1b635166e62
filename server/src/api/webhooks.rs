//! `POST /api/webhooks/whop` and `POST /api/webhooks/stripe`: billing providers' events.
//!
//! The signature is checked on the raw bytes before anything is parsed. A forged, stale or
//! unsigned request gets 400 or 401 and leaves nothing behind but a counter and a log line;
//! its body is never echoed. A verified event is applied exactly once and answered 200,
//! duplicates and ignored types included, so the provider stops retrying.

use app::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use engine::billing::signature::{self, SignatureError};
use engine::billing::{self, Provider};
use serde_json::json;

/// Provider events are small; this leaves room for the largest Stripe objects.
const BODY_LIMIT: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/webhooks/whop", post(whop)).route("/api/webhooks/stripe", post(stripe))
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    crate::error::envelope(status, code, &message)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refused(provider: Provider, err: &SignatureError) -> Response {
    let reason = match err {
        SignatureError::Missing(_) => "missing_header",
        SignatureError::Malformed(_) => "malformed",
        SignatureError::Stale => "stale",
        SignatureError::Mismatch => "mismatch",
    };
    metrics::counter!("tollgate_webhook_rejected_total", "provider" => provider.as_str(), "reason" => reason).increment(1);
    tracing::warn!(provider = provider.as_str(), reason, "webhook refused: {err}");
    let status = match err {
        SignatureError::Missing(_) | SignatureError::Malformed(_) => StatusCode::BAD_REQUEST,
        SignatureError::Stale | SignatureError::Mismatch => StatusCode::UNAUTHORIZED,
    };
    error(status, "invalid_signature", format!("webhook refused: {err}"))
}

async fn read(body: Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the body is over {BODY_LIMIT} bytes")))
}

fn not_configured(provider: Provider, variable: &str) -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_configured",
        format!("the {} webhook is not configured: set {variable} to its signing secret", provider.as_str()),
    )
}

async fn apply(state: &AppState, provider: Provider, parsed: Result<billing::BillingEvent, String>, body: &[u8]) -> Response {
    let event = match parsed {
        Ok(event) => event,
        Err(message) => return error(StatusCode::BAD_REQUEST, "bad_event", message),
    };
    let text = String::from_utf8_lossy(body);
    match state.engine.apply_billing_event(&event, &text).await {
        Ok(outcome) => {
            metrics::counter!("tollgate_webhook_events_total", "provider" => provider.as_str(), "outcome" => outcome.as_str()).increment(1);
            Json(json!({ "received": true, "outcome": outcome.as_str() })).into_response()
        }
        Err(err) => {
            // 5xx: the provider retries, and the event id makes the retry safe.
            tracing::error!(provider = provider.as_str(), event_id = %event.event_id, error = %err, "billing event failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the event could not be applied; it will be retried".into())
        }
    }
}

async fn whop(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let secrets = state.engine.webhook_secrets(Provider::Whop);
    if secrets.is_empty() {
        return not_configured(Provider::Whop, "TOLLGATE_WHOP_WEBHOOK_SECRET");
    }
    let body = match read(body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let now = state.engine.now().timestamp();
    let legacy = header(&headers, "x-whop-signature");
    let verified = match legacy {
        Some(_) if header(&headers, "webhook-signature").is_none() => {
            signature::verify_timestamped_hex(secrets, "x-whop-signature", legacy, &body, now)
        }
        _ => signature::verify_standard(
            secrets,
            header(&headers, "webhook-id"),
            header(&headers, "webhook-timestamp"),
            header(&headers, "webhook-signature"),
            &body,
            now,
        ),
    };
    if let Err(err) = verified {
        return refused(Provider::Whop, &err);
    }
    // Legacy events may carry no id. The stand-in must be covered by the signature: a
    // Standard Webhooks `webhook-id` is (it is part of what is signed); for a legacy
    // delivery only the body is, so its digest stands in, and a replay of the same signed
    // body with a new, unsigned `webhook-id` header is still the same event.
    let body_digest = || {
        use sha2::{Digest, Sha256};
        format!("body_{}", hex::encode(Sha256::digest(&body)))
    };
    let fallback = match legacy {
        Some(_) => body_digest(),
        None => header(&headers, "webhook-id").map_or_else(body_digest, str::to_owned),
    };
    let parsed = billing::parse_whop(&body, &fallback, state.engine.now());
    apply(&state, Provider::Whop, parsed, &body).await
}

async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let secrets = state.engine.webhook_secrets(Provider::Stripe);
    if secrets.is_empty() {
        return not_configured(Provider::Stripe, "TOLLGATE_STRIPE_WEBHOOK_SECRET");
    }
    let body = match read(body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let now = state.engine.now().timestamp();
    if let Err(err) = signature::verify_timestamped_hex(secrets, "stripe-signature", header(&headers, "stripe-signature"), &body, now) {
        return refused(Provider::Stripe, &err);
    }
    apply(&state, Provider::Stripe, billing::parse_stripe(&body), &body).await
}
