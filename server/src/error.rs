//! The API's errors: one JSON envelope for every answer that is not a success,
//! `{"error": {"code", "message", …}}`, with status and code for the engine's errors
//! taken from the engine's own table.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::auth::KeyRejection;
use engine::{EngineError, RateDecision};
use serde_json::json;

/// The largest request body the API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Every refusal or failure an API answer can carry. The engine's own errors keep their
/// type and take status, code, field and message from the engine's one table
/// ([`EngineError::status`]); the other variants are the HTTP edge's own.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Key(KeyRejection),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is too large; the limit is {0} bytes")]
    TooLarge(usize),
    #[error("send the body as JSON with `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("{message}")]
    Unavailable { message: String },
    #[error("rate limit reached; retry in {} seconds", .0.retry_after_secs)]
    RateLimited(engine::RateDecision),
    #[error("{message}")]
    QuotaExceeded { message: String, details: serde_json::Value, retry_after_secs: Option<u64> },
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Engine(err) => (StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), err.code()),
            ApiError::Key(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::QuotaExceeded { .. } => (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded"),
        }
    }
}

/// The one JSON error envelope: `{"error": {"code", "message", …}}`. Every API answer
/// that is not a success is built here (the CSRF guard and the webhook receiver too).
pub fn envelope(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": error_object(code, message) }))).into_response()
}

/// The envelope's `error` object, for an answer that carries more beside it (ingest's
/// per-event results).
pub fn error_object(code: &str, message: &str) -> serde_json::Value {
    json!({ "code": code, "message": message })
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::JsonSyntaxError(err) => ApiError::BadRequest(format!("the body is not valid JSON: {}", err.body_text())),
            JsonRejection::JsonDataError(err) => ApiError::Invalid { field: "body".into(), message: err.body_text() },
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(BODY_LIMIT),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            // The cause goes to the log, never to the client.
            ApiError::Engine(err) if err.is_internal() => {
                tracing::error!(error = %err, "request failed");
                err.public_message()
            }
            ApiError::Engine(EngineError::Ledger(failure)) => {
                tracing::error!(error = %failure, "usage writer failed");
                self_message(&self)
            }
            other => self_message(other),
        };
        let mut body = json!({ "error": error_object(code, &message) });
        let mut retry_after = None;
        match &self {
            ApiError::Invalid { field, .. } => body["error"]["field"] = json!(field),
            ApiError::Engine(err) => {
                if let Some(field) = err.field() {
                    body["error"]["field"] = json!(field);
                }
                if let EngineError::UpgradeRequired(entitlement) = err {
                    merge(&mut body["error"], &json!(entitlement));
                    body["error"]["code"] = json!(code);
                }
                retry_after = err.retry_after_secs();
            }
            ApiError::QuotaExceeded { details, retry_after_secs, .. } => {
                merge(&mut body["error"], details);
                retry_after = *retry_after_secs;
            }
            ApiError::RateLimited(decision) => {
                retry_after = Some(decision.retry_after_secs);
                body["error"]["retry_after"] = json!(decision.retry_after_secs);
            }
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if matches!(self, ApiError::Key(_) | ApiError::Engine(EngineError::Unauthorized | EngineError::BadCredentials)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::RateLimited(decision) = &self {
            rate_headers(headers, decision);
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The message a client sees for an error that is not internal.
fn self_message(err: &ApiError) -> String {
    match err {
        ApiError::Engine(err) => err.public_message(),
        other => other.to_string(),
    }
}

/// Writes `RateLimit-Policy` (every window) and `RateLimit` (the tightest window).
pub fn rate_headers(headers: &mut HeaderMap, decision: &RateDecision) {
    if decision.windows.is_empty() {
        return;
    }
    let policy = decision
        .windows
        .iter()
        .map(|w| format!("\"{}\";q={};w={}", w.name, w.limit, w.window_secs))
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert("ratelimit-policy", value);
    }
    if let Some(w) = decision.tightest() {
        if let Ok(value) = HeaderValue::from_str(&format!("\"{}\";r={};t={}", w.name, w.remaining, w.reset_secs)) {
            headers.insert("ratelimit", value);
        }
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

impl From<model::BadId> for ApiError {
    fn from(bad: model::BadId) -> Self {
        ApiError::Engine(bad.into())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            // A typed id that is not one: the message names the field and the pattern.
            PathRejection::FailedToDeserializePathParams(err) => ApiError::Invalid { field: "path".into(), message: err.body_text() },
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

/// `Path<T>` whose rejections use the error envelope: a path holding a malformed id is a
/// 422 naming the field, like any other invalid input.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(format!("the query string is malformed: {}", rejection.body_text()))
    }
}

/// `Query<T>` whose rejections use the error envelope: an unknown parameter, or a value of
/// the wrong type, is a 400 that says which.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `{"error": {"code", "message", "field"?, …}}`: every answer that is not a success. Some
/// codes add their own details beside these (`upgrade_required` names `required_plan` and
/// `upgrade_url`; `quota_exceeded` the meter, its use, limit and reset).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON built by `ApiError::into_response`
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The envelope's `error` object.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// A stable, machine-readable code.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The field at fault, when there is one.
    pub field: Option<String>,
}

/// `Json<T>` whose rejections use the error envelope, and which takes only a JSON object:
/// serde would otherwise read a struct from an array of its fields in order (`[null, 2]`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<mime::Mime>().ok());
        let is_json = json.is_some_and(|m| m.type_() == "application" && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE { ApiError::TooLarge(BODY_LIMIT) } else { ApiError::BadRequest(rejection.body_text()) }
        })?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Err(ApiError::Invalid { field: "body".into(), message: "the body must be a JSON object".into() });
        }
        Ok(ApiJson(Json::<T>::from_bytes(&bytes)?.0))
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}
