//! One JSON error envelope for every API answer: `{"error": {"code", "message"}}`.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::auth::KeyRejection;
use engine::EngineError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Key(KeyRejection),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is too large; the limit is {0} bytes")]
    TooLarge(usize),
    /// A body that holds more than one request may (e.g. too many events).
    #[error("{0}")]
    TooLarge413(String),
    #[error("send the body as JSON with `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("{message}")]
    Unavailable { message: String },
    #[error("{0}")]
    LicenseInactive(String),
    #[error("rate limit reached; retry in {} seconds", .0.retry_after_secs)]
    RateLimited(engine::RateDecision),
    #[error("{message}")]
    QuotaExceeded { message: String, details: serde_json::Value, retry_after_secs: Option<u64> },
    #[error("{}", .0.message.clone().unwrap_or_default())]
    UpgradeRequired(Box<model::Entitlement>),
    #[error("internal error")]
    Internal(#[source] EngineError),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Key(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::TooLarge(_) | ApiError::TooLarge413(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::LicenseInactive(_) => (StatusCode::FORBIDDEN, "license_inactive"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::QuotaExceeded { .. } => (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded"),
            ApiError::UpgradeRequired(_) => (StatusCode::FORBIDDEN, "upgrade_required"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            EngineError::Invalid { field, message } => ApiError::Invalid { field: field.into(), message: format!("{field}: {message}") },
            EngineError::Conflict { message, .. } | EngineError::LimitReached(message) => ApiError::Conflict(message),
            EngineError::Forbidden(message) => ApiError::Forbidden(message.into()),
            EngineError::Unauthorized | EngineError::BadCredentials => ApiError::Key(KeyRejection::Missing),
            EngineError::LicenseInactive(message) => ApiError::LicenseInactive(message),
            EngineError::UpgradeRequired(entitlement) => ApiError::UpgradeRequired(entitlement),
            EngineError::Ledger(failure) => {
                tracing::error!(error = %failure, "usage writer failed");
                ApiError::Unavailable { message: "usage could not be recorded right now; nothing was counted, so the request can be retried".into() }
            }
            other => ApiError::Internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::JsonSyntaxError(err) => ApiError::BadRequest(format!("the body is not valid JSON: {}", err.body_text())),
            JsonRejection::JsonDataError(err) => ApiError::Invalid { field: "body".into(), message: err.body_text() },
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(crate::api::BODY_LIMIT),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            // The cause goes to the log, never to the client.
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                "the server could not complete the request; try again later".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({ "error": { "code": code, "message": message } });
        let mut retry_after = None;
        match &self {
            ApiError::Invalid { field, .. } => body["error"]["field"] = json!(field),
            ApiError::QuotaExceeded { details, retry_after_secs, .. } => {
                merge(&mut body["error"], details);
                retry_after = *retry_after_secs;
            }
            ApiError::UpgradeRequired(entitlement) => {
                merge(&mut body["error"], &json!(entitlement));
                body["error"]["code"] = json!(code);
            }
            ApiError::RateLimited(decision) => {
                retry_after = Some(decision.retry_after_secs);
                body["error"]["retry_after"] = json!(decision.retry_after_secs);
            }
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if matches!(self, ApiError::Key(_)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::RateLimited(decision) = &self {
            super::limits::rate_headers(headers, decision);
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Copies an object's fields into another, keeping the target's existing ones.
fn merge(target: &mut serde_json::Value, extra: &serde_json::Value) {
    if let (Some(target), Some(extra)) = (target.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            target.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
}

/// `Json<T>` whose rejections use the error envelope.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}
